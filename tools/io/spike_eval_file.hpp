// The result file of `ranvier spike-eval`, written atomically by the caller (temp path):
//   /            attributes: program, kind="spike_eval", config (the data config's YAML),
//                config_file, seed, created; model (file), dt [ms], sample_duration [ms],
//                tau_s [ms], input ("current" | "poisson"), max_rate [Hz], decode
//                ("filtered" | "count"), decode_from [ms]; duration [ms] of the rasters
//   /eval        attributes: samples, rate_accuracy, spiking_accuracy, agreement (fraction
//                of samples where both networks give the same class), mean_spikes (per
//                inference), spikes_per_layer (mean per inference); datasets labels,
//                rate_class, spiking_class (samples), layer_spikes (samples, layers),
//                output_counts, output_current (samples, outputs)
//   /spikes/<layer>/{timestamps [ms], node_ids}   the rasters of the recorded samples, one
//                after the other: sample r of /rasters/samples occupies [r T, (r+1) T),
//                T = sample_duration (the SONATA layout tools/plot_raster.py reads)
//   /populations/<layer>   attributes size, model="lif", tau_m, tau_ref, threshold
//   /rasters     datasets samples (indices into the evaluated set), labels
// Layers are named hidden_0, hidden_1, ..., output.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "networks/spiking_mlp.hpp"

namespace ranvier::io {

struct SpikeEvalReport {
  std::string model_file, config_text, config_file;
  const networks::SpikingMlpSpec* spec = nullptr;
  const networks::SpikingResults* results = nullptr;
  std::vector<int> labels, rate_class;  // per evaluated sample
  std::vector<int> raster_samples;      // indices whose spikes were recorded
  double rate_accuracy = 0, spiking_accuracy = 0, agreement = 0;
};

// Layer names as written in the file and printed: hidden_<l>, and output for the last.
std::string spiking_layer_name(int layer, int layers);

void write_spike_eval_file(const std::string& path, const SpikeEvalReport& r);

}  // namespace ranvier::io
