#include "sim/simulation.hpp"

#include <fmt/format.h>

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <exception>
#include <limits>
#include <set>

#include "models/model_info.hpp"
#include "models/param_check.hpp"
#include "sim/stimulus.hpp"
#include "sim/synapses.hpp"
#include "sim/team_barrier.hpp"

namespace ranvier::sim {
namespace {

const PopulationSpec* find_pop(const RunSpec& s, const std::string& name,
                               std::size_t* index = nullptr) {
  for (std::size_t p = 0; p < s.populations.size(); ++p)
    if (s.populations[p].name == name) {
      if (index) *index = p;
      return &s.populations[p];
    }
  return nullptr;
}

std::string pop_names(const RunSpec& s) {
  std::string r;
  for (const auto& p : s.populations) r += (r.empty() ? "'" : ", '") + p.name + "'";
  return r.empty() ? "none" : r;
}

void check_finite(const std::vector<double>& v, const std::string& key, const char* what) {
  for (std::size_t i = 0; i < v.size(); ++i)
    if (!std::isfinite(v[i]))
      throw SpecError(key, fmt::format("{}: value {} is not finite ({})", what, i, v[i]));
}

void validate_population(const PopulationSpec& p) {
  const std::string key = "populations." + p.name;
  if (p.size == 0)
    throw SpecError(key + ".size", fmt::format("population '{}' has no neurons", p.name));
  const models::ModelInfo* m = models::find_model(p.model);
  if (!m) {
    std::string known;
    for (const auto& mi : models::model_registry()) known += (known.empty() ? "" : ", ") + mi.name;
    throw SpecError(key + ".model", fmt::format("population '{}': unknown model '{}' (known: {})",
                                                p.name, p.model, known));
  }
  const std::string integ = integrator_name(p.integrator);
  if (std::find(m->integrators.begin(), m->integrators.end(), integ) == m->integrators.end()) {
    std::string allowed;
    for (const auto& i : m->integrators) allowed += (allowed.empty() ? "" : ", ") + i;
    throw SpecError(key + ".integrator",
                    fmt::format("population '{}': model '{}' has no integrator '{}' (allowed: {})",
                                p.name, p.model, integ, allowed));
  }
  if (p.integrator == Integrator::dopri5) {
    if (!(p.abs_tol > 0))
      throw SpecError(key + ".abs_tol", fmt::format("population '{}': abs_tol must be > 0, got {}",
                                                    p.name, p.abs_tol));
    if (!(p.rel_tol >= 0))
      throw SpecError(key + ".rel_tol", fmt::format("population '{}': rel_tol must be >= 0, got {}",
                                                    p.name, p.rel_tol));
  }
  models::check_params(*m, p.name, p.params, p.size);
  for (const auto& [var, values] : p.initial) {
    const std::string ikey = key + ".initial." + var;
    if (!m->find_state(var)) {
      std::string known;
      for (const auto& s : m->state) known += (known.empty() ? "" : ", ") + s.name;
      throw SpecError(ikey, fmt::format("population '{}': model '{}' has no state variable '{}' "
                                        "(known: {})",
                                        p.name, p.model, var, known));
    }
    if (values.size() != p.size)
      throw SpecError(ikey, fmt::format("population '{}': initial {} has {} values, expected one "
                                        "per neuron ({})",
                                        p.name, var, values.size(), p.size));
    check_finite(values, ikey, "initial state");
  }
}

void check_broadcast(const std::vector<double>& v, std::size_t n, const std::string& key,
                     const std::string& stim, const char* field) {
  if (v.size() != 1 && v.size() != n)
    throw SpecError(key, fmt::format("stimulus '{}': {} needs 1 value or one per targeted neuron "
                                     "({}), got {}",
                                     stim, field, n, v.size()));
  check_finite(v, key, field);
}

void validate_stimulus(const RunSpec& run, const StimulusSpec& s) {
  using K = StimulusSpec::Kind;
  const std::string key = "stimuli." + s.name;
  const PopulationSpec* p = find_pop(run, s.target);
  if (!p)
    throw SpecError(key + ".target", fmt::format("stimulus '{}': no population '{}' (populations: "
                                                 "{})",
                                                 s.name, s.target, pop_names(run)));
  for (auto i : s.neurons)
    if (i >= p->size)
      throw SpecError(key + ".neurons", fmt::format("stimulus '{}': neuron {} is out of range "
                                                    "(population '{}' has {} neurons)",
                                                    s.name, i, p->name, p->size));
  const std::size_t n = s.neurons.empty() ? p->size : s.neurons.size();
  if (std::isnan(s.start) || std::isnan(s.stop) || !(s.start <= s.stop))
    throw SpecError(key + ".stop", fmt::format("stimulus '{}': stop ({} ms) must not be before "
                                               "start ({} ms)",
                                               s.name, s.stop, s.start));
  switch (s.kind) {
    case K::constant:
      check_broadcast(s.values, n, key + ".values", s.name, "values");
      break;
    case K::steps:
    case K::ramp:
      if (s.times.empty())
        throw SpecError(key + ".times",
                        fmt::format("stimulus '{}': needs at least one time", s.name));
      check_finite(s.times, key + ".times", "times");
      for (std::size_t k = 1; k < s.times.size(); ++k)
        if (!(s.times[k] > s.times[k - 1]))
          throw SpecError(key + ".times",
                          fmt::format("stimulus '{}': times must be strictly increasing, but "
                                      "times[{}] = {} ms follows {} ms",
                                      s.name, k, s.times[k], s.times[k - 1]));
      if (s.step_values.size() != s.times.size())
        throw SpecError(key + ".values", fmt::format("stimulus '{}': {} times but {} values",
                                                     s.name, s.times.size(), s.step_values.size()));
      for (const auto& v : s.step_values) check_broadcast(v, n, key + ".values", s.name, "values");
      break;
    case K::sine:
      check_broadcast(s.amplitude, n, key + ".amplitude", s.name, "amplitude");
      check_broadcast(s.frequency_hz, n, key + ".frequency", s.name, "frequency");
      check_broadcast(s.phase, n, key + ".phase", s.name, "phase");
      check_broadcast(s.offset, n, key + ".offset", s.name, "offset");
      break;
    case K::ornstein_uhlenbeck:
      if (!(s.tau > 0) || !std::isfinite(s.tau))
        throw SpecError(key + ".tau", fmt::format("stimulus '{}': the correlation time tau must be "
                                                  "> 0, got {} ms",
                                                  s.name, s.tau));
      [[fallthrough]];
    case K::white_noise:
      check_broadcast(s.mean, n, key + ".mean", s.name, "mean");
      check_broadcast(s.sigma, n, key + ".sigma", s.name, "sigma");
      for (double v : s.sigma)
        if (v < 0)
          throw SpecError(key + ".sigma",
                          fmt::format("stimulus '{}': sigma must be >= 0, got {}", s.name, v));
      break;
  }
}

// The channel named by trace variable "I_<channel>", or "" if v is not of that form.
std::string synaptic_channel_of(const std::string& v) {
  return v.size() > 2 && v.compare(0, 2, "I_") == 0 ? v.substr(2) : std::string();
}

void validate_trace(const RunSpec& run, const TraceSpec& t) {
  const std::string key = "record.traces." + t.name;
  const PopulationSpec* p = find_pop(run, t.population);
  if (!p)
    throw SpecError(key + ".population", fmt::format("trace '{}': no population '{}' "
                                                     "(populations: {})",
                                                     t.name, t.population, pop_names(run)));
  const models::ModelInfo* m = models::find_model(p->model);
  if (t.variables.empty())
    throw SpecError(key + ".variables", fmt::format("trace '{}': no variables to record", t.name));
  const std::vector<std::string> channels = channel_names(run, p->name);
  for (const auto& v : t.variables)
    if (v != "I" && !m->find_state(v) &&
        std::find(channels.begin(), channels.end(), synaptic_channel_of(v)) == channels.end()) {
      std::string known;
      for (const auto& s : m->state) known += s.name + ", ";
      known += "I";
      for (const auto& c : channels) known += ", I_" + c;
      throw SpecError(key + ".variables",
                      fmt::format("trace '{}': model '{}' has no variable '{}' (known: {})", t.name,
                                  p->model, v, known));
    }
  for (auto i : t.neurons)
    if (i >= p->size)
      throw SpecError(key + ".neurons", fmt::format("trace '{}': neuron {} is out of range "
                                                    "(population '{}' has {} neurons)",
                                                    t.name, i, p->name, p->size));
  if (t.every < 1)
    throw SpecError(key + ".every", fmt::format("trace '{}': every must be >= 1", t.name));
}

}  // namespace

std::size_t step_count(const RunSpec& s) {
  return static_cast<std::size_t>(std::llround(s.duration / s.dt));
}

void validate(const RunSpec& s) {
  if (!(s.dt > 0) || !std::isfinite(s.dt))
    throw SpecError("dt", fmt::format("dt must be > 0, got {} ms", s.dt));
  if (!(s.duration > 0) || !std::isfinite(s.duration))
    throw SpecError("duration", fmt::format("duration must be > 0, got {} ms", s.duration));
  if (s.dt > s.duration)
    throw SpecError(
        "dt", fmt::format("dt ({} ms) is larger than the duration ({} ms)", s.dt, s.duration));
  const double steps = s.duration / s.dt;
  if (std::fabs(steps - std::round(steps)) > 1e-9 * steps)
    throw SpecError("duration", fmt::format("duration ({} ms) must be a whole number of steps of "
                                            "dt ({} ms); it is {} steps",
                                            s.duration, s.dt, steps));
  if (steps > 1e15) throw SpecError("duration", fmt::format("{} steps are too many", steps));
  std::set<std::string> names;
  for (const auto& p : s.populations) {
    if (!names.insert(p.name).second)
      throw SpecError("populations." + p.name,
                      fmt::format("population name '{}' is used twice", p.name));
    validate_population(p);
  }
  names.clear();
  for (const auto& st : s.stimuli) {
    if (!names.insert(st.name).second)
      throw SpecError("stimuli." + st.name,
                      fmt::format("stimulus name '{}' is used twice", st.name));
    validate_stimulus(s, st);
  }
  for (const auto& name : s.spike_populations)
    if (!find_pop(s, name))
      throw SpecError("record.spikes", fmt::format("spikes of unknown population '{}' requested "
                                                   "(populations: {})",
                                                   name, pop_names(s)));
  auto find_source = [&](const std::string& name) -> const SpikeSourceSpec* {
    for (const auto& src : s.sources)
      if (src.name == name) return &src;
    return nullptr;
  };
  for (const auto& name : s.spike_sources)
    if (!find_source(name))
      throw SpecError("record.spikes",
                      fmt::format("spikes of unknown spike source '{}' requested", name));
  for (const auto& [name, ids] : s.spike_neurons) {
    const PopulationSpec* p = find_pop(s, name);
    const SpikeSourceSpec* src = p ? nullptr : find_source(name);
    if (!p && !src)
      throw SpecError("record.spikes", fmt::format("spikes of unknown population '{}' requested "
                                                   "(populations: {})",
                                                   name, pop_names(s)));
    const std::size_t size = p ? p->size : src->size;
    for (auto i : ids)
      if (i >= size)
        throw SpecError("record.spikes." + name,
                        fmt::format("spikes of neuron {} requested, but {} '{}' has {} neurons", i,
                                    p ? "population" : "spike source", name, size));
  }
  names.clear();
  for (const auto& t : s.traces) {
    if (!names.insert(t.name).second)
      throw SpecError("record.traces." + t.name,
                      fmt::format("trace name '{}' is used twice", t.name));
    validate_trace(s, t);
  }
  validate_network(s);
}

// ---------------------------------------------------------------------------------------

namespace {
constexpr std::size_t kInputVar = std::numeric_limits<std::size_t>::max();  // trace var "I"
// Trace var "I_<channel>": kChannelVar + the network's channel index.
constexpr std::size_t kChannelVar = std::numeric_limits<std::size_t>::max() / 2;
constexpr std::size_t kProgressEvery = 256;  // steps
}  // namespace

struct Simulation::Impl {
  struct Trace {
    std::size_t pop, every;
    std::vector<std::size_t> vars;  // state index, or kInputVar
    std::vector<std::uint32_t> neurons;
    std::size_t n;               // neurons per variable
    std::vector<double> values;  // vars.size() * n
  };

