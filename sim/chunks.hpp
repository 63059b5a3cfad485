// Work split shared by the population kinds: a population is cut into fixed chunks of
// kChunk neurons, independent of the thread count, and OpenMP threads take whole chunks.
// A neuron's result depends only on its own chunk, so any thread count gives identical
// results (dopri5 even adapts its step per chunk, so the chunk size is fixed here).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <exception>
#include <optional>
#include <span>
#include <vector>

#include "sim/population.hpp"

namespace ranvier::sim::detail {

inline constexpr std::size_t kChunk = 256;  // neurons per chunk: state stays in L1/L2

// A state beyond this magnitude [mV] is treated as a blow-up (no neuron model gets near).
inline constexpr double kVoltageLimit = 1e4;

struct ChunkRange {
  std::size_t begin, n;
};

inline std::vector<ChunkRange> make_chunks(std::size_t size) {
  std::vector<ChunkRange> c;
  for (std::size_t b = 0; b < size; b += kChunk) c.push_back({b, std::min(kChunk, size - b)});
  return c;
}

// Calls f(c) for every chunk index, on up to `threads` threads, but only as many as keep
// at least `min_per_thread` chunks each: a parallel region costs a few microseconds (much
// more on a loaded machine), which a step of a small population does not pay back.
// Which thread runs a chunk never changes its result. f must not throw.
template <class F>
void for_chunks(std::size_t n_chunks, int threads, std::size_t min_per_thread, F&& f) {
  threads = static_cast<int>(std::min<std::size_t>(
      static_cast<std::size_t>(std::max(threads, 1)),
      std::max<std::size_t>(1, n_chunks / std::max<std::size_t>(1, min_per_thread))));
  if (threads <= 1 || n_chunks <= 1) {
    for (std::size_t c = 0; c < n_chunks; ++c) f(c);
    return;
  }
  const long n = static_cast<long>(n_chunks);
#pragma omp parallel for schedule(static) num_threads(threads)
  for (long c = 0; c < n; ++c) f(static_cast<std::size_t>(c));
}

// Index of the first V[i] that is NaN, infinite or beyond kVoltageLimit, or n if none.
// The common case (all fine) is one vectorised pass.
inline std::size_t first_bad_voltage(const double* V, std::size_t n) {
  int bad = 0;
#pragma omp simd reduction(| : bad)
  for (std::size_t i = 0; i < n; ++i) bad |= !(std::fabs(V[i]) < kVoltageLimit);
  if (!bad) return n;
  for (std::size_t i = 0; i < n; ++i)
    if (!(std::fabs(V[i]) < kVoltageLimit)) return i;
  return n;
}

// Root of f on [a, b] where f(a) < 0 <= f(b), by the Illinois variant of regula falsi
// (superlinear, never leaves the bracket). Stops when the bracket is below tol.
template <class F>
double find_crossing(F&& f, double a, double b, double fa, double fb, double tol) {
  int side = 0;
  for (int it = 0; it < 100 && b - a > tol; ++it) {
    double c = (a * fb - b * fa) / (fb - fa);
    if (!(c > a && c < b)) c = 0.5 * (a + b);  // degenerate secant: bisect
    const double fc = f(c);
    if (fc < 0) {
      a = c;
      fa = fc;
      if (side == -1) fb *= 0.5;
      side = -1;
    } else {
      b = c;
      fb = fc;
      if (side == +1) fa *= 0.5;
      side = +1;
    }
  }
  return fb - fa != 0 ? std::clamp((a * fb - b * fa) / (fb - fa), a, b) : b;
}

// Fraction theta in [0, 1] of a step of length h at which the cubic Hermite interpolant
// through (V0, dV0) and (V1, dV1) reaches thr, given V0 < thr <= V1. Fourth-order accurate
// in h, matching RK4; exact for the cubic itself.
inline double hermite_crossing(double V0, double dV0, double V1, double dV1, double h, double thr) {
  auto H = [&](double s) {
    const double s2 = s * s, s3 = s2 * s;
    return (2 * s3 - 3 * s2 + 1) * V0 + (s3 - 2 * s2 + s) * h * dV0 + (-2 * s3 + 3 * s2) * V1 +
           (s3 - s2) * h * dV1 - thr;
  };
  return find_crossing(H, 0.0, 1.0, V0 - thr, V1 - thr, 1e-14);
}

// The order of a step's spikes: by time, ties by neuron, so output is the same for any
// threads.
inline bool spike_before(const Spike& a, const Spike& b) {
  return a.t < b.t || (a.t == b.t && a.neuron < b.neuron);
}
// Merges the sorted `add` into the sorted tail s[from, end) of s, from the back: each
// spike of the tail moves once at most (a team's parts' lists merged part by part).
inline void merge_spikes(std::vector<Spike>& s, std::size_t from, std::span<const Spike> add) {
  std::size_t a = s.size(), b = add.size();
  s.resize(a + b);
  for (std::size_t out = a + b; b > 0;)
    s[--out] = a > from && spike_before(add[b - 1], s[a - 1]) ? s[--a] : add[--b];
}
inline void sort_spikes(std::vector<Spike>& s, std::size_t from) {
  // (A lambda, not the function's pointer, which std::sort would call without inlining.)
  std::sort(s.begin() + static_cast<std::ptrdiff_t>(from), s.end(),
            [](const Spike& a, const Spike& b) { return spike_before(a, b); });
}

}  // namespace ranvier::sim::detail
