// One interface for every kind of population (Arbor's cell_group): advance all neurons one
// step under a given input, hand out the step's spikes, read a state variable. The state
// behind it is struct-of-arrays; how a kind integrates is its own business.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
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

class Population {
 public:
  virtual ~Population() = default;
  virtual std::size_t size() const = 0;
  // Advances every neuron from t to t + dt (dt fixed at construction), with input[i] (the
  // model's input quantity) held constant over the step. Appends the step's spikes to
  // `spikes` in time order (ties by neuron index). Never throws for numerical trouble:
  // the first bad neuron is reported by fault() instead.
  virtual void advance(double t, std::span<const double> input, std::vector<Spike>& spikes) = 0;
  // The first neuron (lowest index) whose state went bad in the last advance, if any.
  virtual std::optional<StateFault> fault() const = 0;
  // Copies state variable `var` (index into the model's ModelInfo::state) of `neurons`
  // (all neurons when empty) into out (out.size() == number of neurons read).
  virtual void read_state(std::size_t var, std::span<const std::uint32_t> neurons,
                          std::span<double> out) const = 0;
  // What to change when this population blows up, for the NumericalFault message.
  virtual std::string advice() const = 0;
};

// Builds the population of `spec` (already validated) for time step dt [ms], using up to
// `threads` OpenMP threads inside advance(). Throws SpecError for bad parameters.
std::unique_ptr<Population> make_population(const PopulationSpec& spec, double dt, int threads);

const char* integrator_name(Integrator);

}  // namespace ranvier::sim
