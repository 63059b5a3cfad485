// Wiring: connection rules that turn a projection's description into a synapse table,
// stored compactly as CSR by source neuron (all synapses of one source contiguous, their
// targets ascending), which is what spike delivery walks.
//
// Bytes per synapse: 4 (target index, uint32) always; + 4 (float weight) only when the
// weights are drawn or come from a matrix; + 2 (uint16 delay in steps) only when the
// delays are drawn. A constant weight or delay is stored once per projection. CUBA (constant
// weight and delay) thus costs 4 bytes per synapse, plus 8 bytes per source neuron for the
// row offsets.
//
// Reproducibility: every random number is a pure function of (run seed, projection,
// neuron, index) through sim/random.hpp's Philox streams: fixed_probability draws row i
// from the stream of (projection, source i), fixed_indegree draws the sources of target j
// from the stream of (projection, target j), and the weight and delay of synapse (i, j)
// come from (projection, i, j) whatever the rule. Rows are built in parallel but no draw
// depends on which thread makes it, so the table is identical for any thread count.
//
// Header-only so that the engine (sim/) can build tables without a link dependency on this
// library (which itself depends on sim/).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "sim/huge_pages.hpp"
#include "sim/random.hpp"

namespace ranvier::networks {

// Stream ids of the wiring (Philox counter word 3): three per projection, above the
// stimuli's range (sim::kStimulusStreamBase = 0x1000).
inline constexpr std::uint32_t kWiringStreamBase = 0x100000u;
inline std::uint32_t connect_stream(std::uint32_t proj) {
  return kWiringStreamBase + 4 * proj;
}
inline std::uint32_t weight_stream(std::uint32_t proj) {
  return kWiringStreamBase + 4 * proj + 1;
}
inline std::uint32_t delay_stream(std::uint32_t proj) {
  return kWiringStreamBase + 4 * proj + 2;
}

// A value per synapse: constant, or drawn. Drawn weights keep the sign of their mean (an
// excitatory weight never becomes inhibitory): normal draws of the wrong sign are redrawn
// (a truncated normal), lognormal draws a magnitude and applies the mean's sign.
struct Distribution {
  enum class Kind { constant, normal, uniform, lognormal };
  Kind kind = Kind::constant;
  double a = 0.0;  // constant: the value; normal, lognormal: mean; uniform: low
  double b = 0.0;  // normal, lognormal: standard deviation (of the value); uniform: high

