// Post-synaptic current (PSC) filters and their exact per-step propagators.
//
// A filter of order n with time constant tau_s [ms]:
//   h(t) = t^n exp(-t / tau_s) / (n! tau_s^(n+1))   for t >= 0,
// normalized so that its integral is 1: a spike of weight w injects a total charge w
// [input quantity * ms]. n = 0 is the exponential filter, n = 1 the alpha function.
//
// Order n is a cascade of n + 1 first-order stages s_0 .. s_n, all with tau_s:
//   tau_s ds_0/dt = -s_0,   tau_s ds_k/dt = s_{k-1} - s_k  (k >= 1),
// a spike of weight w sets s_0 += w / tau_s, and the current is s_n = w h(t). The cascade is
// linear with constant coefficients, so a step of length h is an exact matrix product:
//   s_k(t + h) = sum_{i <= k} s_i(t) e^(-x) x^(k-i) / (k-i)!,   x = h / tau_s,
// and the charge the output stage delivers during the step is exact too:
//   int_0^h s_n = tau_s sum_{i <= n} s_i(t) P(n - i + 1, x),
// P(a, x) the regularized lower incomplete gamma function (for integer a, the Poisson tail
// e^(-x) sum_{m >= a} x^m / m!). Populations that hold their input over a step get the step
// average of the current (charge / h), so no charge is lost or created on the grid.
//
// For LIF with exponential PSCs the membrane and the currents form one linear system,
// integrated exactly (NEST's iaf_psc_exp propagators): over a step h with a current I at
// the step's start,
//   V(t + h) - V_inf = (V(t) - V_inf) e^(-h/tau_m) + R I * P21,
//   P21 = tau_s / (tau_s - tau_m) (e^(-h/tau_s) - e^(-h/tau_m)),
// written as e^(-h/tau_m) expm1(h c) / (c tau_m), c = 1/tau_m - 1/tau_s, so that it stays
// accurate as tau_s -> tau_m and becomes (h / tau_m) e^(-h/tau_m) at tau_s = tau_m.
#pragma once

#include <cstddef>
#include <vector>

namespace ranvier::models {

// h(t) of order n (0 for t < 0) [1/ms].
double psc_kernel(unsigned order, double tau_s, double t);

// The exact step of a PSC cascade of order n over h [ms].
struct PscPropagator {
  unsigned order = 0;
  double tau_s = 0, h = 0;
  std::vector<double> P;  // (n+1, n+1) row-major, lower triangular: s' = P s
  std::vector<double> Q;  // (n+1): charge of the output stage over the step = sum_i Q[i] s_i
};
PscPropagator psc_propagator(unsigned order, double tau_s, double h);

// Regularized lower incomplete gamma P(a, x) for integer a >= 1, accurate for small x
// (series) and large x (complement): the fraction of an order-(a-1) filter's charge
// delivered by time x tau_s.
double gamma_p_int(unsigned a, double x);

// The LIF coupling P21 above (the response of V to a unit R*I at the step start) [1].
double lif_psc_coupling(double tau_m, double tau_s, double h);

// The analytic PSP of a LIF neuron (no threshold) for one spike of weight w arriving at t=0
// through an exponential PSC: V(t) - V_L for a neuron at rest [mV],
//   R w / (tau_s - tau_m) (e^(-t/tau_s) - e^(-t/tau_m)),   and   R w t e^(-t/tau) / tau^2
// when tau_s = tau_m = tau. Written directly (not through lif_psc_coupling) for the tests.
double lif_psp(double t, double w, double R, double tau_m, double tau_s);

}  // namespace ranvier::models
