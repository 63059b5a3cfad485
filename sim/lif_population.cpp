// LIF populations: the exact integrator (analytic propagator, spike times solved inside
// the step, refractory remainder carried on) and the Odeint model for euler/rk4/dopri5.
#include <fmt/format.h>

#include <cmath>

#include "models/model_info.hpp"
#include "models/param_check.hpp"
#include "sim/chunks.hpp"
#include "sim/ode_population.hpp"
#include "sim/population_factories.hpp"

namespace ranvier::sim::detail {
namespace {

// Per-neuron LIF parameters lowered from the spec (SoA), plus the initial state.
struct LifArrays {
  std::vector<double> V_L, V_th, V_reset, R, tau_m, tau_ref;  // mV | mV | mV | MOhm | ms | ms
  std::vector<double> V_init, ref_init;                       // mV | ms

  explicit LifArrays(const PopulationSpec& s) {
    const auto& p = s.params;
    V_L = p.at("V_L");
    V_th = p.at("V_th");
    V_reset = p.at("V_reset");
    R = p.at("R");
    tau_m = p.at("tau_m");
    tau_ref = p.at("tau_ref");
    auto init = [&](const char* name, const std::vector<double>& dflt) {
      auto it = s.initial.find(name);
      return it == s.initial.end() ? dflt : it->second;
    };
    V_init = init("V", V_L);  // a LIF neuron starts at rest unless set
    ref_init = init("ref_left", std::vector<double>(s.size, 0.0));
  }
};

// ---------------------------------------------------------------------------------------
// Exact integration. Between spikes, with the input J held over the step,
//   V(t + h) = V_inf + (V(t) - V_inf) exp(-h / tau_m),   V_inf = V_L + R J,
// which is exact; a threshold crossing inside the step is solved for in closed form,
//   t_s = t + tau_m ln((V - V_inf) / (V_th - V_inf)).
class LifExactPopulation final : public Population {
 public:
  LifExactPopulation(const PopulationSpec& s, double dt, int threads)
      : a_(s), n_(s.size), dt_(dt), threads_(threads), chunks_(make_chunks(s.size)) {
    V_ = a_.V_init;
    ref_ = a_.ref_init;
    P_.resize(n_);
    for (std::size_t i = 0; i < n_; ++i) P_[i] = std::exp(-dt / a_.tau_m[i]);  // lowered once
    special_.assign(n_, 0);
    chunk_spikes_.resize(chunks_.size());
    chunk_fault_.resize(chunks_.size());
  }

  std::size_t size() const override { return n_; }
  std::string advice() const override {
    return "check the input magnitude and the parameters (tau_m, R); the exact integrator "
           "itself cannot blow up";
  }
  std::optional<StateFault> fault() const override {
    for (const auto& f : chunk_fault_)
      if (f) return f;
    return std::nullopt;
  }

  void read_state(std::size_t var, std::span<const std::uint32_t> neurons,
                  std::span<double> out) const override {
    const auto& src = var == 0 ? V_ : ref_;
    if (neurons.empty())
      std::copy(src.begin(), src.end(), out.begin());
    else
      for (std::size_t k = 0; k < neurons.size(); ++k) out[k] = src[neurons[k]];
  }

  void advance(double t, std::span<const double> input, std::vector<Spike>& spikes) override {
    // A chunk of the exact integrator takes well under a microsecond: 16 per thread at least.
    for_chunks(chunks_.size(), threads_, 16, [&](std::size_t c) {
      chunk_spikes_[c].clear();
      chunk_fault_[c].reset();
      step_chunk(c, t, input.data());
    });
    const std::size_t from = spikes.size();
    for (auto& s : chunk_spikes_) spikes.insert(spikes.end(), s.begin(), s.end());
    sort_spikes(spikes, from);
  }