  RunSpec spec;
  RunOptions opt;
  std::size_t n_steps = 0;
  std::vector<std::unique_ptr<Population>> pops;
  std::vector<char> record_spikes;              // per population
  std::vector<std::vector<char>> spike_subset;  // per population: empty (all) or a mask
  std::vector<Spike> subset_scratch;
  std::vector<std::size_t> recorded_sources;     // RunSpec::sources indices, spikes recorded
  std::vector<std::vector<char>> source_subset;  // per recorded source: empty (all) or a mask
  std::vector<Trace> traces;
  std::unique_ptr<SynapticNetwork> net;  // null without projections
  // Per population: no stimulus and no filtered synaptic current reaches it, and it takes
  // an empty input span (LIF exact with attached synapses): its input is never filled.
  std::vector<char> no_input;
  std::vector<std::size_t> rate_pop;  // per RunSpec::rates: population index
  std::vector<double> rate_count;     // spikes in the current bin
  bool ran = false;

  Impl(const RunSpec& s, RunOptions o) : spec(s), opt(o) {
    validate(spec);
    n_steps = step_count(spec);
    const int threads = std::max(1, opt.threads);
    for (const auto& p : spec.populations) pops.push_back(make_population(p, spec.dt, threads));
    for (auto& p : pops) p->use_portable_kernels(opt.portable_kernels);
    if (!spec.projections.empty() || !spec.spike_sources.empty())
      net = std::make_unique<SynapticNetwork>(spec, pops, threads);
    for (const auto& name : spec.spike_sources) {
      std::size_t si = 0;
      while (spec.sources[si].name != name) ++si;  // checked by validate
      recorded_sources.push_back(si);
      net->keep_emitting(si);
      std::vector<char> mask;
      if (auto it = spec.spike_neurons.find(name); it != spec.spike_neurons.end()) {
        mask.assign(spec.sources[si].size, 0);
        for (auto i : it->second) mask[i] = 1;
      }
      source_subset.push_back(std::move(mask));
    }
    for (const auto& r : spec.rates) {
      std::size_t p = 0;
      find_pop(spec, r.population, &p);
      rate_pop.push_back(p);
    }
    rate_count.assign(rate_pop.size(), 0.0);
    if (const int team = team_size(); net && team > 1)  // the team's ranges, fixed
      for (std::size_t p = 0; p < pops.size(); ++p) {
        std::vector<std::uint32_t> lo;
        for (std::size_t part = 0; part < static_cast<std::size_t>(team); ++part)
          lo.push_back(static_cast<std::uint32_t>(pops[p]->part_range(part, team).first));
        lo.push_back(static_cast<std::uint32_t>(pops[p]->size()));
        net->split_targets(p, lo);
      }
    no_input.assign(pops.size(), 0);
    for (std::size_t p = 0; p < pops.size(); ++p) {
      bool stimulated = false;
      for (const auto& st : spec.stimuli) stimulated |= st.target == spec.populations[p].name;
      no_input[p] = !stimulated && pops[p]->accepts_empty_input() && !(net && net->filters_into(p));
    }
    record_spikes.assign(pops.size(), 0);
    for (const auto& name : spec.spike_populations) {
      std::size_t p = 0;
      find_pop(spec, name, &p);
      record_spikes[p] = 1;
    }
    spike_subset.resize(pops.size());
    for (const auto& [name, ids] : spec.spike_neurons) {
      std::size_t p = 0;
      if (!find_pop(spec, name, &p)) continue;  // a spike source's: see recorded_sources
      spike_subset[p].assign(pops[p]->size(), 0);
      for (auto i : ids) spike_subset[p][i] = 1;
    }
    for (const auto& t : spec.traces) {
      Trace tr;
      find_pop(spec, t.population, &tr.pop);
      tr.every = t.every;
      const auto* m = models::find_model(spec.populations[tr.pop].model);
      for (const auto& v : t.variables) {
        if (v == "I") {
          tr.vars.push_back(kInputVar);
        } else if (const auto* st = m->find_state(v)) {
          tr.vars.push_back(static_cast<std::size_t>(st - m->state.data()));
        } else {  // "I_<channel>", checked by validate
          tr.vars.push_back(kChannelVar + net->find_channel(tr.pop, synaptic_channel_of(v)));
        }
      }
      tr.neurons = t.neurons;
      tr.n = t.neurons.empty() ? spec.populations[tr.pop].size : t.neurons.size();
      tr.values.resize(tr.vars.size() * tr.n);
      traces.push_back(std::move(tr));
    }
  }

