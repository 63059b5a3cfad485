// Seconds for the full Fashion-MNIST test set (10000 images) through the spiking network
// of a trained lif_rate model (networks/spiking_mlp.hpp) at 50 ms per image, dt = 1 ms,
// tau_s = 5 ms, constant-current input: the spiking simulation of `ranvier spike-eval`
// alone, without loading files and without the rate network that spike-eval runs beside
// it in the same batches; 1 and 2 threads. The target, under 1 s on two threads,
// is for the whole command (`ranvier spike-eval ... --timings` shows its phases); a plain
// vectorised numpy script needs about 1.5 to 2 s.
// The model: RANVIER_SPIKE_MODEL, default out/fmnist_lif.h5 (tools/bench/fmnist_lif.sh
// trains it from configs/fmnist_lif.yaml).
//   build/tools/bench/bench_spike_eval --benchmark_repetitions=3
//   --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "networks/spiking_conversion.hpp"
#include "networks/spiking_mlp.hpp"
#include "tools/io/datasets.hpp"
#include "tools/io/model_file.hpp"

using namespace ranvier;

namespace {

const std::string kDir = "/usr/share/datasets/fashion-mnist/";

struct Setup {
  mlp::Dataset test;
  std::unique_ptr<networks::SpikingMlp> net;
  std::string error;
};

const Setup& setup() {
  static Setup s = [] {
    Setup r;
    const char* env = std::getenv("RANVIER_SPIKE_MODEL");
    const std::string model = env ? env : "out/fmnist_lif.h5";
    if (!std::filesystem::exists(kDir + "t10k-images-idx3-ubyte.gz")) {
      r.error = "Fashion-MNIST not installed (Debian package dataset-fashion-mnist)";
      return r;
    }
    if (!std::filesystem::exists(model)) {
      r.error = model + " not found: run tools/bench/fmnist_lif.sh (or set RANVIER_SPIKE_MODEL)";
      return r;
    }
    const io::ModelFile m = io::read_model_file(model);
    r.test = io::load_idx_dataset(kDir + "t10k-images-idx3-ubyte.gz",
                                  kDir + "t10k-labels-idx1-ubyte.gz", 10, m.input_scale, 0);
    networks::SpikingMlpSpec s;
    s.dt = 1.0;
    s.duration = 50.0;
    s.tau_s = 5.0;
    s.decode_from = 25.0;
    r.net = std::make_unique<networks::SpikingMlp>(networks::spiking_spec(m.spec, m.params, s));
    return r;
  }();
  return s;
}

void BM_SpikeEvalFashionTest(benchmark::State& state) {
  const Setup& s = setup();
  if (!s.error.empty()) {
    state.SkipWithError(s.error.c_str());
    return;
  }
  const int threads = static_cast<int>(state.range(0));
  const int n = s.test.size();
  const int L = static_cast<int>(s.net->spec().layers.size());
  networks::SpikingResults r;
  for (auto _ : state) {
    r.resize(L, 10, n);
    s.net->run(s.test.X, 0, n, threads, r);
    benchmark::DoNotOptimize(r.predicted.data());
  }
  int correct = 0;
  for (int j = 0; j < n; ++j) correct += r.predicted[j] == s.test.labels[j];
  state.counters["accuracy_pct"] = 100.0 * correct / n;
  state.counters["spikes_per_sample"] = static_cast<double>(r.layer_spikes.sum()) / n;
  state.counters["samples_per_s"] =
      benchmark::Counter(static_cast<double>(n) * static_cast<double>(state.iterations()),
                         benchmark::Counter::kIsRate);
}

}  // namespace

BENCHMARK(BM_SpikeEvalFashionTest)
    ->Arg(1)
    ->Arg(2)
    ->ArgName("threads")
    ->Iterations(3)
    ->Unit(benchmark::kSecond)
    ->UseRealTime();

BENCHMARK_MAIN();
