// A first guess for the time at which a LIF neuron with exponential PSCs reaches its
// threshold inside a step, for the exact solvers of the engine (sim/lif_population.cpp)
// to refine. The exact V(h) is a sum of exponentials; its crossing has no closed form and
// each Newton step on it costs one exponential per time constant.
//
// Free evolution: tau_m V' = V_inf - V + R sum_c I_c(h), I_c(h) = I_c e^(-h / tau_c). Its
// derivatives at h = 0 follow without any exponential:
//   tau_m V^(1)   = V_inf - V0 + R sum_c I_c,
//   tau_m V^(k+1) = R sum_c I_c (-1 / tau_c)^k - V^(k)      (k >= 1).
// The degree-5 Taylor polynomial's crossing, found by Newton's method on the polynomial
// from the caller's guess, is within ~(h / min tau)^6 / 720 of the true one relative to h
// (~1e-9 for h = 0.1 ms and tau = 5 ms), so one exact Newton step usually meets a
// 1e-13 ms tolerance. A guess that leaves (lo, hi) is not used: the caller keeps its own.
#pragma once

#include <cmath>

namespace ranvier::models {

// V0 < th at h = 0; I[c] the currents at h = 0, inv_tau_s[c] = 1 / tau_c; returns the
// refined guess if it lies in (lo, hi), or `guess` unchanged.
template <int NC>
double lif_crossing_guess(double V0, double th, double v_inf, double tau_m, double R,
                          const double* I, const double* inv_tau_s, double guess, double lo,
                          double hi) {
  constexpr int kDegree = 5;
  double g[NC > 0 ? NC : 1], d[kDegree + 1];
  double isum = 0.0;
  for (int c = 0; c < NC; ++c) {
    g[c] = I[c];
    isum += I[c];
  }
  // Products with reciprocals, not divisions: the d[k] are a chain, and this is a guess
  // (the caller's exact Newton step decides the result).
  const double inv_tau_m = 1.0 / tau_m;
  d[1] = (v_inf - V0 + R * isum) * inv_tau_m;
  for (int k = 1; k < kDegree; ++k) {
    double s = 0.0;
    for (int c = 0; c < NC; ++c) s += (g[c] *= -inv_tau_s[c]);
    d[k + 1] = (R * s - d[k]) * inv_tau_m;
  }
  // Taylor coefficients d[k] / k!.
  const double a1 = d[1], a2 = d[2] * 0.5, a3 = d[3] * (1.0 / 6), a4 = d[4] * (1.0 / 24),
               a5 = d[5] * (1.0 / 120);
  double x = guess;
  for (int it = 0; it < 4; ++it) {
    const double p = ((((a5 * x + a4) * x + a3) * x + a2) * x + a1) * x + (V0 - th);
    const double dp = (((5 * a5 * x + 4 * a4) * x + 3 * a3) * x + 2 * a2) * x + a1;
    if (!(dp > 0)) break;
    const double step = p / dp;
    x -= step;
    if (std::fabs(step) <= 1e-15 * x) break;  // converged to the polynomial's rounding
  }
  return x > lo && x < hi ? x : guess;
}

}  // namespace ranvier::models
