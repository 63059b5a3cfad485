// The CUBA benchmark (Brette et al. 2007, Brian2's example): n LIF neurons, 80% excitatory,
// exponential PSCs (5 ms, 10 ms), 80 synapses per neuron on average (p = 80 / n), V drawn
// uniformly between reset and threshold, dt = 0.1 ms, 1 s simulated. The timed part is the
// simulation loop only (Simulation::run), as Brian2 standalone's loop timing: wiring is
// reported apart. Brian2 2.5.1 here: 0.08 s (4000), 0.27 s (16000), 1.35 s (64000) on
// one thread, mean rate ~5.6 Hz.
#include <benchmark/benchmark.h>

#include <chrono>
#include <ctime>
#include <latch>
#include <thread>
#include <vector>

#include "models/model_info.hpp"
#include "sim/simulation.hpp"

using namespace ranvier;

namespace {

// CPU time of this process [s]: on a shared machine it moves less with the load than the
// wall clock (with 2 threads it counts both, spinning included).
double cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

struct CountSink : sim::RunSink {
  std::size_t n_spikes = 0;
  void spikes(std::size_t, std::span<const sim::Spike> s) override { n_spikes += s.size(); }
  void trace_sample(std::size_t, double, std::span<const double>) override {}
};

sim::RunSpec cuba(std::size_t n) {
  sim::RunSpec r;
  r.dt = 0.1;
  r.duration = 1000.0;
  r.seed = 1;
  const std::size_t ne = n * 4 / 5, ni = n - ne;
  auto make = [](std::string name, std::size_t m, std::uint64_t salt) {
    sim::PopulationSpec p;
    p.name = std::move(name);
    p.model = "lif";
    p.size = m;
    p.params = {
        {"V_L", std::vector<double>(m, -49.0)},     {"V_th", std::vector<double>(m, -50.0)},
        {"V_reset", std::vector<double>(m, -60.0)}, {"R", std::vector<double>(m, 1.0)},
        {"tau_m", std::vector<double>(m, 20.0)},    {"tau_ref", std::vector<double>(m, 5.0)}};
    std::vector<double> v(m);
    sim::CounterRng rng{salt};
    for (std::size_t i = 0; i < m; ++i)
      v[i] = -60.0 + 10.0 * sim::uniform(rng, 7, static_cast<std::uint32_t>(i), 0);
    p.initial["V"] = v;
    return p;
  };
  r.populations = {make("exc", ne, 1), make("inh", ni, 2)};
  const double p = 80.0 / static_cast<double>(n);
  for (auto [src, w, tau] :
       {std::tuple{"exc", 1.62 * 5.0, 5.0}, std::tuple{"inh", -9.0 * 10.0, 10.0}})
    for (const char* tgt : {"exc", "inh"}) {
      sim::ProjectionSpec pr;
      pr.name = std::string(src) + "_" + tgt;
      pr.source = src;
      pr.target = tgt;
      pr.rule.kind = networks::ConnectionRule::Kind::fixed_probability;
      pr.rule.p = p;
      pr.weight = networks::Distribution::constant(w);
      pr.delay = networks::Distribution::constant(0.1);
      pr.tau = tau;
      r.projections.push_back(pr);
    }
  r.spike_populations = {"exc", "inh"};
  return r;
}

void BM_cuba(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const int threads = static_cast<int>(state.range(1));
  const auto spec = cuba(n);
  double wiring = 0, run_cpu = 0;
  std::size_t spikes = 0;
  for (auto _ : state) {
    const auto t0 = std::chrono::steady_clock::now();
    sim::Simulation sim(spec, {threads});
    const auto t1 = std::chrono::steady_clock::now();
    CountSink sink;
    const double c0 = cpu_seconds();
    sim.run(sink);
    run_cpu = cpu_seconds() - c0;
    const auto t2 = std::chrono::steady_clock::now();
    wiring = std::chrono::duration<double>(t1 - t0).count();
    state.SetIterationTime(std::chrono::duration<double>(t2 - t1).count());
    spikes = sink.n_spikes;
  }
  state.counters["rate_Hz"] = static_cast<double>(spikes) / static_cast<double>(n);  // 1 s
  state.counters["wiring_s"] = wiring;
  state.counters["run_cpu_ms"] = 1e3 * run_cpu;  // of the last iteration
}

// What two cores of this machine do with the CUBA network cut in two when the halves share
// nothing: independent networks of n/2 neurons (the same in-degree, weights and rate, ~5.8
// Hz at 32000: another draw of the network, not the halves of the one of n), each run on a
// thread of its own by the one-thread loop. copies = 2 runs both at the same time and
// times the wall clock from their common start until both are done; copies = 1 runs one
// alone. The team of two threads on the network of n does each half's work and more (its
// halves exchange spikes and wait for each other every step), so the one-thread time at n
// over the copies = 2 time is about the best two-thread speed-up this machine allows
// ("ceiling" in tools/bench/cuba_threads.sh). copies = 2 over copies = 1 is how much a
// core slows down while the other one works too (on a VM: a sibling hyperthread on the
// host, or the memory system shared with other guests).
void BM_cuba_independent_halves(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const auto copies = static_cast<std::size_t>(state.range(1));
  const auto spec = cuba(n / 2);
  double each_ms[2] = {0, 0};
  std::size_t spikes = 0;
  for (auto _ : state) {
    std::vector<sim::Simulation> sims;
    for (std::size_t i = 0; i < copies; ++i) sims.emplace_back(spec, sim::RunOptions{1});
    std::vector<CountSink> sinks(copies);
    std::latch start(static_cast<std::ptrdiff_t>(copies + 1));
    std::chrono::steady_clock::time_point t0, done[2];
    std::vector<std::thread> threads;
    for (std::size_t i = 0; i < copies; ++i)
      threads.emplace_back([&, i] {
        start.arrive_and_wait();
        const auto t = std::chrono::steady_clock::now();
        sims[i].run(sinks[i]);
        done[i] = std::chrono::steady_clock::now();
        each_ms[i] = 1e3 * std::chrono::duration<double>(done[i] - t).count();
      });
    t0 = std::chrono::steady_clock::now();
    start.arrive_and_wait();
    for (auto& t : threads) t.join();
    const auto end = copies == 2 ? std::max(done[0], done[1]) : done[0];
    state.SetIterationTime(std::chrono::duration<double>(end - t0).count());
    spikes = 0;
    for (const auto& k : sinks) spikes += k.n_spikes;
  }
  state.counters["rate_Hz"] =
      static_cast<double>(spikes) / static_cast<double>(copies * (n / 2));  // 1 s
  state.counters["half_a_ms"] = each_ms[0];                                 // of the last iteration
  if (copies == 2) state.counters["half_b_ms"] = each_ms[1];
}

}  // namespace

BENCHMARK(BM_cuba_independent_halves)
    ->ArgNames({"neurons", "copies"})
    ->ArgsProduct({{4000, 16000, 64000}, {1, 2}})
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond)
    ->Repetitions(3)
    ->ReportAggregatesOnly(true);

BENCHMARK(BM_cuba)
    ->ArgNames({"neurons", "threads"})
    ->ArgsProduct({{4000, 16000, 64000}, {1, 2}})
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond)
    ->Repetitions(3)
    ->ReportAggregatesOnly(true);

BENCHMARK_MAIN();
