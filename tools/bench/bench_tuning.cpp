// Issue 3's benchmark: simulated tuning curves of 1000 LIF neurons at 100 input points,
// 1 s each at dt = 0.1 ms: 1e9 neuron-steps through sim::simulate_rates, the code path
// of `ranvier tune`. Target: >= 300 M neuron-steps/s per core.
//   build/tools/bench/bench_tuning --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include "models/model_info.hpp"
#include "sim/tuning.hpp"
#include "sim/spec_defaults.hpp"

namespace {

using namespace ranvier;

sim::PopulationSpec lif_population(std::size_t n) {
  sim::PopulationSpec pop = sim::default_population("lif", "lif", n);
  // Heterogeneous membrane time constants, 10..30 ms, as a tuning study would have.
  for (std::size_t i = 0; i < n; ++i)
    pop.params["tau_m"][i] = 10.0 + 20.0 * static_cast<double>(i) / static_cast<double>(n);
  return pop;
}

void BM_LifTuningCurves(benchmark::State& state) {
  const std::size_t neurons = 1000, points = 100;
  const sim::PopulationSpec pop = lif_population(neurons);
  std::vector<double> inputs(points * neurons);
  for (std::size_t p = 0; p < points; ++p)
    for (std::size_t i = 0; i < neurons; ++i)
      inputs[p * neurons + i] = 5.0 * static_cast<double>(p) / static_cast<double>(points - 1);
  sim::SweepSettings settings;
  settings.dt = 0.1;
  settings.duration = 1000.0;
  settings.transient = 100.0;
  settings.threads = static_cast<int>(state.range(0));
  double total_rate = 0.0;
  for (auto _ : state) {
    const std::vector<double> rates = sim::simulate_rates(pop, inputs, points, settings);
    total_rate += rates.back();
  }
  benchmark::DoNotOptimize(total_rate);
  const double steps = static_cast<double>(neurons * points) * (settings.duration / settings.dt);
  state.counters["neuron_steps_per_s"] =
      benchmark::Counter(steps * static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}

}  // namespace

BENCHMARK(BM_LifTuningCurves)->Arg(1)->Arg(2)->Unit(benchmark::kSecond)->Iterations(1)->UseRealTime();

BENCHMARK_MAIN();
