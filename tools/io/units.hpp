// Parsing quantities written with units ("20 ms", "-65 mV", "10 uA/cm2", "0.3 mS/cm^2",
// "1e-3 s", "200 Hz") and converting them to the canonical unit of a models::Quantity.
// A unit is a product of SI-prefixed base units with integer powers, joined by '/', '*',
// '.' or a space: everything after '/' is in the denominator. Units are checked by their
// dimension over the SI base units, so "1 mV/MOhm" is a current and "20 ms" is not a rate.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>

#include "models/quantity.hpp"

namespace ranvier::io {

// Exponents of the SI base units metre, kilogram, second, ampere, and a scale factor to SI.
struct Unit {
  std::array<int, 4> dim{0, 0, 0, 0};  // m, kg, s, A
  double scale = 1.0;                  // value in SI = value * scale
  bool operator==(const Unit&) const = default;
};

// The unit `text` names ("uA/cm2"); throws std::invalid_argument with the reason.
Unit parse_unit(std::string_view text);
// The canonical unit of a quantity as a Unit ("ms" for time...).
Unit canonical(models::Quantity q);
// A human name for a dimension ("time", "current density", or the SI expression).
std::string describe_dimension(const Unit& u);

struct ParsedQuantity {
  double value;    // in the canonical unit of the requested quantity
  bool had_unit;   // false for a bare number
};

// "20 ms" as Quantity::time -> {20, true}; "20" -> {20, false}. Throws
// std::invalid_argument with a message saying what was expected.
ParsedQuantity parse_quantity(std::string_view text, models::Quantity q);

}  // namespace ranvier::io