 private:
  void step_chunk(std::size_t c, double t, const double* __restrict J) {
    const std::size_t b = chunks_[c].begin, e = b + chunks_[c].n;
    double* __restrict V = V_.data();
    const double* __restrict ref = ref_.data();
    const double* __restrict VL = a_.V_L.data();
    const double* __restrict Vth = a_.V_th.data();
    const double* __restrict R = a_.R.data();
    const double* __restrict P = P_.data();
    unsigned char* __restrict special = special_.data();
    // Pass 1, the common path: free neurons that stay below threshold. One branch-free,
    // vectorised loop; refractory or spiking neurons are only flagged and left untouched.
    int n_special = 0;
#pragma omp simd reduction(+ : n_special)
    for (std::size_t i = b; i < e; ++i) {
      const double v_inf = VL[i] + R[i] * J[i];
      const double v_new = v_inf + (V[i] - v_inf) * P[i];
      const bool sp = (ref[i] > 0) | (v_new >= Vth[i]) | (V[i] >= Vth[i]);
      V[i] = sp ? V[i] : v_new;
      special[i] = sp;
      n_special += sp;
    }
    // Pass 2, the rare path: refractory and spiking neurons, one at a time.
    if (n_special)
      for (std::size_t i = b; i < e; ++i)
        if (special[i]) slow_step(c, i, t, J[i]);
    const std::size_t bad = first_bad_voltage(V + b, e - b);
    if (bad < e - b) chunk_fault_[c] = StateFault{b + bad, "V", V[b + bad], ""};
  }

  // Walks one neuron through the step: refractory time first, then free integration up to
  // a possible threshold crossing (solved analytically), a spike, a new refractory period,
  // and so on until the step is used up, so a tau_ref shorter than dt loses no spike.
  void slow_step(std::size_t c, std::size_t i, double t, double J) {
    const double tau = a_.tau_m[i], Vth = a_.V_th[i], Vreset = a_.V_reset[i];
    const double v_inf = a_.V_L[i] + a_.R[i] * J;
    double V = V_[i], ref = ref_[i];
    double left = dt_;  // time of this step still to be accounted for [ms]
    double now = t;     // time reached [ms]
    for (int spikes_here = 0;;) {
      if (ref > 0) {
        if (ref >= left) {  // refractory for the rest of the step
          ref -= left;
          V = Vreset;
          break;
        }
        left -= ref;
        now += ref;
        ref = 0;
        V = Vreset;
      }
      double ts = 0;  // time from `now` to the crossing [ms]
      if (V < Vth) {
        const double v_new = v_inf + (V - v_inf) * (left == dt_ ? P_[i] : std::exp(-left / tau));
        if (v_new < Vth) {
          V = v_new;
          break;
        }
        // V < V_th <= v_new implies V < V_th < V_inf, so the log's argument is > 1.
        ts = std::clamp(tau * std::log((V - v_inf) / (Vth - v_inf)), 0.0, left);
      }
      chunk_spikes_[c].push_back({static_cast<std::uint32_t>(i), now + ts});
      now += ts;
      left -= ts;
      ref = a_.tau_ref[i];
      V = Vreset;
      if (++spikes_here > 100000) {  // only reachable with tau_ref = 0 and an absurd input
        chunk_fault_[c] = StateFault{i, "V", V, "more than 100000 spikes in one step"};
        break;
      }
      if (ref == 0 && left <= 0) break;
    }
    V_[i] = V;
    ref_[i] = ref;
  }

  LifArrays a_;
  std::size_t n_;
  double dt_;
  int threads_;
  std::vector<ChunkRange> chunks_;
  std::vector<double> V_, ref_;         // state: potential [mV], refractory time left [ms]
  std::vector<double> P_;               // propagator exp(-dt / tau_m) per neuron
  std::vector<unsigned char> special_;  // scratch: needs the slow path this step
  std::vector<std::vector<Spike>> chunk_spikes_;
  std::vector<std::optional<StateFault>> chunk_fault_;
};

// ---------------------------------------------------------------------------------------
// The Odeint model: dV/dt = a (V_L + R J - V) / tau_m with a per-neuron time scale `a`
// held over the step. Free neurons have a = 1, refractory ones a = 0 (V held at V_reset).
// A neuron released from refractoriness at t_free inside the step [t, t + dt] should
// integrate only over [t_free, t + dt]: since the input is constant over the step the
// equation is autonomous, and integrating a f(V) over dt with a = (t + dt - t_free) / dt is
// exactly integrating f(V) over t + dt - t_free, so the integrator keeps its order and the
// refractory end is not rounded to the grid. The same holds for a neuron released during
// the previous step, after a spike (t_free < t, a > 1): this is how a tau_ref shorter than
// the rest of the step is carried over. A crossing at scaled time s maps back to real time
// t_free + a (s - t). A crossing is reset at the end of its step (one spike per step at
// most); the time since the crossing counts toward tau_ref.
struct LifOdeModel {
  static constexpr std::size_t n_vars = 1;
  static constexpr bool resets = true;
  static constexpr std::size_t min_chunks_per_thread = 4;  // ~1 us of rk4 work per chunk

