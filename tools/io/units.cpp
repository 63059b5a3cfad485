#include "tools/io/units.hpp"

#include <cmath>
#include <cstdlib>
#include <stdexcept>
#include <utility>
#include <vector>

#include <fmt/format.h>

namespace ranvier::io {

namespace {

using models::Quantity;

Unit make(int m, int kg, int s, int a, double scale) { return Unit{{m, kg, s, a}, scale}; }

Unit multiply(const Unit& x, const Unit& y, int power) {
  Unit r = x;
  for (int i = 0; i < 4; ++i) r.dim[i] += power * y.dim[i];
  r.scale *= std::pow(y.scale, power);
  return r;
}

// Base (unprefixed) units. Derived SI units are expanded into m, kg, s, A.
const std::vector<std::pair<std::string_view, Unit>>& base_units() {
  static const std::vector<std::pair<std::string_view, Unit>> units = {
      {"s", make(0, 0, 1, 0, 1)},
      {"Hz", make(0, 0, -1, 0, 1)},
      {"m", make(1, 0, 0, 0, 1)},
      {"g", make(0, 1, 0, 0, 1e-3)},
      {"A", make(0, 0, 0, 1, 1)},
      {"V", make(2, 1, -3, -1, 1)},
      {"Ohm", make(2, 1, -3, -2, 1)},
      {"ohm", make(2, 1, -3, -2, 1)},
      {"\u03a9", make(2, 1, -3, -2, 1)},  // Ω
      {"S", make(-2, -1, 3, 2, 1)},
      {"F", make(-2, -1, 4, 2, 1)},
      {"C", make(0, 0, 1, 1, 1)},
      {"W", make(2, 1, -3, 0, 1)},
      {"J", make(2, 1, -2, 0, 1)},
  };
  return units;
}

const std::vector<std::pair<std::string_view, double>>& prefixes() {
  static const std::vector<std::pair<std::string_view, double>> p = {
      {"da", 1e1},  {"G", 1e9},   {"M", 1e6},  {"k", 1e3},  {"h", 1e2},
      {"d", 1e-1},  {"c", 1e-2},  {"m", 1e-3}, {"u", 1e-6}, {"\u00b5", 1e-6},  // µ
      {"\u03bc", 1e-6},                                                        // μ
      {"n", 1e-9},  {"p", 1e-12}, {"f", 1e-15},
  };
  return p;
}

std::optional<Unit> find_base(std::string_view name) {
  for (const auto& [n, u] : base_units())
    if (n == name) return u;
  return std::nullopt;
}

// One factor such as "cm2", "cm^2", "s^-1", "cm²", "mS".
Unit parse_factor(std::string_view f) {
  int power = 1;
  // Trailing power: ^-2, -2, 2, or a superscript two/three.
  if (f.size() >= 2 && f.substr(f.size() - 2) == "\u00b2") {
    power = 2;
    f.remove_suffix(2);
  } else if (f.size() >= 2 && f.substr(f.size() - 2) == "\u00b3") {
    power = 3;
    f.remove_suffix(2);
  } else {
    std::size_t end = f.size();
    while (end > 0 && std::isdigit(static_cast<unsigned char>(f[end - 1]))) --end;
    if (end < f.size()) {
      // "V2000000000" overflowed the exponents (signed overflow). No
      // unit needs a power beyond 9, and two digits keep every sum of exponents small.
      if (f.size() - end > 1)
        throw std::invalid_argument(fmt::format(
            "the power in '{}' is out of range: powers of units go from -9 to 9", f));
      std::size_t start = end;
      if (start > 0 && f[start - 1] == '-') --start;
      power = std::atoi(std::string(f.substr(start)).c_str());
      if (start > 0 && f[start - 1] == '^') --start;
      f = f.substr(0, start);
    }
  }
  if (f.empty()) throw std::invalid_argument("a unit factor has a power but no unit");
  if (auto u = find_base(f)) return multiply(Unit{}, *u, power);
  for (const auto& [p, scale] : prefixes()) {
    if (f.size() > p.size() && f.substr(0, p.size()) == p) {
      if (auto u = find_base(f.substr(p.size()))) {
        Unit prefixed = *u;
        prefixed.scale *= scale;
        return multiply(Unit{}, prefixed, power);
      }
    }
  }
  throw std::invalid_argument(fmt::format(
      "unknown unit '{}' (known: s, Hz, m, g, A, V, Ohm, S, F with prefixes G M k c m u n p f; "
      "e.g. ms, mV, nA, MOhm, nF, uA/cm2, mS/cm2, uF/cm2, Hz)",
      f));
}

}  // namespace

Unit parse_unit(std::string_view text) {
  Unit result;
  int sign = +1;  // +1 numerator, -1 after a '/'
  std::size_t i = 0;
  bool any = false;
  while (i < text.size()) {
    const char c = text[i];
    if (c == ' ' || c == '*' || c == '.') {
      ++i;
      continue;
    }
    if (c == '/') {
      sign = -1;
      ++i;
      continue;
    }
    std::size_t j = i;
    while (j < text.size() && text[j] != ' ' && text[j] != '*' && text[j] != '/' && text[j] != '.')
      ++j;
    std::string_view factor = text.substr(i, j - i);
    if (factor == "1") {  // "1/s"
      i = j;
      continue;
    }
    result = multiply(result, parse_factor(factor), sign);
    any = true;
    i = j;
  }
  if (!any) throw std::invalid_argument("empty unit");
  return result;
}

Unit canonical(models::Quantity q) {
  switch (q) {
    case Quantity::dimensionless: return Unit{};
    case Quantity::time: return make(0, 0, 1, 0, 1e-3);
    case Quantity::voltage: return make(2, 1, -3, -1, 1e-3);
    case Quantity::current: return make(0, 0, 0, 1, 1e-9);
    case Quantity::resistance: return make(2, 1, -3, -2, 1e6);
    case Quantity::capacitance: return make(-2, -1, 4, 2, 1e-9);
    case Quantity::current_density: return make(-2, 0, 0, 1, 1e-6 / 1e-4);
    case Quantity::conductance_density: return make(-4, -1, 3, 2, 1e-3 / 1e-4);
    case Quantity::capacitance_density: return make(-4, -1, 4, 2, 1e-6 / 1e-4);
    case Quantity::rate: return make(0, 0, -1, 0, 1);
  }
  return Unit{};
}

std::string describe_dimension(const Unit& u) {
  for (Quantity q : {Quantity::dimensionless, Quantity::time, Quantity::voltage, Quantity::current,
                     Quantity::resistance, Quantity::capacitance, Quantity::current_density,
                     Quantity::conductance_density, Quantity::capacitance_density,
                     Quantity::rate}) {
    if (canonical(q).dim == u.dim) return std::string(models::quantity_name(q));
  }
  static const char* names[] = {"m", "kg", "s", "A"};
  std::string s;
  for (int i = 0; i < 4; ++i) {
    if (u.dim[i] == 0) continue;
    if (!s.empty()) s += " ";
    s += names[i];
    if (u.dim[i] != 1) s += fmt::format("^{}", u.dim[i]);
  }
  return "dimension " + s;
}

ParsedQuantity parse_quantity(std::string_view text, models::Quantity q) {
  std::string s(text);
  const char* begin = s.c_str();
  char* end = nullptr;
  const double number = std::strtod(begin, &end);
  if (end == begin)
    throw std::invalid_argument(fmt::format("'{}' is not a number{}", text,
                                            q == Quantity::dimensionless
                                                ? std::string()
                                                : fmt::format(" with a unit (e.g. '1.5 {}')",
                                                              models::canonical_unit(q))));
  if (!std::isfinite(number))
    throw std::invalid_argument(fmt::format("'{}' is not a finite number", text));
  std::string_view rest(end);
  while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
  while (!rest.empty() && rest.back() == ' ') rest.remove_suffix(1);
  if (rest.empty()) return {number, false};

  const Unit unit = parse_unit(rest);
  const Unit want = canonical(q);
  if (unit.dim != want.dim) {
    if (q == Quantity::dimensionless)
      throw std::invalid_argument(
          fmt::format("'{}' has a unit ({}) but this value is dimensionless; write a bare number",
                      text, describe_dimension(unit)));
    throw std::invalid_argument(fmt::format("'{}' is a {}, but a {} is expected (e.g. '{} {}')",
                                            text, describe_dimension(unit), models::quantity_name(q),
                                            number, models::canonical_unit(q)));
  }
  // Every unit here is a power of ten of its canonical unit. The scales are products
  // (1e-6 * 1e4 for uA/cm2) that carry rounding, so snap the ratio to the exact power
  // and divide for negative ones: "40 uA/cm2" is 40, not 40.000000000000014.
  const double ratio = unit.scale / want.scale;
  // Many factors ("1 mm9 mm9 ... /m9 m9 ...") can push the scale past double's range.
  if (!std::isfinite(ratio) || ratio == 0)
    throw std::invalid_argument(
        fmt::format("the unit of '{}' is out of range (its scale overflows)", text));
  const double exponent = std::round(std::log10(ratio));
  if (std::abs(std::log10(ratio) - exponent) < 1e-9 && std::abs(exponent) <= 22) {
    const double power = std::pow(10.0, std::abs(exponent));  // exact up to 1e22
    const double value = exponent >= 0 ? number * power : number / power;
    if (!std::isfinite(value))
      throw std::invalid_argument(fmt::format("'{}' is too large once converted to {}", text,
                                              models::canonical_unit(q)));
    return {value, true};
  }
  const double value = number * ratio;
  if (!std::isfinite(value))
    throw std::invalid_argument(
        fmt::format("'{}' is too large once converted to {}", text, models::canonical_unit(q)));
  return {value, true};
}

}  // namespace ranvier::io
