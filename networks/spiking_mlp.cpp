#include "networks/spiking_mlp.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <stdexcept>

#include <fmt/format.h>

#include "models/lif_crossing.hpp"  // the in-step crossing's first guess
#include "models/psc_filter.hpp"
#include "models/simd_math.hpp"   // vector exp in the refractory-ending pass
#include "networks/mlp/data.hpp"  // mix_seed

namespace ranvier::networks {

void SpikingResults::resize(int layers, int n_out, int n) {
  predicted.assign(static_cast<std::size_t>(n), -1);
  layer_spikes = Eigen::MatrixXi::Zero(layers, n);
  output_counts = Eigen::MatrixXi::Zero(n_out, n);
  output_current = Eigen::MatrixXd::Zero(n_out, n);
  rasters.assign(static_cast<std::size_t>(n), {});
}

std::string check_spec(const SpikingMlpSpec& s) {
  if (s.layers.empty()) return "the network has no layers";
  if (!(s.dt > 0)) return fmt::format("dt must be positive, not {} ms", s.dt);
  if (!(s.duration >= s.dt))
    return fmt::format("the duration ({} ms) must be at least one step (dt = {} ms)", s.duration,
                       s.dt);
  if (!(s.tau_s > 0)) return fmt::format("tau_s must be positive, not {} ms", s.tau_s);
  if (s.input == SpikeInput::poisson && !(s.max_rate > 0))
    return fmt::format("the maximum input rate must be positive, not {} Hz", s.max_rate);
  if (s.input == SpikeInput::poisson && !(s.input_max > 0))
    return fmt::format("input_max must be positive, not {}", s.input_max);
  if (!(s.decode_from >= 0 && s.decode_from < s.duration))
    return fmt::format("the decoding window must start in [0, duration), not at {} ms",
                       s.decode_from);
  int n_in = s.inputs;
  for (std::size_t l = 0; l < s.layers.size(); ++l) {
    const SpikingLayer& L = s.layers[l];
    const std::string where = fmt::format("layer {}: ", l);
    if (L.W.cols() != n_in || L.W.rows() < 1 || L.b.size() != L.W.rows())
      return where + fmt::format("W is {}x{} and b has {} values, for {} inputs", L.W.rows(),
                                 L.W.cols(), L.b.size(), n_in);
    if (!L.W.allFinite() || !L.b.allFinite()) return where + "the weights are not all finite";
    if (!(L.tau_m > 0)) return where + "tau_m must be positive";
    if (!(L.tau_ref >= 0)) return where + "tau_ref must be zero or positive";
    if (!(L.threshold > 0)) return where + "the threshold must be positive";
    if (!(L.amplitude > 0)) return where + "the amplitude must be positive";
    n_in = static_cast<int>(L.W.rows());
  }
  return {};
}

SpikingMlp::SpikingMlp(SpikingMlpSpec spec) : spec_(std::move(spec)) {
  if (const std::string why = check_spec(spec_); !why.empty()) throw std::invalid_argument(why);
  const SpikingMlpSpec& s = spec_;
  steps_ = static_cast<int>(std::llround(s.duration / s.dt));
  decode_step_ = std::min(steps_ - 1, static_cast<int>(std::ceil(s.decode_from / s.dt - 1e-9)));
  Ps_ = std::exp(-s.dt / s.tau_s);
  for (std::size_t l = 0; l < s.layers.size(); ++l) {
    const SpikingLayer& L = s.layers[l];
    Lowered lo;
    lo.P = std::exp(-s.dt / L.tau_m);
    lo.P21 = models::lif_psc_coupling(L.tau_m, s.tau_s, s.dt);
    // The charge of one spike of the source (module comment), as a jump of w / tau_s.
    const double charge =
        l == 0 ? 1000.0 * s.input_max / s.max_rate : 1000.0 * s.layers[l - 1].amplitude;
    lo.synaptic = l > 0 || s.input == SpikeInput::poisson;
    if (lo.synaptic) lo.Wc = (L.W * charge).cast<float>();
    low_.push_back(std::move(lo));
  }
}

namespace {

// The constants of one layer's neurons for the one-at-a-time path (R = 1, V_L = V_reset = 0).
struct NeuronConsts {
  double dt, tau, th, tau_ref, P, P21, Ps, tau_s, inv_tau_s, cc, kc;
};

// A neuron without synaptic current through one step from t: refractory time first, then
// free decay towards J up to a threshold crossing (closed form), a spike, a new refractory
// period, until the step is used up. The engine's LifExactPopulation::slow_step.
template <class Emit>
void slow_plain(const NeuronConsts& c, double J, double& V_io, double& ref_io, double t,
                Emit&& emit) {
  double V = V_io, ref = ref_io, left = c.dt, now = t;
  for (int spikes_here = 0;;) {
    if (ref > 0) {
      if (ref >= left) {
        ref -= left;
        V = 0.0;
        break;
      }
      left -= ref;
      now += ref;
      ref = 0;
      V = 0.0;
    }
    double ts = 0;
    if (V < c.th) {
      const double v_new = J + (V - J) * (left == c.dt ? c.P : std::exp(-left / c.tau));
      if (v_new < c.th) {
        V = v_new;
        break;
      }
      ts = std::clamp(c.tau * std::log((V - J) / (c.th - J)), 0.0, left);
    }
    emit(now + ts);
    now += ts;
    left -= ts;
    ref = c.tau_ref;
    V = 0.0;
    if (++spikes_here > 100000) break;  // only with tau_ref = 0 and an absurd input
    if (ref == 0 && left <= 0) break;
  }
  V_io = V;
  ref_io = ref;
}

// The same with an exponential synaptic current I0 at the step's start: V and I evolve as
// one linear system; a crossing is found by Newton's method on the exact V(h), safeguarded
// by bisection. The engine's LifExactPopulation::slow_step_syn (one channel), rearranged to
// use fewer exponentials (they are most of this path's cost): the current is never
// decayed step by step here (it does not depend on V; the caller decays it), only looked
// up as I0 e^(-s/tau_s) where a free stretch starts at s, and over a free stretch ending at
// the step's end, I(s) e^(-(dt-s)/tau_s) = I0 e^(-dt/tau_s) is a constant. Newton stops
// once its step is below 1e-6 ms: the next iterate's error is then ~ step^2 |V''/(2 V')|,
// under 1e-12 ms for any tau_m, tau_s >= 0.1 ms, and the engine (which iterates to 1e-13 ms)
// gives the same times to 1e-9 ms (tests/test_spiking_mlp.cpp).
template <class Emit>
void slow_syn(const NeuronConsts& c, double J, double I0, double& V_io, double& ref_io, double t,
              Emit&& emit) {
  double V = V_io, ref = ref_io;
  double s0 = 0.0;                 // time since the step's start where V is known [ms]
  double I = I0;                   // the current at s0
  const double I_end = I0 * c.Ps;  // the current at the step's end
  // V after h of free evolution from V0 at s0 (current I there), and optionally dV/dt.
  auto free_v = [&](double V0, double h, double* dv) {
    if (h == c.dt) {  // the whole step (s0 = 0): the precomputed propagators
      if (dv) *dv = (J - (J + (V0 - J) * c.P + I * c.P21) + I_end) / c.tau;
      return J + (V0 - J) * c.P + I * c.P21;
    }
    const double em = std::exp(-h / c.tau);
    const double es = std::exp(-h * c.inv_tau_s);
    const double coupling =
        std::fabs(h * c.cc) > 1e-3 ? c.kc * (es - em) : models::lif_psc_coupling(c.tau, c.tau_s, h);
    const double v = J + (V0 - J) * em + I * coupling;
    if (dv) *dv = (J - v + I * es) / c.tau;
    return v;
  };
  // V at the step's end, free from s0: one exponential fewer than free_v.
  auto end_v = [&](double V0) {
    const double h = c.dt - s0;
    if (h == c.dt) return J + (V0 - J) * c.P + I * c.P21;
    const double em = std::exp(-h / c.tau);
    if (std::fabs(h * c.cc) > 1e-3) return J + (V0 - J) * em + c.kc * (I_end - I * em);
    return J + (V0 - J) * em + I * models::lif_psc_coupling(c.tau, c.tau_s, h);
  };
  for (int spikes_here = 0;;) {
    const double left = c.dt - s0;
    if (ref > 0) {
      if (ref >= left) {
        ref -= left;
        V = 0.0;
        break;
      }
      s0 += ref;
      ref = 0;
      V = 0.0;
      I = I0 * std::exp(-s0 * c.inv_tau_s);
      continue;
    }
    double ts = 0;
    if (V < c.th) {
      const double v_new = end_v(V);
      if (v_new < c.th) {
        V = v_new;
        break;
      }
      const double V0 = V;
      double lo = 0.0, hi = left;
      double h = left * (c.th - V0) / (v_new - V0);  // the chord's crossing
      // A first guess good to ~1e-7 ms, so that one exact Newton step (two exponentials)
      // usually meets the stopping rule, where from the chord it took three (six): the
      // crossing of V's Taylor polynomial at s0 (models/lif_crossing.hpp, the engine's),
      // kept only inside the bracket; either way the exact iterations below decide.
      h = models::lif_crossing_guess<1>(V0, c.th, J, c.tau, 1.0, &I, &c.inv_tau_s, h, lo, hi);
      for (int it = 0; it < 60; ++it) {
        double dv = 0.0;
        const double f = free_v(V0, h, &dv) - c.th;
        (f < 0 ? lo : hi) = h;
        double next = dv > 0 ? h - f / dv : 0.5 * (lo + hi);
        const bool newton = next > lo && next < hi;
        if (!newton) next = 0.5 * (lo + hi);
        const bool done = (newton && std::fabs(next - h) < 1e-6) || hi - lo < 1e-13;
        h = next;
        if (done) break;
      }
      ts = std::clamp(h, 0.0, left);
    }
    emit(t + s0 + ts);
    s0 += ts;
    ref = c.tau_ref;
    V = 0.0;
    if (++spikes_here > 100000) break;
    if (ref == 0 && s0 >= c.dt) break;
    if (ref == 0) I = I0 * std::exp(-s0 * c.inv_tau_s);
  }
  V_io = V;
  ref_io = ref;
}

// The common path of one step for all (neuron, sample) pairs of a layer: free neurons
// that stay below threshold, and neurons refractory for the whole step. Branch-free and
// vectorised; the others are flagged for the one-at-a-time path. Returns how many.
template <bool Syn>
int fast_pass(std::size_t N, double dt, double P, double P21, double th, const double* J,
              const double* I, double* V, double* ref, unsigned char* special) {
  int n_special = 0;
#pragma omp simd reduction(+ : n_special)
  for (std::size_t x = 0; x < N; ++x) {
    const double j = J[x], v = V[x], rf = ref[x];
    double v_new = j + (v - j) * P;
    if constexpr (Syn) v_new += I[x] * P21;
    const bool full_ref = rf >= dt;
    const bool cross = (rf > 0) | (v_new >= th) | (v >= th);
    const bool sp = !full_ref & cross;
    V[x] = cross ? v : v_new;
    if (full_ref) ref[x] = rf - dt;  // stored only where it changes (a masked store)
    special[x] = sp;
    n_special += sp;
  }
  return n_special;
}

}  // namespace

struct SpikingMlp::Workspace {
  struct Layer {
    std::vector<double> V, ref, I, J;  // (n, batch), column-major: x = s * n + i
    std::vector<float> A[2];           // arriving charge, (n, batch): at t_k in A[k % 2]
    std::vector<unsigned char> special;
    // Neurons x of the arrays above -> (sample, neuron) index s * n + i; empty when they
    // are all there in that order (see the compaction in simulate()).
    std::vector<int> index;
  };
  std::vector<Layer> layers;
  std::vector<double> Isum;    // (n_out, batch): output current summed over the window
  std::vector<double> next_t;  // poisson: (inputs, batch) time of the next input spike [ms]
  std::vector<double> rate;    // poisson: (inputs, batch) [1/ms]
  std::vector<std::mt19937_64> rng;
  struct Fired {
    int x;
    double t;
  };
  std::vector<Fired> fired;
  Eigen::MatrixXd Xd;                  // (inputs, batch): the batch's inputs in double
  std::vector<int> ending;             // flagged neurons whose refractory period ends
  std::vector<double> v_end;           // their V at the step's end if no spike
  std::vector<unsigned char> settled;  // ... and whether that is final
};

SpikingMlp::Scratch::Scratch() : ws_(std::make_unique<Workspace>()) {}
SpikingMlp::Scratch::~Scratch() = default;

void SpikingMlp::run_batch(const Eigen::Ref<const Eigen::MatrixXf>& Xb, int first, int count,
                           SpikingResults& out, const std::vector<char>& record,
                           Scratch& scratch) const {
  if (Xb.rows() != spec_.inputs || Xb.cols() < count || count > kBatch)
    throw std::invalid_argument(fmt::format(
        "run_batch: {} samples of {} inputs given for {} samples (at most {}) of {} inputs",
        Xb.cols(), Xb.rows(), count, kBatch, spec_.inputs));
  if (count > 0) simulate(Xb, 0, first, count, out, record, *scratch.ws_);
}

void SpikingMlp::run(const Eigen::Ref<const Eigen::MatrixXf>& X, int first, int count, int threads,
                     SpikingResults& out, const std::vector<char>& record) const {
  if (X.rows() != spec_.inputs)
    throw std::invalid_argument(
        fmt::format("the samples have {} inputs, the network {}", X.rows(), spec_.inputs));
  const int batches = (count + kBatch - 1) / kBatch;
  threads = std::max(1, std::min(threads, batches));
  // The batches are the parallel unit: the first layer's product inside one must not
  // start threads of its own (Eigen's GEMM does, in a one-thread parallel region).
  const int eigen_threads = Eigen::nbThreads();
  Eigen::setNbThreads(1);
#pragma omp parallel num_threads(threads)
  {
    Workspace ws;
#pragma omp for schedule(dynamic, 1)
    for (int bi = 0; bi < batches; ++bi) {
      const int f = first + bi * kBatch;
      simulate(X, f, f, std::min(kBatch, first + count - f), out, record, ws);
    }
  }
  Eigen::setNbThreads(eigen_threads);
}

void SpikingMlp::simulate(const Eigen::Ref<const Eigen::MatrixXf>& X, int x_col, int first, int B,
                          SpikingResults& out, const std::vector<char>& record,
                          Workspace& ws) const {
  const SpikingMlpSpec& s = spec_;
  const int L = static_cast<int>(s.layers.size());
  const double dt = s.dt;
  ws.layers.resize(static_cast<std::size_t>(L));
  for (int l = 0; l < L; ++l) {
    auto& w = ws.layers[l];
    const std::size_t n = static_cast<std::size_t>(s.layers[l].W.rows());
    const std::size_t N = n * static_cast<std::size_t>(B);
    w.V.assign(N, 0.0);
    w.ref.assign(N, 0.0);
    w.I.assign(low_[l].synaptic ? N : 0, 0.0);
    for (auto& a : w.A) a.assign(low_[l].synaptic ? N : 0, 0.0f);
    w.special.assign(N + 8, 0);  // padded: scanned eight flags at a time
    // The constant input current: the bias, plus W x for current input.
    w.J.resize(N);
    Eigen::Map<Eigen::MatrixXd> J(w.J.data(), static_cast<Eigen::Index>(n), B);
    if (l == 0 && s.input == SpikeInput::current) {
      ws.Xd = X.middleCols(x_col, B).cast<double>();  // kept: no allocation per batch
      J.noalias() = s.layers[0].W * ws.Xd;
    } else
      J.setZero();
    J.colwise() += s.layers[l].b;
    // A neuron without synaptic input whose constant current is below threshold never
    // fires: from V = 0, V = J + (V - J) P stays <= J < V_th, in floating point too (J
    // plus a term <= 0). With current input and later layers to feed, most of the first
    // layer's neurons are such (the ones the rate network's LIF curve puts at 0 Hz): its
    // arrays keep only the others, in the same order, so every step's passes and the
    // spikes (their order of delivery included) are unchanged. Not for a one-layer network,
    // whose decoding reads J.
    w.index.clear();
    if (!low_[l].synaptic && l < L - 1) {
      const double th = s.layers[l].threshold;
      std::size_t m = 0;
      for (std::size_t x = 0; x < N; ++x)
        if (!(w.J[x] < th)) {
          w.J[m++] = w.J[x];
          w.index.push_back(static_cast<int>(x));
        }
      w.J.resize(m);
      w.V.assign(m, 0.0);
      w.ref.assign(m, 0.0);
      w.special.assign(m + 8, 0);
    }
  }
  const std::size_t n_out = static_cast<std::size_t>(s.layers.back().W.rows());
  ws.Isum.assign(n_out * static_cast<std::size_t>(B), 0.0);
  const std::size_t n_in = static_cast<std::size_t>(s.inputs);
  if (s.input == SpikeInput::poisson) {
    // Exponential intervals from one generator per sample, seeded by (seed, sample):
    // the same trains whatever the batch or thread a sample falls in.
    ws.rng.resize(static_cast<std::size_t>(B));
    ws.next_t.assign(n_in * B, 0.0);
    ws.rate.assign(n_in * B, 0.0);
    for (int j = 0; j < B; ++j) {
      auto& rng = ws.rng[j];
      rng.seed(mlp::mix_seed(s.seed, 0x504f4953, static_cast<std::uint64_t>(first + j)));
      std::exponential_distribution<double> expo(1.0);
      for (std::size_t i = 0; i < n_in; ++i) {
        const double x = std::clamp(static_cast<double>(X(static_cast<Eigen::Index>(i), x_col + j)),
                                    0.0, s.input_max);
        const double r = s.max_rate * x / s.input_max / 1000.0;  // spikes per ms
        ws.rate[j * n_in + i] = r;
        ws.next_t[j * n_in + i] = r > 0 ? expo(rng) / r : std::numeric_limits<double>::infinity();
      }
    }
  }
  std::vector<NeuronConsts> consts;
  for (int l = 0; l < L; ++l) {
    const SpikingLayer& Ly = s.layers[l];
    consts.push_back({dt, Ly.tau_m, Ly.threshold, Ly.tau_ref, low_[l].P, low_[l].P21, Ps_, s.tau_s,
                      1.0 / s.tau_s, 1.0 / Ly.tau_m - 1.0 / s.tau_s,
                      s.tau_s / (s.tau_s - Ly.tau_m)});
  }

  for (int k = 0; k < steps_; ++k) {
    const double t = k * dt;
    const int slot = k & 1;  // arrivals at t_k; spikes of this step go here for t_{k+2}
    for (int l = 0; l < L; ++l) {
      if (!low_[l].synaptic) continue;
      auto& w = ws.layers[l];
      double* __restrict I = w.I.data();
      float* __restrict A = w.A[slot].data();
      const double Ps = Ps_, inv_tau_s = 1.0 / s.tau_s;
      const std::size_t N = w.I.size();
#pragma omp simd
      for (std::size_t x = 0; x < N; ++x) {
        I[x] = I[x] * Ps + static_cast<double>(A[x]) * inv_tau_s;
        A[x] = 0.0f;
      }
      if (l == L - 1 && k >= decode_step_)
        for (std::size_t x = 0; x < N; ++x) ws.Isum[x] += I[x];
    }
    if (s.input == SpikeInput::poisson) {
      // Input spikes in (t_k, t_{k+1}] are stamped t_{k+1} and arrive at t_{k+2}.
      const double t_end = t + dt;
      auto& A0 = ws.layers[0].A[slot];
      const Eigen::MatrixXf& Wc = low_[0].Wc;
      const std::size_t n0 = static_cast<std::size_t>(Wc.rows());
      for (int j = 0; j < B; ++j) {
        std::exponential_distribution<double> expo(1.0);
        double* nt = ws.next_t.data() + j * n_in;
        const double* r = ws.rate.data() + j * n_in;
        Eigen::Map<Eigen::VectorXf> a(A0.data() + j * n0, static_cast<Eigen::Index>(n0));
        for (std::size_t i = 0; i < n_in; ++i) {
          if (nt[i] > t_end) continue;
          int c = 0;
          while (nt[i] <= t_end) {
            ++c;
            nt[i] += expo(ws.rng[j]) / r[i];
          }
          a += static_cast<float>(c) * Wc.col(static_cast<Eigen::Index>(i));
        }
      }
    }
    for (int l = 0; l < L; ++l) {
      auto& w = ws.layers[l];
      const NeuronConsts& c = consts[l];
      const bool syn = low_[l].synaptic;
      const std::size_t n = static_cast<std::size_t>(s.layers[l].W.rows());
      const std::size_t N = w.V.size();
      const int n_special = syn ? fast_pass<true>(N, dt, c.P, c.P21, c.th, w.J.data(), w.I.data(),
                                                  w.V.data(), w.ref.data(), w.special.data())
                                : fast_pass<false>(N, dt, c.P, c.P21, c.th, w.J.data(), nullptr,
                                                   w.V.data(), w.ref.data(), w.special.data());
      if (!n_special) continue;
      ws.fired.clear();
      ws.ending.clear();
      // The flags eight at a time (special is padded): most words are all zero. Neurons
      // whose refractory period ends inside the step (half the flagged ones: one step
      // after each spike, with tau_ref < 2 dt) are set aside for the vectorised pass below.
      // A flag is a byte 0 or 1, so in a little-endian word the lowest set bit is the next
      // flagged neuron's: the words are walked bit by bit, in increasing x as before.
      static_assert(std::endian::native == std::endian::little);
      const int* index = w.index.empty() ? nullptr : w.index.data();
      for (std::size_t x0 = 0; x0 < N; x0 += 8) {
        std::uint64_t word;
        std::memcpy(&word, w.special.data() + x0, 8);
        for (; word; word &= word - 1) {
          const std::size_t x = x0 + (static_cast<std::size_t>(std::countr_zero(word)) >> 3);
          if (w.ref[x] > 0) {
            ws.ending.push_back(static_cast<int>(x));
            continue;
          }
          const int xi = index ? index[x] : static_cast<int>(x);
          auto emit = [&](double ts) { ws.fired.push_back({xi, ts}); };
          if (syn)
            slow_syn(c, w.J[x], w.I[x], w.V[x], w.ref[x], t, emit);
          else
            slow_plain(c, w.J[x], w.V[x], w.ref[x], t, emit);
        }
      }
      // Refractory periods ending at s = ref inside the step: V is 0 there and evolves
      // freely over h = dt - s, V(dt) = J (1 - e^(-h/tau_m)) + kc (I0 e^(-dt/tau_s) -
      // I0 e^(-s/tau_s) e^(-h/tau_m)) (slow_syn's end_v), two exponentials per neuron
      // in vector form. Those that reach threshold (or need the coupling's limit form,
      // tau_s ~ tau_m) take the one-at-a-time path.
      const std::size_t ne = ws.ending.size();
      if (ne) {
        ws.v_end.resize(ne);
        ws.settled.resize(ne);
        const int* __restrict idx = ws.ending.data();
        const double* __restrict J = w.J.data();
        const double* __restrict ref = w.ref.data();
        const double* __restrict I = syn ? w.I.data() : w.J.data();  // unused without synapses
        double* __restrict v_end = ws.v_end.data();
        unsigned char* __restrict settled = ws.settled.data();
        const double inv_tau = 1.0 / c.tau, inv_tau_s = c.inv_tau_s, Ps = c.Ps, kc = c.kc,
                     cc = c.cc, th = c.th;
#pragma omp simd
        for (std::size_t k = 0; k < ne; ++k) {
          const int x = idx[k];
          const double rf = ref[x], j = J[x], h = dt - rf;
          const double em = std::exp(-h * inv_tau);
          double v = j - j * em;
          bool exact = true;
          if (syn) {
            const double i0 = I[x];
            v += kc * (i0 * Ps - i0 * std::exp(-rf * inv_tau_s) * em);
            exact = std::fabs(h * cc) > 1e-3;
          }
          v_end[k] = v;
          settled[k] = exact & (v < th);
        }
        for (std::size_t k = 0; k < ne; ++k) {
          const std::size_t x = static_cast<std::size_t>(idx[k]);
          if (settled[k]) {
            w.V[x] = v_end[k];
            w.ref[x] = 0.0;
            continue;
          }
          const int xi = index ? index[idx[k]] : idx[k];
          auto emit = [&](double ts) { ws.fired.push_back({xi, ts}); };
          if (syn)
            slow_syn(c, w.J[x], w.I[x], w.V[x], w.ref[x], t, emit);
          else
            slow_plain(c, w.J[x], w.V[x], w.ref[x], t, emit);
        }
      }
      // Delivery, event by event, in (sample, neuron, time) order: the sums, and so the
      // results, do not depend on threads or batches.
      const bool last = l == L - 1;
      for (const auto& [x, ts] : ws.fired) {
        const int j = x / static_cast<int>(n), i = x % static_cast<int>(n);
        const int sample = first + j;
        out.layer_spikes(l, sample) += 1;
        if (last) {
          out.output_counts(i, sample) += 1;
        } else {
          const Eigen::MatrixXf& Wc = low_[l + 1].Wc;
          auto& A = ws.layers[l + 1].A[slot];
          Eigen::Map<Eigen::VectorXf>(A.data() + static_cast<std::size_t>(j) * Wc.rows(),
                                      Wc.rows()) += Wc.col(i);
        }
        if (!record.empty() && record[static_cast<std::size_t>(sample)])
          out.rasters[static_cast<std::size_t>(sample)].push_back({l, i, ts});
      }
    }
  }

  // Decoding. The current's exact mean over a step from its value I at the step's start
  // is I tau_s (1 - e^(-dt/tau_s)) / dt.
  const Eigen::VectorXd& b_out = s.layers.back().b;
  const double mean_factor = s.tau_s * (1.0 - Ps_) / dt / (steps_ - decode_step_);
  for (int j = 0; j < B; ++j) {
    const int sample = first + j;
    Eigen::Index best = 0;
    for (Eigen::Index i = 0; i < static_cast<Eigen::Index>(n_out); ++i) {
      const double cur = b_out(i) + (L > 1 || s.input == SpikeInput::poisson
                                         ? ws.Isum[j * n_out + i] * mean_factor
                                         : ws.layers[0].J[j * n_out + i] - b_out(i));
      out.output_current(i, sample) = cur;
    }
    auto cur = out.output_current.col(sample);
    auto cnt = out.output_counts.col(sample);
    for (Eigen::Index i = 1; i < cur.size(); ++i) {
      const bool better = s.decode == SpikeDecode::filtered
                              ? cur(i) > cur(best)
                              : (cnt(i) > cnt(best) || (cnt(i) == cnt(best) && cur(i) > cur(best)));
      if (better) best = i;
    }
    out.predicted[static_cast<std::size_t>(sample)] = static_cast<int>(best);
  }
}

}  // namespace ranvier::networks
