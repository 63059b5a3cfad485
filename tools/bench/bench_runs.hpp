// What the uncoupled-population benchmarks share: a spec with one population whose
// constant inputs are spread evenly over a range, and a timing loop that runs it and
// reports neuron-steps per second (real time) and per CPU-second.
#pragma once

#include <benchmark/benchmark.h>

#include <ctime>
#include <span>
#include <string>

#include "sim/simulation.hpp"
#include "sim/spec_defaults.hpp"

namespace ranvier::bench {

// Counts spikes and throws everything else away.
struct NullSink : sim::RunSink {
  std::size_t n_spikes = 0;
  void spikes(std::size_t, std::span<const sim::Spike> s) override { n_spikes += s.size(); }
  void trace_sample(std::size_t, double, std::span<const double>) override {}
};

// n neurons of `model` at its defaults; neuron i gets the constant input
// max_input * i / (n - 1).
inline sim::RunSpec spread_input_run(const std::string& model, std::size_t n,
                                     sim::Integrator integrator, double dt, double duration,
                                     double max_input) {
  sim::RunSpec run;
  run.dt = dt;
  run.duration = duration;
  run.populations = {sim::default_population(model, model, n, integrator)};
  sim::StimulusSpec s;
  s.name = "sweep";
  s.target = model;
  s.kind = sim::StimulusSpec::Kind::constant;
  for (std::size_t i = 0; i < n; ++i)
    s.values.push_back(max_input * static_cast<double>(i) / static_cast<double>(n - 1));
  run.stimuli = {s};
  run.spike_populations = {model};
  return run;
}

// Runs `run` once per benchmark iteration on `threads` threads and sets the counters.
inline void time_runs(benchmark::State& state, const sim::RunSpec& run, int threads) {
  const std::size_t n = run.populations.front().size;
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

}  // namespace ranvier::bench
