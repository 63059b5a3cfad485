// Throughput of uncoupled Hodgkin-Huxley neurons: currents spread uniformly over
// 0..20 uA/cm2, 1 s simulated at dt = 0.01 ms with rk4 (the Brian2 comparison in the
// issue: 11.6 M neuron-steps/s on one thread). Counter: neuron-steps per second.
#include <benchmark/benchmark.h>

#include "tools/bench/bench_runs.hpp"

using namespace ranvier;

namespace {

void BM_hh(benchmark::State& state, sim::Integrator integ) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const int threads = static_cast<int>(state.range(1));
  // 1 s at dt = 0.01 ms, currents spread over 0..20 uA/cm2.
  bench::time_runs(state, bench::spread_input_run("hh", n, integ, 0.01, 1000.0, 20.0), threads);
}

}  // namespace

BENCHMARK_CAPTURE(BM_hh, rk4, sim::Integrator::rk4)
    ->ArgsProduct({{1000, 10000}, {1, 2}})
    ->ArgNames({"neurons", "threads"})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->Iterations(1);
BENCHMARK_CAPTURE(BM_hh, exponential_euler, sim::Integrator::exponential_euler)
    ->ArgsProduct({{1000}, {1}})
    ->ArgNames({"neurons", "threads"})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->Iterations(1);

BENCHMARK_CAPTURE(BM_hh, dopri5, sim::Integrator::dopri5)  // default tolerances 1e-6
    ->ArgsProduct({{1000}, {1}})
    ->ArgNames({"neurons", "threads"})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->Iterations(1);

BENCHMARK_MAIN();
