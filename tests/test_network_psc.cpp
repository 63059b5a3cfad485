// PSC filter maths: normalization, the cascade's exact propagator against the closed form,
// the charge of one spike for n = 0, 1, 2, the LIF coupling against the analytic PSP, and
// the first guess of a threshold crossing against bisection.
#include <doctest/doctest.h>

#include <cmath>

#include "models/lif_crossing.hpp"
#include "models/psc_filter.hpp"

using namespace ranvier::models;

TEST_CASE("the cascade propagator reproduces the kernel exactly") {
  // Stage values after k exact steps against w h(t) in closed form: only rounding differs,
  // ~1e-16 per step over 2000 steps, so 1e-12 relative to the kernel's peak.
  for (unsigned n : {0u, 1u, 2u, 3u}) {
    const double tau = 5.0, h = 0.1, w = 2.5;
    const auto p = psc_propagator(n, tau, h);
    std::vector<double> s(n + 1, 0.0), t(n + 1);
    s[0] = w / tau;
    double peak = 0;
    for (int k = 0; k <= 2000; ++k) peak = std::max(peak, w * psc_kernel(n, tau, k * h));
    for (int k = 0; k <= 2000; ++k) {
      CHECK(std::fabs(s[n] - w * psc_kernel(n, tau, k * h)) < 1e-12 * peak);
      for (unsigned r = 0; r <= n; ++r) {
        t[r] = 0;
        for (unsigned i = 0; i <= r; ++i) t[r] += p.P[r * (n + 1) + i] * s[i];
      }
      s = t;
    }
  }
}

TEST_CASE("the filtered current of one spike integrates to the weight for n = 0 1 2") {
  // Summing the exact per-step charges over 600 ms (tau_s = 5 ms) leaves a tail below
  // e^-120 * 120^2: the sum is w up to rounding. 1e-6 (the tolerance) is loose;
  // a held-value (rectangle rule) sum would miss by w h / (2 tau) = 1% and fail it.
  for (unsigned n : {0u, 1u, 2u}) {
    const double tau = 5.0, h = 0.1, w = -1.7;
    const auto p = psc_propagator(n, tau, h);
    std::vector<double> s(n + 1, 0.0), t(n + 1);
    s[0] = w / tau;
    double charge = 0;
    for (int k = 0; k < 6000; ++k) {
      for (unsigned i = 0; i <= n; ++i) charge += p.Q[i] * s[i];
      for (unsigned r = 0; r <= n; ++r) {
        t[r] = 0;
        for (unsigned i = 0; i <= r; ++i) t[r] += p.P[r * (n + 1) + i] * s[i];
      }
      s = t;
    }
    CHECK(std::fabs(charge - w) < 1e-6);
    CHECK(std::fabs(charge - w) < 1e-12);  // in fact exact to rounding
  }
}

TEST_CASE("gamma_p_int agrees with its defining sum across the switch point") {
  for (unsigned a : {1u, 2u, 3u, 5u})
    for (double x : {1e-6, 0.02, 0.5, 1.0, 3.0, 5.9, 6.1, 20.0}) {
      double tail = 0, term = 1;
      for (unsigned m = 0; m < a; ++m) {
        tail += term;
        term *= x / (m + 1);
      }
      const double direct = 1 - std::exp(-x) * tail;
      // The direct form cancels for small x; compare where it is accurate, relatively.
      if (direct > 1e-3) CHECK(gamma_p_int(a, x) == doctest::Approx(direct).epsilon(1e-12));
    }
  CHECK(gamma_p_int(1, 1e-6) == doctest::Approx(-std::expm1(-1e-6)).epsilon(1e-14));
  CHECK(gamma_p_int(2, 1e-3) == doctest::Approx(0.5e-6 * (1 - 2e-3 / 3)).epsilon(1e-9));
}

TEST_CASE("the LIF coupling matches the analytic PSP including tau_m = tau_s") {
  // One step of the propagator from I0 = w / tau_s at t = 0 gives the PSP after h exactly.
  const double R = 1.0, w = 8.1, h = 0.1, tau_m = 20.0;
  for (double tau_s : {5.0, 10.0, 20.0, 40.0}) {
    const double v = R * (w / tau_s) * lif_psc_coupling(tau_m, tau_s, h);
    CHECK(std::fabs(v - lif_psp(h, w, R, tau_m, tau_s)) < 1e-12);
  }
  // Near the limit the difference of exponentials cancels (lif_psp's direct form loses
  // digits), the expm1 form does not: it stays within 1e-13 of the limit's value.
  const double at_limit = R * (w / tau_m) * lif_psc_coupling(tau_m, tau_m, h);
  for (double tau_s : {20.0 * (1 + 1e-14), 20.0 * (1 + 1e-10), 20.0 * (1 - 1e-10)})
    CHECK(std::fabs(R * (w / tau_s) * lif_psc_coupling(tau_m, tau_s, h) - at_limit) < 1e-12);
  // The equal-constant limit is continuous: nearby tau_s give nearby PSPs.
  for (double t : {0.5, 5.0, 20.0, 60.0})
    CHECK(std::fabs(lif_psp(t, w, R, 20.0, 20.0) - lif_psp(t, w, R, 20.0, 20.0 + 1e-6)) < 1e-6);
}

TEST_CASE("the Taylor guess of a threshold crossing is within its error bound") {
  // V(h) = v_inf + (V0 - v_inf) e^(-h/tau_m) + R sum_c I_c coupling_c(h), two channels
  // (5 and 10 ms, an excitatory and an inhibitory current), crossing inside a 0.1 ms step.
  // The exact crossing by bisection to 1e-15 ms; the guess from the chord must land within
  // the degree-5 remainder, ~(h / tau_min)^6 / 720 h = 1e-13 ms here: bound 1e-11 ms
  // (also covers the chord's own error, which is ~1e-4 ms, so a broken recursion fails).
  const double tau_m = 20.0, R = 1.0, v_inf = -49.0, th = -50.0, h = 0.1;
  const double inv_tau_s[2] = {1.0 / 5.0, 1.0 / 10.0};
  for (double V0 : {-50.2, -50.05, -50.001}) {
    const double I[2] = {100.0, -25.0};
    auto V = [&](double s) {
      double v = v_inf + (V0 - v_inf) * std::exp(-s / tau_m);
      for (int c = 0; c < 2; ++c) v += R * I[c] * lif_psc_coupling(tau_m, 1.0 / inv_tau_s[c], s);
      return v;
    };
    REQUIRE(V(h) > th);
    double lo = 0.0, hi = h;
    while (hi - lo > 1e-15) ((V(0.5 * (lo + hi)) < th) ? lo : hi) = 0.5 * (lo + hi);
    const double exact = 0.5 * (lo + hi);
    const double chord = h * (th - V0) / (V(h) - V0);
    const double guess =
        lif_crossing_guess<2>(V0, th, v_inf, tau_m, R, I, inv_tau_s, chord, 0.0, h);
    INFO("V0 " << V0 << " exact " << exact << " chord " << chord << " guess " << guess);
    CHECK(std::fabs(guess - exact) < 1e-11);
    CHECK(std::fabs(chord - exact) > 1e-9);  // the test has something to improve on
  }
}