  [[noreturn]] void throw_fault(std::size_t p, const StateFault& f, double t) const {
    const PopulationSpec& ps = spec.populations[p];
    const auto* m = models::find_model(ps.model);
    const auto* st = m->find_state(f.variable);
    const std::string unit = st ? std::string(models::canonical_unit(st->quantity)) : "";
    std::string what;
    if (std::isnan(f.value))
      what = "became NaN";
    else if (std::isinf(f.value))
      what = "became infinite";
    else
      what = fmt::format("reached {:.4g} {}", f.value, unit);
    std::string msg =
        fmt::format("population '{}' neuron {}: {} {} at t = {:.10g} ms ({}, dt = {} ms)", ps.name,
                    f.neuron, f.variable, what, t, integrator_name(ps.integrator), spec.dt);
    if (!f.detail.empty()) msg += "; " + f.detail;
    msg += "; the integration blew up — " + pops[p]->advice();
    throw NumericalFault(msg, t, ps.name, f.neuron, f.variable);
  }

  void sample(RunSink& sink, std::size_t k, double t, const std::vector<std::vector<double>>& in) {
    for (std::size_t ti = 0; ti < traces.size(); ++ti) {
      Trace& tr = traces[ti];
      if (k % tr.every) continue;
      for (std::size_t v = 0; v < tr.vars.size(); ++v) {
        std::span<double> out(tr.values.data() + v * tr.n, tr.n);
        if (tr.vars[v] >= kChannelVar && tr.vars[v] != kInputVar) {
          net->read_current(tr.vars[v] - kChannelVar, tr.neurons, out);
        } else if (tr.vars[v] != kInputVar) {
          pops[tr.pop]->read_state(tr.vars[v], tr.neurons, out);
        } else {
          if (tr.neurons.empty())
            std::copy(in[tr.pop].begin(), in[tr.pop].end(), out.begin());
          else
            for (std::size_t i = 0; i < tr.n; ++i) out[i] = in[tr.pop][tr.neurons[i]];
          pops[tr.pop]->add_synaptic_current(tr.neurons, out);  // exactly integrated PSCs
        }
      }
      sink.trace_sample(ti, t, tr.values);
    }
  }

