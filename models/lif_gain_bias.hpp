// Inverting the LIF tuning curve: the input that gives a wanted rate, and the gain and
// bias that give a neuron a chosen maximum rate and x-intercept (as Nengo builds its
// heterogeneous ensembles). The rate function itself is models/lif_rate.hpp.
//
// A neuron with encoder e represents x through J(x) = gain (e . x) + bias. It must start
// firing where e . x = intercept (J = J_th, the threshold current) and fire at max_rate
// where e . x = 1 (J = J_max = G^-1(max_rate)):
//   gain = (J_max - J_th) / (1 - intercept),   bias = J_th - gain * intercept.
#pragma once

#include <stdexcept>

#include "models/lif_rate.hpp"

namespace ranvier::models {

// The input at which V_inf = V_L + R J reaches V_th: below it the neuron is silent.
double lif_threshold_current(const LifRateParams& p);

// The input J with G(J) = rate_hz. Throws std::domain_error unless 0 < rate_hz < 1000 /
// tau_ref (a rate the refractory period allows; the message says which bound).
double lif_current_for_rate(const LifRateParams& p, double rate_hz);

struct GainBias {
  double gain;  // input per unit of e . x
  double bias;  // input at x = 0
};

// Throws std::domain_error for an intercept >= 1 or an unreachable max_rate.
GainBias lif_gain_bias(const LifRateParams& p, double max_rate_hz, double intercept);

}  // namespace ranvier::models
