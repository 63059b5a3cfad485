#include "models/lif_gain_bias.hpp"

#include <cmath>

#include <fmt/format.h>

namespace ranvier::models {

double lif_threshold_current(const LifRateParams& p) { return (p.V_th - p.V_L) / p.R; }

double lif_current_for_rate(const LifRateParams& p, double rate_hz) {
  const double max_possible = p.tau_ref > 0 ? 1000.0 / p.tau_ref : INFINITY;
  if (!(rate_hz > 0))
    throw std::domain_error(fmt::format("a rate of {} Hz is not positive", rate_hz));
  if (!(rate_hz < max_possible))
    throw std::domain_error(fmt::format(
        "{} Hz cannot be reached: with tau_ref = {} ms no LIF neuron fires faster than "
        "1/tau_ref = {:.6g} Hz (it only approaches it as the input grows without bound)",
        rate_hz, p.tau_ref, max_possible));
  // G(J) = 1000 / (tau_ref + tau_m ln((V_inf - V_reset) / (V_inf - V_th))): solve for V_inf.
  // With a = (T - tau_ref) / tau_m, (V_inf - V_reset) = e^a (V_inf - V_th), so
  // V_inf = V_th + (V_th - V_reset) / (e^a - 1), and expm1 keeps small a exact.
  const double T = 1000.0 / rate_hz;  // ms
  const double a = (T - p.tau_ref) / p.tau_m;
  const double v_inf = p.V_th + (p.V_th - p.V_reset) / std::expm1(a);
  return (v_inf - p.V_L) / p.R;
}

GainBias lif_gain_bias(const LifRateParams& p, double max_rate_hz, double intercept) {
  if (!(intercept < 1.0))
    throw std::domain_error(fmt::format(
        "an intercept of {} leaves no range to fire in: intercepts must be below 1 (the "
        "neuron reaches its maximum rate at e . x = 1)",
        intercept));
  const double j_th = lif_threshold_current(p);
  const double j_max = lif_current_for_rate(p, max_rate_hz);
  const double gain = (j_max - j_th) / (1.0 - intercept);
  return {gain, j_th - gain * intercept};
}

}  // namespace ranvier::models