  // After every population has stepped through step k (spikes[p] filled): faults, spike
  // delivery, spike and rate recording, progress.
  void end_step(RunSink& sink, const ProgressFn& progress, std::size_t k,
                const std::vector<std::vector<Spike>>& spikes, bool deliver = true) {
    const double dt = spec.dt, t = static_cast<double>(k) * dt;
    for (std::size_t p = 0; p < pops.size(); ++p)
      if (auto f = pops[p]->fault()) throw_fault(p, *f, t + dt);
    if (net && deliver) net->deliver(k, spikes);
    for (std::size_t p = 0; p < pops.size(); ++p)
      if (record_spikes[p] && !spikes[p].empty()) {
        if (spike_subset[p].empty()) {
          sink.spikes(p, spikes[p]);
        } else {
          subset_scratch.clear();
          for (const Spike& sp : spikes[p])
            if (spike_subset[p][sp.neuron]) subset_scratch.push_back(sp);
          if (!subset_scratch.empty()) sink.spikes(p, subset_scratch);
        }
      }
    for (std::size_t r = 0; r < rate_pop.size(); ++r) {  // population rates, binned
      rate_count[r] += static_cast<double>(spikes[rate_pop[r]].size());
      const std::size_t bin = spec.rates[r].bin;
      if ((k + 1) % bin == 0) {
        const double n = static_cast<double>(pops[rate_pop[r]]->size());
        sink.rate_sample(r, static_cast<double>(k + 1 - bin) * dt,
                         rate_count[r] * 1000.0 / (n * static_cast<double>(bin) * dt));
        rate_count[r] = 0;
      }
    }
    if (progress && (k + 1) % kProgressEvery == 0)
      progress(t + dt, static_cast<double>(n_steps) * dt);
  }

