#include "sim/spike_sources.hpp"

#include <algorithm>
#include <cmath>

#include "sim/random.hpp"

namespace ranvier::sim {

std::int64_t stamp_step(double t, double dt) {
  return static_cast<std::int64_t>(std::ceil(t / dt - 1e-9));
}

SpikeSourceGroup::SpikeSourceGroup(const SpikeSourceSpec& s, std::uint64_t seed, std::size_t index,
                                   double dt)
    : kind_(s.kind),
      n_(s.size),
      dt_(dt),
      stop_(s.stop),
      seed_(seed),
      stream_(kSourceStreamBase + static_cast<std::uint32_t>(index)) {
  if (kind_ == SpikeSourceSpec::Kind::poisson) {
    rate_.resize(n_);
    next_.resize(n_);
    next_step_.resize(n_);
    drawn_.assign(n_, 0);
    for (std::size_t i = 0; i < n_; ++i) {
      rate_[i] = (s.rate_hz.size() == 1 ? s.rate_hz[0] : s.rate_hz[i]) * 1e-3;  // Hz -> 1/ms
      next_[i] = s.start + draw_interval(static_cast<std::uint32_t>(i));
      next_step_[i] = next_[i] < stop_ ? stamp_step(next_[i], dt_) : INT64_MAX;
    }
  } else {
    steps_.resize(n_);
    pos_.assign(n_, 0);
    for (std::size_t i = 0; i < n_; ++i) {
      const auto& t = s.times.size() == 1 ? s.times[0] : s.times[i];
      for (double x : t) steps_[i].push_back(std::max<std::int64_t>(0, stamp_step(x, dt_)));
      std::sort(steps_[i].begin(), steps_[i].end());
    }
  }
}

double SpikeSourceGroup::draw_interval(std::uint32_t i) {
  if (!(rate_[i] > 0)) return 1e300;
  const auto b = CounterRng{seed_}.bits(stream_, i, drawn_[i]++);
  return -std::log(uniform_open01(b[0], b[1])) / rate_[i];
}

void SpikeSourceGroup::emit(std::size_t k, std::vector<SourceSpike>& out) {
  const auto step = static_cast<std::int64_t>(k);
  if (kind_ == SpikeSourceSpec::Kind::poisson) {
    for (std::size_t i = 0; i < n_; ++i) {
      if (next_step_[i] > step) continue;  // the common case: one compare per source
      std::uint32_t c = 0;
      while (next_step_[i] <= step) {
        ++c;
        next_[i] += draw_interval(static_cast<std::uint32_t>(i));
        next_step_[i] = next_[i] < stop_ ? stamp_step(next_[i], dt_) : INT64_MAX;
      }
      out.push_back({static_cast<std::uint32_t>(i), c});
    }
    return;
  }
  for (std::size_t i = 0; i < n_; ++i) {
    std::uint32_t c = 0;
    while (pos_[i] < steps_[i].size() && steps_[i][pos_[i]] <= step) {
      ++c;
      ++pos_[i];
    }
    if (c) out.push_back({static_cast<std::uint32_t>(i), c});
  }
}

}  // namespace ranvier::sim
