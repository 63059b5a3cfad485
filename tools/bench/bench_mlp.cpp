// Seconds per Fashion-MNIST training epoch for the recipe of the issue: 784-256-128-10
// ReLU, softmax + cross-entropy, SGD with momentum 0.9, batch 64, float; 1 and 2 threads.
// Training only (no evaluation pass), from the same initial weights every iteration.
// PyTorch 1.13 with OpenBLAS takes about 1.0 s per epoch on the reference machine.
//   build/tools/bench/bench_mlp --benchmark_repetitions=3 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include <filesystem>
#include <memory>

#include "networks/mlp/train.hpp"
#include "tools/io/datasets.hpp"

using namespace ranvier;

namespace {

const std::string kDir = "/usr/share/datasets/fashion-mnist/";

const mlp::Dataset* fashion() {
  static std::unique_ptr<mlp::Dataset> d;
  if (!d && std::filesystem::exists(kDir + "train-images-idx3-ubyte.gz"))
    d = std::make_unique<mlp::Dataset>(io::load_idx_dataset(kDir + "train-images-idx3-ubyte.gz",
                                                            kDir + "train-labels-idx1-ubyte.gz", 10,
                                                            1.0 / 255, 0));
  return d.get();
}

void BM_FashionEpoch(benchmark::State& state) {
  const mlp::Dataset* d = fashion();
  if (!d) {
    state.SkipWithError("Fashion-MNIST not installed (Debian package dataset-fashion-mnist)");
    return;
  }
  mlp::NetworkSpec spec;
  spec.inputs = 784;
  spec.layers = {{256, {mlp::ActivationKind::relu}, 0, mlp::InitKind::he_uniform},
                 {128, {mlp::ActivationKind::relu}, 0, mlp::InitKind::he_uniform},
                 {10, {mlp::ActivationKind::softmax}, 0, mlp::InitKind::glorot_uniform}};
  spec.loss = mlp::LossKind::cce;
  mlp::Network<float> net(spec);
  mlp::TrainOptions opt;
  opt.epochs = 1;
  opt.batch = 64;
  opt.threads = static_cast<int>(state.range(0));
  double loss = 0;
  for (auto _ : state) {
    net.init(1);
    mlp::TrainState st;
    st.optimizer.spec.lr = 0.02;
    st.optimizer.spec.momentum = 0.9;
    mlp::train(net, st, *d, nullptr, nullptr, opt);
    loss = st.history.train_loss.back();
  }
  state.counters["train_loss"] = loss;
  state.counters["samples_per_s"] = benchmark::Counter(
      static_cast<double>(d->size()) * state.iterations(), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_FashionEpoch)
    ->Arg(1)
    ->Arg(2)
    ->ArgName("threads")
    ->Iterations(3)
    ->Unit(benchmark::kSecond)
    ->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
