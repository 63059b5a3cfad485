// Physical quantities a parameter, state variable or input can have, and the one
// canonical unit each is stored in inside the engine. Parsing "20 ms" into a value of
// one of these is the config layer's work (tools/io); models only declare them.
#pragma once

#include <string_view>

namespace ranvier::models {

enum class Quantity {
  dimensionless,         // 1
  time,                  // ms
  voltage,               // mV
  current,               // nA
  resistance,            // MOhm  (nA * MOhm = mV)
  capacitance,           // nF    (MOhm * nF = ms)
  current_density,       // uA/cm2
  conductance_density,   // mS/cm2 (mS/cm2 * mV = uA/cm2)
  capacitance_density,   // uF/cm2 (uF/cm2 / (mS/cm2) = ms)
  rate,                  // Hz
};

// The unit values of this quantity are stored in, as printed in files and messages.
constexpr std::string_view canonical_unit(Quantity q) {
  switch (q) {
    case Quantity::dimensionless: return "1";
    case Quantity::time: return "ms";
    case Quantity::voltage: return "mV";
    case Quantity::current: return "nA";
    case Quantity::resistance: return "MOhm";
    case Quantity::capacitance: return "nF";
    case Quantity::current_density: return "uA/cm2";
    case Quantity::conductance_density: return "mS/cm2";
    case Quantity::capacitance_density: return "uF/cm2";
    case Quantity::rate: return "Hz";
  }
  return "?";
}

constexpr std::string_view quantity_name(Quantity q) {
  switch (q) {
    case Quantity::dimensionless: return "dimensionless";
    case Quantity::time: return "time";
    case Quantity::voltage: return "voltage";
    case Quantity::current: return "current";
    case Quantity::resistance: return "resistance";
    case Quantity::capacitance: return "capacitance";
    case Quantity::current_density: return "current density";
    case Quantity::conductance_density: return "conductance density";
    case Quantity::capacitance_density: return "capacitance density";
    case Quantity::rate: return "rate";
  }
  return "?";
}

}  // namespace ranvier::models
