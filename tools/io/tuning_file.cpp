#include "tools/io/tuning_file.hpp"

#include <fmt/format.h>

#include "tools/io/errors.hpp"
#include "tools/io/run_writer.hpp"

namespace ranvier::io {

void write_tuning_file(const std::string& path, const TuneConfig& tc,
                       const std::vector<TuningResult>& results, const h5::RootInfo& root) {
  h5::quiet_errors();
  const std::uint64_t failures_before = h5::failure_count();
  H5::H5File file;
  try {
    file = h5::create_file(path);
    h5::write_root_attributes(file, root);
    H5::Group top = file.openGroup("/");
    h5::write_attr(top, "dt", tc.settings.dt);
    h5::write_attr(top, "duration", tc.settings.duration);
    h5::write_attr(top, "transient", tc.settings.transient);
    h5::write_attr(top, "time_units", "ms");
    h5::write_attr(top, "description", tc.base.description);
    write_populations(file, tc.base);
    for (std::size_t t = 0; t < tc.targets.size(); ++t) {
      const TuneTarget& target = tc.targets[t];
      const TuningResult& r = results[t];
      const sim::PopulationSpec& pop = tc.base.spec.populations[target.population];
      const std::string input_units = tc.base.units.at(pop.name).input;
      H5::Group g = h5::ensure_group(file, "/tuning/" + pop.name);
      H5::DataSet in = h5::write_vector(g, "input", target.input, target.input_units);
      h5::write_attr(in, "variable", target.encoding ? "x" : "J");
      const std::size_t points = target.input.size(), n = pop.size;
      if (!r.rate.empty()) h5::write_matrix(g, "rate", r.rate.data(), points, n, "Hz");
      if (!r.rate_analytic.empty())
        h5::write_matrix(g, "rate_analytic", r.rate_analytic.data(), points, n, "Hz");
      if (target.encoding && r.gain_bias) {
        const sim::EncodingSpec& enc = *target.encoding;
        h5::write_vector(g, "gain", r.gain_bias->gain, input_units);
        h5::write_vector(g, "bias", r.gain_bias->bias, input_units);
        h5::write_matrix(g, "encoder", enc.encoders.data(), n, enc.dimensions);
        h5::write_vector(g, "direction", enc.direction);
        h5::write_vector(g, "max_rate", enc.max_rate, "Hz");
        h5::write_vector(g, "intercept", enc.intercept, "1");
      }
    }
    top.close();
    file.flush(H5F_SCOPE_GLOBAL);
    h5::close_file(file);
  } catch (const H5::Exception& e) {
    const std::string message = h5::explain(e, path, "write");
    h5::discard_writes(file);
    throw OutputError(message);
  }
  // A failure the C++ API swallowed (a destructor's close) still counts.
  if (h5::failure_count() != failures_before) throw OutputError(h5::explain_last(path, "write"));
}

}  // namespace ranvier::io
