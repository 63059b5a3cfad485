#include "tools/io/run_config.hpp"

#include <algorithm>
#include <cmath>
#include <set>

#include <fmt/format.h>

#include <H5Cpp.h>

#include <cstdlib>
#include <filesystem>

#include "models/model_info.hpp"
#include "sim/spec_defaults.hpp"
#include "sim/synapses.hpp"  // channel_names
#include "tools/io/config_random.hpp"
#include "tools/io/errors.hpp"
#include "tools/io/h5.hpp"
#include "tools/io/h5_probe.hpp"
#include "tools/io/units.hpp"

namespace ranvier::io {

namespace {

using models::Quantity;

const std::vector<std::string> kTopKeys = {"description", "seed",        "dt",
                                           "duration",    "populations", "sources",
                                           "projections", "stimuli",     "record"};
const std::vector<std::string> kRules = {"all_to_all", "one_to_one", "fixed_probability",
                                         "fixed_indegree", "matrix"};
const std::vector<std::string> kPopulationKeys = {"model",   "size",    "integrator", "params",
                                                  "initial", "abs_tol", "rel_tol"};
const std::vector<std::string> kStimulusTypes = {"constant", "steps",       "ramp",
                                                 "sine",     "white_noise", "ornstein_uhlenbeck"};

struct PerNeuron {
  std::vector<double> values;
  bool had_unit = false;
};

class Reader {
 public:
  Reader(RunConfig& out, std::uint64_t seed) : out_(out), seed_(seed) {}

  void note(const ConfigNode& n) { out_.locations.emplace(n.key_path(), n.where()); }

  // One value for all neurons, a list of one value per neuron, or a seeded distribution:
  //   {distribution: uniform, low: .., high: ..} or {distribution: normal, mean: .., std: ..}
  PerNeuron per_neuron(const ConfigNode& n, Quantity q, std::size_t count) {
    note(n);
    PerNeuron r;
    if (n.is_scalar()) {
      auto [v, unit] = n.as_quantity_with_flag(q);
      r.values.assign(count, v);
      r.had_unit = unit;
    } else if (n.is_sequence()) {
      const auto items = n.items();
      if (items.size() != count)
        n.fail(
            fmt::format("has {} values but the population has {} neurons; give one value, "
                        "{} values, or a distribution",
                        items.size(), count, count));
      for (const auto& item : items) {
        auto [v, unit] = item.as_quantity_with_flag(q);
        r.values.push_back(v);
        r.had_unit = r.had_unit || unit;
      }
    } else if (n.is_map()) {
      n.expect_keys({"distribution", "low", "high", "mean", "std"});
      const std::string kind = n.at("distribution").as_choice({"uniform", "normal"});
      ConfigRandom rng(seed_, n.key_path());
      if (kind == "uniform") {
        n.expect_keys({"distribution", "low", "high"});
        auto [lo, u1] = n.at("low").as_quantity_with_flag(q);
        auto [hi, u2] = n.at("high").as_quantity_with_flag(q);
        if (!(lo <= hi)) n.at("high").fail("must not be below 'low'");
        for (std::size_t i = 0; i < count; ++i) r.values.push_back(lo + (hi - lo) * rng.uniform());
        r.had_unit = u1 || u2;
      } else {
        n.expect_keys({"distribution", "mean", "std"});
        auto [mean, u1] = n.at("mean").as_quantity_with_flag(q);
        auto [sd, u2] = n.at("std").as_quantity_with_flag(q);
        if (sd < 0) n.at("std").fail("a standard deviation must not be negative");
        for (std::size_t i = 0; i < count; ++i) r.values.push_back(mean + sd * rng.normal());
        r.had_unit = u1 || u2;
      }
    } else {
      n.fail("expected a value, a list of values, or a distribution");
    }
    return r;
  }

  // A stimulus field: one value, or one per targeted neuron (checked by the engine).
  std::vector<double> broadcast(const ConfigNode& n, Quantity q, bool forbid_unit,
                                const std::string& why_no_unit) {
    note(n);
    std::vector<double> v;
    for (const auto& item : n.as_list()) {
      note(item);
      auto [x, unit] = item.as_quantity_with_flag(q);
      if (unit && forbid_unit) item.fail(why_no_unit);
      v.push_back(x);
    }
    return v;
  }

