// LIF populations: the exact integrator (analytic propagator, spike times solved inside
// the step, refractory remainder carried on) and the Odeint model for euler/rk4/dopri5.
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <span>

#if defined(__AVX512F__)
#include <immintrin.h>
#endif

#include "models/lif_crossing.hpp"
#include "models/model_info.hpp"
#include "models/param_check.hpp"
#include "models/psc_filter.hpp"
#include "sim/chunks.hpp"
#include "sim/huge_pages.hpp"
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
// With exponential PSC channels attached (up to kMaxExpChannels), V and the currents I_c
// are one linear system, integrated exactly (models/psc_filter.hpp):
//   V(t + h) = V_inf + (V(t) - V_inf) e^(-h/tau_m) + R sum_c I_c(t) P21_c(h),
//   I_c(t + h) = I_c(t) e^(-h/tau_c),
// tau_m == tau_c included; the currents decay through refractory periods too. A crossing
// inside the step has no closed form then and is found by the Illinois method to 1e-12 ms.
inline constexpr int kMaxExpChannels = 4;

// a * b + c, fused where the CPU has FMA. Pass 1's arithmetic is written out with it, in
// a fixed order, so the compiler has nothing left to contract its own way: the AVX-512
// kernel below and the portable loop then round identically (same spikes).
inline double mul_add(double a, double b, double c) {
#if defined(__FMA__)
  return std::fma(a, b, c);
#else
  return a * b + c;
#endif
}

#if defined(__AVX512F__)
// Pass 1 of step_chunk_syn for a homogeneous population, eight neurons a vector, over
// [b, e) (b a multiple of 8). The flags go out as one bit per neuron (bits[i / 8], bit
// i % 8) instead of one byte: g++ turns the byte flags of the portable loop into mask
// spills and byte shuffles, which made that loop about twice as slow (a micro-benchmark
// of pass 1 alone, 4000 neurons: ~25 -> ~15 ms per 10^4 steps). Same operations in the
// same order as the portable loop, so the same results.
//
// Full vectors take plain loads and a blended, unmasked store of V; only the tail is
// masked. The masks are combined with k-register operations: written with C++ integer
// operators they went through general registers and back (kmov each way), and a masked
// store whose mask comes from such a round trip stalled the loop (perf annotate, CUBA at
// 16000 neurons: a quarter of pass 1's samples on the kmov feeding the store). Whether a
// neuron is refractory comes from a bit mask (refr, bit i % 8 of byte i / 8), loaded
// straight into a mask register: see the refractory queue of LifExactPopulation.
//
// One compare a vector: each compare costs about a cycle, and pass 1 is bound by them (a
// stand-alone micro-benchmark of pass 1 at 16000 neurons: 0.27 ns a neuron with three,
// 0.19 with one). The portable loop's other two are covered so:
// - V >= V_th at the step's start cannot happen to a free neuron: pass 1 leaves V below
//   V_th, the slow path leaves it below or at V_reset < V_th, and a neuron that starts
//   at or above V_th is queued for the slow path at step 0 (LifExactPopulation);
// - a NaN V_new fails the compare (_CMP_NLT_UQ) and crosses, as before; a hugely
//   negative one is caught by the running minimum `vmin` (a min costs nothing
//   measurable here), after which the block is scanned for the neuron.
template <int NC, bool HJ, bool FULL>
[[gnu::always_inline]] inline void exp_pass1_vector(
    double* __restrict V, const std::uint8_t* __restrict refr, const double* const* I,
    const __m512d* S, const double* __restrict J, __m512d VL, __m512d TH, __m512d R, __m512d P,
    std::size_t i, std::size_t b, __mmask8 m, std::uint8_t* __restrict bits, __m512d& vmin) {
  auto load = [m](const double* x) {
    if constexpr (FULL)
      return _mm512_loadu_pd(x);
    else
      return _mm512_maskz_loadu_pd(m, x);
  };
  __m512d syn = _mm512_mul_pd(load(I[0] + i), S[0]);
  for (int ch = 1; ch < NC; ++ch) syn = _mm512_fmadd_pd(load(I[ch] + i), S[ch], syn);
  __m512d v_inf = VL;
  if constexpr (HJ) v_inf = _mm512_fmadd_pd(R, load(J + i), VL);
  const __m512d v = load(V + i);
  __m512d v_new = _mm512_fmadd_pd(_mm512_sub_pd(v, v_inf), P, v_inf);
  v_new = _mm512_fmadd_pd(R, syn, v_new);
  // (g++ 12 declares _load_mask8 with a non-const pointer; it only reads.)
  const __mmask8 refractory =
      _load_mask8(const_cast<__mmask8*>(reinterpret_cast<const __mmask8*>(refr + i / 8)));
  const __mmask8 above = _mm512_cmp_pd_mask(v_new, TH, _CMP_NLT_UQ);
  // A NaN lane keeps vmin (min returns its second operand), as do the tail's masked-off
  // lanes. (The unmasked _mm512_min_pd trips g++ 12's -Wmaybe-uninitialized.)
  vmin = _mm512_mask_min_pd(vmin, m, v_new, vmin);
  // Refractory and crossing neurons keep V: two blends rather than one on the OR of the
  // masks, which would be one more mask operation.
  const __m512d v_out = _mm512_mask_blend_pd(above, _mm512_mask_blend_pd(refractory, v_new, v), v);
  __mmask8 sp = _kandn_mask8(refractory, above);
  if constexpr (FULL) {
    _mm512_storeu_pd(V + i, v_out);
  } else {
    _mm512_mask_storeu_pd(V + i, m, v_out);
    sp = _kand_mask8(sp, m);
  }
  _store_mask8(reinterpret_cast<__mmask8*>(bits + (i - b) / 8), sp);
}

template <int NC, bool HJ>
void exp_pass1_avx512(double* __restrict V, const std::uint8_t* __restrict refr,
                      const double* const* I, const double* P21s, const double* __restrict J,
                      double vl, double th, double r, double p, std::size_t b, std::size_t e,
                      std::uint8_t* __restrict bits, double& v_min) {
  __m512d S[NC];
  for (int ch = 0; ch < NC; ++ch) S[ch] = _mm512_set1_pd(P21s[ch]);
  const __m512d VL = _mm512_set1_pd(vl), TH = _mm512_set1_pd(th), R = _mm512_set1_pd(r),
                P = _mm512_set1_pd(p);
  __m512d vmin = _mm512_set1_pd(v_min);
  std::size_t i = b;
  for (; i + 8 <= e; i += 8)
    exp_pass1_vector<NC, HJ, true>(V, refr, I, S, J, VL, TH, R, P, i, b, 0xff, bits, vmin);
  if (i < e) {
    const auto m = static_cast<__mmask8>((1u << (e - i)) - 1u);
    exp_pass1_vector<NC, HJ, false>(V, refr, I, S, J, VL, TH, R, P, i, b, m, bits, vmin);
  }
  alignas(64) double lanes[8];  // (_mm512_reduce_min_pd trips g++ 12's -Wmaybe-uninitialized)
  _mm512_store_pd(lanes, vmin);
  v_min = *std::min_element(lanes, lanes + 8);
}
#endif