  static Distribution constant(double v) { return {Kind::constant, v, 0.0}; }
  bool is_constant() const { return kind == Kind::constant; }
  // A problem with the parameters, or empty: std >= 0, low <= high, a uniform range that
  // does not straddle 0 (its sign would be ambiguous), a nonzero lognormal mean.
  std::string check() const {
    if (!std::isfinite(a) || !std::isfinite(b)) return "parameters must be finite";
    switch (kind) {
      case Kind::constant:
        return {};
      case Kind::normal:
        return b < 0 ? "std must be >= 0" : "";
      case Kind::lognormal:
        if (b < 0) return "std must be >= 0";
        return a == 0 ? "a lognormal mean must not be 0" : "";
      case Kind::uniform:
        if (!(a <= b)) return "low must not exceed high";
        return (a < 0 && b > 0) ? "a uniform range must not straddle 0 (the sign of a weight "
                                  "is kept)"
                                : "";
    }
    return {};
  }
};

// One draw for synapse (i, j) from `stream`, the sign of the mean kept.
inline double draw(const Distribution& d, const sim::CounterRng& rng, std::uint32_t stream,
                   std::uint32_t i, std::uint32_t j) {
  using K = Distribution::Kind;
  switch (d.kind) {
    case K::constant:
      return d.a;
    case K::uniform: {
      const auto bits = rng.bits(stream, i, j);
      return d.a + (d.b - d.a) * sim::uniform_open01(bits[0], bits[1]);
    }
    case K::normal: {
      // Redraws (counter high word = attempt) until the sign matches the mean's.
      for (std::uint64_t r = 0; r < 1000; ++r) {
        const double x = d.a + d.b * sim::normal_pair(rng.bits(stream, i, j | (r << 32)))[0];
        if (d.a == 0 || (x >= 0) == (d.a >= 0)) return x;
      }
      return 0.0;  // a mean many std on the wrong side of 0: practically unreachable
    }
    case K::lognormal: {
      const double m = std::fabs(d.a), s2 = d.b * d.b;
      const double sigma2 = std::log1p(s2 / (m * m)), mu = std::log(m) - 0.5 * sigma2;
      const double z = sim::normal_pair(rng.bits(stream, i, j))[0];
      return std::copysign(std::exp(mu + std::sqrt(sigma2) * z), d.a);
    }
  }
  return d.a;
}

struct ConnectionRule {
  enum class Kind { all_to_all, one_to_one, fixed_probability, fixed_indegree, matrix };
  Kind kind = Kind::all_to_all;
  double p = 0.0;              // fixed_probability: probability of each synapse, in [0, 1]
  std::size_t indegree = 0;    // fixed_indegree: sources per target, without repeats
  bool autapses = true;        // i -> i allowed (only matters when source == target)
  std::vector<double> matrix;  // matrix: (n_target, n_source) row-major weights, 0 = none
};

// A projection's synapses, CSR by source neuron.
struct Connectivity {
  std::size_t n_source = 0, n_target = 0;
  // On huge pages when large (sim/huge_pages.hpp): rows are read at random.
  template <class T>
  using Array = std::vector<T, sim::LargeAllocator<T>>;
  Array<std::uint64_t> row;          // (n_source + 1) offsets into target/weight/delay
  Array<std::uint32_t> target;       // (n_synapses) target neuron, ascending within a row
  Array<float> weight;               // (n_synapses) or empty: every weight is weight_const
  double weight_const = 0.0;         // [target input quantity * ms]
  std::vector<std::uint16_t> delay;  // (n_synapses) in steps, or empty: all delay_const
  std::uint16_t delay_const = 1;     // [steps], >= 1

  std::size_t size() const { return target.size(); }
  double weight_of(std::size_t s) const { return weight.empty() ? weight_const : weight[s]; }
  std::uint16_t delay_of(std::size_t s) const { return delay.empty() ? delay_const : delay[s]; }
  std::uint16_t max_delay() const {
    return delay.empty() ? delay_const : *std::max_element(delay.begin(), delay.end());
  }
  // Storage per synapse, as laid out above (row offsets not included).
  std::size_t bytes_per_synapse() const {
    return sizeof(std::uint32_t) + (weight.empty() ? 0 : sizeof(float)) +
           (delay.empty() ? 0 : sizeof(std::uint16_t));
  }
  std::size_t bytes() const {
    return row.size() * sizeof(std::uint64_t) + target.size() * sizeof(std::uint32_t) +
           weight.size() * sizeof(float) + delay.size() * sizeof(std::uint16_t);
  }
};

struct WiringError : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};

// Everything needed to build one projection's table.
struct ProjectionWiring {
  std::size_t n_source = 0, n_target = 0;
  bool same_population = false;  // source and target are one population (autapses matter)
  ConnectionRule rule;
  Distribution weight;  // for rule matrix: a constant factor applied to the entries
  Distribution delay;   // [ms]; drawn delays below dt are raised to dt
  double dt = 0.1;      // [ms]
  std::uint64_t seed = 1;
  std::uint32_t projection = 0;  // index of the projection in its run: picks the streams
};

