// Writes a run to HDF5 as it goes (a sim::RunSink): spikes in SONATA's layout,
// traces as /report/<population>/<variable>, both streamed in blocks so a long run does
// not hold its output in memory. Layout:
//   /                       attrs: program, kind = "run", config, config_file, seed, created,
//                                  dt, duration (ms), description, wall_seconds,
//                                  complete (1, or 0 for a run stopped by Ctrl-C/SIGTERM),
//                                  simulated_until (ms: = duration when complete)
//   /populations/<p>         attrs: model, size, integrator; params/<name> (per neuron, units)
//   /spikes/<p>/timestamps   float64 (ms), /spikes/<p>/node_ids uint64; attrs sorting =
//                            "by_time", count, mean_rate (Hz); for a recorded spike source
//                            the same, with attr source = 1 and its grid (stamp) times
//   /report/<p>/<v>/data     (samples, neurons), attr units
//   /report/<p>/<v>/mapping/node_ids, mapping/time = [start, stop, step] (ms; sample k is
//                            at start + k*step, stop = start + samples*step, exclusive)
//   /rates/<p>/data          float64 (bins) mean rate per neuron [Hz] of each bin;
//   /rates/<p>/mapping/time  [start, stop, bin] (ms; bin k covers start + k*bin onwards)
#pragma once

#include <H5Cpp.h>

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "sim/simulation.hpp"
#include "tools/io/h5.hpp"
#include "tools/io/run_config.hpp"

namespace ranvier::io {

// /populations/<p>: model, size, integrator, input units and every parameter per neuron.
void write_populations(H5::H5File& file, const RunConfig& cfg);

class RunWriter final : public sim::RunSink {
 public:
  // Creates `path` (a temporary path from OutputFile) and writes everything known
  // before the run. Throws OutputError if the file cannot be created.
  RunWriter(const std::string& path, const RunConfig& cfg, const h5::RootInfo& root);
  ~RunWriter() override;

  void spikes(std::size_t pop, std::span<const sim::Spike> spikes) override;
  void source_spikes(std::size_t source, std::span<const sim::Spike> spikes) override;
  void trace_sample(std::size_t trace, double t, std::span<const double> values) override;
  void rate_sample(std::size_t rate, double t, double hz) override;

  // Flushes the streams, writes the summary attributes and closes the file. A run stopped
  // early passes the time it reached (`stopped_at`, ms): the file then says complete = 0
  // and simulated_until, and its mean rates are over the time simulated. Throws
  // OutputError (disk full...) with the file and the cause.
  void finish(double wall_seconds, std::optional<double> stopped_at = std::nullopt);
  std::uint64_t spike_count(std::size_t pop) const { return spike_counts_[pop]; }

 private:
  // Everything known before the run: root attributes, populations, empty streams.
  void write_header(const RunConfig& cfg, const h5::RootInfo& root);
  void spikes_of(std::size_t stream, std::span<const sim::Spike> spikes);
  struct SpikeStream {
    std::unique_ptr<h5::Appendable<double>> timestamps;
    std::unique_ptr<h5::Appendable<std::uint64_t>> node_ids;
    H5::Group group;
  };
  struct TraceStream {
    std::vector<std::unique_ptr<h5::Appendable<double>>> per_variable;
    std::size_t n_neurons = 0;
    H5::Group group;  // /report/<p>
    std::vector<std::string> variables;
    double first_t = 0.0;
    std::size_t samples = 0;
  };
  const RunConfig& cfg_;
  std::string file_name_;
  std::uint64_t failures_before_ = 0;  // h5::failure_count() when the file was created
  bool finished_ = false;              // finish() closed the file
  H5::H5File file_;
  std::vector<std::unique_ptr<SpikeStream>>
      spike_streams_;  // by population index, then by source index (after the populations);
                       // an empty stream if not recorded
  std::vector<std::uint64_t> spike_counts_;
  std::vector<std::unique_ptr<TraceStream>> traces_;
  struct RateStream {
    std::unique_ptr<h5::Appendable<double>> data;
    H5::Group group;
    double first_t = 0.0;
    std::size_t samples = 0;
  };
  std::vector<std::unique_ptr<RateStream>> rates_;  // by RunSpec::rates index
};

}  // namespace ranvier::io
