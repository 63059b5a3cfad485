// A run, described as plain data in canonical units (ms, mV, nA, uA/cm2, Hz): what the
// config layer (tools/io) lowers a YAML file into and what the engine builds itself
// from. Nothing here parses or prints; every field is already unit-resolved and
// broadcast where it says "one value per neuron".
//
// Key paths: errors about a spec name the config key the field came from, written as
// the config writes it (e.g. "populations.lif.params.tau_m",
// "stimuli.drive.values", "record.traces.v.neurons"), so the config layer can point at
// file:line:column. SpecError carries that path.
#pragma once

#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "networks/connectivity.hpp"  // header-only: rules, distributions, the synapse table

namespace ranvier::sim {

enum class Integrator { exact, euler, rk4, dopri5, exponential_euler };

struct PopulationSpec {
  std::string name;
  std::string model;  // a name from models::model_registry()
  std::size_t size = 1;
  Integrator integrator = Integrator::exact;
  // Every parameter of the model, one value per neuron (size == size), canonical units.
  // The config layer fills defaults, lists and seeded distributions.
  std::map<std::string, std::vector<double>> params;
  // Initial state overrides, one value per neuron; a variable not given starts at the
  // model's default (LIF: V = V_L, HH: resting steady state).
  std::map<std::string, std::vector<double>> initial;
  // dopri5 only: error tolerances of the adaptive stepper.
  double abs_tol = 1e-6;
  double rel_tol = 1e-6;
};

// A current injected into some neurons of one population. Numeric fields are
// "broadcastable": one value for all targeted neurons, or one per targeted neuron.
// Values are in the target model's input quantity (nA, uA/cm2, or normalized v_in).
struct StimulusSpec {
  enum class Kind {
    constant,            // values
    steps,               // times[k], step_values[k]: value from times[k] until times[k+1]
    ramp,                // times[k], step_values[k]: piecewise linear through the points,
                         //   held at the first value before and the last value after
    sine,                // offset + amplitude * sin(2 pi frequency_hz t / 1000 + phase)
    white_noise,         // mean + sigma * N(0,1), drawn anew every step (NEST's noise_generator)
    ornstein_uhlenbeck,  // stationary mean, sigma; correlation time tau (exact update)
  };
  std::string name;
  std::string target;                  // population name
  std::vector<std::uint32_t> neurons;  // empty: every neuron of the target
  Kind kind = Kind::constant;
  double start = 0.0;                            // ms; the stimulus is zero outside [start, stop)
  double stop = 1e300;                           // ms
  std::vector<double> values;                    // constant
  std::vector<double> times;                     // steps, ramp (ms, strictly increasing)
  std::vector<std::vector<double>> step_values;  // steps, ramp: [k] broadcastable
  std::vector<double> amplitude, frequency_hz, phase, offset;  // sine
  std::vector<double> mean, sigma;                             // white_noise, ornstein_uhlenbeck
  double tau = 10.0;  // ornstein_uhlenbeck correlation time (ms)
};

struct TraceSpec {
  std::string name;
  std::string population;
  // State variables of the model, "I" (the input), or "I_<channel>" (the current of one
  // synaptic channel of the population, e.g. I_exc).
  std::vector<std::string> variables;
  std::vector<std::uint32_t> neurons;  // empty: all
  std::size_t every = 1;               // record every k-th step (k >= 1)
};

// Spike sources: neurons without dynamics that emit given or random spike trains into
// projections. A spike at time t is stamped at the grid time ceil(t / dt) dt (never early)
// and, with a delay d, arrives at the stamp plus d.
struct SpikeSourceSpec {
  enum class Kind {
    poisson,      // rate_hz: independent Poisson trains (exact exponential intervals)
    spike_times,  // times: explicit times per source
  };
  std::string name;
  std::size_t size = 1;
  Kind kind = Kind::poisson;
  std::vector<double> rate_hz;  // poisson: 1 value or one per source [Hz]
  double start = 0.0;           // ms: poisson trains run in [start, stop)
  double stop = 1e300;          // ms
  // spike_times: one list for every source (size 1) or one list per source [ms], each
  // non-decreasing and >= 0.
  std::vector<std::vector<double>> times;
};

// A projection: synapses from a population or spike source onto a population, made by a
// connection rule. Each spike of source neuron i reaches target j after the synapse's delay
// and injects w_ij times the PSC filter h(t) = t^n e^(-t/tau) / (n! tau^(n+1)) (unit integral,
// models/psc_filter.hpp) into j's input: w is a charge [target input quantity * ms], e.g.
// nA ms for a dimensional LIF, uA/cm2 ms for HH, v_in ms for a normalized LIF.
struct ProjectionSpec {
  std::string name;
  std::string source;  // a population or a spike source
  std::string target;  // a population
  networks::ConnectionRule rule;
  networks::Distribution weight = networks::Distribution::constant(1.0);
  networks::Distribution delay = networks::Distribution::constant(1.0);  // [ms], >= dt
  double tau = 5.0;                                                      // PSC time constant [ms]
  unsigned order = 0;  // 0 exponential, 1 alpha, n: cascade of n + 1 stages
  // Projections onto one target with one channel share its synaptic state, so they must
  // share the filter. Empty: "exc" for a weight mean >= 0, "inh" otherwise.
  std::string channel;
};

// A population rate: spikes of the whole population counted in bins of `bin` steps,
// reported as the mean rate per neuron [Hz] of each bin (a last partial bin is dropped).
struct RateSpec {
  std::string population;
  std::size_t bin = 10;  // steps per bin, >= 1
};

struct RunSpec {
  double dt = 0.1;          // ms
  double duration = 100.0;  // ms
  std::uint64_t seed = 1;
  std::vector<PopulationSpec> populations;
  std::vector<StimulusSpec> stimuli;
  std::vector<SpikeSourceSpec> sources;
  std::vector<ProjectionSpec> projections;
  std::vector<std::string> spike_populations;  // record spikes of these populations
  std::vector<std::string> spike_sources;      // ... and of these spike sources
  // Only these neurons' spikes, for a population or source listed above (absent: all).
  std::map<std::string, std::vector<std::uint32_t>> spike_neurons;
  std::vector<TraceSpec> traces;
  std::vector<RateSpec> rates;
};

// A spec that cannot be run: a parameter outside its constraint, V_reset >= V_th, a
// neuron index out of range, an integrator the model does not have, dt > duration...
struct SpecError : std::runtime_error {
  SpecError(std::string key_path, const std::string& what)
      : std::runtime_error(what), key_path(std::move(key_path)) {}
  std::string key_path;  // e.g. "populations.lif.params.V_reset"
};

// A run that went numerically wrong: NaN, infinity, or a state far outside any
// physiological range. The message carries the time, population, neuron and advice.
struct NumericalFault : std::runtime_error {
  NumericalFault(const std::string& what, double t, std::string population, std::size_t neuron,
                 std::string variable)
      : std::runtime_error(what),
        t(t),
        population(std::move(population)),
        neuron(neuron),
        variable(std::move(variable)) {}
  double t;  // ms
  std::string population;
  std::size_t neuron;
  std::string variable;
};

}  // namespace ranvier::sim