  // The recorded sources' spikes stamped k (just emitted), at t_k; none at the end time.
  void record_sources(RunSink& sink, std::size_t k) {
    if (k >= n_steps) return;
    const double t = static_cast<double>(k) * spec.dt;
    for (std::size_t r = 0; r < recorded_sources.size(); ++r) {
      subset_scratch.clear();
      for (const SourceSpike& sp : net->emitted(recorded_sources[r]))
        if (source_subset[r].empty() || source_subset[r][sp.neuron])
          for (std::uint32_t c = 0; c < sp.count; ++c) subset_scratch.push_back({sp.neuron, t});
      if (!subset_scratch.empty()) sink.source_spikes(recorded_sources[r], subset_scratch);
    }
  }

  // The inputs of step k: zeros, then the stimuli.
  void fill_input(std::size_t k, Stimuli& stim, std::vector<std::vector<double>>& input) {
    for (std::size_t p = 0; p < pops.size(); ++p)
      if (!no_input[p]) std::fill(input[p].begin(), input[p].end(), 0.0);
    stim.add(k, input);
  }

  bool samples_at(std::size_t k) const {
    for (const auto& tr : traces)
      if (k % tr.every == 0) return true;
    return false;
  }

  // Threads for the team loop: every population and the synapses split their step, and
  // each thread gets at least opt.min_chunks_per_thread chunks (below that a step's
  // barrier costs more than the thread saves); 1 means the plain loop.
  int team_size() const {
    const std::size_t min_chunks = std::max<std::size_t>(1, opt.min_chunks_per_thread);
    if (opt.threads < 2 || (net && !net->splits())) return 1;
    std::size_t chunks = 0;
    for (const auto& p : pops) {
      if (!p->splits()) return 1;
      chunks += p->chunk_count();
    }
    return static_cast<int>(
        std::clamp<std::size_t>(chunks / min_chunks, 1, static_cast<std::size_t>(opt.threads)));
  }

  void run(RunSink& sink, const ProgressFn& progress) {
    if (ran) throw std::logic_error("Simulation::run called twice");
    ran = true;
    if (const int team = team_size(); team > 1 && pairs_possible())
      run_team_pairs(sink, progress, static_cast<std::size_t>(team));
    else if (team > 1)
      run_team(sink, progress, team);
    else
      run_plain(sink, progress);
    if (progress)
      progress(static_cast<double>(n_steps) * spec.dt, static_cast<double>(n_steps) * spec.dt);
  }

  // Whether run_plain may take steps in pairs (Population::advance_pair): every
  // population can, the network's arrivals are whole rows, no population reads `input`
  // (stimuli, filtered channels) and no trace samples the state between two steps.
  bool pairs_possible() const {
    if (!opt.step_pairs || !net || !net->steps_in_pairs() || !traces.empty()) return false;
    for (std::size_t p = 0; p < pops.size(); ++p)
      if (!pops[p]->steps_in_pairs() || !no_input[p]) return false;
    return true;
  }