class LifExactPopulation final : public Population {
 public:
  LifExactPopulation(const PopulationSpec& s, double dt, int threads)
      : a_(s), n_(s.size), dt_(dt), threads_(threads), chunks_(make_chunks(s.size)) {
    // V, ref and the currents (up to kMaxExpChannels) share one 64-byte-aligned block;
    // array j starts j * kStagger bytes into a 4 KiB page. Allocated separately, large
    // arrays came out at nearly the same offset in their pages (CUBA at 64000: V and
    // ref 32 bytes apart, the two currents 16), and the loads of one then wait on the
    // stores to another that look the same in the address bits the CPU compares first
    // (4K aliasing).
    constexpr std::size_t kArrays = 2 + kMaxExpChannels, kStagger = 576;  // bytes
    hot_stride_ = (n_ * sizeof(double) + 4095) / 4096 * 4096 + kStagger;  // bytes
    hot_.reset(static_cast<double*>(allocate_large(kArrays * hot_stride_, 4096)));
    V_ = hot_array(0);
    ref_ = hot_array(1);
    // A neuron that starts refractory is held at V_reset, as in the Odeint model.
    for (std::size_t i = 0; i < n_; ++i) V_[i] = a_.ref_init[i] > 0 ? a_.V_reset[i] : a_.V_init[i];
    std::copy(a_.ref_init.begin(), a_.ref_init.end(), ref_.begin());
    P_.resize(n_);
    for (std::size_t i = 0; i < n_; ++i) P_[i] = std::exp(-dt / a_.tau_m[i]);  // lowered once
    special_.assign(n_ + 8, 0);  // padded: pass 2 reads the flags eight at a time
    for (auto& b : chunk_spikes_) b.resize(chunks_.size());
    for (auto& b : chunk_fault_) b.resize(chunks_.size());
    lay_out_parts(1);
  }

  std::size_t size() const override { return n_; }
  std::string advice() const override {
    return "check the input magnitude, the projection weights and the parameters (tau_m, R); "
           "the exact integrator itself cannot blow up";
  }
  std::optional<StateFault> fault() const override {
    if (!any_fault_.load(std::memory_order_relaxed)) return std::nullopt;  // the common case
    for (const auto& f : chunk_fault_[static_cast<std::size_t>(step_ - 1) % kStepBuffers])
      if (f) return f;
    return std::nullopt;
  }

  bool attach_exp_synapses(std::span<const double> tau_s) override {
    if (tau_s.size() > static_cast<std::size_t>(kMaxExpChannels) || !syn_tau_.empty()) return false;
    syn_tau_.assign(tau_s.begin(), tau_s.end());
    const std::size_t nc = syn_tau_.size();
    I_.clear();
    for (std::size_t c = 0; c < nc; ++c) {
      I_.push_back(hot_array(2 + c));
      std::fill(I_[c].begin(), I_[c].end(), 0.0);
    }
    P21_.assign(nc, std::vector<double>(n_));
    Ps_.resize(nc);
    inv_tau_s_.resize(nc);
    gpow_.assign(nc, {});
    for (std::size_t c = 0; c < nc; ++c) {
      Ps_[c] = std::exp(-dt_ / syn_tau_[c]);
      // g = Ps^j, j = k mod K: K steps of decay stay above 1e-30; K <= 1024, a power of 2.
      std::size_t K = 1;
      while (2 * K <= kMaxRenorm && static_cast<double>(2 * K) * dt_ <= 69.0 * syn_tau_[c]) K *= 2;
      gpow_[c].resize(K + 1);
      gpow_[c][0] = 1.0;
      for (std::size_t j = 0; j < K; ++j) gpow_[c][j + 1] = gpow_[c][j] * Ps_[c];
      inv_tau_s_[c] = 1.0 / syn_tau_[c];
      for (std::size_t i = 0; i < n_; ++i)
        P21_[c][i] = models::lif_psc_coupling(a_.tau_m[i], syn_tau_[c], dt_);
    }
    // A homogeneous population (CUBA) reads its constants as scalars in the hot loop.
    auto same = [](const std::vector<double>& v) {
      return std::all_of(v.begin(), v.end(), [&](double x) { return x == v[0]; });
    };
    uniform_ = same(a_.V_L) && same(a_.V_th) && same(a_.R) && same(a_.tau_m) && same(a_.V_reset) &&
               same(a_.tau_ref);
    uniform_inv_tau_m_ = 1.0 / a_.tau_m[0];
    for (std::size_t c = 0; c < nc; ++c) {
      uniform_cc_[c] = uniform_inv_tau_m_ - inv_tau_s_[c];
      uniform_kc_[c] = syn_tau_[c] / (syn_tau_[c] - a_.tau_m[0]);
    }
    // From here on refractoriness goes through the release queues (step_chunk_syn).
    refractory_bits_.assign(bits_bytes(part_end_.size()), 0);
    release_step_.assign(n_, 0);
    release_queue_.assign(queue_slots(part_end_.size()), {});
    for (std::size_t i = 0; i < n_; ++i)
      if (ref_[i] > 0) schedule_release(i, ref_[i], step_);
    // Pass 1 assumes a free neuron starts each step below V_th (exp_pass1_vector); one that
    // starts the run at or above it fires at once, through the slow path.
    for (std::size_t i = 0; i < n_; ++i)
      if (!(ref_[i] > 0) && !(V_[i] < a_.V_th[i])) {
        release_step_[i] = step_;
        set_refractory_bit(i, true);
        auto& items = release_queue_[slot(i / kChunk)].items;
        items.insert(items.begin(), {step_, kStartsAboveThreshold, static_cast<std::uint32_t>(i)});
      }
    return true;
  }
  double* synaptic_current(std::size_t c) override { return I_[c].data(); }
  double synaptic_scale(std::size_t c, std::size_t step) const override {
    return 1.0 / g_at(c, static_cast<std::int64_t>(step));
  }
  void add_synaptic_current(std::span<const std::uint32_t> neurons,
                            std::span<double> out) const override {
    for (std::size_t c = 0; c < I_.size(); ++c) {
      const auto& I = I_[c];
      const double g = g_at(c, step_);
      if (neurons.empty())
        for (std::size_t i = 0; i < n_; ++i) out[i] += I[i] * g;
      else
        for (std::size_t k = 0; k < neurons.size(); ++k) out[k] += I[neurons[k]] * g;
    }
  }
  void read_synaptic_current(std::size_t c, std::span<const std::uint32_t> neurons,
                             std::span<double> out) const override {
    const auto& I = I_[c];
    const double g = g_at(c, step_);
    if (neurons.empty())
      for (std::size_t i = 0; i < n_; ++i) out[i] = I[i] * g;
    else
      for (std::size_t k = 0; k < neurons.size(); ++k) out[k] = I[neurons[k]] * g;
  }
  bool accepts_empty_input() const override { return !syn_tau_.empty(); }
  void use_portable_kernels(bool on) override { portable_ = on; }
  void set_spike_prefetch(std::vector<SpikeRows> rows) override { spike_rows_ = std::move(rows); }

