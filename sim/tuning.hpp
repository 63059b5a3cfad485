// Tuning curves on the engine: the firing rate of each neuron of a population under
// constant inputs, measured from the simulation itself (the same engine as a run), and
// the inputs at which a neuron starts firing or reaches a given rate, found by
// successive subdivision where no closed form exists (Hodgkin-Huxley).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "sim/simulation.hpp"
#include "sim/spec.hpp"

namespace ranvier::sim {

struct SweepSettings {
  double dt = 0.1;           // ms
  double duration = 1000.0;  // ms simulated at each input
  double transient = 100.0;  // ms discarded at the start of each
  std::uint64_t seed = 1;
  int threads = 1;
};

// Rates of the n neurons of `pop` at `points` inputs each: inputs[p * n + i] drives
// neuron i at point p, and the result has the same layout, in Hz. A rate is
// 1 / (mean inter-spike interval) of the spikes after the transient, 0 where fewer than
// two spikes follow it (the neuron does not fire repeatedly). All points run as one
// population of points * n neurons, so threads share the whole sweep.
// Throws SpecError (bad settings) or NumericalFault.
std::vector<double> simulate_rates(const PopulationSpec& pop, std::span<const double> inputs,
                                   std::size_t points, const SweepSettings& settings,
                                   const ProgressFn& progress = {});

// For each neuron i of `pop`, the smallest input J in [lo, hi] at which it fires
// repeatedly (target_hz[i] == 0) or at target_hz[i] or faster, to within `tolerance`
// (input units). Assumes the rate rises with the input above the onset. Each round
// simulates `per_round` inputs per neuron across the current bracket. Throws
// std::domain_error naming the neuron if it does not get there by `hi`.
std::vector<double> input_for_rate(const PopulationSpec& pop, std::span<const double> target_hz,
                                   double lo, double hi, double tolerance,
                                   const SweepSettings& settings, std::size_t per_round = 16);

}  // namespace ranvier::sim
