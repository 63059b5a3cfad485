#include "tools/io/run_writer.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "sim/population.hpp"
#include "tools/io/errors.hpp"

namespace ranvier::io {

void write_populations(H5::H5File& file, const RunConfig& cfg) {
  for (const sim::PopulationSpec& pop : cfg.spec.populations) {
    H5::Group g = h5::ensure_group(file, "/populations/" + pop.name);
    h5::write_attr(g, "model", pop.model);
    h5::write_attr(g, "size", static_cast<std::uint64_t>(pop.size));
    h5::write_attr(g, "integrator", sim::integrator_name(pop.integrator));
    h5::write_attr(g, "input_units", cfg.units.at(pop.name).input);
    H5::Group params = g.createGroup("params");
    for (const auto& [name, values] : pop.params)
      h5::write_vector(params, name, values, cfg.unit_of(pop.name, name));
  }
}

RunWriter::RunWriter(const std::string& path, const RunConfig& cfg, const h5::RootInfo& root)
    : cfg_(cfg), file_name_(path) {
  h5::quiet_errors();
  failures_before_ = h5::failure_count();
  try {
    file_ = h5::create_file(path);
  } catch (const H5::Exception& e) {
    throw OutputError(h5::explain(e, path, "create"));
  }
  try {
    write_header(cfg, root);
  } catch (const H5::Exception& e) {
    // Destructors do not run for a constructor that throws: abandon the file here.
    const std::string message = h5::explain(e, path, "write");
    h5::discard_writes(file_);
    throw OutputError(message);
  }
}

void RunWriter::write_header(const RunConfig& cfg, const h5::RootInfo& root) {
  const sim::RunSpec& spec = cfg.spec;
  h5::write_root_attributes(file_, root);
  H5::Group top = file_.openGroup("/");
  h5::write_attr(top, "dt", spec.dt);
  h5::write_attr(top, "duration", spec.duration);
  h5::write_attr(top, "time_units", "ms");
  h5::write_attr(top, "description", cfg.description);

  const std::size_t n_streams = spec.populations.size() + spec.sources.size();
  spike_counts_.assign(n_streams, 0);
  for (std::size_t p = 0; p < n_streams; ++p)
    spike_streams_.push_back(std::make_unique<SpikeStream>());
  write_populations(file_, cfg);
  for (std::size_t p = 0; p < spec.populations.size(); ++p) {
    const sim::PopulationSpec& pop = spec.populations[p];
    const bool recorded = std::find(spec.spike_populations.begin(), spec.spike_populations.end(),
                                    pop.name) != spec.spike_populations.end();
    if (!recorded) continue;
    SpikeStream& s = *spike_streams_[p];
    s.group = h5::ensure_group(file_, "/spikes/" + pop.name);
    h5::write_attr(s.group, "sorting", "by_time");
    s.timestamps = std::make_unique<h5::Appendable<double>>(s.group, "timestamps", 0, "ms");
    s.node_ids = std::make_unique<h5::Appendable<std::uint64_t>>(s.group, "node_ids", 0);
  }
  for (std::size_t i = 0; i < spec.sources.size(); ++i) {
    const std::string& name = spec.sources[i].name;
    if (std::find(spec.spike_sources.begin(), spec.spike_sources.end(), name) ==
        spec.spike_sources.end())
      continue;
    SpikeStream& s = *spike_streams_[spec.populations.size() + i];
    s.group = h5::ensure_group(file_, "/spikes/" + name);
    h5::write_attr(s.group, "sorting", "by_time");
    h5::write_attr(s.group, "source", std::int64_t{1});
    s.timestamps = std::make_unique<h5::Appendable<double>>(s.group, "timestamps", 0, "ms");
    s.node_ids = std::make_unique<h5::Appendable<std::uint64_t>>(s.group, "node_ids", 0);
  }

  for (const sim::TraceSpec& tr : spec.traces) {
    auto stream = std::make_unique<TraceStream>();
    TraceStream& ts = *stream;
    const auto& pop = *std::find_if(spec.populations.begin(), spec.populations.end(),
                                    [&](const auto& p) { return p.name == tr.population; });
    std::vector<std::uint64_t> ids;
    if (tr.neurons.empty()) {
      for (std::size_t i = 0; i < pop.size; ++i) ids.push_back(i);
    } else {
      ids.assign(tr.neurons.begin(), tr.neurons.end());
    }
    ts.n_neurons = ids.size();
    ts.variables = tr.variables;
    ts.group = h5::ensure_group(file_, "/report/" + tr.population);
    for (const std::string& var : tr.variables) {
      H5::Group vg = ts.group.createGroup(var);
      H5::Group mapping = vg.createGroup("mapping");
      h5::write_vector(mapping, "node_ids", ids);
      ts.per_variable.push_back(std::make_unique<h5::Appendable<double>>(
          vg, "data", ids.size(), cfg.unit_of(tr.population, var)));
    }
    traces_.push_back(std::move(stream));
  }
  for (const sim::RateSpec& r : spec.rates) {
    auto stream = std::make_unique<RateStream>();
    stream->group = h5::ensure_group(file_, "/rates/" + r.population);
    stream->data = std::make_unique<h5::Appendable<double>>(stream->group, "data", 0, "Hz");
    h5::write_attr(stream->group, "bin", static_cast<double>(r.bin) * spec.dt);
    rates_.push_back(std::move(stream));
  }
}

void RunWriter::rate_sample(std::size_t rate, double t, double hz) {
  RateStream& rs = *rates_[rate];
  if (rs.samples == 0) rs.first_t = t;
  ++rs.samples;
  rs.data->append(hz);
}

// A run that did not finish (an error, a blow-up, a full disk): the file is discarded;
// its cached writes go to /dev/null, so the streams' datasets close without retrying a
// failed write (and printing about it, or crashing in HDF5).
RunWriter::~RunWriter() {
  if (!finished_) h5::discard_writes(file_);
}

void RunWriter::spikes(std::size_t pop, std::span<const sim::Spike> spikes) {
  spikes_of(pop, spikes);
}

void RunWriter::spikes_of(std::size_t stream, std::span<const sim::Spike> spikes) {
  SpikeStream& s = *spike_streams_[stream];
  spike_counts_[stream] += spikes.size();
  if (!s.timestamps) return;
  for (const sim::Spike& sp : spikes) {
    s.timestamps->append(sp.t);
    s.node_ids->append(static_cast<std::uint64_t>(sp.neuron));
  }
}

void RunWriter::source_spikes(std::size_t source, std::span<const sim::Spike> spikes) {
  spikes_of(cfg_.spec.populations.size() + source, spikes);
}

void RunWriter::trace_sample(std::size_t trace, double t, std::span<const double> values) {
  TraceStream& ts = *traces_[trace];
  if (ts.samples == 0) ts.first_t = t;
  ++ts.samples;
  for (std::size_t v = 0; v < ts.per_variable.size(); ++v)
    ts.per_variable[v]->append(values.data() + v * ts.n_neurons);
}

void RunWriter::finish(double wall_seconds, std::optional<double> stopped_at) {
  try {
    const sim::RunSpec& spec = cfg_.spec;
    const double simulated = stopped_at.value_or(spec.duration);
    for (std::size_t p = 0; p < spike_streams_.size(); ++p) {
      SpikeStream& s = *spike_streams_[p];
      if (!s.timestamps) continue;
      s.timestamps->flush();
      s.node_ids->flush();
      h5::write_attr(s.group, "count", spike_counts_[p]);
      const std::size_t n = p < spec.populations.size()
                                ? spec.populations[p].size
                                : spec.sources[p - spec.populations.size()].size;
      const double rate =
          static_cast<double>(spike_counts_[p]) / (static_cast<double>(n) * simulated * 1e-3);
      h5::write_attr(s.group, "mean_rate", rate);
      h5::write_attr(s.group, "mean_rate_units", "Hz");
    }
    for (std::size_t i = 0; i < traces_.size(); ++i) {
      TraceStream& ts = *traces_[i];
      const double step = static_cast<double>(spec.traces[i].every) * spec.dt;
      for (std::size_t v = 0; v < ts.per_variable.size(); ++v) {
        ts.per_variable[v]->flush();
        H5::Group mapping = ts.group.openGroup(ts.variables[v] + "/mapping");
        const std::vector<double> time = {
            ts.first_t, ts.first_t + static_cast<double>(ts.samples) * step, step};
        h5::write_vector(mapping, "time", time, "ms");
      }
    }
    for (std::size_t i = 0; i < rates_.size(); ++i) {
      RateStream& rs = *rates_[i];
      rs.data->flush();
      const double bin = static_cast<double>(spec.rates[i].bin) * spec.dt;
      H5::Group mapping = rs.group.createGroup("mapping");
      const std::vector<double> time = {rs.first_t,
                                        rs.first_t + static_cast<double>(rs.samples) * bin, bin};
      h5::write_vector(mapping, "time", time, "ms");
    }
    H5::Group top = file_.openGroup("/");
    h5::write_attr(top, "wall_seconds", wall_seconds);
    h5::write_attr(top, "complete", std::int64_t{stopped_at ? 0 : 1});
    h5::write_attr(top, "simulated_until", simulated);
    top.close();
    file_.flush(H5F_SCOPE_GLOBAL);  // every cached chunk and header written, or an exception
    spike_streams_.clear();         // close every object, then the file: its close is real
    traces_.clear();
    rates_.clear();
    h5::close_file(file_);
  } catch (const H5::Exception& e) {
    const std::string message = h5::explain(e, file_name_, "write");
    h5::discard_writes(file_);
    throw OutputError(message);
  }
  finished_ = true;
  // A failure the C++ API swallowed (a destructor's close) still counts.
  if (h5::failure_count() != failures_before_)
    throw OutputError(h5::explain_last(file_name_, "write"));
}

}  // namespace ranvier::io