  void read_state(std::size_t var, std::span<const std::uint32_t> neurons,
                  std::span<double> out) const override {
    auto value = [&](std::size_t i) {
      if (var == 0) return V_[i];
      if (syn_tau_.empty() || !refractory_bit(i)) return ref_[i];
      // Queued: the whole steps still to come, then the remainder [ms].
      return static_cast<double>(std::max<std::int64_t>(release_step_[i] - step_, 0)) * dt_ +
             ref_[i];
    };
    if (neurons.empty())
      for (std::size_t i = 0; i < n_; ++i) out[i] = value(i);
    else
      for (std::size_t k = 0; k < neurons.size(); ++k) out[k] = value(neurons[k]);
  }

  void advance(double t, std::span<const double> input, std::vector<Spike>& spikes) override {
    // A chunk of the exact integrator takes well under a microsecond, and a parallel region
    // a step costs more than a barrier: at least 64 chunks a thread, as the team loop
    // (RunOptions::min_chunks_per_thread). CUBA at 16000 neurons, 63 chunks, took 103 ms
    // on two threads this way against 81-85 ms on one.
    const std::size_t parts = std::clamp<std::size_t>(
        chunks_.size() / 64, 1, static_cast<std::size_t>(std::max(threads_, 1)));
    for_chunks(parts, static_cast<int>(parts), 1, [&](std::size_t p) {
      const auto [c0, c1] = part_chunks(p, parts);
      step_chunks(c0, c1, t, input);
    });
    finish_step(spikes);
  }

  bool splits() const override { return true; }
  std::size_t chunk_count() const override { return chunks_.size(); }
  std::pair<std::size_t, std::size_t> part_range(std::size_t p, std::size_t parts) const override {
    const auto [c0, c1] = part_chunks(p, parts);
    return c0 == c1 ? std::pair<std::size_t, std::size_t>{0, 0}
                    : std::pair{chunks_[c0].begin, chunks_[c1 - 1].begin + chunks_[c1 - 1].n};
  }
  void begin_team(std::size_t parts) override {
    lay_out_parts(parts);
    for (auto& b : part_spikes_) b.assign(part_end_.size(), {});
    team_ = true;
  }
  void advance_part(std::size_t p, std::size_t parts, double t,
                    std::span<const double> input) override {
    const auto [c0, c1] = part_chunks(p, parts);
    // This thread empties its part's list of kStepBuffers steps ago (every thread has
    // read it: part_spikes), fills it and sorts it; finish_step, on thread 0, merges the
    // parts.
    std::vector<Spike>* list = nullptr;
    if (team_) {
      list = &part_spikes_[static_cast<std::size_t>(step_of(t)) % kStepBuffers][p].list;
      list->clear();
    }
    step_chunks(c0, c1, t, input);
    if (list) sort_spikes(*list, 0);
  }
  std::span<const Spike> part_spikes(std::size_t p, std::size_t step) const override {
    return part_spikes_[step % kStepBuffers][p].list;
  }
  void advance_pair_part(std::size_t p, std::size_t parts, double t0, double t1,
                         const ArriveFn& arrive, bool descending,
                         const std::function<void()>& first_done) override {
    const auto [c0, c1] = part_chunks(p, parts);
    const auto k = static_cast<std::size_t>(step_of(t0));
    auto& first = part_spikes_[k % kStepBuffers][p].list;
    auto& second = part_spikes_[(k + 1) % kStepBuffers][p].list;
    first.clear();
    second.clear();
    pair_blocks(c0, c1, t0, t1, arrive, descending, [&] {
      sort_spikes(first, 0);
      if (first_done) first_done();
    });
    sort_spikes(second, 0);
  }
  bool steps_in_pairs() const override { return !syn_tau_.empty(); }
  void advance_pair(double t0, double t1, const ArriveFn& arrive, bool descending) override {
    // Blocks of at most 128 chunks, of equal size: 32768 neurons at most, 768 KB of V and
    // two currents, stay in L2 (1 MiB) from one step to the next, and step k + 1's
    // arrivals land there too. A block costs two arrive calls, each a look at every
    // arriving row (CUBA at 64000 neurons: ~36 rows a step, each leaving the block on a
    // mispredicted branch). CUBA at 64000 on one thread, medians of 6-8 alternating runs:
    // 387 ms in single steps, 347 in pairs of 64-chunk blocks with step k's arrivals added
    // at once beforehand, 351 with 128-chunk blocks; then 373 -> 334 and 360 -> 329 with
    // step k's arrivals block by block too; 16-chunk blocks were slower than single steps.
    // Once every other pair ran backwards (Simulation::step_pair), the excitatory
    // population (200 chunks) in two blocks of 100 beat four of 64: 327.5 -> 315.5 ms
    // (8 runs each; 302 against 321 at best). 128 then 72 chunks, or 32-chunk blocks, were
    // no better than 64.
    pair_blocks(0, chunks_.size(), t0, t1, arrive, descending, [] {});
  }
  // advance_pair over the chunks [first, last): in blocks, as above. Calls first_done once
  // every block is through step k (before the last block's step k + 1).
  template <class FirstDone>
  void pair_blocks(std::size_t first, std::size_t last, double t0, double t1,
                   const ArriveFn& arrive, bool descending, FirstDone&& first_done) {
    constexpr std::size_t kMaxPairBlockChunks = 128;
    const auto k = static_cast<std::size_t>(step_of(t0));
    const std::size_t n = last - first, nb = (n + kMaxPairBlockChunks - 1) / kMaxPairBlockChunks;
    for (std::size_t bi = 0; bi < nb; ++bi) {
      const std::size_t b = descending ? nb - 1 - bi : bi;
      const std::size_t c0 = first + n * b / nb, c1 = first + n * (b + 1) / nb;
      const std::size_t lo = chunks_[c0].begin, hi = chunks_[c1 - 1].begin + chunks_[c1 - 1].n;
      arrive(k, lo, hi);
      step_chunks(c0, c1, t0, {});
      if (bi + 1 == nb) first_done();
      arrive(k + 1, lo, hi);
      step_chunks(c0, c1, t1, {});
    }
    if (nb == 0) first_done();
  }
  void finish_step(std::vector<Spike>& spikes) override {
    const std::size_t from = spikes.size();
    if (team_) {
      // Merged part by part into `spikes`, from the back: each part's list is sorted, and
      // every spike moves once per later part at most (two parts: a single merge). The
      // lists stay: the other threads read them too (part_spikes), and each part's thread
      // empties its own when it next writes it.
      for (const auto& part : part_spikes_[static_cast<std::size_t>(step_) % kStepBuffers])
        merge_spikes(spikes, from, part.list);
    } else {
      for (auto& s : chunk_spikes_[static_cast<std::size_t>(step_) & 1u])
        if (!s.empty()) {  // written back only where there were spikes
          spikes.insert(spikes.end(), s.begin(), s.end());
          s.clear();
        }
      sort_spikes(spikes, from);
    }
    ++step_;
  }

