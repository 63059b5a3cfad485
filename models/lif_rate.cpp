#include "models/lif_rate.hpp"

#include <cassert>
#include <cmath>

namespace ranvier::models {

// ln((V_inf - V_reset)/(V_inf - V_th)) is written as log1p((V_th - V_reset)/(V_inf - V_th))
// so that far above threshold (large J, ratio -> 1) no digits are lost to cancellation.
double lif_rate(const LifRateParams& p, double J) {
  const double over = p.V_L + p.R * J - p.V_th;  // V_inf - V_th
  if (!(over > 0)) return 0.0;
  const double T = p.tau_ref + p.tau_m * std::log1p((p.V_th - p.V_reset) / over);  // ms
  return 1000.0 / T;
}

double lif_rate_derivative(const LifRateParams& p, double J) {
  const double over = p.V_L + p.R * J - p.V_th;  // b = V_inf - V_th
  if (!(over > 0)) return 0.0;
  const double a = over + (p.V_th - p.V_reset);  // V_inf - V_reset
  const double T = p.tau_ref + p.tau_m * std::log1p((p.V_th - p.V_reset) / over);
  // dT/dJ = tau_m R (1/a - 1/b) = -tau_m R (V_th - V_reset) / (a b);  dG/dJ = -1000 T'/T^2
  const double dT = -p.tau_m * p.R * (p.V_th - p.V_reset) / (a * over);
  return -1000.0 * dT / (T * T);
}

void lif_rate(const LifRateParams& p, std::span<const double> J, std::span<double> out) {
  assert(J.size() == out.size());
  for (std::size_t i = 0; i < J.size(); ++i) out[i] = lif_rate(p, J[i]);
}

void lif_rate_derivative(const LifRateParams& p, std::span<const double> J, std::span<double> out) {
  assert(J.size() == out.size());
  for (std::size_t i = 0; i < J.size(); ++i) out[i] = lif_rate_derivative(p, J[i]);
}

}  // namespace ranvier::models