  LifOdeModel(const PopulationSpec& s, double dt) : a(s), dt(dt) {
    inv_tau.resize(s.size);
    for (std::size_t i = 0; i < s.size; ++i) inv_tau[i] = 1.0 / a.tau_m[i];
    ref = a.ref_init;
    scale.assign(s.size, 1.0);
  }

  void rhs(std::size_t b, std::size_t n, const double* __restrict J, const double* __restrict x,
           double* __restrict dx) const {
    const double* __restrict VL = a.V_L.data() + b;
    const double* __restrict R = a.R.data() + b;
    const double* __restrict it = inv_tau.data() + b;
    const double* __restrict sc = scale.data() + b;
#pragma omp simd
    for (std::size_t i = 0; i < n; ++i) dx[i] = sc[i] * (VL[i] + R[i] * J[i] - x[i]) * it[i];
  }
  const double* thresholds() const {
    return a.V_th.data();
  }
  double threshold(std::size_t i) const {
    return a.V_th[i];
  }
  void initial(std::size_t i, double* xi) const {
    xi[0] = ref[i] > 0 ? a.V_reset[i] : a.V_init[i];
  }
  void begin_step(std::size_t b, std::size_t n) {
    // ref in (-dt, dt): released at t_free = t + ref; ref >= dt: refractory all step.
    for (std::size_t i = b; i < b + n; ++i) scale[i] = ref[i] >= dt ? 0.0 : (dt - ref[i]) / dt;
  }
  void end_step(std::size_t b, std::size_t n, double t, double /*dt*/, double* x,
                std::span<Spike> spikes) {
    for (Spike& s : spikes) {  // scaled step time -> real time, never before the step
      const std::size_t i = s.neuron;
      s.t = std::max(t, t + ref[i] + scale[i] * (s.t - t));
    }
    for (std::size_t i = b; i < b + n; ++i) ref[i] = std::max(0.0, ref[i] - dt);
    for (const Spike& s : spikes) {
      x[s.neuron - b] = a.V_reset[s.neuron];
      // May be negative (down to -dt): released that long before the next step starts.
      ref[s.neuron] = a.tau_ref[s.neuron] - (t + dt - s.t);
    }
  }
  double extra_state(std::size_t /*var 1: ref_left*/, std::size_t i) const {
    return std::max(0.0, ref[i]);
  }

  LifArrays a;
  double dt;                    // the step [ms]
  std::vector<double> inv_tau;  // 1 / tau_m [1/ms]
  std::vector<double> ref;      // refractory time left at the step's start [ms]; < 0: see above
  std::vector<double> scale;    // time scale a of the step (0 refractory, 1 free)
};

}  // namespace

std::unique_ptr<Population> make_lif_population(const PopulationSpec& s, double dt, int threads) {
  models::check_params(*models::find_model("lif"), s.name, s.params, s.size);
  if (s.integrator == Integrator::exact)
    return std::make_unique<LifExactPopulation>(s, dt, threads);
  return std::make_unique<OdePopulation<LifOdeModel>>(LifOdeModel(s, dt), s.size, s.integrator, dt,
                                                      threads, s.abs_tol, s.rel_tol,
                                                      "use a smaller dt or integrator: exact");
}

}  // namespace ranvier::sim::detail