  // Steps k and k + 1 of run_plain in one pass over each population's neurons. CUBA at
  // 64000 neurons: V and the currents (1.5 MB) stream from L3 once for two steps instead
  // of twice, and the arrivals land in L2. The order of everything the results depend on
  // is run_plain's: step k's sources before its arrivals; step k's delivery (into step k + 2
  // and later) before step k + 1's sources; and each target sums its arrivals in the same
  // order (SynapticNetwork::arrive_block).
  void step_pair(RunSink& sink, const ProgressFn& progress, std::size_t k,
                 std::vector<std::vector<double>>& input, std::vector<std::vector<Spike>>& spikes) {
    const double dt = spec.dt;
    // Both steps' arrivals go in block by block (advance_pair), so slots k and k + 1 are
    // emptied only after the pair. Step k's sources first, as begin_step: stamped k, they
    // may arrive at k + 1.
    net->emit_sources(k);
    record_sources(sink, k);
    // Every other pair goes through the populations and their blocks backwards. CUBA at
    // 64000 neurons has 1.5 MB of V and currents against an L2 of 1 MiB: in one direction
    // each pair found none of it in L2 (the last block used pushes out the next one
    // needed), and every block came from L3. Backwards, the pair starts with what the
    // last one ended on, still in L2. One thread, 8 alternating runs each: 358.5 -> 333.5
    // ms (medians), 343 -> 310 (fastest). The sums are the same in either direction
    // (SynapticNetwork::arrive_block).
    const bool descending = (k / 2) % 2 == 1;
    for (std::size_t q = 0; q < pops.size(); ++q) {
      const std::size_t p = descending ? pops.size() - 1 - q : q;
      net->prefetch_arrivals(k, p);
      net->prefetch_arrivals(k + 1, p);
      pops[p]->advance_pair(
          static_cast<double>(k) * dt, static_cast<double>(k + 1) * dt,
          [&](std::size_t j, std::size_t lo, std::size_t hi) {
            net->arrive_block(j, p, lo, hi, descending);
          },
          descending);
    }
    net->clear_arrivals(k);      // before delivery: the longest delay's slots are these again
    net->clear_arrivals(k + 1);  // before delivery: the longest delay's slot is k + 1's again
    for (std::size_t j = k; j < k + 2; ++j) {
      if (j > k) {
        net->emit_sources(j);
        record_sources(sink, j);
      }
      for (std::size_t p = 0; p < pops.size(); ++p) {
        spikes[p].clear();
        pops[p]->finish_step(spikes[p]);
      }
      end_step(sink, progress, j, spikes);
    }
  }

  void run_plain(RunSink& sink, const ProgressFn& progress) {
    Stimuli stim(spec);
    std::vector<std::vector<double>> input(pops.size());
    for (std::size_t p = 0; p < pops.size(); ++p) input[p].resize(pops[p]->size());
    std::vector<std::vector<Spike>> spikes(pops.size());
    const double dt = spec.dt;
    const bool pairs = pairs_possible();
    for (std::size_t k = 0;; ++k) {
      if (pairs && k + 2 <= n_steps) {
        step_pair(sink, progress, k, input, spikes);
        ++k;
        continue;
      }
      const double t = static_cast<double>(k) * dt;  // never accumulated: no drift
      fill_input(k, stim, input);
      if (net) net->begin_step(k, input);  // source spikes, arrivals, filtered PSCs
      record_sources(sink, k);
      sample(sink, k, t, input);
      if (k == n_steps) break;
      for (std::size_t p = 0; p < pops.size(); ++p) {
        spikes[p].clear();
        pops[p]->advance(t, no_input[p] ? std::span<const double>() : input[p], spikes[p]);
      }
      if (net) net->prefetch_arrivals(k + 1);  // queued up to the last step; read next
      end_step(sink, progress, k, spikes);
    }
  }

