// One interface for every kind of population (Arbor's cell_group): advance all neurons one
// step under a given input, hand out the step's spikes, read a state variable. The state
// behind it is struct-of-arrays; how a kind integrates is its own business.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "sim/spec.hpp"

namespace ranvier::sim {

struct Spike {
  std::uint32_t neuron;  // index within its population
  double t;              // ms, exact (off-grid) time
};

// A state that went non-finite or far outside any physiological range during a step.
struct StateFault {
  std::size_t neuron;
  std::string variable;  // e.g. "V"
  double value;          // the offending value (NaN, inf or huge)
  std::string detail;    // extra context (e.g. "the adaptive step stalled"), may be empty
};

// An array the engine reads for each spike of a population: neuron i's entry at data[i]
// (a synapse table's row offsets).
struct SpikeRows {
  const std::uint64_t* data = nullptr;
};

class Population {
 public:
  virtual ~Population() = default;
  virtual std::size_t size() const = 0;
  // Advances every neuron from t to t + dt (dt fixed at construction), with input[i] (the
  // model's input quantity) held constant over the step. Appends the step's spikes to
  // `spikes` in time order (ties by neuron index). Never throws for numerical trouble:
  // the first bad neuron is reported by fault() instead.
  virtual void advance(double t, std::span<const double> input, std::vector<Spike>& spikes) = 0;
  // The first neuron (lowest index) whose state went bad in the last advance, if any. The
  // engine stops the run at the first fault, so a kind may keep reporting it afterwards.
  virtual std::optional<StateFault> fault() const = 0;
  // Copies state variable `var` (index into the model's ModelInfo::state) of `neurons`
  // (all neurons when empty) into out (out.size() == number of neurons read).
  virtual void read_state(std::size_t var, std::span<const std::uint32_t> neurons,
                          std::span<double> out) const = 0;
  // What to change when this population blows up, for the NumericalFault message.
  virtual std::string advice() const = 0;

  // Synaptic input integrated together with the membrane (LIF exact with exponential PSCs:
  // V and the currents are one linear system, NEST's iaf_psc_exp propagators). Called once
  // before the run with the PSC time constants [ms] of the exponential channels; returns
  // false if this kind cannot, and the engine then filters them itself and passes their
  // step average in `input`.
  virtual bool attach_exp_synapses(std::span<const double> /*tau_s*/) { return false; }
  // The current of attached channel c, one per neuron [input quantity]: the engine adds
  // w / tau_s to it for each spike arriving at the start of a step, before advance().
  virtual double* synaptic_current(std::size_t /*c*/) { return nullptr; }
  // The factor the engine applies to w / tau_s before adding it there at the start of step
  // `step` (a population may store its currents scaled, see lif_population.cpp).
  virtual double synaptic_scale(std::size_t /*c*/, std::size_t /*step*/) const { return 1.0; }
  // Adds the attached channels' synaptic current at the current time (arrivals included)
  // to out (all neurons if `neurons` is empty), for the input trace "I".
  virtual void add_synaptic_current(std::span<const std::uint32_t> /*neurons*/,
                                    std::span<double> /*out*/) const {}
  // Copies the current of attached channel c at the current time (arrivals included) of
  // `neurons` (all if empty) into out, for the trace "I_<channel>".
  virtual void read_synaptic_current(std::size_t /*c*/, std::span<const std::uint32_t> /*neurons*/,
                                     std::span<double> /*out*/) const {}
  // Tests: use the portable loops even where an instruction-set-specific kernel exists
  // (they give identical results; this checks it).
  virtual void use_portable_kernels(bool /*on*/) {}
  // Arrays indexed by neuron that the engine reads for each spike of this population when
  // it delivers the step's spikes (the row offsets of the outgoing synapse tables). A
  // population that knows a spike well before the delivery may start loading the
  // neuron's entries then: a hint, set before the run (again when a team cuts the rows).
  virtual void set_spike_prefetch(std::vector<SpikeRows> /*rows*/) {}
  // True once exponential synapses are attached and the population then accepts an empty
  // `input` span in advance() as "no input" (the engine skips filling zeros).
  virtual bool accepts_empty_input() const { return false; }

  // Stepping in parts, for a run whose threads stay in one parallel region for the whole
  // run (Simulation's team loop). Part p of `parts` is a fixed range of the population's
  // neurons; advance_part(p, ...) for every p (concurrently, each on its own range),
  // followed by finish_step on one thread, is exactly one advance(). Kinds that cannot
  // split their step return false from splits().
  virtual bool splits() const { return false; }
  // Chunks of neurons the population is cut into (the unit a part is made of).
  virtual std::size_t chunk_count() const { return 1; }
  // [begin, end) of the neurons of part p of `parts`.
  virtual std::pair<std::size_t, std::size_t> part_range(std::size_t /*p*/,
                                                         std::size_t /*parts*/) const {
    return {0, size()};
  }
  // Called once before the first advance_part, with the `parts` the run steps in.
  virtual void begin_team(std::size_t /*parts*/) {}
  virtual void advance_part(std::size_t /*p*/, std::size_t /*parts*/, double /*t*/,
                            std::span<const double> /*input*/) {}
  // Appends the step's spikes (time order, ties by neuron) after the parts have run.
  virtual void finish_step(std::vector<Spike>& /*spikes*/) {}
  // The spikes of part p in step `step` (time order, ties by neuron): written by part p's
  // thread in advance_part (or advance_pair_part), then read by every thread of the team
  // (SynapticNetwork::queue_spikes) and by finish_step once the step is published to them
  // (the team's barrier, or in pairs detail::TeamProgress), until the part's thread writes
  // the list again some steps later (LIF: four).
  virtual std::span<const Spike> part_spikes(std::size_t /*p*/, std::size_t /*step*/) const {
    return {};
  }

  // Stepping in pairs, for Simulation's one-thread loop when every delay is at least one
  // step and no population reads `input`: a spike of step k then arrives at k + 2 or
  // later, so steps k and k + 1 can be taken block by block, each block of neurons through
  // both while its state is in cache. Before stepping block [lo, hi) through step j (k,
  // then k + 1), advance_pair calls arrive(j, lo, hi), which adds step j's arrivals into
  // the block; blocks go in ascending order from 0, or in descending order from the last
  // if `descending`. Two finish_step calls then hand out the spikes of step k and of step
  // k + 1. The results are those of two advance() calls, in either order.
  using ArriveFn = std::function<void(std::size_t step, std::size_t lo, std::size_t hi)>;
  virtual bool steps_in_pairs() const { return false; }
  virtual void advance_pair(double /*t0*/, double /*t1*/, const ArriveFn& /*arrive*/,
                            bool /*descending*/) {}
  // The same for part p of `parts` alone (a team stepping in pairs): its blocks, its
  // range's arrivals. The part's spikes of both steps then wait in part_spikes. Its
  // spikes of step k are there, final, as soon as the part's last block is through step
  // k: advance_pair_part then calls first_done (if given), before that block's step k + 1.
  virtual void advance_pair_part(std::size_t /*p*/, std::size_t /*parts*/, double /*t0*/,
                                 double /*t1*/, const ArriveFn& /*arrive*/, bool /*descending*/,
                                 const std::function<void()>& /*first_done*/ = {}) {}
};

// Builds the population of `spec` (already validated) for time step dt [ms], using up to
// `threads` OpenMP threads inside advance(). Throws SpecError for bad parameters.
std::unique_ptr<Population> make_population(const PopulationSpec& spec, double dt, int threads);

const char* integrator_name(Integrator);

}  // namespace ranvier::sim
