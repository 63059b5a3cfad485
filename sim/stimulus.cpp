#include "sim/stimulus.hpp"

#include <cmath>
#include <numbers>
#include <numeric>

namespace ranvier::sim {

std::vector<double> broadcast(const std::vector<double>& v, std::size_t n) {
  if (v.size() == n) return v;
  return std::vector<double>(n, v.empty() ? 0.0 : v.front());
}

Stimuli::Stimuli(const RunSpec& spec) : dt_(spec.dt), rng_{spec.seed} {
  for (std::size_t si = 0; si < spec.stimuli.size(); ++si) {
    const StimulusSpec& s = spec.stimuli[si];
    Lowered l;
    l.kind = s.kind;
    for (std::size_t p = 0; p < spec.populations.size(); ++p)
      if (spec.populations[p].name == s.target) l.pop = p;
    l.stream = kStimulusStreamBase + static_cast<std::uint32_t>(si);
    l.neurons = s.neurons;
    l.all = l.neurons.empty();
    if (l.all) {
      l.neurons.resize(spec.populations[l.pop].size);
      std::iota(l.neurons.begin(), l.neurons.end(), 0u);
    }
    const std::size_t n = l.neurons.size();
    l.start = s.start;
    l.stop = s.stop;
    l.values = broadcast(s.values, n);
    l.times = s.times;
    for (const auto& pv : s.step_values) l.points.push_back(broadcast(pv, n));
    l.amplitude = broadcast(s.amplitude, n);
    l.frequency_hz = broadcast(s.frequency_hz, n);
    l.phase = broadcast(s.phase, n);
    l.offset = broadcast(s.offset, n);
    l.mean = broadcast(s.mean, n);
    l.sigma = broadcast(s.sigma, n);
    if (s.kind == StimulusSpec::Kind::ornstein_uhlenbeck) {
      // Exact OU update over dt: x' = mu + (x - mu) e^{-dt/tau} + sigma sqrt(1 - e^{-2dt/tau}) N.
      l.decay = std::exp(-spec.dt / s.tau);
      l.kick = std::sqrt(-std::expm1(-2.0 * spec.dt / s.tau));
      l.ou.resize(n);
    }
    stim_.push_back(std::move(l));
  }
}

double Stimuli::value(Lowered& s, std::size_t j, std::uint64_t k, double t) const {
  using K = StimulusSpec::Kind;
  const double eps = 1e-9 * dt_;  // grid times are k*dt; allow for its rounding
  switch (s.kind) {
    case K::constant:
      return s.values[j];
    case K::steps: {
      double v = 0.0;  // zero before the first time
      for (std::size_t q = 0; q < s.times.size() && s.times[q] <= t + eps; ++q) v = s.points[q][j];
      return v;
    }
    case K::ramp: {
      const auto& T = s.times;
      if (t <= T.front()) return s.points.front()[j];
      if (t >= T.back()) return s.points.back()[j];
      std::size_t q = 1;
      while (T[q] < t) ++q;
      const double w = (t - T[q - 1]) / (T[q] - T[q - 1]);
      return s.points[q - 1][j] + w * (s.points[q][j] - s.points[q - 1][j]);
    }
    case K::sine:
      return s.offset[j] +
             s.amplitude[j] *
                 std::sin(2.0 * std::numbers::pi * s.frequency_hz[j] * t / 1000.0 + s.phase[j]);
    case K::white_noise:
      return s.mean[j] + s.sigma[j] * normal(rng_, s.stream, s.neurons[j], k);
    case K::ornstein_uhlenbeck:
      return s.ou[j];
  }
  return 0.0;
}

void Stimuli::add(std::uint64_t k, std::vector<std::vector<double>>& inputs) {
  const double t = static_cast<double>(k) * dt_;
  const double eps = 1e-9 * dt_;
  for (auto& s : stim_) {
    if (s.kind == StimulusSpec::Kind::ornstein_uhlenbeck) {
      // The process runs from t = 0 whatever the window, starting from its stationary law.
      for (std::size_t j = 0; j < s.neurons.size(); ++j) {
        const double z = normal(rng_, s.stream, s.neurons[j], k);
        s.ou[j] = k == 0 ? s.mean[j] + s.sigma[j] * z
                         : s.mean[j] + (s.ou[j] - s.mean[j]) * s.decay + s.sigma[j] * s.kick * z;
      }
    }
    if (t < s.start - eps || t >= s.stop - eps) continue;
    double* in = inputs[s.pop].data();
    const std::uint32_t* idx = s.neurons.data();
    const std::size_t n = s.neurons.size();
    if (s.kind == StimulusSpec::Kind::constant && s.all) {  // the common case: contiguous
      const double* v = s.values.data();
#pragma omp simd
      for (std::size_t j = 0; j < n; ++j) in[j] += v[j];
    } else if (s.kind == StimulusSpec::Kind::constant) {
      for (std::size_t j = 0; j < n; ++j) in[idx[j]] += s.values[j];
    } else {
      for (std::size_t j = 0; j < n; ++j) in[idx[j]] += value(s, j, k, t);
    }
  }
}

}  // namespace ranvier::sim
