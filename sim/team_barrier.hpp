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

}  // namespace ranvier::sim::detail
