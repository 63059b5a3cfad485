// Counter-based random numbers (Salmon et al. 2011, "Parallel random numbers: as easy as
// 1, 2, 3"): Philox4x32-10 maps a 128-bit counter and a 64-bit key to 128 random bits with
// no state. A draw is a pure function of (run seed, stream, neuron, step), so results never
// depend on the thread count or on the order neurons are visited.
#pragma once

#include <array>
#include <cmath>
#include <cstdint>
#include <numbers>

namespace ranvier::sim {

using Philox4x32 = std::array<std::uint32_t, 4>;
using PhiloxKey = std::array<std::uint32_t, 2>;

// Philox4x32 with 10 rounds on four counter words held in scalars (so that a loop over
// many counters vectorises: no array is kept in memory), key (k0, k1).
inline void philox4x32_10_inplace(std::uint32_t& c0, std::uint32_t& c1, std::uint32_t& c2,
                                  std::uint32_t& c3, std::uint32_t k0, std::uint32_t k1) {
  constexpr std::uint32_t M0 = 0xD2511F53u, M1 = 0xCD9E8D57u;  // multipliers
  constexpr std::uint32_t W0 = 0x9E3779B9u, W1 = 0xBB67AE85u;  // Weyl key increments
#pragma GCC unroll 10
  for (int r = 0; r < 10; ++r) {
    const std::uint64_t p0 = std::uint64_t{M0} * c0;
    const std::uint64_t p1 = std::uint64_t{M1} * c2;
    const std::uint32_t n0 = static_cast<std::uint32_t>(p1 >> 32) ^ c1 ^ k0;
    const std::uint32_t n2 = static_cast<std::uint32_t>(p0 >> 32) ^ c3 ^ k1;
    c1 = static_cast<std::uint32_t>(p1);
    c3 = static_cast<std::uint32_t>(p0);
    c0 = n0;
    c2 = n2;
    k0 += W0;
    k1 += W1;
  }
}

// Philox4x32 with 10 rounds, bit-exact with Random123's philox4x32_R(10, ctr, key).
inline Philox4x32 philox4x32_10(Philox4x32 ctr, PhiloxKey key) {
  philox4x32_10_inplace(ctr[0], ctr[1], ctr[2], ctr[3], key[0], key[1]);
  return ctr;
}

// The stream ids of a run (the counter's fourth word); stimuli use their index in
// RunSpec::stimuli, offset so that future users (e.g. connectivity) get their own range.
inline constexpr std::uint32_t kStimulusStreamBase = 0x1000u;

// A keyed random source: key = run seed, counter = (neuron, step low, step high, stream).
struct CounterRng {
  std::uint64_t seed = 1;

  Philox4x32 bits(std::uint32_t stream, std::uint32_t neuron, std::uint64_t step) const {
    return philox4x32_10(
        {neuron, static_cast<std::uint32_t>(step), static_cast<std::uint32_t>(step >> 32), stream},
        {static_cast<std::uint32_t>(seed), static_cast<std::uint32_t>(seed >> 32)});
  }
};

// A uniform double in the open interval (0, 1) from 64 random bits: the top 52 bits plus
// half a step, (x + 1/2) 2^-52, so the extremes are 2^-53 and 1 - 2^-53, both exactly
// representable: 0 is impossible (log(u) is finite) and so is 1.
inline double uniform_open01(std::uint32_t hi, std::uint32_t lo) {
  const std::uint64_t x = (std::uint64_t{hi} << 32 | lo) >> 12;  // 52 bits
  return (static_cast<double>(x) + 0.5) * 0x1.0p-52;
}

// Two independent standard normals from one Philox block (Box-Muller).
inline std::array<double, 2> normal_pair(const Philox4x32& b) {
  const double u1 = uniform_open01(b[0], b[1]);
  const double u2 = uniform_open01(b[2], b[3]);
  const double r = std::sqrt(-2.0 * std::log(u1));
  const double a = 2.0 * std::numbers::pi * u2;
  return {r * std::cos(a), r * std::sin(a)};
}

// One standard normal keyed by (stream, neuron, step).
inline double normal(const CounterRng& rng, std::uint32_t stream, std::uint32_t neuron,
                     std::uint64_t step) {
  return normal_pair(rng.bits(stream, neuron, step))[0];
}

// One uniform (0, 1) keyed by (stream, neuron, step).
inline double uniform(const CounterRng& rng, std::uint32_t stream, std::uint32_t neuron,
                      std::uint64_t step) {
  const auto b = rng.bits(stream, neuron, step);
  return uniform_open01(b[0], b[1]);
}

}  // namespace ranvier::sim
