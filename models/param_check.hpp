// Checks of per-neuron parameter arrays against a model's rules, done once when a
// population is lowered (NEST's strict checks). Every failure is a sim::SpecError whose
// key path is `populations.<pop>.params.<param>` and whose message states the rule, the
// offending neuron and its value(s).
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "models/model_info.hpp"

namespace ranvier::models {

using ParamArrays = std::map<std::string, std::vector<double>>;  // name -> one value per neuron

// Every parameter of `model` present with `size` values, each finite and within its
// ParamSpec::constraint, no unknown names; then the model's cross-parameter rules
// (LIF: V_reset < V_th). Throws sim::SpecError.
void check_params(const ModelInfo& model, std::string_view pop, const ParamArrays& params,
                  std::size_t size);

// Key path of a parameter, as the config writes it.
std::string param_key(std::string_view pop, std::string_view param);

}  // namespace ranvier::models