 private:
  // Chunks [first, last) of part p of `parts`: contiguous, balanced to one chunk.
  std::pair<std::size_t, std::size_t> part_chunks(std::size_t p, std::size_t parts) const {
    const std::size_t n = chunks_.size();
    return {n * p / parts, n * (p + 1) / parts};
  }

  // Steps chunks [c0, c1). With synapses, in blocks of four chunks: the vector pass runs over
  // a block in one call (per chunk, the call and set-up cost about a tenth of a 256-neuron
  // chunk's pass).
  // A neuron's result does not depend on the range it was stepped in.
  void step_chunks(std::size_t c0, std::size_t c1, double t, std::span<const double> input) {
    // Nothing to clear here: finish_step empties the spike lists it collects, and a fault
    // ends the run (Simulation throws it). A write to every chunk's list each step moved
    // its line to this core and back to thread 0's (~0.3 us a line on this VM).
    const std::int64_t k = step_of(t);
    if (c0 == c1) return;
    if (syn_tau_.empty()) {
      for (std::size_t c = c0; c < c1; ++c) step_chunk(c, t, input.data());
      return;
    }
    step_chunk_dispatch(c0, c1, t, input.empty() ? nullptr : input.data());
    // The next step's g wraps around to 1: rescale this range's stored currents by the
    // decay of the period, before anything arrives into them.
    const auto lo = static_cast<std::ptrdiff_t>(chunks_[c0].begin);
    const auto hi = static_cast<std::ptrdiff_t>(chunks_[c1 - 1].begin + chunks_[c1 - 1].n);
    for (std::size_t ch = 0; ch < I_.size(); ++ch) {
      const std::size_t K = gpow_[ch].size() - 1;
      if ((static_cast<std::size_t>(k + 1) & (K - 1)) == 0)
        for (auto i = lo; i < hi; ++i) I_[ch][static_cast<std::size_t>(i)] *= gpow_[ch][K];
    }
  }

