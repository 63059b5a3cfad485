#include "models/psc_filter.hpp"

#include <cmath>

namespace ranvier::models {

double psc_kernel(unsigned order, double tau_s, double t) {
  if (t < 0) return 0.0;
  const double x = t / tau_s;
  double f = std::exp(-x) / tau_s;  // x^n / n! built up term by term
  for (unsigned k = 1; k <= order; ++k) f *= x / k;
  return f;
}

double gamma_p_int(unsigned a, double x) {
  if (x <= 0) return 0.0;
  if (x < 1.0 + a) {
    // e^(-x) sum_{m >= a} x^m / m!: the series converges fast and has no cancellation.
    double term = 1.0;
    for (unsigned m = 1; m <= a; ++m) term *= x / m;
    double sum = 0.0;
    for (unsigned m = a; m < a + 200; ++m) {
      sum += term;
      term *= x / (m + 1);
      if (term < 1e-17 * sum) break;
    }
    return std::exp(-x) * sum;
  }
  // 1 - e^(-x) sum_{m < a} x^m / m!: the complement is small, no cancellation either.
  double term = 1.0, sum = 0.0;
  for (unsigned m = 0; m < a; ++m) {
    sum += term;
    term *= x / (m + 1);
  }
  return 1.0 - std::exp(-x) * sum;
}

PscPropagator psc_propagator(unsigned order, double tau_s, double h) {
  PscPropagator p;
  p.order = order;
  p.tau_s = tau_s;
  p.h = h;
  const unsigned m = order + 1;
  const double x = h / tau_s, e = std::exp(-x);
  p.P.assign(m * m, 0.0);
  p.Q.assign(m, 0.0);
  for (unsigned k = 0; k < m; ++k) {
    double f = e;  // e^(-x) x^(k-i) / (k-i)!
    for (unsigned i = k + 1; i-- > 0;) {
      p.P[k * m + i] = f;
      f *= x / (k - i + 1);
    }
  }
  for (unsigned i = 0; i < m; ++i) p.Q[i] = tau_s * gamma_p_int(order - i + 1, x);
  return p;
}

double lif_psc_coupling(double tau_m, double tau_s, double h) {
  const double c = 1.0 / tau_m - 1.0 / tau_s;  // 0 when the time constants are equal
  const double hc = h * c;
  // expm1(hc) / c -> h as c -> 0; below 1e-300 the division would overflow, and the
  // Taylor expansion h (1 + hc/2) is exact to rounding long before that.
  const double ratio = std::fabs(hc) < 1e-8 ? h * (1.0 + 0.5 * hc) : std::expm1(hc) / c;
  return std::exp(-h / tau_m) * ratio / tau_m;
}

double lif_psp(double t, double w, double R, double tau_m, double tau_s) {
  if (t <= 0) return 0.0;
  if (tau_m == tau_s) return R * w * t * std::exp(-t / tau_m) / (tau_m * tau_m);
  return R * w / (tau_s - tau_m) * (std::exp(-t / tau_s) - std::exp(-t / tau_m));
}

}  // namespace ranvier::models
