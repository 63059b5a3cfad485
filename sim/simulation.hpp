// The engine: builds the populations and stimuli of a RunSpec and advances them in fixed
// steps of dt, handing spikes and trace samples to a RunSink. No I/O here: the HDF5
// writer and the tests implement RunSink.
//
// Step k covers [t_k, t_k + dt), t_k = k dt: the stimuli are sampled at t_k and held over
// the step. Trace samples are taken at t_j = j * every * dt for j = 0..floor(n_steps /
// every) (j = 0 is the initial state); variable "I" is the total input of the step that
// starts at the sample time; "I_<channel>" the current of that synaptic channel (the PSC
// filter's output) at the sample time, arrivals at that time included.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <span>

#include "sim/population.hpp"  // Spike
#include "sim/spec.hpp"

namespace ranvier::sim {

class RunSink {  // implemented at the edges (HDF5 writer) and in tests
 public:
  virtual ~RunSink() = default;
  // The spikes of population `pop` (index into RunSpec::populations) emitted during one
  // step, in time order; called only for populations listed in RunSpec::spike_populations.
  virtual void spikes(std::size_t pop, std::span<const Spike> spikes) = 0;
  // The spikes of spike source `source` (index into RunSpec::sources) stamped at one step,
  // at their grid time (a Poisson source may repeat a neuron: two spikes in the step);
  // called only for sources listed in RunSpec::spike_sources. Default: ignored.
  virtual void source_spikes(std::size_t /*source*/, std::span<const Spike> /*spikes*/) {}
  // One sample of trace `trace` (index into RunSpec::traces) at time t (ms), values laid
  // out variable-major: values[v * n_neurons + i] for variables[v] and neurons[i].
  virtual void trace_sample(std::size_t trace, double t, std::span<const double> values) = 0;
  // The mean rate [Hz] of rate recording `rate` (index into RunSpec::rates) over the bin
  // starting at t (ms). Default: ignored.
  virtual void rate_sample(std::size_t /*rate*/, double /*t*/, double /*hz*/) {}
};

using ProgressFn = std::function<void(double t_now_ms, double t_end_ms)>;

struct RunOptions {
  int threads = 1;  // OpenMP threads over neurons; results are identical for any count
  // Tests: the portable loops instead of the AVX-512 kernels (identical results).
  bool portable_kernels = false;
  // The team loop (Simulation::run) gives each thread at least this many chunks of 256
  // neurons, else it uses fewer threads. Measured on this project's 2-core VM, CUBA at
  // 16000 neurons (63 chunks) ran slower on two threads than on one (88-140 ms against
  // 82-85), 64000 neurons (250 chunks) 1.1-1.5x faster: a step's barrier and the data
  // that crosses between the cores (~0.3 us a cache line there) cost more than half a
  // small step saves. Tests lower it to run the team on small networks.
  std::size_t min_chunks_per_thread = 64;
  // The one-thread loop takes steps in pairs where it can (Population::advance_pair):
  // the same results; tests turn it off to compare.
  bool step_pairs = true;
};

// Checks everything that can be checked before running; throws SpecError with the key path.
void validate(const RunSpec&);

// round(duration / dt), after validate's checks.
std::size_t step_count(const RunSpec&);

class Simulation {
 public:
  explicit Simulation(const RunSpec&, RunOptions = {});  // validates, lowers
  ~Simulation();
  Simulation(Simulation&&) noexcept;
  Simulation& operator=(Simulation&&) noexcept;

  // Runs the whole duration once; throws NumericalFault (the sink has then seen every
  // step before the faulty one). Progress is reported every few hundred steps.
  void run(RunSink&, const ProgressFn& = {});
  std::size_t n_steps() const;
  const RunSpec& spec() const;
  // Threads of the team that run() steps the network with; 1: the plain loop.
  int team_threads() const;
  // Whether the run takes its steps in pairs, on one thread or as a team
  // (RunOptions::step_pairs and Population::advance_pair: the network allows it).
  bool steps_in_pairs() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ranvier::sim