  // The step that starts at t = k dt, and the buffers its spikes and faults go to: a
  // team's threads step k + 1 (in pairs, k + 2 and k + 3) while the others and thread 0
  // still read step k's.
  std::int64_t step_of(double t) const {  // t >= 0 (llround is a libm call: 1% of CUBA)
    return static_cast<std::int64_t>(t / dt_ + 0.5);
  }
  std::vector<Spike>& out_spikes(std::size_t c, std::int64_t k) {
    const auto step = static_cast<std::size_t>(k);
    return team_ ? part_spikes_[step % kStepBuffers][chunk_part_[c]].list
                 : chunk_spikes_[step & 1u][c];
  }
  std::optional<StateFault>& out_fault(std::size_t c, std::int64_t k) {
    return chunk_fault_[static_cast<std::size_t>(k) % kStepBuffers][c];
  }
  // Neuron i spiked: start loading its entries of the engine's spike_rows_ into L2. In the
  // paired loop the delivery comes after both steps, up to ~60 us later (CUBA at 64000
  // neurons: ~66 us a pair), and its loads of these row offsets missed (one thread: a
  // third of deliver()'s samples on that load).
  // Not in a team: there every thread reads every spike's offsets (SynapticNetwork::
  // queue_spikes), and loads them in one batch itself.
  void prefetch_spike_rows(std::size_t /*c*/, std::size_t i) const {
    if (team_) return;
    for (const SpikeRows& rows : spike_rows_) __builtin_prefetch(rows.data + i, 0, 2);
  }
  // Stores a chunk's fault (any thread, each its own chunks); fault() looks only once set.
  void set_fault(std::optional<StateFault>& slot, StateFault f) {
    slot = std::move(f);
    // Read once the step is published to thread 0: after the team's barrier, or in pairs
    // after TeamProgress's wait (both release/acquire).
    any_fault_.store(true, std::memory_order_relaxed);
  }
  // The stored currents are I / g, g = Ps^(k mod K) at step k: their decay is in g alone,
  // a function of the step, so that threads stepping different steps agree on it.
  double g_at(std::size_t ch, std::int64_t k) const {
    return gpow_[ch][static_cast<std::size_t>(k) & (gpow_[ch].size() - 2)];  // K a power of 2
  }

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
    if (bad < e - b) set_fault(out_fault(c, step_of(t)), {b + bad, "V", V[b + bad], ""});
  }

  void step_chunk_dispatch(std::size_t c0, std::size_t c1, double t, const double* J) {
    const bool u = uniform_, j = J != nullptr;
    switch (syn_tau_.size()) {
#define RANVIER_LIF_SYN_CASE(NC)                          \
  case NC:                                                \
    if (u)                                                \
      j ? step_chunk_syn<NC, true, true>(c0, c1, t, J)    \
        : step_chunk_syn<NC, true, false>(c0, c1, t, J);  \
    else                                                  \
      j ? step_chunk_syn<NC, false, true>(c0, c1, t, J)   \
        : step_chunk_syn<NC, false, false>(c0, c1, t, J); \
    break;
      RANVIER_LIF_SYN_CASE(1)
      RANVIER_LIF_SYN_CASE(2)
      RANVIER_LIF_SYN_CASE(3)
      RANVIER_LIF_SYN_CASE(4)
#undef RANVIER_LIF_SYN_CASE
    }
  }

  // step_chunk with NC exponential PSC channels (the arrivals already added to I_ by the
  // engine). The currents are stored divided by a per-channel factor g (I = I_ g, g *= e^(-dt
  // / tau_s) after each step), so free and refractory neurons never write them: pass 1
  // only reads them. Pass 1, vectorised, also takes neurons refractory for the whole step (V
  // stays at V_reset, the currents decay): in CUBA ~3% of the neurons are refractory at any
  // time, too many for the one-at-a-time path. It reads whether a neuron is refractory from
  // refractory_bits_, not its remaining time: the chunks' release queues say when each
  // refractory period ends (see RefractoryQueue), so pass 1 streams 24 bytes a neuron in
  // CUBA instead of 32 and writes no refractory time. U: constants as scalars (homogeneous
  // population); HJ: there is an input J (else 0). Plain bool flags and no reduction but
  // the count keep the vector loop lean (it ran ~25% slower with a fused fault check).
  static constexpr std::size_t kBlockChunks = 4, kBlockNeurons = kBlockChunks * kChunk;
  template <int NC, bool U, bool HJ>
  void step_chunk_syn(std::size_t c0, std::size_t c1, double t, const double* __restrict J) {
    // In blocks of kBlockChunks chunks (1024 neurons, 24 KB of V and two currents): the
    // slow path then finds its neurons' state still in L1. Over a whole population, at
    // 64000 neurons in CUBA, its first loads missed to L3 (40% of its time in a profile).
    for (std::size_t c = c0; c < c1;) {  // a block stays inside one part (refractory_bits_)
      const std::size_t end = std::min({c + kBlockChunks, c1, part_end_[chunk_part_[c]]});
      step_block_syn<NC, U, HJ>(c, end, t, J);
      c = end;
    }
  }

  template <int NC, bool U, bool HJ>
  void step_block_syn(std::size_t c0, std::size_t c1, double t, const double* __restrict J) {
    const std::size_t b = chunks_[c0].begin, e = chunks_[c1 - 1].begin + chunks_[c1 - 1].n;
    const std::int64_t k = step_of(t);
    for (std::size_t c = c0; c < c1; ++c) take_due_releases(c, k);
    double* __restrict V = V_.data();
    // Indexed by i / 8 inside the block, as the neurons' own bytes are (refractory_bit).
    const std::uint8_t* __restrict refr = refractory_bits_.data() + bits_shift(c0);
    const double* __restrict VL = a_.V_L.data();
    const double* __restrict Vth = a_.V_th.data();
    const double* __restrict R = a_.R.data();
    const double* __restrict P = P_.data();
    unsigned char* __restrict special = special_.data();
    const double VL0 = a_.V_L[0], Vth0 = a_.V_th[0], R0 = a_.R[0], P0 = P_[0];
    double* __restrict I[NC];
    const double* __restrict P21[NC];
    double P21s[NC], gs[NC];
    for (int ch = 0; ch < NC; ++ch) {
      I[ch] = I_[ch].data();
      P21[ch] = P21_[ch].data();
      gs[ch] = g_at(static_cast<std::size_t>(ch), k);
      P21s[ch] = P21_[ch][0] * gs[ch];
    }
#if defined(__AVX512F__)
    if constexpr (U) {
      if (!portable_) {
        const double* Ic[NC];
        for (int ch = 0; ch < NC; ++ch) Ic[ch] = I[ch];
        // The flags of this block only, on this thread's stack (see kPartGapBytes).
        alignas(64) std::uint8_t bits[kBlockNeurons / 8] = {};
        double v_min = 0.0;
        exp_pass1_avx512<NC, HJ>(V, refr, Ic, P21s, J, VL0, Vth0, R0, P0, b, e, bits, v_min);
        // Pass 2, in neuron order, 64 flags a word (flags past e are masked off). The
        // kernel keeps no "any
        // flag" of its own: OR-ing each vector's mask into one was a mask operation a
        // vector, and the loop is bound by those (perf annotate); 16 words a block here.
        for (std::size_t w = 0; w < (e - b + 63) / 64; ++w) {
          std::uint64_t m;
          std::memcpy(&m, bits + 8 * w, 8);
          if (b + 64 * (w + 1) > e) m &= (std::uint64_t{1} << ((e - b) % 64)) - 1;
          for (; m; m &= m - 1) {
            const std::size_t i = b + 64 * w + static_cast<unsigned>(__builtin_ctzll(m));
            slow_step_syn<NC>(i, t, HJ ? J[i] : 0.0, 0.0);
          }
        }
        if (!(v_min > -kVoltageLimit)) report_low_voltage<NC>(c0, c1, k);
        release_due<NC, HJ>(c0, c1, t, J);
        return;
      }
    }
#endif
    int n_special = 0;
#pragma omp simd reduction(+ : n_special)
    for (std::size_t i = b; i < e; ++i) {
      double r, th, vl, p;
      if constexpr (U) {
        r = R0;
        th = Vth0;
        vl = VL0;
        p = P0;
      } else {
        r = R[i];
        th = Vth[i];
        vl = VL[i];
        p = P[i];
      }
      double syn, v_inf = vl, v_new;
      const double v = V[i];
      const bool refractory = (refr[i / 8] >> (i % 8)) & 1u;
      if constexpr (U) {  // the AVX-512 kernel's order (exp_pass1_avx512)
        syn = I[0][i] * P21s[0];
        for (int ch = 1; ch < NC; ++ch) syn = mul_add(I[ch][i], P21s[ch], syn);
        if constexpr (HJ) v_inf = mul_add(r, J[i], vl);
        v_new = mul_add(r, syn, mul_add(v - v_inf, p, v_inf));
      } else {
        syn = 0.0;
        for (int ch = 0; ch < NC; ++ch) syn += I[ch][i] * (gs[ch] * P21[ch][i]);
        if constexpr (HJ) v_inf += r * J[i];
        v_new = v_inf + (v - v_inf) * p + r * syn;
      }
      // A v_new that is NaN or hugely negative also takes the slow path, which reports the
      // fault: no separate pass over V (a huge positive one crosses anyway).
      const bool cross = refractory | (v_new >= th) | (v >= th) | !(v_new > -kVoltageLimit);
      const bool sp = !refractory & cross;
      V[i] = cross ? v : v_new;  // refractory neurons keep V = V_reset
      special[i] = sp;
      n_special += sp;
    }
    // Pass 2: spiking neurons, a few per step; the flags are scanned eight at a time
    // (chunks start at multiples of kChunk and special_ is padded, so a word never
    // reaches into another chunk). Then the refractory periods that end inside the step.
    if (n_special)
      for (std::size_t w = b; w < e; w += 8) {
        std::uint64_t word;
        std::memcpy(&word, special + w, 8);
        if (!word) continue;
        for (std::size_t i = w; i < std::min(w + 8, e); ++i)
          if (special[i]) slow_step_syn<NC>(i, t, HJ ? J[i] : 0.0, 0.0);
      }
    release_due<NC, HJ>(c0, c1, t, J);
  }

  // Refractory periods. A neuron that ends a step refractory for r more ms is refractory
  // for the whole of the next m = floor(r / dt) steps, then starts step `step` (the next
  // plus m) with rem = r - m dt in [0, dt) left: a rem of 0 frees it at that step's start,
  // any other ends its refractory period inside that step, which the slow path integrates.
  // The queue of each chunk lists these releases by step, so a step touches only the
  // neurons released in it and pass 1 needs no refractory time, only a bit.
  struct Release {
    std::int64_t step;  // the step whose start has rem left
    double rem;         // [ms], also in ref_ (read there by read_state; here without a miss)
    std::uint32_t neuron;
  };
  // A Release with this rem is a neuron that starts the run at or above V_th: held out of
  // pass 1 by its refractory bit, it goes through the slow path (and fires at once) in the
  // step the entry names, with no refractory time.
  static constexpr double kStartsAboveThreshold = -1.0;
  struct RefractoryQueue {
    std::vector<Release> items;  // ascending step; [head, due): due in the current step
    std::size_t head = 0, due = 0;
  };

  bool refractory_bit(std::size_t i) const {
    return (refractory_bits_[i / 8 + bits_shift(i / kChunk)] >> (i % 8)) & 1u;
  }
  void set_refractory_bit(std::size_t i, bool on) {
    const auto bit = static_cast<std::uint8_t>(1u << (i % 8));
    std::uint8_t& byte = refractory_bits_[i / 8 + bits_shift(i / kChunk)];
    byte = on ? byte | bit : byte & static_cast<std::uint8_t>(~bit);
  }

  // Neuron i has r > 0 ms of refractoriness left at the start of step `from`.
  void schedule_release(std::size_t i, double r, std::int64_t from) {
    // m = floor(r / dt) with rem = r - m dt in [0, dt): the division may round across an
    // integer, and the product's rounding is caught by the fma.
    auto m = static_cast<std::int64_t>(r / dt_);
    double rem = std::fma(-static_cast<double>(m), dt_, r);
    if (rem < 0) {
      --m;
      rem += dt_;
    } else if (rem >= dt_) {
      ++m;
      rem -= dt_;
    }
    ref_[i] = std::max(rem, 0.0);
    release_step_[i] = from + m;
    set_refractory_bit(i, true);
    auto& items = release_queue_[slot(i / kChunk)].items;
    items.push_back({from + m, ref_[i], static_cast<std::uint32_t>(i)});
    // Releases are queued in about the order they come due (tau_ref is one value in most
    // populations): the new one rarely moves past more than a few.
    for (std::size_t k = items.size() - 1; k > 0 && items[k - 1].step > items[k].step; --k)
      std::swap(items[k - 1], items[k]);
  }

  // Start of the current step, chunk c: frees the neurons whose refractory period ended
  // exactly at the step's start and marks the range of those released inside the step.
  // Neither this nor release_due writes a queue in a step where nothing of it is due
  // (q.due == q.head between steps): see kPartGapBytes.
  void take_due_releases(std::size_t c, std::int64_t step) {
    RefractoryQueue& q = release_queue_[slot(c)];
    std::size_t k = q.head;
    if (k == q.items.size() || q.items[k].step != step) return;
    for (; k < q.items.size() && q.items[k].step == step; ++k)
      if (q.items[k].rem == 0) {  // (not kStartsAboveThreshold: that one stays held)
        ref_[q.items[k].neuron] = 0;
        set_refractory_bit(q.items[k].neuron, false);
      }
    q.due = k;
  }

  // End of pass 2: the neurons released inside the step, through the slow path.
  template <int NC, bool HJ>
  void release_due(std::size_t c0, std::size_t c1, double t, const double* J) {
    for (std::size_t c = c0; c < c1; ++c) {
      RefractoryQueue& q = release_queue_[slot(c)];
      // slow_step_syn may queue new releases: at later steps, so behind [head, due).
      for (std::size_t k = q.head; k < q.due; ++k) {
        const Release r = q.items[k];  // a copy: slow_step_syn may grow the queue
        if (r.rem != 0)
          slow_step_syn<NC>(r.neuron, t, HJ ? J[r.neuron] : 0.0, std::max(r.rem, 0.0));
      }
      if (q.head == q.due) continue;
      q.head = q.due;
      if (q.head >= 64 && 2 * q.head >= q.items.size()) {
        q.items.erase(q.items.begin(), q.items.begin() + static_cast<std::ptrdiff_t>(q.head));
        q.head = q.due = 0;
      }
    }
  }

  // Pass 1's running minimum of V fell to -kVoltageLimit or below in chunks [c0, c1):
  // the free neurons there with such a V, the first of each chunk, are faults of step k,
  // reported as the slow path reports them (an infinite current first, then V).
  template <int NC>
  void report_low_voltage(std::size_t c0, std::size_t c1, std::int64_t k) {
    for (std::size_t c = c0; c < c1; ++c)
      for (std::size_t i = chunks_[c].begin; i < chunks_[c].begin + chunks_[c].n; ++i) {
        auto& fault = out_fault(c, k);
        if (fault) break;
        if (refractory_bit(i) || V_[i] > -kVoltageLimit) continue;
        for (int ch = 0; ch < NC; ++ch) {
          const double I = I_[ch][i] * g_at(static_cast<std::size_t>(ch), k);
          if (!std::isfinite(I) && !fault)
            set_fault(fault, {i, fmt::format("the synaptic current of channel {}", ch), I,
                              "check the weights of the projections into this population"});
        }
        if (!fault) set_fault(fault, {i, "V", V_[i], ""});
      }
  }

  // slow_step with NC channels; I_[ch][i] holds the current at the step's start, arrivals
  // applied. Free stretches use the exact propagators over their own length; a crossing
  // is found by Newton's method on the exact V(h) (its derivative is the right-hand side),
  // safeguarded by bisection inside the bracket, to 1e-13 ms.
  // ref_left: the refractory time left at the step's start (0 unless released in it).
  template <int NC>
  void slow_step_syn(std::size_t i, double t, double J, double ref_left) {
    const std::size_t c = i / kChunk;        // the chunk whose spike list and fault this is
    const std::size_t q = uniform_ ? 0 : i;  // constants of a homogeneous population: [0]
    const double tau = a_.tau_m[q], Vth = a_.V_th[q], Vreset = a_.V_reset[q], R = a_.R[q];
    const double v_inf = a_.V_L[q] + R * J, tau_ref = a_.tau_ref[q];
    const std::int64_t k = step_of(t);
    auto& fault = out_fault(c, k);
    double V = V_[i], ref = ref_left, I0[NC], I[NC];
    for (int ch = 0; ch < NC; ++ch)
      I[ch] = I0[ch] = I_[ch][i] * g_at(static_cast<std::size_t>(ch), k);
    // An infinite synaptic current drives V to +inf, which crosses and is reset: without
    // this check the neuron would just fire at its maximal rate and the run end "well".
    for (int ch = 0; ch < NC; ++ch)
      if (!std::isfinite(I0[ch]) && !fault)
        set_fault(fault, {i, fmt::format("the synaptic current of channel {}", ch), I0[ch],
                          "check the weights of the projections into this population"});
    // The currents decay whatever the neuron does, so they end the step at I0 e^(-dt/tau_s):
    // the stored I_ / g is unchanged (g takes the decay) and needs no write. Inside the
    // step they are needed only where a free stretch starts, and are then computed from
    // the step's start (at `at`, lazily).
    double at = 0.0;  // time from the step's start at which I[] holds the currents [ms]
    auto currents_at = [&](double el) {
      if (el == at) return;
      for (int ch = 0; ch < NC; ++ch) I[ch] = I0[ch] * std::exp(-el * inv_tau_s_[ch]);
      at = el;
    };
    // V after h of free evolution from V0, and optionally dV/dt there.
    // The coupling tau_s / (tau_s - tau_m) (e^(-h/tau_s) - e^(-h/tau_m)) reuses the two
    // exponentials unless the time constants are so close that the difference cancels.
    // Lowered once for a homogeneous population (divisions on the slow path's chain).
    double kc[NC], cc[NC];
    const double inv_tau = uniform_ ? uniform_inv_tau_m_ : 1.0 / tau;
    for (int ch = 0; ch < NC; ++ch) {
      cc[ch] = uniform_ ? uniform_cc_[ch] : inv_tau - inv_tau_s_[ch];
      kc[ch] = uniform_ ? uniform_kc_[ch] : syn_tau_[ch] / (syn_tau_[ch] - tau);
    }
    // to_end: the stretch ends with the step, where each current is I0 e^(-dt/tau_c), so
    // I e^(-h/tau_c) needs no exponential (a released neuron's stretch: 3 instead of 5).
    auto free_v = [&](double V0, double h, double* dv, bool to_end = false) {
      const bool full = h == dt_;
      const double em = full ? P_[q] : std::exp(-h * inv_tau);
      double v = v_inf + (V0 - v_inf) * em, isum = 0.0;
      for (int ch = 0; ch < NC; ++ch) {
        if (full) {
          v += R * I[ch] * P21_[ch][q];
          if (dv) isum += I[ch] * Ps_[ch];
          continue;
        }
        const bool far = std::fabs(h * cc[ch]) > 1e-3;  // else the difference cancels
        if (to_end && far) {
          const double i_end = I0[ch] * Ps_[ch];
          v += R * kc[ch] * (i_end - I[ch] * em);
          isum += i_end;
          continue;
        }
        const double es = std::exp(-h * inv_tau_s_[ch]);
        const double coupling =
            far ? kc[ch] * (es - em) : models::lif_psc_coupling(tau, syn_tau_[ch], h);
        v += R * I[ch] * coupling;
        isum += I[ch] * es;
      }
      if (dv) *dv = (v_inf - v + R * isum) * inv_tau;
      return v;
    };
    double left = dt_, now = t;
    for (int spikes_here = 0;;) {
      if (ref > 0) {
        if (ref >= left) {
          ref -= left;
          V = Vreset;
          break;
        }
        left -= ref;
        now += ref;
        ref = 0;
        V = Vreset;
      }
      double ts = 0;
      if (V < Vth) {
        currents_at(dt_ - left);
        const double v_new = free_v(V, left, nullptr, true);
        if (v_new < Vth) {
          V = v_new;
          break;
        }
        const double V0 = V;
        double lo = 0.0, hi = left;
        double h = left * (Vth - V0) / (v_new - V0);  // the chord's crossing, refined on
        h = models::lif_crossing_guess<NC>(V0, Vth, v_inf, tau, R, I, inv_tau_s_.data(), h,  //
                                           lo, hi);  // V's Taylor polynomial
        for (int it = 0; it < 60; ++it) {
          double dv = 0.0;
          const double f = free_v(V0, h, &dv) - Vth;
          (f < 0 ? lo : hi) = h;
          const double newton = h - f / dv;
          // Converged: Newton's own step is below the tolerance. Tested before the
          // bracket: V is convex or concave near the crossing, so the iterates come from
          // one side, the bracket's other end stays far away, and a last step that rounds
          // onto the bracket's end must not send the search into bisection (it did: ~8
          // evaluations a crossing in CUBA instead of ~3).
          if (dv > 0 && std::fabs(newton - h) < 1e-13) {
            h = std::clamp(newton, lo, hi);
            break;
          }
          const double next = dv > 0 && newton > lo && newton < hi ? newton : 0.5 * (lo + hi);
          h = next;
          if (hi - lo < 1e-13) break;
        }
        ts = std::clamp(h, 0.0, left);
      }
      out_spikes(c, k).push_back({static_cast<std::uint32_t>(i), now + ts});
      prefetch_spike_rows(c, i);
      now += ts;
      left -= ts;
      ref = tau_ref;
      V = Vreset;
      if (++spikes_here > 100000) {
        set_fault(fault, {i, "V", V, "more than 100000 spikes in one step"});
        break;
      }
      if (ref == 0 && left <= 0) break;
    }
    V_[i] = V;
    if (ref > 0) {
      schedule_release(i, ref, k + 1);
    } else {
      ref_[i] = 0;
      set_refractory_bit(i, false);
    }
    if (!(std::fabs(V) < kVoltageLimit) && !fault)  // flagged by pass 1
      set_fault(fault, {i, "V", V, ""});
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
      out_spikes(c, step_of(t)).push_back({static_cast<std::uint32_t>(i), now + ts});
      prefetch_spike_rows(c, i);
      now += ts;
      left -= ts;
      ref = a_.tau_ref[i];
      V = Vreset;
      if (++spikes_here > 100000) {  // only reachable with tau_ref = 0 and an absurd input
        set_fault(out_fault(c, step_of(t)), {i, "V", V, "more than 100000 spikes in one step"});
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
  std::span<double> hot_array(std::size_t j) {
    return {reinterpret_cast<double*>(reinterpret_cast<char*>(hot_.get()) + j * hot_stride_), n_};
  }
  struct FreeDeleter {
    void operator()(double* p) const { std::free(p); }
  };
  std::unique_ptr<double[], FreeDeleter> hot_;  // the block V_, ref_ and I_ live in
  std::size_t hot_stride_ = 0;                  // bytes from one array to the next
  std::span<double> V_, ref_;                   // state: potential [mV], refractory time left [ms]
  std::vector<double> P_;                       // propagator exp(-dt / tau_m) per neuron
  std::vector<unsigned char> special_;          // scratch: needs the slow path this step
  // Per chunk, for even and odd steps (out_spikes, out_fault):
  std::array<std::vector<std::vector<Spike>>, 2> chunk_spikes_;
  // A team's spikes, per part instead (begin_team): each part's thread writes and sorts its
  // own list, and thread 0 reads one list a part. Gathering 250 chunk lists on thread 0
  // was a third of its serial work a step (CUBA at 64000 neurons: 17 of 46 ms a run).
  struct alignas(64) PartSpikes {  // a line each: another thread writes the next one
    std::vector<Spike> list;
  };
  // Four steps' worth: a team stepping in pairs writes steps k + 2 and k + 3 while the
  // other threads may still read k and k + 1 (part_spikes) and thread 0 checks their faults.
  static constexpr std::size_t kStepBuffers = 4;
  std::array<std::vector<PartSpikes>, kStepBuffers> part_spikes_;
  bool team_ = false;  // stepped by a team (begin_team): spikes go to part_spikes_
  std::array<std::vector<std::optional<StateFault>>, kStepBuffers> chunk_fault_;
  std::atomic<bool> any_fault_{false};  // some chunk has a fault (it ends the run)
  // Exponential PSC channels (empty without synapses):
  std::vector<double> syn_tau_;                    // tau_c [ms]
  std::vector<std::span<double>> I_;               // (channel, neuron) current / g [input quantity]
  std::vector<std::vector<double>> gpow_;          // per channel: Ps^j, j = 0..K (g_at)
  static constexpr std::size_t kMaxRenorm = 1024;  // K at most [steps]
  std::vector<std::vector<double>> P21_;           // (channel, neuron) coupling over dt [1]
  std::vector<double> Ps_, inv_tau_s_;             // e^(-dt/tau_c), 1/tau_c
  bool uniform_ = false;  // every parameter the same for all neurons: read [0]
  // ... and then, per channel: 1/tau_m, 1/tau_m - 1/tau_c, tau_c / (tau_c - tau_m)
  double uniform_inv_tau_m_ = 0, uniform_cc_[kMaxExpChannels] = {},
         uniform_kc_[kMaxExpChannels] = {};
  bool portable_ = false;              // tests: the portable pass 1 even where AVX-512 is
  std::vector<SpikeRows> spike_rows_;  // set_spike_prefetch
  // Refractoriness with PSC channels (step_chunk_syn); ref_ then holds the remainder rem.
  std::int64_t step_ = 0;                       // steps taken
  std::vector<std::uint8_t> refractory_bits_;   // a bit a neuron: refractory at the step's start
  std::vector<std::int64_t> release_step_;      // per neuron: the step it is released in
  std::vector<RefractoryQueue> release_queue_;  // per chunk, at slot(c)

  // Where the team loop's threads meet. Each steps a fixed part of the chunks (part_chunks)
  // and writes, besides the state arrays, small per-neuron and per-chunk bookkeeping: the
  // refractory bits, its chunks' release queues, pass 1's flags. Packed end to end, the
  // parts' bytes of these met inside a 4 KiB page, and the hardware prefetcher of the
  // thread that walked up to the boundary fetched the next part's lines too; the owner's
  // next write to each then waited for the other core (~0.7 us a line on this VM). So:
  // - each part's share of the refractory bits and the queues starts at least a page
  //   after the previous part's (kPartGapBytes, kPartGapSlots; prefetchers do not cross
  //   a 4 KiB page, and these arrays are too small for allocate_large's huge pages);
  // - a queue is written only in a step where something of it is due (it was written
  //   every step);
  // - pass 1's flags live on the stepping thread's stack (a shared array was written by
  //   both threads every step).
  // CUBA at 64000 neurons on two threads, cycles a 1024-neuron block (rdtsc): before, the
  // 8-15 blocks after the boundary cost 1300-3000 against ~1050 for the others, and the
  // upper half of the inhibitory population (1600 bytes of bits in all) 1300-2000 against
  // ~800; after, only the first block of each part is slower (~2300), the rest 750-1100.
  // One part until begin_team.
  static constexpr std::size_t kPartGapBytes = 4096;
  static constexpr std::size_t kPartGapSlots = 4096 / sizeof(RefractoryQueue) + 1;
  std::vector<std::uint32_t> chunk_part_;  // the part each chunk is in
  std::vector<std::size_t> part_end_;      // per part: one past its last chunk
  std::size_t slot(std::size_t c) const {
    return c + chunk_part_[c] * kPartGapSlots;
  }
  // Sizes of refractory_bits_ (padded: pass 1 reads a byte per 8 neurons) and
  // release_queue_ laid out for `parts` parts.
  std::size_t bits_bytes(std::size_t parts) const {
    return n_ / 8 + parts * kPartGapBytes + 8;
  }
  std::size_t queue_slots(std::size_t parts) const {
    return chunks_.size() + parts * kPartGapSlots;
  }
  std::size_t bits_shift(std::size_t c) const {
    return chunk_part_[c] * kPartGapBytes;
  }

  // Lays refractory_bits_ and release_queue_ out for `parts` parts (part_chunks), moving
  // what they hold.
  void lay_out_parts(std::size_t parts) {
    parts = std::clamp<std::size_t>(parts, 1, std::max<std::size_t>(chunks_.size(), 1));
    const std::vector<std::uint32_t> old_part = std::move(chunk_part_);
    chunk_part_.assign(chunks_.size(), 0);
    part_end_.assign(parts, 0);
    for (std::size_t p = 0; p < parts; ++p) {
      const auto [c0, c1] = part_chunks(p, parts);
      for (std::size_t c = c0; c < c1; ++c) chunk_part_[c] = static_cast<std::uint32_t>(p);
      part_end_[p] = c1;
    }
    if (syn_tau_.empty()) return;  // not made yet (attach_exp_synapses)
    std::vector<std::uint8_t> bits(bits_bytes(parts), 0);
    std::vector<RefractoryQueue> queues(queue_slots(parts));
    for (std::size_t c = 0; c < chunks_.size(); ++c) {
      const std::size_t b = chunks_[c].begin / 8, e = (chunks_[c].begin + chunks_[c].n + 7) / 8;
      std::copy(
          refractory_bits_.begin() + static_cast<std::ptrdiff_t>(b + old_part[c] * kPartGapBytes),
          refractory_bits_.begin() + static_cast<std::ptrdiff_t>(e + old_part[c] * kPartGapBytes),
          bits.begin() + static_cast<std::ptrdiff_t>(b + bits_shift(c)));
      queues[slot(c)] = std::move(release_queue_[c + old_part[c] * kPartGapSlots]);
    }
    refractory_bits_ = std::move(bits);
    release_queue_ = std::move(queues);
  }
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
