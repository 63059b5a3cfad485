// A population integrated by Boost.Odeint (euler, rk4, dopri5) or, where the model offers
// it, by exponential Euler. Generic over a Model that supplies the right-hand side; spike
// detection (upward threshold crossing of V, located by cubic Hermite interpolation or on
// dopri5's dense output) and the blow-up check are shared here, so LIF and HH cannot
// drift apart.
//
// Layout: the population is cut into fixed chunks (chunks.hpp); a chunk's Odeint state is
// one std::vector<double> in struct-of-arrays order, x[v * n + i] for variable v of the
// chunk's neuron i, and the right-hand side is one vectorisable loop per chunk.
//
// A Model provides:
//   static constexpr std::size_t n_vars;   // ODE variables, V first
//   static constexpr bool resets;          // LIF: yes (reset + refractory), HH: no
//   static constexpr std::size_t min_chunks_per_thread;  // see for_chunks
//   void rhs(std::size_t begin, std::size_t n, const double* J, const double* x,
//            double* dxdt) const;           // neurons [begin, begin + n), chunk layout
//   double threshold(std::size_t i) const;
//   const double* thresholds() const;      // all neurons' thresholds, contiguous
//   void initial(std::size_t i, double* xi) const;  // xi[v] for v < n_vars
//   void begin_step(std::size_t begin, std::size_t n);
//   void end_step(std::size_t begin, std::size_t n, double t, double dt, double* x,
//                 std::span<Spike> spikes);  // LIF: reset, refractory, time remap
//   double extra_state(std::size_t var, std::size_t i) const;  // state vars >= n_vars
//   bool exp_euler(...) optional: see HH.
#pragma once

#include <fmt/format.h>
#include <boost/numeric/odeint.hpp>

#include <cmath>
#include <limits>
#include <memory>
#include <string>

#include "sim/chunks.hpp"
#include "sim/population.hpp"

namespace ranvier::sim::detail {

namespace odeint = boost::numeric::odeint;
using OdeState = std::vector<double>;

template <class Model>
class OdePopulation final : public Population {
 public:
  using Dense = odeint::result_of::make_dense_output<odeint::runge_kutta_dopri5<OdeState>>::type;

  OdePopulation(Model model, std::size_t size, Integrator integ, double dt, int threads,
                double abs_tol, double rel_tol, std::string advice)
      : model_(std::move(model)),
        size_(size),
        integ_(integ),
        dt_(dt),
        threads_(threads),
        advice_(std::move(advice)) {
    for (auto r : make_chunks(size)) {
      Chunk c;
      c.begin = r.begin;
      c.n = r.n;
      c.x.assign(Model::n_vars * r.n, 0.0);
      c.dxdt.assign(Model::n_vars * r.n, 0.0);
      c.V0.assign(r.n, 0.0);
      c.dV0.assign(r.n, 0.0);
      double xi[Model::n_vars];
      for (std::size_t i = 0; i < r.n; ++i) {
        model_.initial(r.begin + i, xi);
        for (std::size_t v = 0; v < Model::n_vars; ++v) c.x[v * r.n + i] = xi[v];
      }
      c.last_h = dt;
      if (integ == Integrator::dopri5) {
        // max_dt = dt: a step never runs far past the grid point, where the input changes.
        c.dense = std::make_unique<Dense>(odeint::make_dense_output(
            abs_tol, rel_tol, dt, odeint::runge_kutta_dopri5<OdeState>()));
      }
      chunks_.push_back(std::move(c));
    }
  }

  std::size_t size() const override { return size_; }
  std::string advice() const override { return advice_; }
  std::optional<StateFault> fault() const override {
    for (const auto& c : chunks_)
      if (c.fault) return c.fault;
    return std::nullopt;
  }

  void advance(double t, std::span<const double> input, std::vector<Spike>& spikes) override {
    for_chunks(chunks_.size(), threads_, Model::min_chunks_per_thread, [&](std::size_t ci) {
      Chunk& c = chunks_[ci];
      c.spikes.clear();
      c.fault.reset();
      try {
        step_chunk(c, t, input.data() + c.begin);
      } catch (const std::exception& e) {  // odeint's step_adjustment_error and the like
        c.fault = StateFault{c.begin, "V", std::numeric_limits<double>::quiet_NaN(), e.what()};
      }
    });
    const std::size_t from = spikes.size();
    for (auto& c : chunks_) spikes.insert(spikes.end(), c.spikes.begin(), c.spikes.end());
    sort_spikes(spikes, from);
  }

  void read_state(std::size_t var, std::span<const std::uint32_t> neurons,
                  std::span<double> out) const override {
    auto get = [&](std::size_t i) {
      if (var >= Model::n_vars) return model_.extra_state(var, i);
      const Chunk& c = chunks_[i / kChunk];
      return c.x[var * c.n + (i - c.begin)];
    };
    if (neurons.empty())
      for (std::size_t i = 0; i < size_; ++i) out[i] = get(i);
    else
      for (std::size_t k = 0; k < neurons.size(); ++k) out[k] = get(neurons[k]);
  }

  Model& model() { return model_; }

 private:
  struct Chunk {
    std::size_t begin = 0, n = 0;
    OdeState x, dxdt;             // chunk state and its derivative, x[v * n + i]
    std::vector<double> V0, dV0;  // V and dV/dt at the start of the step (for Hermite)
    std::vector<Spike> spikes;    // this step's spikes
    std::optional<StateFault> fault;
    double last_h = 0;  // dopri5: the step size it proposed last [ms]
    odeint::runge_kutta4_classic<OdeState> rk4;
    odeint::euler<OdeState> euler;
    std::unique_ptr<Dense> dense;
  };

