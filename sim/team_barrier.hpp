// The barrier of Simulation's team loop: two per step, 20000 in a second of CUBA at dt =
// 0.1 ms, so its cost decides whether a second thread pays.
//
// A waiting thread spins for a bounded time, then sleeps on a futex (C++20 atomic wait).
// libgomp's `#pragma omp barrier` spins for about 300000 iterations before sleeping: on a
// quiet machine that is the fastest, but when other processes compete for the cores a
// spinning thread keeps the CPU from the very thread it waits for. Measured here (2 cores,
// load average ~5 from compilers, 20000 barriers around ~2 us of work each): libgomp's
// default 0.4-1.7 s, OMP_WAIT_POLICY=passive 0.18 s, this barrier with a 2-5 us spin
// 0.27-0.38 s and with a 100 us spin 3.2 s. Between steps of a run the partner usually
// arrives within a few microseconds, so a short spin catches it without sleeping.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <vector>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace ranvier::sim::detail {

class TeamBarrier {
 public:
  explicit TeamBarrier(unsigned threads, std::chrono::nanoseconds spin = kDefaultSpin)
      : threads_(threads), spin_(spin) {}

  // Returns once all `threads` threads have called wait(). Everything a thread wrote
  // before its call is visible to every thread after it (release/acquire on generation_).
  void wait() {
    const unsigned gen = generation_.load(std::memory_order_acquire);
    if (arrived_.fetch_add(1, std::memory_order_acq_rel) + 1 == threads_) {
      arrived_.store(0, std::memory_order_relaxed);
      generation_.store(gen + 1, std::memory_order_release);
      generation_.notify_all();
      return;
    }
    const auto until = std::chrono::steady_clock::now() + spin_;
    for (unsigned i = 1;; ++i) {
      if (generation_.load(std::memory_order_acquire) != gen) return;
      relax();
      if (i % 32 == 0 && std::chrono::steady_clock::now() > until) break;
    }
    while (generation_.load(std::memory_order_acquire) == gen)
      generation_.wait(gen, std::memory_order_acquire);
  }

  static constexpr std::chrono::nanoseconds kDefaultSpin{20000};

 private:
  static void relax() {
#if defined(__x86_64__)
    _mm_pause();
#endif
  }

  const unsigned threads_;
  const std::chrono::nanoseconds spin_;
  alignas(64) std::atomic<unsigned> arrived_{0};
  alignas(64) std::atomic<unsigned> generation_{0};
};

// Point-to-point progress of a team instead of a barrier: each thread publishes how many
// steps of its part are done, and a thread waits only for the steps it needs next. The team
// loop in pairs (Simulation::run_team_pairs) needs the other parts' spikes of step k - 2
// before step k's arrivals and those of step k - 1 before step k + 1's, so a thread may
// start a pair while the others still finish the last one; with a barrier a pair, the
// threads met at the end of every pair and waited for the slower one, whose lead changed
// from pair to pair (CUBA at 64000 neurons: 15-40 ms a run in the barrier for each thread).
// Waiting spins as TeamBarrier does, then sleeps on a futex; publish() and stop() wake it.
class TeamProgress {
 public:
  explicit TeamProgress(std::size_t threads,
                        std::chrono::nanoseconds spin = TeamBarrier::kDefaultSpin)
      : done_(threads), spin_(spin) {}

  // Thread `part` has done its first `steps` steps: everything it wrote before is visible
  // to a thread whose wait_all for them returns.
  void publish(std::size_t part, std::uint64_t steps) {
    done_[part].steps.store(steps, std::memory_order_release);
    wake();
  }
  // Ends every wait, now and later, with false (an error on one thread).
  void stop() {
    stopped_.store(true, std::memory_order_release);
    wake();
  }
  bool stopped() const { return stopped_.load(std::memory_order_acquire); }

  // Returns true once every thread but `self` has published at least `steps` steps, or
  // false if stop() was called first.
  bool wait_all(std::uint64_t steps, std::size_t self) {
    const auto until = std::chrono::steady_clock::now() + spin_;
    bool sleep = false;
    for (unsigned i = 1;; ++i) {
      const unsigned seen = changes_.load(std::memory_order_acquire);  // before the checks
      if (stopped()) return false;
      if (all_done(steps, self)) return true;
      if (!sleep && i % 32 == 0) sleep = std::chrono::steady_clock::now() > until;
      if (sleep) {
        changes_.wait(seen, std::memory_order_acquire);  // until the next publish or stop
      } else {
#if defined(__x86_64__)
        _mm_pause();
#endif
      }
    }
  }

 private:
  bool all_done(std::uint64_t steps, std::size_t self) const {
    for (std::size_t q = 0; q < done_.size(); ++q)
      if (q != self && done_[q].steps.load(std::memory_order_acquire) < steps) return false;
    return true;
  }
  void wake() {
    changes_.fetch_add(1, std::memory_order_acq_rel);
    changes_.notify_all();
  }

  struct alignas(64) Counter {  // a line each: each thread writes only its own
    std::atomic<std::uint64_t> steps{0};
  };
  std::vector<Counter> done_;
  const std::chrono::nanoseconds spin_;
  alignas(64) std::atomic<unsigned> changes_{0};  // bumped by every publish and stop
  std::atomic<bool> stopped_{false};
};

}  // namespace ranvier::sim::detail