  // The team loop in pairs of steps, where the one-thread loop would take them in pairs
  // (pairs_possible): each thread takes its range of every population through steps k
  // and k + 1 block by block (Population::advance_pair_part), each block's arrivals just
  // before it. The threads do not meet at a barrier: each publishes how far its part has
  // got (detail::TeamProgress), and waits only for what its next arrivals need.
  // - Step k's arrivals need every part's spikes of step k - 2. A part's spikes of the
  //   first step of a pair are final once its last population is through that step
  //   (first_done), before the pair ends; then it publishes k - 1 steps done.
  // - Step k + 1's arrivals need every part's spikes of step k - 1: the whole last pair,
  //   published at its end. They are queued just before the first of them is added.
  // So a thread may start a pair while the others are still in the last one. Each thread
  // queues what arrives in its own range (queue_spikes, queue_sources) in the one-thread
  // order, split in two at the same point of that order every pair: spikes k - 2 and
  // sources k - 1, then spikes k - 1 and sources k. Thread 0, once every part has done
  // the last pair, merges its spikes, checks faults, records and reports it (finish_pass)
  // and emits the sources of steps k + 1 and k + 2, two steps ahead of their queueing.
  // The buffers this needs: spikes and faults of four steps (Population::part_spikes),
  // sources of four steps (SynapticNetwork::emit_sources).
  void run_team_pairs(RunSink& sink, const ProgressFn& progress, std::size_t parts) {
    std::vector<std::vector<Spike>> spikes(pops.size());
    const double dt = spec.dt;
    for (auto& p : pops) p->begin_team(parts);
    for (std::size_t j = 0; j <= std::min<std::size_t>(2, n_steps); ++j) {
      net->emit_sources(j);
      record_sources(sink, j);
    }
    // Thread 0: the pair (or last single step) from step k on, once every part is done
    // with it, and the sources of steps k + 3 and k + 4.
    auto finish_pass = [&](std::size_t k) {
      for (std::size_t j = k; j < std::min(k + 2, n_steps); ++j) {
        for (std::size_t p = 0; p < pops.size(); ++p) {
          spikes[p].clear();
          pops[p]->finish_step(spikes[p]);
        }
        end_step(sink, progress, j, spikes, /*deliver=*/false);  // queue_spikes instead
      }
      for (std::size_t j = k + 3; j <= std::min(k + 4, n_steps); ++j) {
        net->emit_sources(j);
        record_sources(sink, j);
      }
    };
    std::exception_ptr error;
    detail::TeamProgress team(parts);
    const int threads = static_cast<int>(parts);
#pragma omp parallel num_threads(threads)
    {
      const auto part = static_cast<std::size_t>(omp_get_thread_num());
      for (std::size_t k = 0; k < n_steps && !team.stopped(); k += 2) {
        const std::size_t steps = std::min<std::size_t>(2, n_steps - k);
        if (k >= 2) {  // step k's arrivals: every part's spikes of step k - 2
          if (!team.wait_all(k - 1, part)) break;
          net->queue_spikes(k - 2, part);
          net->queue_sources(k - 1, part);
        }
        // Step k + 1's arrivals: every part's spikes of step k - 1, and the sources of
        // step k (emitted by finish_pass(k - 4), which thread 0 runs in pair k - 2 before
        // it publishes k - 1 steps done; the sources k - 1 above come from the same call).
        bool second_queued = false;
        auto queue_second = [&] {
          if (second_queued) return;
          second_queued = true;
          if (k >= 2) {
            if (!team.wait_all(k, part)) return;  // stopped: the pair runs out unused
            if (part == 0) try {
                finish_pass(k - 2);
              } catch (...) {
                error = std::current_exception();
                team.stop();
                return;
              }
            net->queue_spikes(k - 1, part);
          }
          net->queue_sources(k, part);
        };
        if (steps == 2) {
          const bool descending = (k / 2) % 2 == 1;  // as step_pair
          for (std::size_t i = 0; i < pops.size(); ++i) {
            const std::size_t p = descending ? pops.size() - 1 - i : i;
            const bool last = i + 1 == pops.size();
            net->prefetch_part(k, part, p);
            if (second_queued) net->prefetch_part(k + 1, part, p);
            pops[p]->advance_pair_part(
                part, parts, static_cast<double>(k) * dt, static_cast<double>(k + 1) * dt,
                [&](std::size_t j, std::size_t lo, std::size_t hi) {
                  if (j > k) queue_second();
                  net->arrive_part_block(j, p, part, lo, hi, descending);
                },
                descending,
                [&] {
                  if (!last) return;
                  // Not before the second half of the queueing: with a single population
                  // this comes first, and the sources it queues must be emitted (by
                  // finish_pass, on thread 0) before anyone sees k + 1 steps done.
                  queue_second();
                  team.publish(part, k + 1);
                });
          }
          queue_second();  // if no block of this part took arrivals
          net->clear_part(k, part);
          net->clear_part(k + 1, part);
        } else {  // an odd last step
          queue_second();
          for (std::size_t p = 0; p < pops.size(); ++p) net->arrive_part(k, p, part);
          for (std::size_t p = 0; p < pops.size(); ++p)
            pops[p]->advance_part(part, parts, static_cast<double>(k) * dt, {});
        }
        team.publish(part, k + steps);
      }
      if (part == 0 && !team.stopped() && team.wait_all(n_steps, part)) try {
          finish_pass(n_steps - (n_steps % 2 == 0 ? std::min<std::size_t>(2, n_steps) : 1));
        } catch (...) {
          error = std::current_exception();
        }
    }
    if (error) std::rethrow_exception(error);
  }

