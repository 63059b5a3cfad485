#include "models/lif_rate.hpp"

#include <algorithm>
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

namespace {
// sigma ln(1 + e^(x / sigma)) without overflow: max(x, 0) + sigma log1p(e^(-|x| / sigma)).
double softplus(double x, double sigma) {
  return std::max(x, 0.0) + sigma * std::log1p(std::exp(-std::fabs(x) / sigma));
}
}  // namespace

double lif_rate_soft(const LifRateParams& p, double J, double sigma) {
  const double x = softplus(p.V_L + p.R * J - p.V_th, sigma);  // smoothed V_inf - V_th
  if (!(x > 0)) return 0.0;  // the softplus underflowed: far below threshold
  const double T = p.tau_ref + p.tau_m * std::log1p((p.V_th - p.V_reset) / x);  // ms
  return 1000.0 / T;
}

double lif_rate_soft_derivative(const LifRateParams& p, double J, double sigma) {
  const double over = p.V_L + p.R * J - p.V_th;
  const double x = softplus(over, sigma);
  if (!(x > 0)) return 0.0;
  const double c = p.V_th - p.V_reset;
  const double T = p.tau_ref + p.tau_m * std::log1p(c / x);
  // dx/dJ = R logistic(over / sigma); dT/dx = -tau_m c / (x (x + c)); dG/dJ = -1000 T' / T^2.
  // e^(-|u|) keeps the logistic free of overflow on both sides.
  const double e = std::exp(-std::fabs(over) / sigma);
  const double logistic = over >= 0 ? 1.0 / (1.0 + e) : e / (1.0 + e);
  return 1000.0 * p.tau_m * c * p.R * logistic / (x * (x + c) * T * T);
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
