// Hodgkin-Huxley populations: the right-hand side for Odeint (euler, rk4, dopri5) and the
// exponential Euler step, over a chunk of neurons in struct-of-arrays layout.
#include <cmath>

#include <fmt/format.h>

#include "models/hh.hpp"
#include "models/model_info.hpp"
#include "models/param_check.hpp"
#include "sim/ode_population.hpp"
#include "sim/population_factories.hpp"

namespace ranvier::sim::detail {
namespace {

struct HhOdeModel {
  static constexpr std::size_t n_vars = 4;  // V [mV], m, h, n
  static constexpr bool resets = false;
  static constexpr std::size_t min_chunks_per_thread = 1;  // a chunk's rk4 step is ~4 us

  explicit HhOdeModel(const PopulationSpec& s) {
    const auto& p = s.params;
    inv_C.resize(s.size);
    for (std::size_t i = 0; i < s.size; ++i) inv_C[i] = 1.0 / p.at("C_m")[i];
    g_Na = p.at("g_Na");
    g_K = p.at("g_K");
    g_L = p.at("g_L");
    E_Na = p.at("E_Na");
    E_K = p.at("E_K");
    E_L = p.at("E_L");
    thr = p.at("threshold");
    // Initial state: the resting steady state of each neuron's parameters, unless set;
    // gates not set start at their steady state for the neuron's initial V.
    init.assign(4, std::vector<double>(s.size));
    const char* names[4] = {"V", "m", "h", "n"};
    for (std::size_t i = 0; i < s.size; ++i) {
      auto given = [&](int v) -> const std::vector<double>* {
        auto it = s.initial.find(names[v]);
        return it == s.initial.end() ? nullptr : &it->second;
      };
      double V;
      if (auto* g = given(0))
        V = (*g)[i];
      else {
        const models::HhParams hp{p.at("C_m")[i], g_Na[i], g_K[i], g_L[i],
                                  E_Na[i],        E_K[i],  E_L[i], thr[i]};
        // Neurons usually share parameters: solve the resting potential once for a run.
        if (i > 0 && same_params(i, i - 1, p))
          V = init[0][i - 1];
        else
          V = models::hh_resting_potential(hp);
      }
      const auto gates = models::hh_steady_gates(V);
      init[0][i] = V;
      init[1][i] = given(1) ? (*given(1))[i] : gates.m;
      init[2][i] = given(2) ? (*given(2))[i] : gates.h;
      init[3][i] = given(3) ? (*given(3))[i] : gates.n;
    }
  }

  static bool same_params(std::size_t i, std::size_t j,
                          const std::map<std::string, std::vector<double>>& p) {
    for (const auto& [name, v] : p)
      if (name != "threshold" && v[i] != v[j]) return false;
    return true;
  }

  // The whole chunk's derivative in one loop the compiler vectorises (libmvec exp).
  void rhs(std::size_t b, std::size_t n, const double* __restrict J, const double* __restrict x,
           double* __restrict dx) const {
    const double* __restrict iC = inv_C.data() + b;
    const double* __restrict gNa = g_Na.data() + b;
    const double* __restrict gK = g_K.data() + b;
    const double* __restrict gL = g_L.data() + b;
    const double* __restrict ENa = E_Na.data() + b;
    const double* __restrict EK = E_K.data() + b;
    const double* __restrict EL = E_L.data() + b;
#pragma omp simd
    for (std::size_t i = 0; i < n; ++i) {
      const double V = x[i], m = x[n + i], h = x[2 * n + i], nk = x[3 * n + i];
      const double n2 = nk * nk;
      const double I_ion = gNa[i] * (m * m * m * h) * (V - ENa[i]) +
                           gK[i] * (n2 * n2) * (V - EK[i]) + gL[i] * (V - EL[i]);
      dx[i] = (J[i] - I_ion) * iC[i];
      const models::HhRates r = models::hh_rates(V);
      dx[n + i] = r.am * (1.0 - m) - r.bm * m;
      dx[2 * n + i] = r.ah * (1.0 - h) - r.bh * h;
      dx[3 * n + i] = r.an * (1.0 - nk) - r.bn * nk;
    }
  }

