// The tuning config (`ranvier tune`): populations as in a run config, a sweep of
// constant inputs, and optionally a Nengo-style encoding per population (maximum rates
// and x-intercepts instead of gains and biases). Schema in configs/README.md.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "sim/tuning.hpp"
#include "tools/io/run_config.hpp"

namespace ranvier::io {

struct TuneTarget {
  std::size_t population = 0;      // index into TuneConfig::base.spec.populations
  std::vector<double> input;       // swept values: s along the encoding direction, or J
  std::string input_units;         // "1" for s, else the population's input unit
  std::optional<sim::EncodingSpec> encoding;
};

struct TuneConfig {
  RunConfig base;  // populations, units, locations, description, seed
  sim::SweepSettings settings;
  bool simulated = true;
  bool analytic = false;
  std::vector<TuneTarget> targets;  // one per population, in file order
};

// Throws ConfigError (with file:line:column) for anything the tuning cannot run with.
TuneConfig read_tune_config(const ConfigDocument& doc, std::optional<std::uint64_t> seed_override = {});

}  // namespace ranvier::io