namespace detail {

// Uniform integer in [0, n) from 32 random bits (multiply-shift; bias below 2^-32 n).
inline std::uint32_t below(std::uint32_t bits, std::uint32_t n) {
  return static_cast<std::uint32_t>((std::uint64_t{bits} * n) >> 32);
}

// fixed_probability row of source i: targets by geometric skipping, one uniform per hit.
inline void probability_row(const ProjectionWiring& w, const sim::CounterRng& rng, std::uint32_t i,
                            std::vector<std::uint32_t>& out) {
  const double p = w.rule.p;
  const auto n = static_cast<std::int64_t>(w.n_target);
  if (p <= 0) return;
  if (p >= 1) {
    for (std::int64_t j = 0; j < n; ++j)
      if (w.rule.autapses || !w.same_population || j != i)
        out.push_back(static_cast<std::uint32_t>(j));
    return;
  }
  const double inv_log_q = 1.0 / std::log1p(-p);
  std::int64_t j = -1;
  for (std::uint64_t c = 0;; ++c) {
    const auto b = rng.bits(connect_stream(w.projection), i, c);
    const double skip = std::floor(std::log(sim::uniform_open01(b[0], b[1])) * inv_log_q);
    if (skip >= static_cast<double>(n - j)) break;
    j += 1 + static_cast<std::int64_t>(skip);
    if (j >= n) break;
    if (!w.rule.autapses && w.same_population && j == i) continue;
    out.push_back(static_cast<std::uint32_t>(j));
  }
}

// fixed_indegree: `k` distinct sources of target j (Floyd's sampling), ascending.
inline void indegree_sources(const ProjectionWiring& w, const sim::CounterRng& rng, std::uint32_t j,
                             std::vector<std::uint32_t>& out) {
  const bool skip_self = !w.rule.autapses && w.same_population && j < w.n_source;
  const auto m = static_cast<std::uint32_t>(w.n_source - (skip_self ? 1 : 0));  // candidates
  const auto k = static_cast<std::uint32_t>(w.rule.indegree);
  out.clear();
  for (std::uint32_t r = m - k; r < m; ++r) {
    const std::uint32_t t = below(rng.bits(connect_stream(w.projection), j, r)[0], r + 1);
    // out is kept sorted so membership is a binary search.
    auto it = std::lower_bound(out.begin(), out.end(), t);
    const std::uint32_t pick = (it != out.end() && *it == t) ? r : t;
    out.insert(std::lower_bound(out.begin(), out.end(), pick), pick);
  }
  if (skip_self)  // candidates skip j: map c >= j to c + 1
    for (auto& s : out)
      if (s >= j) ++s;
  std::sort(out.begin(), out.end());
}

}  // namespace detail

// Checks the description; throws WiringError naming the rule or field at fault.
inline void check(const ProjectionWiring& w) {
  using K = ConnectionRule::Kind;
  if (w.n_source == 0 || w.n_target == 0) throw WiringError("source and target need neurons");
  if (w.n_source >= (1ull << 32) || w.n_target >= (1ull << 32))
    throw WiringError("populations are limited to 2^32 - 1 neurons");
  if (!(w.dt > 0)) throw WiringError("dt must be > 0");
  switch (w.rule.kind) {
    case K::fixed_probability:
      if (!(w.rule.p >= 0 && w.rule.p <= 1))
        throw WiringError("p must be in [0, 1], got " + std::to_string(w.rule.p));
      break;
    case K::fixed_indegree: {
      const std::size_t avail = w.n_source - ((w.same_population && !w.rule.autapses) ? 1 : 0);
      if (w.rule.indegree > avail)
        throw WiringError("indegree " + std::to_string(w.rule.indegree) + " exceeds the " +
                          std::to_string(avail) + " available sources");
      break;
    }
    case K::one_to_one:
      if (w.n_source != w.n_target)
        throw WiringError("one_to_one needs populations of equal size (" +
                          std::to_string(w.n_source) + " and " + std::to_string(w.n_target) + ")");
      break;
    case K::matrix:
      if (w.rule.matrix.size() != w.n_source * w.n_target)
        throw WiringError("the matrix has " + std::to_string(w.rule.matrix.size()) +
                          " entries, expected (n_target, n_source) = (" +
                          std::to_string(w.n_target) + ", " + std::to_string(w.n_source) + ")");
      if (!w.weight.is_constant()) throw WiringError("a matrix takes a constant weight factor");
      break;
    case K::all_to_all:
      break;
  }
  if (auto e = w.weight.check(); !e.empty()) throw WiringError("weight: " + e);
  if (auto e = w.delay.check(); !e.empty()) throw WiringError("delay: " + e);
  if (w.delay.is_constant() && w.delay.a < w.dt * (1 - 1e-9))
    throw WiringError("delay " + std::to_string(w.delay.a) + " ms is below dt (" +
                      std::to_string(w.dt) + " ms)");
  const double max_delay = w.delay.kind == Distribution::Kind::uniform ? w.delay.b : w.delay.a;
  if (max_delay / w.dt > 60000) throw WiringError("delays are limited to 60000 steps");
}

