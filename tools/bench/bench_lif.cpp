// Throughput of the LIF exact integrator: 1000 uncoupled normalized LIF neurons (tau_m =
// 20 ms, tau_ref = 2 ms) with constant inputs v_in spread uniformly over 0..3 (a third
// silent, the rest firing at up to ~90 Hz), dt = 0.1 ms. Counter: neuron-steps per second.
#include <benchmark/benchmark.h>

#include <ctime>

#include "models/model_info.hpp"
#include "sim/simulation.hpp"
#include "sim/spec_defaults.hpp"

using namespace ranvier;

namespace {

struct NullSink : sim::RunSink {
  std::size_t n_spikes = 0;
  void spikes(std::size_t, std::span<const sim::Spike> s) override { n_spikes += s.size(); }
  void trace_sample(std::size_t, double, std::span<const double>) override {}
};

void BM_lif(benchmark::State& state, sim::Integrator integ) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const int threads = static_cast<int>(state.range(1));
  sim::RunSpec run;
  run.dt = 0.1;
  run.duration = 10000.0;  // 100000 steps
  run.populations = {sim::default_population("lif", "lif", n, integ)};
  sim::StimulusSpec s;
  s.name = "sweep";
  s.target = "lif";
  s.kind = sim::StimulusSpec::Kind::constant;
  for (std::size_t i = 0; i < n; ++i) s.values.push_back(3.0 * i / (n - 1));
  run.stimuli = {s};
  run.spike_populations = {"lif"};
  std::size_t steps = 0, spikes = 0;
  const std::clock_t cpu0 = std::clock();  // process CPU time, all threads
  for (auto _ : state) {
    sim::Simulation sim(run, {threads});
    NullSink sink;
    sim.run(sink);
    steps += sim.n_steps();
    spikes = sink.n_spikes;
  }
  state.counters["neuron_steps_per_s"] =
      benchmark::Counter(static_cast<double>(steps * n), benchmark::Counter::kIsRate);
  // Per CPU-second of all threads: what one core delivers, insensitive to other load on
  // the machine (real-time rates drop when the cores are shared).
  const double cpu_s = static_cast<double>(std::clock() - cpu0) / CLOCKS_PER_SEC;
  state.counters["neuron_steps_per_cpu_s"] = static_cast<double>(steps * n) / cpu_s;
  state.counters["spikes"] = static_cast<double>(spikes);
}

}  // namespace

BENCHMARK_CAPTURE(BM_lif, exact, sim::Integrator::exact)
    ->ArgsProduct({{1000}, {1, 2}})
    ->ArgNames({"neurons", "threads"})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK_CAPTURE(BM_lif, rk4, sim::Integrator::rk4)
    ->ArgsProduct({{1000}, {1}})
    ->ArgNames({"neurons", "threads"})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

BENCHMARK_MAIN();
