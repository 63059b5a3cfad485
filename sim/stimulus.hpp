// Input currents: the StimulusSpecs of a run lowered into per-target arrays (every
// broadcastable field expanded to one value per targeted neuron) and sampled at the start
// of each step; the engine holds the sum over the step. Noise draws are keyed by
// (run seed, stimulus index, neuron, step), so they never depend on threads or order.
#pragma once

#include <cstdint>
#include <vector>

#include "sim/random.hpp"
#include "sim/spec.hpp"

namespace ranvier::sim {

class Stimuli {
 public:
  // `spec` must be validated. dt [ms] is the step the stimuli are sampled at.
  explicit Stimuli(const RunSpec& spec);

  // Adds the value of every stimulus at step k (time t = k dt) to inputs[pop][neuron].
  // Must be called with k = 0, 1, 2, ... in order (the Ornstein-Uhlenbeck state advances).
  void add(std::uint64_t k, std::vector<std::vector<double>>& inputs);

 private:
  struct Lowered {
    StimulusSpec::Kind kind;
    std::size_t pop;                          // index into RunSpec::populations
    std::uint32_t stream;                     // random stream id
    std::vector<std::uint32_t> neurons;       // targeted neurons (population indices)
    bool all = false;                         // targets the whole population, in order
    double start, stop;                       // ms
    std::vector<double> values;               // constant, per target
    std::vector<double> times;                // steps / ramp [ms]
    std::vector<std::vector<double>> points;  // steps / ramp: [k][target]
    std::vector<double> amplitude, frequency_hz, phase, offset;  // sine, per target
    std::vector<double> mean, sigma;                             // noise, per target
    double decay = 0, kick = 0;  // OU: exp(-dt/tau), sqrt(1 - exp(-2 dt/tau))
    std::vector<double> ou;      // OU: current value per target
  };
  double value(Lowered& s, std::size_t j, std::uint64_t k, double t) const;

  double dt_;
  CounterRng rng_;
  std::vector<Lowered> stim_;
};

// Expands a broadcastable field (1 value, or one per target) to n values.
std::vector<double> broadcast(const std::vector<double>& v, std::size_t n);

}  // namespace ranvier::sim
