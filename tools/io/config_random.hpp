// Random numbers for values drawn in configs (per-neuron parameter distributions,
// encoders): portable and keyed by the key path, so the same config and seed give the
// same values on every machine and library version (std::normal_distribution promises
// neither), and adding a distribution elsewhere in a config does not shift this one.
#pragma once

#include <cmath>
#include <cstdint>
#include <string_view>

namespace ranvier::io {

class ConfigRandom {
 public:
  ConfigRandom(std::uint64_t seed, std::string_view key_path) : state_(seed ^ fnv1a(key_path)) {}
  std::uint64_t next() {  // SplitMix64
    std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }  // [0, 1)
  double normal() {  // Box-Muller; 1 - u keeps the logarithm finite
    const double u1 = 1.0 - uniform(), u2 = uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * M_PI * u2);
  }

 private:
  static std::uint64_t fnv1a(std::string_view s) {
    std::uint64_t h = 0xcbf29ce484222325ULL;
    for (unsigned char c : s) h = (h ^ c) * 0x100000001b3ULL;
    return h;
  }
  std::uint64_t state_;
};

}  // namespace ranvier::io
