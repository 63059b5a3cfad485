// The analytic steady-state firing rate of a LIF neuron under a constant input J, and its
// derivative. One piece of code, used as the tuning curve, as the MLP activation and for
// rate-to-spiking conversion.
//
//   V_inf = V_L + R J                                   (the potential J drives towards)
//   T(J)  = tau_ref + tau_m ln((V_inf - V_reset) / (V_inf - V_th))   inter-spike interval
//   G(J)  = 1000 / T(J)  [Hz]   if V_inf > V_th,   0 otherwise
//
// With V_reset = V_L (the default) this is the textbook
//   G(J) = 1 / (tau_ref - tau_m ln(1 - (V_th - V_L) / (R J))).
// Times are in ms, so the factor 1000 turns 1/ms into Hz. J is in the units of the
// neuron's input: nA with R in MOhm, or v_in (dimensionless) in the normalized form.
#pragma once

#include <cstddef>
#include <span>

namespace ranvier::models {

struct LifRateParams {
  double V_L = 0.0;      // leak potential [mV, or units of threshold]
  double V_th = 1.0;     // threshold [same unit as V_L]
  double V_reset = 0.0;  // reset potential [same unit as V_L]; must be < V_th
  double R = 1.0;        // membrane resistance [MOhm, or 1 normalized]; > 0
  double tau_m = 20.0;   // membrane time constant [ms]; > 0
  double tau_ref = 2.0;  // refractory period [ms]; >= 0
};

// Steady-state rate [Hz] for constant input J. 0 when V_L + R J <= V_th (never reaches
// threshold). Continuous at threshold (G -> 0 as J -> J_th from above).
double lif_rate(const LifRateParams& p, double J);

// dG/dJ [Hz per unit of J]. Below or at threshold 0 (the one-sided value from below;
// from above the derivative diverges as 1 / (x ln^2 x), x = V_inf - V_th).
double lif_rate_derivative(const LifRateParams& p, double J);

// The soft LIF rate of Hunsberger & Eliasmith (2015), for training through the rate: the
// hard rectification x = max(V_inf - V_th, 0) inside G is replaced by the softplus
//   x_sigma = sigma ln(1 + e^((V_inf - V_th) / sigma)),
//   G_sigma(J) = 1000 / (tau_ref + tau_m ln(1 + (V_th - V_reset) / x_sigma))   [Hz],
// which is smooth and strictly increasing in J, so its derivative exists (and is finite)
// everywhere. sigma > 0 [units of V]; G_sigma -> G as sigma -> 0 (the softplus tends to
// the rectifier: |x_sigma - max(x, 0)| <= sigma ln 2).
double lif_rate_soft(const LifRateParams& p, double J, double sigma);
// dG_sigma/dJ [Hz per unit of J]; finite everywhere, -> 0 far below threshold.
double lif_rate_soft_derivative(const LifRateParams& p, double J, double sigma);

// Array versions: out[i] = G(J[i]) (resp. dG/dJ). Sizes must match.
void lif_rate(const LifRateParams& p, std::span<const double> J, std::span<double> out);
void lif_rate_derivative(const LifRateParams& p, std::span<const double> J, std::span<double> out);

}  // namespace ranvier::models
