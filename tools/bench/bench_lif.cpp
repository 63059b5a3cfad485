// Throughput of the LIF exact integrator: 1000 uncoupled normalized LIF neurons (tau_m =
// 20 ms, tau_ref = 2 ms) with constant inputs v_in spread uniformly over 0..3 (a third
// silent, the rest firing at up to ~90 Hz), dt = 0.1 ms. Counter: neuron-steps per second.
#include <benchmark/benchmark.h>

#include "tools/bench/bench_runs.hpp"

using namespace ranvier;

namespace {

void BM_lif(benchmark::State& state, sim::Integrator integ) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const int threads = static_cast<int>(state.range(1));
  // 100000 steps of 0.1 ms, inputs v_in spread over 0..3.
  bench::time_runs(state, bench::spread_input_run("lif", n, integ, 0.1, 10000.0, 3.0), threads);
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
