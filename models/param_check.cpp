#include "models/param_check.hpp"

#include <fmt/format.h>

#include <cmath>

#include "sim/spec.hpp"

namespace ranvier::models {

std::string param_key(std::string_view pop, std::string_view param) {
  return fmt::format("populations.{}.params.{}", pop, param);
}

namespace {

std::string unit_suffix(const ParamSpec& p) {
  auto u = canonical_unit(p.quantity);
  return u == "1" ? std::string() : fmt::format(" {}", u);
}

void check_lif(std::string_view pop, const ParamArrays& params, std::size_t size) {
  const auto& V_th = params.at("V_th");
  const auto& V_reset = params.at("V_reset");
  for (std::size_t i = 0; i < size; ++i)
    if (!(V_reset[i] < V_th[i]))
      throw sim::SpecError(
          param_key(pop, "V_reset"),
          fmt::format("population '{}': V_reset must be below V_th (a reset at or above threshold "
                      "would fire again at once), but neuron {} has V_reset = {} and V_th = {}",
                      pop, i, V_reset[i], V_th[i]));
}

}  // namespace

void check_params(const ModelInfo& model, std::string_view pop, const ParamArrays& params,
                  std::size_t size) {
  for (const auto& [name, values] : params)
    if (!model.find_param(name))
      throw sim::SpecError(
          param_key(pop, name),
          fmt::format("population '{}': model '{}' has no parameter '{}'", pop, model.name, name));
  for (const auto& p : model.params) {
    auto it = params.find(p.name);
    if (it == params.end())
      throw sim::SpecError(param_key(pop, p.name),
                           fmt::format("population '{}': parameter '{}' of model '{}' is missing",
                                       pop, p.name, model.name));
    const auto& v = it->second;
    if (v.size() != size)
      throw sim::SpecError(param_key(pop, p.name),
                           fmt::format("population '{}': parameter '{}' has {} values, expected "
                                       "one per neuron ({})",
                                       pop, p.name, v.size(), size));
    for (std::size_t i = 0; i < size; ++i) {
      const double x = v[i];
      const char* rule = nullptr;
      if (!std::isfinite(x))
        rule = "must be finite";
      else if (p.constraint == Constraint::positive && !(x > 0))
        rule = "must be strictly positive (> 0)";
      else if (p.constraint == Constraint::nonnegative && !(x >= 0))
        rule = "must be nonnegative (>= 0)";
      if (rule)
        throw sim::SpecError(param_key(pop, p.name),
                             fmt::format("population '{}': {} {}, but neuron {} has {} = {}{}", pop,
                                         p.name, rule, i, p.name, x, unit_suffix(p)));
    }
  }
  if (model.name == "lif") check_lif(pop, params, size);
}

}  // namespace ranvier::models
