// Hodgkin-Huxley 1952 kinetics in the modern convention (rest near -65 mV, V in mV,
// rates in 1/ms). Everything here is inline and branch-free so that loops over a whole
// population vectorise (libmvec's exp); the engine's right-hand sides are built from it.
#pragma once

#include <cmath>

#include "models/simd_math.hpp"

namespace ranvier::models {

// Parameters of one HH neuron (the registry's "hh" entry; defaults are the 1952 values).
struct HhParams {
  double C_m = 1.0;       // membrane capacitance [uF/cm2]
  double g_Na = 120.0;    // maximal sodium conductance [mS/cm2]
  double g_K = 36.0;      // maximal potassium conductance [mS/cm2]
  double g_L = 0.3;       // leak conductance [mS/cm2]
  double E_Na = 50.0;     // sodium reversal [mV]
  double E_K = -77.0;     // potassium reversal [mV]
  double E_L = -54.387;   // leak reversal [mV], chosen so that rest is -65 mV
  double threshold = 0.;  // spike detection level [mV]
};

// x / (1 - exp(-x)), the shape of alpha_m and alpha_n. It has a removable singularity at
// x = 0 (value 1). Near 0 the direct formula loses digits to cancellation and is 0/0 at 0,
// so a Taylor series is blended in with a select (no branch: both sides are computed and
// the compiler emits a vector blend). Series error at |x| < 1e-2 is below x^6/30240
// ~ 3e-17 relative; the direct form's cancellation there costs at most ~1e-14.
inline double x_over_one_minus_exp(double x) {
  const double direct = x / (1.0 - std::exp(-x));
  const double x2 = x * x;
  const double series = 1.0 + 0.5 * x + x2 * (1.0 / 12.0 - x2 * (1.0 / 720.0));
  return std::fabs(x) < 1e-2 ? series : direct;
}

// Opening (alpha) and closing (beta) rates [1/ms] of the three gates at V [mV].
inline double hh_alpha_m(double V) {
  return x_over_one_minus_exp((V + 40.0) * 0.1);
}
inline double hh_beta_m(double V) {
  return 4.0 * std::exp(-(V + 65.0) * (1.0 / 18.0));
}
inline double hh_alpha_h(double V) {
  return 0.07 * std::exp(-(V + 65.0) * (1.0 / 20.0));
}
inline double hh_beta_h(double V) {
  return 1.0 / (1.0 + std::exp(-(V + 35.0) * 0.1));
}
inline double hh_alpha_n(double V) {
  return 0.1 * x_over_one_minus_exp((V + 55.0) * 0.1);
}
inline double hh_beta_n(double V) {
  return 0.125 * std::exp(-(V + 65.0) * (1.0 / 80.0));
}

// All six rates at once with a single exp, for the population kernels. With u = V + 65
// and a = exp(-u / 720), every exponential in the rates is an integer power of a:
//   exp(-u/18) = a^40, exp(-u/20) = a^36, exp(-u/80) = a^9, exp(-u/10) = a^72,
//   exp(-(V+40)/10) = e^2.5 a^72, exp(-(V+55)/10) = e^1 a^72, exp(-(V+35)/10) = e^3 a^72,
// formed by 9 multiplications. A power k of a value with relative error d has error ~k d,
// so with libmvec's 4 ulp these are within ~7e-14 relative of the one-exp-each forms; the
// x / (1 - e^-x) shapes use their series for |x| < 0.3 (terms through x^10, truncation
// < 3e-16) and the direct form beyond, where the error is at most ~2e-13 relative. The
// overflow range is that of the direct forms (a^72 overflows exactly when exp(-u/10) does).
struct HhRates {
  double am, bm, ah, bh, an, bn;  // [1/ms]
};

// x / (1 - e^-x) given emx = e^-x (computed elsewhere), blended with its Taylor series
// (Bernoulli numbers) near the removable singularity at x = 0. Branch-free.
inline double x_over_one_minus_exp(double x, double emx) {
  const double direct = x / (1.0 - emx);
  const double x2 = x * x;
  const double series =
      1.0 + 0.5 * x +
      x2 * (1.0 / 12.0 +
            x2 * (-1.0 / 720.0 +
                  x2 * (1.0 / 30240.0 + x2 * (-1.0 / 1209600.0 + x2 * (1.0 / 47900160.0)))));
  return std::fabs(x) < 0.3 ? series : direct;
}

// Series of x / (1 - e^-x) around 0 through x^10 (Bernoulli numbers).
inline double x_over_one_minus_exp_series(double x) {
  const double x2 = x * x;
  return 1.0 + 0.5 * x +
         x2 * (1.0 / 12.0 +
               x2 * (-1.0 / 720.0 +
                     x2 * (1.0 / 30240.0 + x2 * (-1.0 / 1209600.0 + x2 * (1.0 / 47900160.0)))));
}

inline HhRates hh_rates(double V) {
  constexpr double e1 = 2.718281828459045235, e25 = 12.18249396070347343,
                   e3 = 20.08553692318766774;  // e^1, e^2.5, e^3
  const double a = std::exp(-(V + 65.0) * (1.0 / 720.0));
  const double a2 = a * a, a4 = a2 * a2, a8 = a4 * a4, a16 = a8 * a8, a32 = a16 * a16;
  const double a9 = a8 * a, a36 = a32 * a4, a40 = a32 * a8, a72 = a36 * a36;
  const double xm = (V + 40.0) * 0.1, xn = (V + 55.0) * 0.1;
  // The three divisions (alpha_m, alpha_n, beta_h) share one: r = 1 / (dm dn dh), then
  // 1/dm = r dn dh etc. (divisions are the slowest vector instruction here). A denominator
  // whose series branch is taken is replaced by 1, so the product is never near 0 (each
  // remaining |d| >= 1 - e^-0.3 = 0.26). The product overflows only below V ~ -2400 mV,
  // where r = 0 turns the (then tiny, ~e^-240) alpha values into 0 instead of NaN.
  const bool sm = std::fabs(xm) < 0.3, sn = std::fabs(xn) < 0.3;
  const double dm = sm ? 1.0 : 1.0 - e25 * a72;
  const double dn = sn ? 1.0 : 1.0 - e1 * a72;
  const double dh = 1.0 + e3 * a72;
  const double r = 1.0 / (dm * dn * dh);
  const double am = sm ? x_over_one_minus_exp_series(xm) : xm * (r * dn * dh);
  const double an = sn ? x_over_one_minus_exp_series(xn) : xn * (r * dm * dh);
  return {am, 4.0 * a40, 0.07 * a36, r * dm * dn, 0.1 * an, 0.125 * a9};
}

// Steady state of a gate with rates a, b.
inline double gate_inf(double a, double b) {
  return a / (a + b);
}

// Total ionic current [uA/cm2] (outward positive) at V with gates m, h, n.
inline double hh_ionic_current(const HhParams& p, double V, double m, double h, double n) {
  const double n2 = n * n;
  return p.g_Na * m * m * m * h * (V - p.E_Na) + p.g_K * n2 * n2 * (V - p.E_K) +
         p.g_L * (V - p.E_L);
}

// The resting potential [mV] with no input: the lowest stable zero of the steady-state
// current I_ss(V) = I_ion(V, m_inf(V), h_inf(V), n_inf(V)), found by scanning [-120, 60] mV
// in 0.5 mV steps for an upward sign change and bisecting it to machine precision.
// Falls back to E_L if there is none.
double hh_resting_potential(const HhParams& p);

struct HhGates {
  double m, h, n;
};
// Gates at their steady state for a potential V.
HhGates hh_steady_gates(double V);

}  // namespace ranvier::models
