// Philox4x32-10 against Random123's known-answer vectors, and the uniform / normal helpers.
#include <doctest/doctest.h>

#include <cmath>
#include <set>

#include "sim/random.hpp"

using namespace ranvier::sim;

TEST_CASE("Philox4x32-10 matches the Random123 known-answer tests") {
  // kat_vectors from Random123 1.09: counter, key -> output (philox4x32, 10 rounds).
  CHECK(philox4x32_10({0, 0, 0, 0}, {0, 0}) ==
        Philox4x32{0x6627e8d5u, 0xe169c58du, 0xbc57ac4cu, 0x9b00dbd8u});
  CHECK(philox4x32_10({0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu},
                      {0xffffffffu, 0xffffffffu}) ==
        Philox4x32{0x408f276du, 0x41c83b0eu, 0xa20bc7c6u, 0x6d5451fdu});
  CHECK(philox4x32_10({0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u},
                      {0xa4093822u, 0x299f31d0u}) ==
        Philox4x32{0xd16cfe09u, 0x94fdccebu, 0x5001e420u, 0x24126ea1u});
}

TEST_CASE("uniform_open01 never returns 0 or 1") {
  CHECK(uniform_open01(0, 0) > 0.0);
  CHECK(uniform_open01(0xffffffffu, 0xffffffffu) < 1.0);
  CHECK(std::isfinite(std::log(uniform_open01(0, 0))));
}

TEST_CASE("draws are keyed by seed - stream - neuron - step and nothing else") {
  const CounterRng a{42}, b{43};
  CHECK(normal(a, 1, 2, 3) == normal(a, 1, 2, 3));  // pure function: repeatable
  std::set<double> seen;
  seen.insert(normal(a, 1, 2, 3));
  seen.insert(normal(b, 1, 2, 3));                 // seed
  seen.insert(normal(a, 2, 2, 3));                 // stream
  seen.insert(normal(a, 1, 3, 3));                 // neuron
  seen.insert(normal(a, 1, 2, 4));                 // step
  seen.insert(normal(a, 1, 2, 3 + (1ull << 32)));  // the step's high word is used too
  CHECK(seen.size() == 6);
}

TEST_CASE("uniform and normal moments") {
  // N = 1e6 independent draws. The bounds are 5 standard errors of each estimator, so a
  // correct generator fails with probability ~1e-6 per check, a biased one (e.g. a
  // Box-Muller with the wrong angle, or uniforms in [0, 0.5)) fails surely.
  const CounterRng rng{7};
  const int N = 1'000'000;
  double su = 0, su2 = 0, sn = 0, sn2 = 0, sn4 = 0;
  for (int k = 0; k < N; ++k) {
    const double u = uniform(rng, 9, 0, static_cast<std::uint64_t>(k));
    const double z = normal(rng, 9, 1, static_cast<std::uint64_t>(k));
    su += u;
    su2 += u * u;
    sn += z;
    sn2 += z * z;
    sn4 += z * z * z * z;
  }
  const double mu = su / N, vu = su2 / N - mu * mu;
  CHECK(std::fabs(mu - 0.5) < 5 * std::sqrt(1.0 / 12 / N));
  CHECK(std::fabs(vu - 1.0 / 12) < 5 * std::sqrt(1.0 / 180 / N));  // Var(u^2-ish) bound
  const double mn = sn / N, vn = sn2 / N;
  CHECK(std::fabs(mn) < 5 / std::sqrt(N));
  CHECK(std::fabs(vn - 1.0) < 5 * std::sqrt(2.0 / N));
  CHECK(std::fabs(sn4 / N - 3.0) < 5 * std::sqrt(96.0 / N));  // Var(z^4) = 105 - 9 = 96
}
