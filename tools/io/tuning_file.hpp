// The tuning result file (`ranvier tune`):
//   /                        attrs: program, kind = "tuning", config, config_file, seed,
//                            created, dt, duration and transient (ms, per input point)
//   /populations/<p>         as in run files
//   /tuning/<p>/input        (points) the swept values; attrs units, variable ("J" or "x")
//   /tuning/<p>/rate         (points, neurons) Hz, simulated
//   /tuning/<p>/rate_analytic  (points, neurons) Hz, where a closed form exists (LIF)
//   /tuning/<p>/gain, bias   (neurons) input units         } with an encoding
//   /tuning/<p>/encoder      (neurons, dimensions)          }
//   /tuning/<p>/max_rate     (neurons) Hz, intercept (neurons) }
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "sim/tuning.hpp"
#include "tools/io/h5.hpp"
#include "tools/io/tune_config.hpp"

namespace ranvier::io {

struct TuningResult {
  std::vector<double> rate;           // (points, neurons) simulated, empty if not asked for
  std::vector<double> rate_analytic;  // (points, neurons), empty if not asked for
  std::optional<sim::GainBias> gain_bias;
};

// Writes the whole file at `path` (a temporary path from OutputFile). Throws OutputError.
void write_tuning_file(const std::string& path, const TuneConfig& tc,
                       const std::vector<TuningResult>& results, const h5::RootInfo& root);

}  // namespace ranvier::io
