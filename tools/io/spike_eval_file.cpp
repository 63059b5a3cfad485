#include "tools/io/spike_eval_file.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "tools/io/h5.hpp"

namespace ranvier::io {

std::string spiking_layer_name(int layer, int layers) {
  return layer == layers - 1 ? std::string("output") : fmt::format("hidden_{}", layer);
}

namespace {

void write_spike_eval_contents(H5::H5File& file, const SpikeEvalReport& r) {
  const networks::SpikingMlpSpec& s = *r.spec;
  const networks::SpikingResults& res = *r.results;
  h5::write_root_attributes(file, {"spike_eval", r.config_text, r.config_file, s.seed});
  H5::Group root = file.openGroup("/");
  h5::write_attr(root, "model", r.model_file);
  h5::write_attr(root, "dt", s.dt);
  h5::write_attr(root, "sample_duration", s.duration);
  h5::write_attr(root, "tau_s", s.tau_s);
  h5::write_attr(root, "input", s.input == networks::SpikeInput::current ? "current" : "poisson");
  h5::write_attr(root, "max_rate", s.max_rate);
  h5::write_attr(root, "decode",
                 s.decode == networks::SpikeDecode::filtered ? "filtered" : "count");
  h5::write_attr(root, "decode_from", s.decode_from);
  const std::size_t n_raster = r.raster_samples.size();
  h5::write_attr(root, "duration",
                 s.duration * static_cast<double>(std::max<std::size_t>(n_raster, 1)));
  h5::write_attr(root, "time_units", "ms");

  const int L = static_cast<int>(s.layers.size());
  const std::size_t n = r.labels.size();
  H5::Group ev = h5::ensure_group(file, "/eval");
  h5::write_attr(ev, "samples", static_cast<std::int64_t>(n));
  h5::write_attr(ev, "rate_accuracy", r.rate_accuracy);
  h5::write_attr(ev, "spiking_accuracy", r.spiking_accuracy);
  h5::write_attr(ev, "agreement", r.agreement);
  std::vector<double> per_layer(static_cast<std::size_t>(L), 0.0);
  double total = 0;
  for (int l = 0; l < L; ++l) {
    for (std::size_t j = 0; j < n; ++j)
      per_layer[l] += res.layer_spikes(l, static_cast<Eigen::Index>(j));
    total += per_layer[l];
    per_layer[l] /= static_cast<double>(std::max<std::size_t>(n, 1));
  }
  h5::write_attr(ev, "mean_spikes", total / static_cast<double>(std::max<std::size_t>(n, 1)));
  h5::write_attr(ev, "spikes_per_layer", per_layer);
  auto ints = [](const std::vector<int>& v) {
    return std::vector<std::int64_t>(v.begin(), v.end());
  };
  h5::write_vector(ev, "labels", ints(r.labels));
  h5::write_vector(ev, "rate_class", ints(r.rate_class));
  h5::write_vector(ev, "spiking_class",
                   ints(std::vector<int>(res.predicted.begin(),
                                         res.predicted.begin() + static_cast<std::ptrdiff_t>(n))));
  // (samples, k) row-major: sample j's row is column j of the column-major results.
  auto rows_of = [&](const auto& M) {
    std::vector<double> v;
    v.reserve(n * static_cast<std::size_t>(M.rows()));
    for (std::size_t j = 0; j < n; ++j)
      for (Eigen::Index i = 0; i < M.rows(); ++i)
        v.push_back(static_cast<double>(M(i, static_cast<Eigen::Index>(j))));
    return v;
  };
  const auto ls = rows_of(res.layer_spikes);
  h5::write_matrix(ev, "layer_spikes", ls.data(), n, static_cast<std::size_t>(L));
  const auto oc = rows_of(res.output_counts);
  h5::write_matrix(ev, "output_counts", oc.data(), n,
                   static_cast<std::size_t>(res.output_counts.rows()));
  const auto cur = rows_of(res.output_current);
  h5::write_matrix(ev, "output_current", cur.data(), n,
                   static_cast<std::size_t>(res.output_current.rows()));

  std::vector<std::int64_t> raster_labels;
  for (int i : r.raster_samples) raster_labels.push_back(r.labels[static_cast<std::size_t>(i)]);
  H5::Group ras = h5::ensure_group(file, "/rasters");
  h5::write_vector(ras, "samples", ints(r.raster_samples));
  h5::write_vector(ras, "labels", raster_labels);
  for (int l = 0; l < L; ++l) {
    const std::string name = spiking_layer_name(l, L);
    const networks::SpikingLayer& Ly = s.layers[l];
    H5::Group pop = h5::ensure_group(file, "/populations/" + name);
    h5::write_attr(pop, "size", static_cast<std::int64_t>(Ly.W.rows()));
    h5::write_attr(pop, "model", "lif");
    h5::write_attr(pop, "tau_m", Ly.tau_m);
    h5::write_attr(pop, "tau_ref", Ly.tau_ref);
    h5::write_attr(pop, "threshold", Ly.threshold);
    std::vector<double> t;
    std::vector<std::uint64_t> ids;
    for (std::size_t k = 0; k < n_raster; ++k) {
      const auto& spikes = res.rasters[static_cast<std::size_t>(r.raster_samples[k])];
      for (const auto& sp : spikes)
        if (sp.layer == l) {
          t.push_back(sp.t + static_cast<double>(k) * s.duration);
          ids.push_back(static_cast<std::uint64_t>(sp.neuron));
        }
    }
    // Sorted by time, as the engine writes them (stable: neurons stay in order).
    std::vector<std::size_t> order(t.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(),
                     [&](std::size_t a, std::size_t b) { return t[a] < t[b]; });
    std::vector<double> ts;
    std::vector<std::uint64_t> is;
    for (std::size_t i : order) {
      ts.push_back(t[i]);
      is.push_back(ids[i]);
    }
    H5::Group sg = h5::ensure_group(file, "/spikes/" + name);
    h5::write_attr(sg, "sorting", "by_time");
    h5::write_vector(sg, "timestamps", ts, "ms");
    h5::write_vector(sg, "node_ids", is);
  }
}

}  // namespace

void write_spike_eval_file(const std::string& path, const SpikeEvalReport& r) {
  h5::write_new_file(path, [&](H5::H5File& file) { write_spike_eval_contents(file, r); });
}

}  // namespace ranvier::io