  // Exponential Euler (Brian2's exponential_euler): every equation is linear in its own
  // variable once the others are frozen at the step's start, dx/dt = A - B x, and is then
  // solved exactly: x(t + dt) = A/B + (x - A/B) exp(-B dt). Gates: A = alpha,
  // B = alpha + beta. V: B = (g_Na m^3 h + g_K n^4 + g_L)/C_m, A/B = the conductance-
  // weighted reversal with the input added. Writes dV/dt at the start into dV0.
  void exp_euler(std::size_t b, std::size_t n, const double* __restrict J, double* __restrict x,
                 double dt, double* __restrict dV0) const {
    const double* __restrict iC = inv_C.data() + b;
    const double* __restrict gNa = g_Na.data() + b;
    const double* __restrict gK = g_K.data() + b;
    const double* __restrict gL = g_L.data() + b;
    const double* __restrict ENa = E_Na.data() + b;
    const double* __restrict EK = E_K.data() + b;
    const double* __restrict EL = E_L.data() + b;
#pragma omp simd
    for (std::size_t i = 0; i < n; ++i) {
      const double V = x[i], m = x[n + i], h = x[2 * n + i], nk = x[3 * n + i];
      const double n2 = nk * nk;
      const double GNa = gNa[i] * (m * m * m * h), GK = gK[i] * (n2 * n2);
      const double G = GNa + GK + gL[i];                                            // mS/cm2
      const double V_inf = (GNa * ENa[i] + GK * EK[i] + gL[i] * EL[i] + J[i]) / G;  // mV
      dV0[i] = (V_inf - V) * G * iC[i];
      x[i] = V_inf + (V - V_inf) * std::exp(-dt * G * iC[i]);
      const models::HhRates r = models::hh_rates(V);
      const double km = r.am + r.bm, kh = r.ah + r.bh, kn = r.an + r.bn;
      x[n + i] = r.am / km + (m - r.am / km) * std::exp(-dt * km);
      x[2 * n + i] = r.ah / kh + (h - r.ah / kh) * std::exp(-dt * kh);
      x[3 * n + i] = r.an / kn + (nk - r.an / kn) * std::exp(-dt * kn);
    }
  }

  const double* thresholds() const {
    return thr.data();
  }
  double threshold(std::size_t i) const {
    return thr[i];
  }
  void initial(std::size_t i, double* xi) const {
    for (std::size_t v = 0; v < 4; ++v) xi[v] = init[v][i];
  }
  void begin_step(std::size_t, std::size_t) {}
  void end_step(std::size_t, std::size_t, double, double, double*, std::span<Spike>) {}
  double extra_state(std::size_t, std::size_t) const {
    return 0.0;
  }

  // Lowered per-neuron parameters (SoA): 1/C_m [cm2/uF], conductances [mS/cm2],
  // reversals and threshold [mV].
  std::vector<double> inv_C, g_Na, g_K, g_L, E_Na, E_K, E_L, thr;
  std::vector<std::vector<double>> init;  // [var][neuron] initial state
};

}  // namespace

// What to change after a blow-up, in terms of what the user has now: a dt ten times
// smaller than theirs, and the integrators they are not using yet.
std::string hh_advice(Integrator integrator, double dt) {
  if (integrator == Integrator::dopri5)
    return "tighten abs_tol / rel_tol (e.g. 1e-8), or try integrator: exponential_euler";
  std::string advice = fmt::format("use a smaller dt (e.g. {:g} ms)", dt / 10.0);
  if (integrator != Integrator::exponential_euler)
    advice += " or integrator: exponential_euler (stable for the fast gates)";
  return advice + " or dopri5 (adaptive step)";
}

std::unique_ptr<Population> make_hh_population(const PopulationSpec& s, double dt, int threads) {
  models::check_params(*models::find_model("hh"), s.name, s.params, s.size);
  return std::make_unique<OdePopulation<HhOdeModel>>(HhOdeModel(s), s.size, s.integrator, dt,
                                                     threads, s.abs_tol, s.rel_tol,
                                                     hh_advice(s.integrator, dt));
}

}  // namespace ranvier::sim::detail