  std::vector<std::uint32_t> neuron_list(const ConfigNode& n, std::size_t size) {
    note(n);
    if (n.is_scalar() && n.as_string() == "all") return {};
    std::vector<std::uint32_t> ids;
    std::set<std::int64_t> seen;
    for (const auto& item : n.as_list()) {
      note(item);
      if (item.is_scalar() && item.as_string() == "all")
        item.fail("write 'neurons: all' on its own, not inside a list");
      const std::int64_t id = item.as_int();
      if (id < 0 || static_cast<std::size_t>(id) >= size)
        item.fail(fmt::format("neuron {} does not exist: the population has neurons 0 to {}", id,
                              size - 1));
      if (!seen.insert(id).second) item.fail(fmt::format("neuron {} is listed twice", id));
      ids.push_back(static_cast<std::uint32_t>(id));
    }
    return ids;
  }

 private:
  RunConfig& out_;
  std::uint64_t seed_;
};

void read_population(Reader& rd, RunConfig& cfg, const std::string& name, const ConfigNode& node) {
  rd.note(node);
  node.expect_keys(kPopulationKeys);
  sim::PopulationSpec pop;
  pop.name = name;
  std::vector<std::string> model_names;
  for (const auto& m : models::model_registry()) model_names.push_back(m.name);
  const ConfigNode model_node = node.at("model");
  rd.note(model_node);
  pop.model = model_node.as_choice(model_names);
  const models::ModelInfo& model = *models::find_model(pop.model);

  if (auto s = node.find("size")) {
    rd.note(*s);
    pop.size = static_cast<std::size_t>(s->as_int(1, 100'000'000));
  }
  pop.integrator = sim::integrator_from_name(std::string(model.default_integrator()));
  if (auto in = node.find("integrator")) {
    rd.note(*in);
    pop.integrator = sim::integrator_from_name(in->as_choice(model.integrators));
  }
  for (auto [key, field] :
       {std::pair{"abs_tol", &pop.abs_tol}, std::pair{"rel_tol", &pop.rel_tol}}) {
    if (auto t = node.find(key)) {
      rd.note(*t);
      *field = t->as_double();
      if (!(*field > 0)) t->fail("a tolerance must be positive (e.g. 1e-6)");
    }
  }

  // Parameters: the model's, plus LIF's capacitance C as another way to give tau_m = R C.
  std::vector<std::string> allowed;
  for (const auto& p : model.params) allowed.push_back(p.name);
  const bool is_lif = pop.model == "lif";
  if (is_lif) allowed.push_back("C");
  bool dimensional = false;
  std::optional<ConfigNode> params_node = node.find("params");
  std::map<std::string, PerNeuron> given;
  if (params_node) {
    rd.note(*params_node);
    params_node->expect_keys(allowed);
    for (const auto& [key, value] : params_node->entries()) {
      const models::ParamSpec* spec = model.find_param(key);
      const Quantity q = spec ? spec->quantity : Quantity::capacitance;
      given[key] = rd.per_neuron(value, q, pop.size);
      if ((!spec || spec->normalizable) && given[key].had_unit) dimensional = true;
    }
  }
  std::optional<ConfigNode> initial_node = node.find("initial");
  std::map<std::string, PerNeuron> initial;
  if (initial_node) {
    rd.note(*initial_node);
    std::vector<std::string> states;
    for (const auto& s : model.state) states.push_back(s.name);
    initial_node->expect_keys(states);
    for (const auto& [key, value] : initial_node->entries()) {
      const models::StateSpec* spec = model.find_state(key);
      initial[key] = rd.per_neuron(value, spec->quantity, pop.size);
      if (spec->normalizable && initial[key].had_unit) dimensional = true;
      pop.initial[key] = initial[key].values;
    }
  }

  PopulationUnits units;
  units.input = std::string(models::canonical_unit(model.input_quantity));
  units.voltage = "mV";
  units.resistance = "MOhm";
  if (is_lif && !dimensional) units = {"1", "1", "1"};
  if (is_lif && dimensional) {
    // The defaults 0, 1, 0 are the normalized form; in millivolts they would be nonsense.
    for (const char* v : {"V_L", "V_th", "V_reset"})
      if (!given.count(v))
        node.fail(fmt::format(
            "population '{}' gives some voltages or R with units (the dimensional form), so "
            "params.{} must be given too, in mV: its default belongs to the normalized form "
            "(V_L = 0, V_th = 1, V_reset = 0, no units)",
            name, v));
  }
  if (is_lif && given.count("C")) {
    if (given.count("tau_m"))
      params_node->at("C").fail("give either tau_m or C (with tau_m = R C), not both");
    if (!dimensional)
      params_node->at("C").fail(
          "C (nF) belongs to the dimensional form: give R in MOhm and the "
          "voltages in mV too, or give tau_m instead");
    std::vector<double> tau(pop.size);
    const std::vector<double> R =
        given.count("R") ? given["R"].values : std::vector<double>(pop.size, 1.0);
    for (std::size_t i = 0; i < pop.size; ++i)
      tau[i] = R[i] * given["C"].values[i];  // MOhm nF = ms
    given["tau_m"] = {tau, true};
    cfg.locations.emplace(fmt::format("populations.{}.params.tau_m", name),
                          params_node->at("C").where());
  }
  for (const auto& p : model.params) {
    auto it = given.find(p.name);
    pop.params[p.name] =
        it != given.end() ? it->second.values : std::vector<double>(pop.size, p.default_value);
  }
  cfg.units[name] = units;
  cfg.spec.populations.push_back(std::move(pop));
}

void read_stimulus(Reader& rd, RunConfig& cfg, const std::string& name, const ConfigNode& node) {
  rd.note(node);
  sim::StimulusSpec st;
  st.name = name;
  const ConfigNode type_node = node.at("type");
  rd.note(type_node);
  const std::string type = type_node.as_choice(kStimulusTypes);
  std::vector<std::string> keys = {"target", "neurons", "type", "start", "stop"};
  if (type == "constant") keys.insert(keys.end(), {"value"});
  if (type == "steps" || type == "ramp") keys.insert(keys.end(), {"times", "values"});
  if (type == "sine") keys.insert(keys.end(), {"amplitude", "frequency", "phase", "offset"});
  if (type == "white_noise") keys.insert(keys.end(), {"mean", "sigma"});
  if (type == "ornstein_uhlenbeck") keys.insert(keys.end(), {"mean", "sigma", "tau"});
  node.expect_keys(keys);

  const ConfigNode target = node.at("target");
  rd.note(target);
  std::vector<std::string> names;
  for (const auto& p : cfg.spec.populations) names.push_back(p.name);
  st.target = target.as_choice(names);
  const auto pop = std::find_if(cfg.spec.populations.begin(), cfg.spec.populations.end(),
                                [&](const auto& p) { return p.name == st.target; });
  const models::ModelInfo& model = *models::find_model(pop->model);
  const PopulationUnits& units = cfg.units.at(st.target);
  const bool normalized = units.input == "1";
  const Quantity q = model.input_quantity;
  const std::string no_unit = fmt::format(
      "population '{}' is normalized (its voltages have no unit), so its input is v_in in "
      "units of threshold: write a bare number, or give the population's V_L, V_th and V_reset "
      "in mV to use currents in nA",
      st.target);

  if (auto n = node.find("neurons")) st.neurons = rd.neuron_list(*n, pop->size);
  if (auto n = node.find("start")) {
    rd.note(*n);
    st.start = n->as_quantity(Quantity::time);
  }
  if (auto n = node.find("stop")) {
    rd.note(*n);
    st.stop = n->as_quantity(Quantity::time);
    if (!(st.stop > st.start)) n->fail("'stop' must be after 'start'");
  }
  auto input_values = [&](const char* key) {
    return rd.broadcast(node.at(key), q, normalized, no_unit);
  };
  auto optional_input = [&](const char* key, double fallback) {
    auto n = node.find(key);
    return n ? rd.broadcast(*n, q, normalized, no_unit) : std::vector<double>{fallback};
  };

  if (type == "constant") {
    st.kind = sim::StimulusSpec::Kind::constant;
    st.values = input_values("value");
    cfg.aliases[fmt::format("stimuli.{}.values", name)] = fmt::format("stimuli.{}.value", name);
  } else if (type == "steps" || type == "ramp") {
    st.kind = type == "steps" ? sim::StimulusSpec::Kind::steps : sim::StimulusSpec::Kind::ramp;
    const ConfigNode times = node.at("times");
    const ConfigNode values = node.at("values");
    rd.note(times);
    rd.note(values);
    for (const auto& t : times.items()) {
      rd.note(t);
      const double v = t.as_quantity(Quantity::time);
      if (!st.times.empty() && !(v > st.times.back())) t.fail("times must be strictly increasing");
      st.times.push_back(v);
    }
    const auto value_items = values.items();
    if (value_items.size() != st.times.size())
      values.fail(
          fmt::format("has {} entries but 'times' has {}: give one value (or one list "
                      "per neuron) for each time",
                      value_items.size(), st.times.size()));
    for (const auto& v : value_items)
      st.step_values.push_back(rd.broadcast(v, q, normalized, no_unit));
    if (st.times.empty()) times.fail("needs at least one time");
  } else if (type == "sine") {
    st.kind = sim::StimulusSpec::Kind::sine;
    st.amplitude = input_values("amplitude");
    const ConfigNode f = node.at("frequency");
    st.frequency_hz = rd.broadcast(f, Quantity::rate, false, "");
    st.phase = node.has("phase")
                   ? rd.broadcast(node.at("phase"), Quantity::dimensionless, false, "")
                   : std::vector<double>{0.0};
    st.offset = optional_input("offset", 0.0);
  } else {
    st.kind = type == "white_noise" ? sim::StimulusSpec::Kind::white_noise
                                    : sim::StimulusSpec::Kind::ornstein_uhlenbeck;
    st.mean = optional_input("mean", 0.0);
    st.sigma = input_values("sigma");
    for (double s : st.sigma)
      if (s < 0) node.at("sigma").fail("a standard deviation must not be negative");
    if (type == "ornstein_uhlenbeck") {
      const ConfigNode tau = node.at("tau");
      rd.note(tau);
      st.tau = tau.as_quantity(Quantity::time);
      if (!(st.tau > 0)) tau.fail("the correlation time must be positive");
    }
  }
  cfg.spec.stimuli.push_back(std::move(st));
}

// --- spike sources and projections (issue 4) --------------------------------------------

void read_source(Reader& rd, RunConfig& cfg, const std::string& name, const ConfigNode& node) {
  rd.note(node);
  sim::SpikeSourceSpec src;
  src.name = name;
  for (const auto& p : cfg.spec.populations)
    if (p.name == name) node.fail(fmt::format("'{}' is already a population's name", name));
  const ConfigNode type = node.at("type");
  rd.note(type);
  const std::string kind = type.as_choice({"poisson", "spike_times"});
  if (kind == "poisson") {
    node.expect_keys({"type", "size", "rate", "start", "stop"});
    src.kind = sim::SpikeSourceSpec::Kind::poisson;
    if (auto n = node.find("size")) {
      rd.note(*n);
      src.size = static_cast<std::size_t>(n->as_int(1, 100'000'000));
    }
    const ConfigNode rate = node.at("rate");
    rd.note(rate);
    for (const auto& r : rate.as_list()) {
      rd.note(r);
      const double hz = r.as_quantity(Quantity::rate);
      if (!(hz >= 0) || !std::isfinite(hz)) r.fail("a rate must be finite and >= 0 Hz");
      src.rate_hz.push_back(hz);
    }
    if (src.rate_hz.size() != 1 && src.rate_hz.size() != src.size)
      rate.fail(fmt::format("has {} rates for {} sources: give one rate, or one per source",
                            src.rate_hz.size(), src.size));
    if (auto n = node.find("start")) {
      rd.note(*n);
      src.start = n->as_quantity(Quantity::time);
      if (src.start < 0) n->fail("must not be negative");
    }
    if (auto n = node.find("stop")) {
      rd.note(*n);
      src.stop = n->as_quantity(Quantity::time);
      if (!(src.stop >= src.start)) n->fail("'stop' must not be before 'start'");
    }
  } else {
    node.expect_keys({"type", "size", "times"});
    src.kind = sim::SpikeSourceSpec::Kind::spike_times;
    const ConfigNode times = node.at("times");
    rd.note(times);
    auto read_list = [&](const ConfigNode& list) {
      std::vector<double> v;
      for (const auto& t : list.as_list()) {
        rd.note(t);
        const double x = t.as_quantity(Quantity::time);
        if (!(x >= 0) || !std::isfinite(x)) t.fail("a spike time must be finite and >= 0 ms");
        if (!v.empty() && x < v.back()) t.fail("spike times must not decrease");
        v.push_back(x);
      }
      return v;
    };
    // A list of times (the same train for every source) or a list of lists (one per source).
    const bool nested =
        times.is_sequence() && !times.items().empty() && times.items()[0].is_sequence();
    if (nested)
      for (const auto& list : times.items()) src.times.push_back(read_list(list));
    else
      src.times.push_back(read_list(times));
    src.size = src.times.size();
    if (auto n = node.find("size")) {
      rd.note(*n);
      src.size = static_cast<std::size_t>(n->as_int(1, 100'000'000));
      if (nested && src.size != src.times.size())
        n->fail(fmt::format("'times' has {} lists, one per source, but size is {}",
                            src.times.size(), src.size));
    }
  }
  cfg.spec.sources.push_back(std::move(src));
}

// A charge [input quantity * ms]: "8.1 pC" or "8.1 nA*ms" for a dimensional LIF,
// "0.5 uA*ms/cm2" for HH, a bare number (v_in * ms) for a normalized LIF. A bare number is
// always taken in the canonical unit (input unit times ms).
double read_charge(const ConfigNode& n, Quantity input, bool normalized,
                   const std::string& target) {
  const std::string text = n.as_string();
  const char* begin = text.c_str();
  char* end = nullptr;
  const double v = std::strtod(begin, &end);
  if (end == begin) n.fail(fmt::format("expected a number with a unit, got '{}'", text));
  std::string unit(end);
  unit.erase(0, unit.find_first_not_of(" \t"));
  unit.erase(unit.find_last_not_of(" \t") + 1);
  if (unit.empty()) return v;
  if (normalized)
    n.fail(
        fmt::format("population '{}' is normalized (its voltages have no unit), so a weight "
                    "is a bare number, in v_in * ms",
                    target));
  Unit expect = canonical(input);
  expect.dim[2] += 1;    // times a time ...
  expect.scale *= 1e-3;  // ... in ms
  Unit u;
  try {
    u = parse_unit(unit);
  } catch (const std::invalid_argument& e) {
    n.fail(e.what());
  }
  if (u.dim != expect.dim)
    n.fail(
        fmt::format("a weight is a charge, the target's input times a time: for population "
                    "'{}' {} * ms (e.g. {}), but '{}' is {}",
                    target, models::canonical_unit(input),
                    input == Quantity::current ? "'8.1 pC' or '8.1 nA*ms'" : "'0.5 uA*ms/cm2'",
                    unit, describe_dimension(u)));
  return v * u.scale / expect.scale;
}

// A constant or a drawn value per synapse: `value` reads one scalar.
template <class F>
networks::Distribution read_distribution(Reader& rd, const ConfigNode& n, F&& value) {
  rd.note(n);
  using K = networks::Distribution::Kind;
  if (!n.is_map()) return networks::Distribution::constant(value(n));
  n.expect_keys({"distribution", "mean", "std", "low", "high"});
  const ConfigNode d = n.at("distribution");
  rd.note(d);
  const std::string kind = d.as_choice({"normal", "lognormal", "uniform"});
  networks::Distribution r;
  if (kind == "uniform") {
    n.expect_keys({"distribution", "low", "high"});
    r = {K::uniform, value(n.at("low")), value(n.at("high"))};
    if (!(r.a <= r.b)) n.at("high").fail("must not be below 'low'");
    if (r.a < 0 && r.b > 0)
      n.fail(
          "a uniform range must not straddle 0: a weight keeps its sign (excitatory "
          "stays excitatory)");
  } else {
    n.expect_keys({"distribution", "mean", "std"});
    r = {kind == "normal" ? K::normal : K::lognormal, value(n.at("mean")), value(n.at("std"))};
    if (r.b < 0) n.at("std").fail("a standard deviation must not be negative");
    if (kind == "lognormal" && r.a == 0) n.at("mean").fail("a lognormal mean must not be 0");
  }
  return r;
}

void read_projection(Reader& rd, RunConfig& cfg, const std::string& name, const ConfigNode& node,
                     const std::string& config_file) {
  rd.note(node);
  node.expect_keys({"source", "target", "rule", "p", "indegree", "matrix", "weight", "delay",
                    "synapse", "channel", "autapses"});
  sim::ProjectionSpec pr;
  pr.name = name;
  std::vector<std::string> pops, nodes;
  for (const auto& p : cfg.spec.populations) pops.push_back(p.name);
  nodes = pops;
  for (const auto& s : cfg.spec.sources) nodes.push_back(s.name);
  const ConfigNode source = node.at("source");
  rd.note(source);
  pr.source = source.as_choice(nodes);
  const ConfigNode target = node.at("target");
  rd.note(target);
  pr.target = target.as_choice(pops);
  auto size_of = [&](const std::string& n) -> std::size_t {
    for (const auto& p : cfg.spec.populations)
      if (p.name == n) return p.size;
    for (const auto& s : cfg.spec.sources)
      if (s.name == n) return s.size;
    return 0;
  };
  const std::size_t n_src = size_of(pr.source), n_tgt = size_of(pr.target);
  const auto& tpop = *std::find_if(cfg.spec.populations.begin(), cfg.spec.populations.end(),
                                   [&](const auto& p) { return p.name == pr.target; });
  const models::ModelInfo& model = *models::find_model(tpop.model);
  const bool normalized = cfg.units.at(pr.target).input == "1";

  const ConfigNode rule = node.at("rule");
  rd.note(rule);
  using K = networks::ConnectionRule::Kind;
  const std::string r = rule.as_choice(kRules);
  pr.rule.kind = r == "all_to_all"          ? K::all_to_all
                 : r == "one_to_one"        ? K::one_to_one
                 : r == "fixed_probability" ? K::fixed_probability
                 : r == "fixed_indegree"    ? K::fixed_indegree
                                            : K::matrix;
  auto needs = [&](const char* key, bool wanted) {
    if (wanted && !node.has(key)) rule.fail(fmt::format("rule '{}' needs '{}'", r, key));
    if (!wanted && node.has(key))
      node.at(key).fail(fmt::format("'{}' belongs to another rule, not '{}'", key, r));
  };
  needs("p", pr.rule.kind == K::fixed_probability);
  needs("indegree", pr.rule.kind == K::fixed_indegree);
  needs("matrix", pr.rule.kind == K::matrix);
  if (pr.rule.kind == K::one_to_one && n_src != n_tgt)
    rule.fail(fmt::format("one_to_one needs equal sizes, but '{}' has {} and '{}' {} neurons",
                          pr.source, n_src, pr.target, n_tgt));
  if (auto p = node.find("p")) {
    rd.note(*p);
    pr.rule.p = p->as_double();
    if (!(pr.rule.p >= 0 && pr.rule.p <= 1))
      p->fail(fmt::format("a connection probability must be in [0, 1], got {}", pr.rule.p));
  }
  if (auto k = node.find("indegree")) {
    rd.note(*k);
    const bool self = pr.source == pr.target && !node.get_bool("autapses", true);
    pr.rule.indegree =
        static_cast<std::size_t>(k->as_int(0, static_cast<std::int64_t>(n_src - (self ? 1 : 0))));
  }
  if (auto a = node.find("autapses")) {
    rd.note(*a);
    pr.rule.autapses = a->as_bool();
  }
  if (auto m = node.find("matrix")) {
    rd.note(*m);
    m->expect_keys({"file", "dataset"});
    const ConfigNode file = m->at("file");
    const ConfigNode dataset = m->at("dataset");
    namespace fs = std::filesystem;
    fs::path path = file.as_string();
    if (path.is_relative()) path = fs::path(config_file).parent_path() / path;
    if (!fs::exists(path))
      file.fail(
          fmt::format("matrix file '{}' does not exist (a relative path is taken from the "
                      "config's folder)",
                      path.string()));
    std::size_t rows = 0, cols = 0;
    try {
      h5::quiet_errors();
      H5::H5File f = h5::open_for_reading(path.string());
      pr.rule.matrix = h5::read_matrix(f, dataset.as_string(), rows, cols);
    } catch (const H5::Exception& e) {
      dataset.fail(fmt::format("cannot read dataset '{}' from '{}': {}", dataset.as_string(),
                               path.string(), e.getDetailMsg()));
    } catch (const DataError& e) {  // the probe refused the file (h5_probe.hpp)
      file.fail(e.what());
    }
    if (rows != n_tgt || cols != n_src)
      dataset.fail(
          fmt::format("the matrix is ({}, {}) but must be (target, source) = ({}, {}): "
                      "one row per neuron of '{}', one column per neuron of '{}'",
                      rows, cols, n_tgt, n_src, pr.target, pr.source));
    for (double x : pr.rule.matrix)
      if (!std::isfinite(x)) dataset.fail("the matrix has a value that is not finite");
  }
  auto charge = [&](const ConfigNode& n) {
    rd.note(n);
    return read_charge(n, model.input_quantity, normalized, pr.target);
  };
  if (auto w = node.find("weight")) {
    pr.weight = read_distribution(rd, *w, charge);
    if (pr.rule.kind == K::matrix && !pr.weight.is_constant())
      w->fail("with rule 'matrix' the weight is one factor applied to every entry");
  } else if (pr.rule.kind != K::matrix) {
    node.fail("needs a 'weight' (a charge: the target's input times ms, e.g. '8.1 pC')");
  }
  const double dt = cfg.spec.dt;
  auto time = [&](const ConfigNode& n) {
    rd.note(n);
    return n.as_quantity(Quantity::time);
  };
  if (auto d = node.find("delay")) {
    pr.delay = read_distribution(rd, *d, time);
    if (pr.delay.is_constant() && !(pr.delay.a >= dt * (1 - 1e-9)))
      d->fail(fmt::format("a delay must be at least dt ({} ms), got {} ms", dt, pr.delay.a));
    if (!pr.delay.is_constant() && !(pr.delay.a >= dt * (1 - 1e-9)))
      d->fail(fmt::format(
          "a drawn delay's {} must be at least dt ({} ms), got {} ms (draws "
          "below dt are raised to dt)",
          pr.delay.kind == networks::Distribution::Kind::uniform ? "low" : "mean", dt, pr.delay.a));
  } else {
    pr.delay = networks::Distribution::constant(dt);
  }
  if (auto syn = node.find("synapse")) {
    rd.note(*syn);
    syn->expect_keys({"tau", "order", "type"});
    if (auto t = syn->find("type")) {
      rd.note(*t);
      const std::string kind = t->as_choice({"exponential", "alpha"});
      pr.order = kind == "alpha" ? 1 : 0;
      if (syn->has("order")) syn->at("order").fail("give either 'type' or 'order', not both");
    }
    const ConfigNode tau = syn->at("tau");
    rd.note(tau);
    pr.tau = tau.as_quantity(Quantity::time);
    if (!(pr.tau > 0)) tau.fail("a PSC time constant must be positive");
    if (auto o = syn->find("order")) {
      rd.note(*o);
      pr.order = static_cast<unsigned>(o->as_int(0, 10));
    }
  }
  if (auto ch = node.find("channel")) {
    rd.note(*ch);
    pr.channel = ch->as_string();
  }
  cfg.spec.projections.push_back(std::move(pr));
}

void read_record(Reader& rd, RunConfig& cfg, const ConfigNode& node) {
  rd.note(node);
  node.expect_keys({"spikes", "traces", "rates"});
  if (auto rates = node.find("rates")) {  // population -> bin width
    rd.note(*rates);
    std::vector<std::string> pops;
    for (const auto& p : cfg.spec.populations) pops.push_back(p.name);
    for (const auto& [pop, bin] : rates->entries()) {
      rd.note(bin);
      if (std::find(pops.begin(), pops.end(), pop) == pops.end())
        bin.fail(fmt::format("no population '{}' to record the rate of", pop));
      const double ms = bin.as_quantity(Quantity::time);
      const double steps = ms / cfg.spec.dt;
      if (!(steps >= 1 - 1e-9) || std::fabs(steps - std::round(steps)) > 1e-6 * steps)
        bin.fail(fmt::format("a rate bin must be a whole number of steps of dt ({} ms), got {} ms",
                             cfg.spec.dt, ms));
      cfg.spec.rates.push_back({pop, static_cast<std::size_t>(std::llround(steps))});
    }
  }
  std::vector<std::string> names, recordable;  // populations; populations and spike sources
  for (const auto& p : cfg.spec.populations) names.push_back(p.name);
  recordable = names;
  for (const auto& src : cfg.spec.sources) recordable.push_back(src.name);
  // A name of a population or of a spike source (recorded only when named: 'all' means
  // every population, as without the key; a source's spikes are known from the config).
  auto add = [&](const std::string& name) {
    const bool is_pop = std::find(names.begin(), names.end(), name) != names.end();
    (is_pop ? cfg.spec.spike_populations : cfg.spec.spike_sources).push_back(name);
  };
  auto size_of = [&](const std::string& name) {
    for (const auto& p : cfg.spec.populations)
      if (p.name == name) return p.size;
    for (const auto& src : cfg.spec.sources)
      if (src.name == name) return src.size;
    return std::size_t{0};
  };
  cfg.spec.spike_populations = names;  // default: every population's spikes
  if (auto s = node.find("spikes")) {
    rd.note(*s);
    cfg.spec.spike_populations.clear();
    if (s->is_scalar() && s->as_string() == "none") {
    } else if (s->is_scalar() && s->as_string() == "all") {
      cfg.spec.spike_populations = names;
    } else if (s->is_map()) {  // {population or source: all | [neuron, ...]}
      s->expect_keys(recordable);
      for (const auto& [name, which] : s->entries()) {
        rd.note(which);
        add(name);
        auto ids = rd.neuron_list(which, size_of(name));
        if (!ids.empty()) cfg.spec.spike_neurons[name] = std::move(ids);
      }
    } else {
      for (const auto& item : s->as_list()) {
        rd.note(item);
        add(item.as_choice(recordable));
      }
    }
  }
  std::set<std::pair<std::string, std::string>> recorded;
  if (auto traces = node.find("traces")) {
    rd.note(*traces);
    for (const auto& [tname, t] : traces->entries()) {
      rd.note(t);
      t.expect_keys({"population", "variables", "neurons", "every"});
      sim::TraceSpec tr;
      tr.name = tname;
      const ConfigNode pop_node = t.at("population");
      rd.note(pop_node);
      tr.population = pop_node.as_choice(names);
      const auto& pop = *std::find_if(cfg.spec.populations.begin(), cfg.spec.populations.end(),
                                      [&](const auto& p) { return p.name == tr.population; });
      const models::ModelInfo& model = *models::find_model(pop.model);
      std::vector<std::string> vars = {"I"};
      for (const auto& s : model.state) vars.insert(vars.end() - 1, s.name);
      for (const auto& ch : sim::channel_names(cfg.spec, tr.population)) vars.push_back("I_" + ch);
      for (const auto& v : t.at("variables").as_list()) {
        rd.note(v);
        const std::string var = v.as_choice(vars);
        if (!recorded.insert({tr.population, var}).second)
          v.fail(
              fmt::format("'{}' of population '{}' is already recorded by another trace; "
                          "record each variable once (it is written to /report/{}/{})",
                          var, tr.population, tr.population, var));
        tr.variables.push_back(var);
      }
      if (auto n = t.find("neurons")) tr.neurons = rd.neuron_list(*n, pop.size);
      if (auto e = t.find("every")) {
        rd.note(*e);
        tr.every = static_cast<std::size_t>(e->as_int(1, std::numeric_limits<std::int64_t>::max()));
      }
      cfg.spec.traces.push_back(std::move(tr));
    }
  }
}

}  // namespace

const std::vector<std::string>& run_config_keys() {
  return kTopKeys;
}

void read_populations(const ConfigNode& populations, std::uint64_t seed, RunConfig& cfg) {
  Reader rd(cfg, seed);
  rd.note(populations);
  if (populations.entries().empty()) populations.fail("needs at least one population");
  for (const auto& [name, node] : populations.entries()) read_population(rd, cfg, name, node);
}

std::vector<double> read_per_neuron(const ConfigNode& node, models::Quantity q, std::size_t count,
                                    std::uint64_t seed, RunConfig& cfg) {
  Reader rd(cfg, seed);
  return rd.per_neuron(node, q, count).values;
}

RunConfig read_run_config(const ConfigDocument& doc, std::optional<std::uint64_t> seed_override) {
  RunConfig cfg;
  const ConfigNode& root = doc.root;
  root.expect_keys(kTopKeys);
  sim::RunSpec& spec = cfg.spec;
  if (auto s = root.find("seed")) {
    cfg.locations.emplace("seed", s->where());
    spec.seed = static_cast<std::uint64_t>(s->as_int(0, std::numeric_limits<std::int64_t>::max()));
  }
  if (seed_override) spec.seed = *seed_override;
  Reader rd(cfg, spec.seed);
  cfg.description = root.get_string("description", "");
  if (auto n = root.find("dt")) {
    rd.note(*n);
    spec.dt = n->as_quantity(Quantity::time);
    if (!(spec.dt > 0)) n->fail("the time step must be positive (e.g. 0.1 ms)");
  }
  const ConfigNode duration = root.at("duration");
  rd.note(duration);
  spec.duration = duration.as_quantity(Quantity::time);
  if (!(spec.duration > 0)) duration.fail("the duration must be positive (e.g. 1000 ms)");
  if (spec.dt > spec.duration)
    duration.fail(fmt::format("the duration ({} ms) is shorter than one time step dt ({} ms)",
                              spec.duration, spec.dt));

  read_populations(root.at("populations"), spec.seed, cfg);
  if (auto sources = root.find("sources")) {
    rd.note(*sources);
    for (const auto& [name, node] : sources->entries()) read_source(rd, cfg, name, node);
  }
  if (auto projections = root.find("projections")) {
    rd.note(*projections);
    for (const auto& [name, node] : projections->entries())
      read_projection(rd, cfg, name, node, doc.file);
  }
  if (auto stimuli = root.find("stimuli")) {
    rd.note(*stimuli);
    for (const auto& [name, node] : stimuli->entries()) read_stimulus(rd, cfg, name, node);
  }
  if (auto record = root.find("record")) {
    read_record(rd, cfg, *record);
  } else {
    for (const auto& p : spec.populations) spec.spike_populations.push_back(p.name);
  }
  return cfg;
}

std::string RunConfig::unit_of(const std::string& population, const std::string& variable) const {
  const auto pop = std::find_if(spec.populations.begin(), spec.populations.end(),
                                [&](const auto& p) { return p.name == population; });
  if (pop == spec.populations.end()) return "";
  const PopulationUnits& u = units.at(population);
  if (variable == "I" || variable.rfind("I_", 0) == 0) return u.input;  // I_<channel> too
  const models::ModelInfo& model = *models::find_model(pop->model);
  auto label = [&](Quantity q, bool normalizable) {
    if (normalizable && u.voltage == "1") return std::string("1");
    return std::string(models::canonical_unit(q));
  };
  if (const auto* s = model.find_state(variable)) return label(s->quantity, s->normalizable);
  if (const auto* p = model.find_param(variable)) return label(p->quantity, p->normalizable);
  return "";
}

ConfigError RunConfig::locate(const sim::SpecError& e) const {
  std::string key = e.key_path;
  if (auto alias = aliases.find(key); alias != aliases.end()) key = alias->second;
  std::string path = key;
  while (!path.empty()) {
    if (auto it = locations.find(path); it != locations.end())
      return ConfigError(it->second, key, e.what());
    const std::size_t cut = path.find_last_of(".[");
    path = cut == std::string::npos ? std::string() : path.substr(0, cut);
  }
  return ConfigError("", key, e.what());
}

}  // namespace ranvier::io
