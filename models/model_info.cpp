// The one registry of neuron models: names, units, defaults and checks of every
// parameter and state variable. `ranvier models`, the config layer and the engine all read
// this table, so a parameter's documentation cannot drift from its use.
#include "models/model_info.hpp"

#include <algorithm>

namespace ranvier::models {
namespace {

std::vector<ModelInfo> build_registry() {
  using Q = Quantity;
  using C = Constraint;
  std::vector<ModelInfo> r;

  ModelInfo lif;
  lif.name = "lif";
  lif.description =
      "Leaky integrate-and-fire: tau_m dV/dt = R*J - (V - V_L) below V_th; at V_th a spike is "
      "emitted, V is reset to V_reset and held there for tau_ref. Defaults are the normalized "
      "form (voltages in units of threshold, R = 1, input v_in dimensionless).";
  lif.params = {
      {"V_L", Q::voltage, true, 0.0, C::any, "leak (resting) potential"},
      {"V_th", Q::voltage, true, 1.0, C::any, "spike threshold; must exceed V_reset"},
      {"V_reset", Q::voltage, true, 0.0, C::any, "potential after a spike; must be below V_th"},
      {"R", Q::resistance, true, 1.0, C::positive, "membrane resistance (R*J is a voltage)"},
      {"tau_m", Q::time, false, 20.0, C::positive, "membrane time constant"},
      {"tau_ref", Q::time, false, 2.0, C::nonnegative, "absolute refractory period"},
  };
  lif.state = {
      {"V", Q::voltage, true, "membrane potential"},
      {"ref_left", Q::time, false, "refractory time left (0 when the neuron integrates)"},
  };
  lif.integrators = {"exact", "euler", "rk4", "dopri5"};
  lif.input_quantity = Q::current;
  lif.input_normalizable = true;
  r.push_back(std::move(lif));

  ModelInfo hh;
  hh.name = "hh";
  hh.description =
      "Hodgkin-Huxley 1952 squid axon, modern convention (rest near -65 mV): sodium (m^3 h), "
      "potassium (n^4) and leak currents. A spike is an upward crossing of `threshold`, its "
      "time interpolated inside the step. Starts at the resting steady state unless set.";
  hh.params = {
      {"C_m", Q::capacitance_density, false, 1.0, C::positive, "membrane capacitance"},
      {"g_Na", Q::conductance_density, false, 120.0, C::nonnegative, "maximal sodium conductance"},
      {"g_K", Q::conductance_density, false, 36.0, C::nonnegative, "maximal potassium conductance"},
      {"g_L", Q::conductance_density, false, 0.3, C::nonnegative, "leak conductance"},
      {"E_Na", Q::voltage, false, 50.0, C::any, "sodium reversal potential"},
      {"E_K", Q::voltage, false, -77.0, C::any, "potassium reversal potential"},
      {"E_L", Q::voltage, false, -54.387, C::any, "leak reversal potential"},
      {"threshold", Q::voltage, false, 0.0, C::any,
       "spike detection: upward crossing of this potential"},
  };
  hh.state = {
      {"V", Q::voltage, false, "membrane potential"},
      {"m", Q::dimensionless, false, "sodium activation gate"},
      {"h", Q::dimensionless, false, "sodium inactivation gate"},
      {"n", Q::dimensionless, false, "potassium activation gate"},
  };
  hh.integrators = {"rk4", "euler", "dopri5", "exponential_euler"};
  hh.input_quantity = Q::current_density;
  hh.input_normalizable = false;
  r.push_back(std::move(hh));
  return r;
}

}  // namespace

const ParamSpec* ModelInfo::find_param(std::string_view param) const {
  auto it = std::find_if(params.begin(), params.end(), [&](auto& p) { return p.name == param; });
  return it == params.end() ? nullptr : &*it;
}

const StateSpec* ModelInfo::find_state(std::string_view var) const {
  auto it = std::find_if(state.begin(), state.end(), [&](auto& s) { return s.name == var; });
  return it == state.end() ? nullptr : &*it;
}

std::span<const ModelInfo> model_registry() {
  static const std::vector<ModelInfo> registry = build_registry();  // immutable after init
  return registry;
}

const ModelInfo* find_model(std::string_view name) {
  for (const auto& m : model_registry())
    if (m.name == name) return &m;
  return nullptr;
}

}  // namespace ranvier::models
