#include "tools/io/tune_config.hpp"

#include <cmath>

#include <fmt/format.h>

#include "models/model_info.hpp"
#include "tools/io/config_random.hpp"
#include "tools/io/errors.hpp"

namespace ranvier::io {

namespace {

using models::Quantity;

// The swept values: {from, to, points} (evenly spaced, both ends included) or a list.
std::vector<double> read_input(const ConfigNode& node, Quantity q, bool forbid_unit,
                               const std::string& why_no_unit) {
  auto value = [&](const ConfigNode& n) {
    auto [v, unit] = n.as_quantity_with_flag(q);
    if (unit && forbid_unit) n.fail(why_no_unit);
    return v;
  };
  std::vector<double> values;
  if (node.is_map()) {
    node.expect_keys({"from", "to", "points"});
    const double from = value(node.at("from")), to = value(node.at("to"));
    const std::int64_t points = node.at("points").as_int();
    if (points < 1)
      node.at("points").fail(fmt::format("{} points is an empty range: give at least 1", points));
    if (points > 1 && !(to > from))
      node.at("to").fail(fmt::format("the range is empty: 'to' ({}) must be above 'from' ({})", to, from));
    for (std::int64_t k = 0; k < points; ++k)
      values.push_back(points == 1 ? from
                                   : from + (to - from) * static_cast<double>(k) /
                                                static_cast<double>(points - 1));
  } else {
    for (const auto& item : node.as_list()) values.push_back(value(item));
    if (values.empty()) node.fail("the list of inputs is empty");
  }
  return values;
}

sim::EncodingSpec read_encoding(const ConfigNode& node, const sim::PopulationSpec& pop,
                                std::uint64_t seed, RunConfig& cfg) {
  node.expect_keys({"dimensions", "max_rates", "intercepts", "encoders", "direction", "search"});
  sim::EncodingSpec enc;
  const std::size_t n = pop.size;
  enc.dimensions = static_cast<std::size_t>(node.get_int("dimensions", 1));
  if (auto d = node.find("dimensions")) d->as_int(1, 1'000'000);
  const std::size_t d = enc.dimensions;
  enc.max_rate = read_per_neuron(node.at("max_rates"), Quantity::rate, n, seed, cfg);
  for (std::size_t i = 0; i < n; ++i)
    if (!(enc.max_rate[i] > 0))
      node.at("max_rates").fail(fmt::format("neuron {} gets a maximum rate of {} Hz; rates must be "
                                            "positive", i, enc.max_rate[i]));
  enc.intercept = read_per_neuron(node.at("intercepts"), Quantity::dimensionless, n, seed, cfg);
  for (std::size_t i = 0; i < n; ++i)
    if (!(enc.intercept[i] < 1.0))
      node.at("intercepts").fail(fmt::format(
          "neuron {} gets an intercept of {}; intercepts must be below 1 (the maximum rate is "
          "reached at e . x = 1)", i, enc.intercept[i]));

  // Encoders: random (default) or given, one per neuron; a scalar in one dimension.
  enc.encoders.assign(n * d, 0.0);
  const std::optional<ConfigNode> given = node.find("encoders");
  if (!given || (given->is_scalar() && given->as_string() == "random")) {
    ConfigRandom rng(seed, node.key_path() + ".encoders");
    for (std::size_t i = 0; i < n; ++i) {
      if (d == 1) {
        enc.encoders[i] = rng.uniform() < 0.5 ? -1.0 : 1.0;
        continue;
      }
      double norm = 0.0;  // a normal vector, normalised, is uniform on the sphere
      while (norm < 1e-12) {
        norm = 0.0;
        for (std::size_t k = 0; k < d; ++k) {
          enc.encoders[i * d + k] = rng.normal();
          norm += enc.encoders[i * d + k] * enc.encoders[i * d + k];
        }
      }
      for (std::size_t k = 0; k < d; ++k) enc.encoders[i * d + k] /= std::sqrt(norm);
    }
  } else {
    const auto rows = given->items();
    if (rows.size() != n)
      given->fail(fmt::format("has {} encoders but the population has {} neurons", rows.size(), n));
    for (std::size_t i = 0; i < n; ++i) {
      const auto comps = rows[i].as_list();
      if (comps.size() != d)
        rows[i].fail(fmt::format("an encoder needs {} components", d));
      double norm = 0.0;
      for (std::size_t k = 0; k < d; ++k) {
        enc.encoders[i * d + k] = comps[k].as_double();
        norm += enc.encoders[i * d + k] * enc.encoders[i * d + k];
      }
      if (!(norm > 0)) rows[i].fail("an encoder must not be zero");
      for (std::size_t k = 0; k < d; ++k) enc.encoders[i * d + k] /= std::sqrt(norm);
    }
  }
  enc.direction.assign(d, 0.0);
  enc.direction[0] = 1.0;
  if (auto dir = node.find("direction")) {
    const auto comps = dir->as_list();
    if (comps.size() != d) dir->fail(fmt::format("the direction needs {} components", d));
    double norm = 0.0;
    for (std::size_t k = 0; k < d; ++k) {
      enc.direction[k] = comps[k].as_double();
      norm += enc.direction[k] * enc.direction[k];
    }
    if (!(norm > 0)) dir->fail("the direction must not be zero");
    for (double& c : enc.direction) c /= std::sqrt(norm);
  }
  const models::ModelInfo& model = *models::find_model(pop.model);
  if (auto search = node.find("search")) {
    search->expect_keys({"from", "to", "tolerance"});
    enc.search_from = search->get_quantity("from", model.input_quantity, enc.search_from);
    enc.search_to = search->get_quantity("to", model.input_quantity, enc.search_to);
    if (!(enc.search_to > enc.search_from)) search->fail("'to' must be above 'from'");
    enc.tolerance = search->get_quantity("tolerance", model.input_quantity,
                                         1e-5 * (enc.search_to - enc.search_from));
    if (!(enc.tolerance > 0)) search->at("tolerance").fail("the tolerance must be positive");
  } else {
    enc.tolerance = 1e-5 * (enc.search_to - enc.search_from);
  }
  return enc;
}

}  // namespace

TuneConfig read_tune_config(const ConfigDocument& doc, std::optional<std::uint64_t> seed_override) {
  TuneConfig tc;
  RunConfig& cfg = tc.base;
  const ConfigNode& root = doc.root;
  root.expect_keys({"description", "seed", "dt", "populations", "sweep", "encoding"});
  if (auto s = root.find("seed"))
    cfg.spec.seed = static_cast<std::uint64_t>(s->as_int(0, std::numeric_limits<std::int64_t>::max()));
  if (seed_override) cfg.spec.seed = *seed_override;
  tc.settings.seed = cfg.spec.seed;
  cfg.description = root.get_string("description", "");
  if (auto n = root.find("dt")) {
    cfg.locations.emplace("dt", n->where());
    tc.settings.dt = n->as_quantity(Quantity::time);
    if (!(tc.settings.dt > 0)) n->fail("the time step must be positive (e.g. 0.1 ms)");
  }
  cfg.spec.dt = tc.settings.dt;
  read_populations(root.at("populations"), cfg.spec.seed, cfg);

  const ConfigNode sweep = root.at("sweep");
  sweep.expect_keys({"input", "duration", "transient", "method"});
  const ConfigNode duration = sweep.at("duration");
  tc.settings.duration = duration.as_quantity(Quantity::time);
  cfg.locations.emplace("sweep.duration", duration.where());
  if (!(tc.settings.duration > 0)) duration.fail("the time per input must be positive (e.g. 1 s)");
  if (tc.settings.dt > tc.settings.duration)
    duration.fail(fmt::format("{} ms per input is shorter than one time step ({} ms)",
                              tc.settings.duration, tc.settings.dt));
  tc.settings.transient = sweep.get_quantity("transient", Quantity::time, 0.1 * tc.settings.duration);
  if (auto tr = sweep.find("transient")) {
    cfg.locations.emplace("sweep.transient", tr->where());
    if (!(tc.settings.transient >= 0)) tr->fail("the transient must not be negative");
    if (!(tc.settings.transient < tc.settings.duration))
      tr->fail(fmt::format("the transient ({} ms) must be shorter than the time per input ({} ms): "
                           "otherwise no spikes are left to measure a rate from",
                           tc.settings.transient, tc.settings.duration));
  }
  const std::string method = sweep.find("method") ? sweep.at("method").as_choice(
                                                        {"simulated", "analytic", "both"})
                                                  : "simulated";
  tc.simulated = method != "analytic";
  tc.analytic = method != "simulated";
  const ConfigNode input = sweep.at("input");

  std::optional<ConfigNode> encodings = root.find("encoding");
  if (encodings) {
    std::vector<std::string> names;
    for (const auto& p : cfg.spec.populations) names.push_back(p.name);
    encodings->expect_keys(names);
  }
  for (std::size_t p = 0; p < cfg.spec.populations.size(); ++p) {
    const sim::PopulationSpec& pop = cfg.spec.populations[p];
    if (tc.analytic && pop.model != "lif")
      sweep.at("method").fail(fmt::format(
          "population '{}' ({}) has no closed-form rate: use method: simulated", pop.name, pop.model));
    TuneTarget target;
    target.population = p;
    const std::optional<ConfigNode> enc_node = encodings ? encodings->find(pop.name) : std::nullopt;
    if (enc_node) {
      cfg.locations.emplace(enc_node->key_path(), enc_node->where());
      target.encoding = read_encoding(*enc_node, pop, cfg.spec.seed, cfg);
      target.input = read_input(input, Quantity::dimensionless, false, "");
      target.input_units = "1";
    } else {
      const models::ModelInfo& model = *models::find_model(pop.model);
      const bool normalized = cfg.units.at(pop.name).input == "1";
      target.input = read_input(
          input, model.input_quantity, normalized,
          fmt::format("population '{}' is normalized, so its input is v_in (a bare number)", pop.name));
      target.input_units = cfg.units.at(pop.name).input;
    }
    tc.targets.push_back(std::move(target));
  }
  return tc;
}

}  // namespace ranvier::io