// Delay in whole steps: round(d / dt), at least 1.
inline std::uint16_t delay_steps(double d_ms, double dt) {
  const double s = std::round(d_ms / dt);
  return static_cast<std::uint16_t>(std::clamp(s, 1.0, 65535.0));
}

// Builds the table, rows in parallel on up to `threads` threads (the result never depends
// on the count). Throws WiringError for a bad description.
inline Connectivity connect(const ProjectionWiring& w, int threads = 1) {
  using K = ConnectionRule::Kind;
  check(w);
  const sim::CounterRng rng{w.seed};
  Connectivity c;
  c.n_source = w.n_source;
  c.n_target = w.n_target;
  const auto ns = static_cast<std::int64_t>(w.n_source);
  std::vector<std::vector<std::uint32_t>> rows(w.n_source);

  switch (w.rule.kind) {
    case K::all_to_all:
    case K::one_to_one:
    case K::fixed_probability:
#pragma omp parallel for schedule(dynamic, 64) num_threads(std::max(threads, 1))
      for (std::int64_t i = 0; i < ns; ++i) {
        auto& r = rows[static_cast<std::size_t>(i)];
        const auto ui = static_cast<std::uint32_t>(i);
        if (w.rule.kind == K::one_to_one) {
          if (w.rule.autapses || !w.same_population) r.push_back(ui);
        } else if (w.rule.kind == K::all_to_all) {
          for (std::uint32_t j = 0; j < w.n_target; ++j)
            if (w.rule.autapses || !w.same_population || j != ui) r.push_back(j);
        } else {
          detail::probability_row(w, rng, ui, r);
        }
      }
      break;
    case K::fixed_indegree: {
      // Sources per target (in parallel), then a counting transpose to rows by source: j
      // ascends in the outer loop, so every row comes out sorted.
      std::vector<std::vector<std::uint32_t>> cols(w.n_target);
      const auto nt = static_cast<std::int64_t>(w.n_target);
#pragma omp parallel for schedule(dynamic, 64) num_threads(std::max(threads, 1))
      for (std::int64_t j = 0; j < nt; ++j)
        detail::indegree_sources(w, rng, static_cast<std::uint32_t>(j),
                                 cols[static_cast<std::size_t>(j)]);
      for (std::uint32_t j = 0; j < w.n_target; ++j)
        for (auto i : cols[j]) rows[i].push_back(j);
      break;
    }
    case K::matrix:
      for (std::size_t j = 0; j < w.n_target; ++j)
        for (std::size_t i = 0; i < w.n_source; ++i)
          if (w.rule.matrix[j * w.n_source + i] != 0)
            rows[i].push_back(static_cast<std::uint32_t>(j));
      break;
  }

  c.row.assign(w.n_source + 1, 0);
  for (std::size_t i = 0; i < w.n_source; ++i) c.row[i + 1] = c.row[i] + rows[i].size();
  const std::size_t n_syn = c.row.back();
  c.target.resize(n_syn);
  const bool drawn_w = w.rule.kind == K::matrix || !w.weight.is_constant();
  const bool drawn_d = !w.delay.is_constant();
  c.weight_const = w.weight.a;
  c.delay_const = delay_steps(w.delay.a, w.dt);
  if (drawn_w) c.weight.resize(n_syn);
  if (drawn_d) c.delay.resize(n_syn);
#pragma omp parallel for schedule(dynamic, 64) num_threads(std::max(threads, 1))
  for (std::int64_t si = 0; si < ns; ++si) {
    const auto i = static_cast<std::size_t>(si);
    std::size_t s = c.row[i];
    for (auto j : rows[i]) {
      c.target[s] = j;
      const auto ui = static_cast<std::uint32_t>(i);
      if (drawn_w)
        c.weight[s] = static_cast<float>(
            w.rule.kind == K::matrix ? w.weight.a * w.rule.matrix[j * w.n_source + i]
                                     : draw(w.weight, rng, weight_stream(w.projection), ui, j));
      if (drawn_d)
        c.delay[s] = delay_steps(
            std::max(w.dt, draw(w.delay, rng, delay_stream(w.projection), ui, j)), w.dt);
      ++s;
    }
    std::vector<std::uint32_t>().swap(rows[i]);
  }
  return c;
}

}  // namespace ranvier::networks
