// The run config (`ranvier run`, `ranvier validate`): YAML, checked key by key, lowered
// into a sim::RunSpec in canonical units. The schema is documented in configs/README.md.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "sim/spec.hpp"
#include "tools/io/config.hpp"
#include "tools/io/errors.hpp"

namespace ranvier::io {

// How a population's values are labelled in files: LIF may be normalized (no units).
struct PopulationUnits {
  std::string voltage;  // "mV", or "1" for a normalized LIF
  std::string input;    // "nA", "uA/cm2", or "1" (v_in, units of threshold)
  std::string resistance;
};

struct RunConfig {
  sim::RunSpec spec;
  std::map<std::string, PopulationUnits> units;  // by population name
  std::string description;
  // key path -> "file:line:column", for every node read, so that an error found later
  // (by the engine's validation) points at the line that caused it.
  std::map<std::string, std::string> locations;
  // Engine key path -> the config's own key, where the two differ (a constant stimulus
  // is written `value:` but stored in StimulusSpec::values).
  std::map<std::string, std::string> aliases;

  // The unit a recorded variable or parameter of `population` is written in.
  std::string unit_of(const std::string& population, const std::string& variable) const;
  // A SpecError from the engine as a ConfigError at the closest known location.
  ConfigError locate(const sim::SpecError& e) const;
};

// Reads and checks the whole document; throws ConfigError. `seed_override` (from
// --seed), when set, replaces the config's seed.
RunConfig read_run_config(const ConfigDocument& doc, std::optional<std::uint64_t> seed_override = {});

// The `populations` section alone (tuning configs share it with run configs): fills
// cfg.spec.populations, cfg.units and cfg.locations.
void read_populations(const ConfigNode& populations, std::uint64_t seed, RunConfig& cfg);

// A per-neuron value as the populations section reads it: one value, a list of `count`,
// or a seeded distribution ({distribution: uniform, low, high} or {.. normal, mean, std}).
std::vector<double> read_per_neuron(const ConfigNode& node, models::Quantity q,
                                    std::size_t count, std::uint64_t seed, RunConfig& cfg);

// Top-level keys of a run config, for messages and docs.
const std::vector<std::string>& run_config_keys();

}  // namespace ranvier::io
