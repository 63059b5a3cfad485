#include "models/hh.hpp"

namespace ranvier::models {

HhGates hh_steady_gates(double V) {
  return {gate_inf(hh_alpha_m(V), hh_beta_m(V)), gate_inf(hh_alpha_h(V), hh_beta_h(V)),
          gate_inf(hh_alpha_n(V), hh_beta_n(V))};
}

double hh_resting_potential(const HhParams& p) {
  auto I_ss = [&](double V) {
    const auto g = hh_steady_gates(V);
    return hh_ionic_current(p, V, g.m, g.h, g.n);
  };
  // Stable rest: dV/dt = -I_ss/C goes from positive to negative, i.e. I_ss crosses upward.
  double lo = -120.0, f_lo = I_ss(lo);
  for (double hi = lo + 0.5; hi <= 60.0; hi += 0.5) {
    const double f_hi = I_ss(hi);
    if (f_lo < 0 && f_hi >= 0) {
      for (int it = 0; it < 200 && hi - lo > 1e-13; ++it) {
        const double mid = 0.5 * (lo + hi);
        (I_ss(mid) < 0 ? lo : hi) = mid;
      }
      return 0.5 * (lo + hi);
    }
    lo = hi;
    f_lo = f_hi;
  }
  return p.E_L;
}

}  // namespace ranvier::models