  // The same steps as run_plain, with one team of threads for the whole run (a parallel
  // region a step cost more than the work of 2 threads saved). Each thread owns a fixed
  // range of every population's neurons and a queue of what arrives in it: after a step's
  // barrier it queues the step's spikes (every range's, merged in the one-thread order)
  // for its own targets, applies the arrivals into its range and steps it, so a target's
  // current is read back from the thread's own cache. Recording, the sink, stimuli and
  // the sources run on thread 0 after the barrier. A range's sums and steps do not depend
  // on the other ranges, so the results are the same as run_plain's for any team size.
  // Without traces and stimuli the team takes its steps in pairs (run_team_pairs).
  //
  // One barrier a step when no population reads `input` (no stimuli): the other threads
  // then go on to step k + 1 while thread 0 records step k. That is safe because a spike
  // of step k is stamped k + 1 and every delay is at least one step, so it arrives at k + 2
  // or later; the populations keep four spike buffers and the currents' decay is a
  // function of the step (lif_population.cpp). With stimuli, thread 0 fills step k + 1's
  // input after the barrier and a second barrier holds the others until it has. A barrier
  // costs ~1 us on this VM's two cores (a cache line takes ~0.3 us from one to the other).
  void run_team(RunSink& sink, const ProgressFn& progress, int team) {
    Stimuli stim(spec);
    std::vector<std::vector<double>> input(pops.size());
    for (std::size_t p = 0; p < pops.size(); ++p) input[p].resize(pops[p]->size());
    std::vector<std::vector<Spike>> spikes(pops.size());
    const auto parts = static_cast<std::size_t>(team);
    for (auto& p : pops) p->begin_team(parts);
    const bool pipelined = std::all_of(no_input.begin(), no_input.end(), [](char c) { return c; });
    const double dt = spec.dt;
    fill_input(0, stim, input);
    if (net) net->emit_sources(0);
    record_sources(sink, 0);
    // Thread 0 alone writes these; the others read them after a barrier (which flushes).
    // stop_at[k % 2]: stop at step k's barrier, set by thread 0 before it (an error in
    // step k - 1's delivery, or in step k's sampling); two, so that the flag the others
    // read after barrier k is never the one thread 0 may be setting meanwhile.
    std::exception_ptr error;
    bool stop_at[2] = {false, false};
    detail::TeamBarrier barrier(static_cast<unsigned>(team));
#pragma omp parallel num_threads(team)
    {
      const auto part = static_cast<std::size_t>(omp_get_thread_num());
      for (std::size_t k = 0;; ++k) {
        const double t = static_cast<double>(k) * dt;
        bool& stop_here = stop_at[k % 2];
        if (net) {
          if (k > 0) {
            net->queue_sources(k - 1, part);
            net->queue_spikes(k - 1, part);
          }
          for (std::size_t p = 0; p < pops.size(); ++p) net->arrive_part(k, p, part);
        }
        if (k == n_steps || samples_at(k)) {  // the traces read every range's arrivals
          barrier.wait();
          if (part == 0 && !stop_here) try {
              sample(sink, k, t, input);
            } catch (...) {
              error = std::current_exception();
              stop_here = true;
            }
          barrier.wait();
          if (stop_here || k == n_steps) break;
        }
        for (std::size_t p = 0; p < pops.size(); ++p)
          pops[p]->advance_part(part, parts, t, no_input[p] ? std::span<const double>() : input[p]);
        if (net) net->prefetch_part(k + 1, part);  // pushed out to L3 by the pass over V
        barrier.wait();
        if (stop_here) break;
        bool& stop_next = stop_at[(k + 1) % 2];
        if (part == 0) try {
            for (std::size_t p = 0; p < pops.size(); ++p) {
              spikes[p].clear();
              pops[p]->finish_step(spikes[p]);
            }
            end_step(sink, progress, k, spikes, /*deliver=*/false);  // queue_spikes instead
            fill_input(k + 1, stim, input);
            if (net) net->emit_sources(k + 1);
            record_sources(sink, k + 1);
          } catch (...) {
            error = std::current_exception();
            stop_next = true;
          }
        if (!pipelined) {
          barrier.wait();
          if (stop_next) break;
        }
      }
    }
    if (error) std::rethrow_exception(error);
  }
};

Simulation::Simulation(const RunSpec& s, RunOptions o) : impl_(std::make_unique<Impl>(s, o)) {}
Simulation::~Simulation() = default;
Simulation::Simulation(Simulation&&) noexcept = default;
Simulation& Simulation::operator=(Simulation&&) noexcept = default;
void Simulation::run(RunSink& sink, const ProgressFn& progress) {
  impl_->run(sink, progress);
}
std::size_t Simulation::n_steps() const {
  return impl_->n_steps;
}
int Simulation::team_threads() const {
  return impl_->team_size();
}
bool Simulation::steps_in_pairs() const {
  return impl_->pairs_possible();
}
const RunSpec& Simulation::spec() const {
  return impl_->spec;
}

}  // namespace ranvier::sim
