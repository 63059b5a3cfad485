// Spike sources: Poisson generators and explicit spike times, as per-step spike counts.
// A spike at time t is stamped at step ceil(t / dt) (times within 1e-9 steps of the grid
// count as on it), i.e. a source spike is never delivered early.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "sim/spec.hpp"

namespace ranvier::sim {

// Stream ids of spike sources (Philox counter word 3): kSourceStreamBase + source index.
inline constexpr std::uint32_t kSourceStreamBase = 0x2000u;

struct SourceSpike {
  std::uint32_t neuron;  // index within the source
  std::uint32_t count;   // spikes stamped at this step (a Poisson train may put two in one)
};

// Grid step of a spike time: ceil(t / dt), tolerant of rounding in t / dt.
std::int64_t stamp_step(double t, double dt);

class SpikeSourceGroup {
 public:
  // `index` is the source's position in RunSpec::sources (it picks the random stream).
  SpikeSourceGroup(const SpikeSourceSpec&, std::uint64_t seed, std::size_t index, double dt);
  std::size_t size() const { return n_; }
  // Appends the spikes stamped at step k (in neuron order). Steps must be asked in order
  // 0, 1, 2, ...; spikes stamped before step 0 are emitted at step 0.
  void emit(std::size_t k, std::vector<SourceSpike>& out);

 private:
  double draw_interval(std::uint32_t i);  // ms, exponential with the source's rate

  SpikeSourceSpec::Kind kind_;
  std::size_t n_;
  double dt_, stop_;
  std::uint64_t seed_;
  std::uint32_t stream_;
  std::vector<double> rate_;                      // poisson [1/ms]
  std::vector<double> next_;                      // poisson: time of the next spike [ms]
  std::vector<std::int64_t> next_step_;           // its stamp, cached
  std::vector<std::uint64_t> drawn_;              // poisson: intervals drawn so far per source
  std::vector<std::vector<std::int64_t>> steps_;  // spike_times: stamps per source, sorted
  std::vector<std::size_t> pos_;                  // spike_times: next unread stamp
};

}  // namespace ranvier::sim
