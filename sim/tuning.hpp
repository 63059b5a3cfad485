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
// std::domain_error naming the neuron if it does not get there by `hi`. `progress` is
// passed to each round's simulate_rates (time within that round's simulation); it may
// throw to stop the search (Ctrl-C).
std::vector<double> input_for_rate(const PopulationSpec& pop, std::span<const double> target_hz,
                                   double lo, double hi, double tolerance,
                                   const SweepSettings& settings, std::size_t per_round = 16,
                                   const ProgressFn& progress = {});

// A heterogeneous population as Nengo builds one: neuron i represents x (d dimensions)
// through J_i(x) = gain_i (e_i . x) + bias_i, and is given its maximum rate (reached at
// e_i . x = 1) and its x-intercept (where it starts to fire) instead of gain and bias.
struct EncodingSpec {
  std::size_t dimensions = 1;
  std::vector<double> encoders;   // (n, dimensions), unit rows
  std::vector<double> direction;  // (dimensions): x = s * direction along the sweep
  std::vector<double> max_rate;   // (n) Hz
  std::vector<double> intercept;  // (n), each below 1
  // Where to search for the onset and max-rate inputs when there is no closed form (HH):
  double search_from = 0.0, search_to = 100.0, tolerance = 1e-3;  // input units
};

struct GainBias {
  std::vector<double> gain;  // (n) input units per unit of e . x
  std::vector<double> bias;  // (n) input units
};

// LIF in closed form (models/lif_gain_bias.hpp); other models from their simulated rates
// (input_for_rate). Throws std::domain_error naming the neuron for an intercept >= 1 or a
// max rate the neuron cannot reach. `progress` as for input_for_rate.
GainBias solve_gain_bias(const PopulationSpec& pop, const EncodingSpec& enc,
                         const SweepSettings& settings, const ProgressFn& progress = {});

// Inputs for a sweep over s: J[p * n + i] = gain_i (e_i . direction) s_p + bias_i.
std::vector<double> encoded_inputs(const EncodingSpec& enc, const GainBias& gb,
                                   std::span<const double> s);

// The analytic LIF rates G(J) [Hz] for inputs laid out as simulate_rates takes them,
// each neuron with its own parameters. `pop` must be a LIF population.
std::vector<double> analytic_lif_rates(const PopulationSpec& pop, std::span<const double> inputs,
                                       std::size_t points);

}  // namespace ranvier::sim
