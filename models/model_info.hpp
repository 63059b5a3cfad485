// What a neuron model offers to the outside: its parameters (name, quantity, default,
// constraint, meaning), its state variables, its integrators and the quantity of its
// input. `ranvier models` prints this, the config layer checks keys against it, and the
// engine fills per-neuron parameter arrays from it. One registry, no copies.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "models/quantity.hpp"

namespace ranvier::models {

// Per-parameter rule, checked once when a population is lowered (NEST's strict checks).
enum class Constraint {
  any,
  positive,      // > 0: time constants, capacitances, conductances of a time scale
  nonnegative,   // >= 0: refractory periods, maximal conductances
};

struct ParamSpec {
  std::string name;
  Quantity quantity;
  // LIF is written either normalized (voltages in units of threshold, R = 1, input v_in
  // dimensionless) or dimensional (mV, MOhm, nA). A normalizable parameter takes its
  // quantity's unit in the dimensional form and no unit in the normalized form.
  bool normalizable = false;
  double default_value = 0.0;  // in canonical_unit(quantity)
  Constraint constraint = Constraint::any;
  std::string description;
};

struct StateSpec {
  std::string name;
  Quantity quantity;
  bool normalizable = false;
  std::string description;
};

struct ModelInfo {
  std::string name;         // as written in configs: "lif", "hh"
  std::string description;
  std::vector<ParamSpec> params;
  std::vector<StateSpec> state;       // recordable and settable as initial state
  std::vector<std::string> integrators;  // allowed names, first is the default
  Quantity input_quantity;            // what stimuli into this model are measured in
  bool input_normalizable = false;

  const ParamSpec* find_param(std::string_view param) const;
  const StateSpec* find_state(std::string_view var) const;
  std::string_view default_integrator() const { return integrators.front(); }
};

// Every model Ranvier has, in the order `ranvier models` lists them.
std::span<const ModelInfo> model_registry();
const ModelInfo* find_model(std::string_view name);

}  // namespace ranvier::models