  struct System {  // the Odeint right-hand side of one chunk under a frozen input
    const Model* m;
    std::size_t begin, n;
    const double* J;
    void operator()(const OdeState& x, OdeState& dxdt, double /*t*/) const {
      m->rhs(begin, n, J, x.data(), dxdt.data());
    }
  };

  // dV/dt of neuron `o` of chunk c in state x (chunk layout), for the Hermite end slope.
  double dVdt(const Chunk& c, const double* x, std::size_t o, const double* J) const {
    double xi[Model::n_vars], dxi[Model::n_vars];
    for (std::size_t v = 0; v < Model::n_vars; ++v) xi[v] = x[v * c.n + o];
    model_.rhs(c.begin + o, 1, J + o, xi, dxi);
    return dxi[0];
  }

  void step_chunk(Chunk& c, double t, const double* J) {
    model_.begin_step(c.begin, c.n);
    const System sys{&model_, c.begin, c.n, J};
    if (integ_ == Integrator::dopri5) {
      step_dense(c, t, sys);
    } else {
      std::copy(c.x.begin(), c.x.begin() + c.n, c.V0.begin());
      if (integ_ == Integrator::exponential_euler) {
        if constexpr (requires { model_.exp_euler(0, 0, J, c.x.data(), dt_, c.dV0.data()); })
          model_.exp_euler(c.begin, c.n, J, c.x.data(), dt_, c.dV0.data());
      } else {
        sys(c.x, c.dxdt, t);  // the step's first stage; also dV/dt at the start for Hermite
        std::copy(c.dxdt.begin(), c.dxdt.begin() + c.n, c.dV0.begin());
        if (integ_ == Integrator::rk4)
          c.rk4.do_step(sys, c.x, c.dxdt, t, dt_);
        else
          c.euler.do_step(sys, c.x, c.dxdt, t, dt_);
      }
      // Upward crossings are rare: one vectorised pass says whether there are any.
      const double* V0 = c.V0.data();
      const double* V1 = c.x.data();
      const double* thr_p = model_.thresholds() + c.begin;
      int any = 0;
#pragma omp simd reduction(| : any)
      for (std::size_t o = 0; o < c.n; ++o) any |= (V0[o] < thr_p[o]) & (V1[o] >= thr_p[o]);
      for (std::size_t o = 0; any && o < c.n; ++o) {
        const double thr = thr_p[o];
        if (c.V0[o] < thr && c.x[o] >= thr) {
          const double th =
              hermite_crossing(c.V0[o], c.dV0[o], c.x[o], dVdt(c, c.x.data(), o, J), dt_, thr);
          c.spikes.push_back({static_cast<std::uint32_t>(c.begin + o), t + th * dt_});
        }
      }
    }
    model_.end_step(c.begin, c.n, t, dt_, c.x.data(), c.spikes);  // may move spike times
    sort_spikes(c.spikes, 0);
    const std::size_t bad = first_bad_voltage(c.x.data(), c.n);
    if (bad < c.n) c.fault = StateFault{c.begin + bad, "V", c.x[bad], ""};
  }

  // dopri5: adaptive steps with dense output inside [t, t + dt]; the state at t + dt comes
  // from the dense output, so the grid is hit exactly and the input can change there.
  void step_dense(Chunk& c, double t, const System& sys) {
    Dense& d = *c.dense;
    const double t_end = t + dt_;
    d.initialize(c.x, t, std::min(c.last_h, dt_));
    OdeState& tmp = c.dxdt;  // scratch for calc_state
    std::vector<char> spiked(c.n, 0);
    for (long steps = 0; d.current_time() < t_end; ++steps) {
      const double t_prev = d.current_time();
      d.do_step(sys);
      const double h = d.current_time_step();
      if (!(d.current_time() > t_prev) || !(h >= 1e-12) || steps > 10'000'000) {
        const std::size_t bad = first_bad_voltage(d.current_state().data(), c.n);
        const std::size_t o = bad < c.n ? bad : 0;
        c.fault = StateFault{c.begin + o, "V", d.current_state()[o],
                             fmt::format("the adaptive step stalled (step {:.3g} ms)", h)};
        return;
      }
      // Crossings inside [a, b] = [previous step time, min(step end, t_end)].
      const double a = d.previous_time();
      const double b = std::min(d.current_time(), t_end);
      const double* Va = d.previous_state().data();
      const double* Vb = d.current_state().data();
      if (d.current_time() > t_end) {
        d.calc_state(t_end, tmp);
        Vb = tmp.data();
      }
      for (std::size_t o = 0; o < c.n; ++o) {
        const double thr = model_.threshold(c.begin + o);
        if (Va[o] < thr && Vb[o] >= thr && !(Model::resets && spiked[o])) {
          const double va = Va[o] - thr, vb = Vb[o] - thr;
          OdeState probe(c.x.size());
          const double ts = find_crossing(
              [&](double s) {
                d.calc_state(s, probe);
                return probe[o] - thr;
              },
              a, b, va, vb, 1e-12 * std::max(1.0, std::fabs(t_end)));
          c.spikes.push_back({static_cast<std::uint32_t>(c.begin + o), ts});
          spiked[o] = 1;
        }
      }
    }
    if (d.current_time() > t_end)
      d.calc_state(t_end, c.x);
    else
      c.x = d.current_state();
    c.last_h = d.current_time_step();
  }

  Model model_;
  std::size_t size_;
  Integrator integ_;
  double dt_;
  int threads_;
  std::string advice_;
  std::vector<Chunk> chunks_;
};

}  // namespace ranvier::sim::detail
