// A fixed team of threads sharing out the chunks of a job: the data-parallel training
// step. Chunks are claimed dynamically, so when a worker is slow to wake or descheduled
// on a busy machine, the calling thread takes its chunk instead of waiting; chunk c
// always does the same work (replica c), so results do not depend on which thread ran
// it. Idle workers sleep in C++20 atomic waits (a futex after a short spin), not in
// OpenMP spin loops.
//
// The job's generation, chunk count and next chunk are one atomic word, claimed by
// compare-and-swap: a worker still looking for work of an earlier job can never claim
// a chunk of the next one.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <thread>
#include <vector>

namespace ranvier::mlp {

class Team {
 public:
  explicit Team(int size) {
    for (int r = 1; r < size; ++r)
      workers_.emplace_back([this] {
        std::uint32_t seen = 0;
        for (;;) {
          wake_.wait(seen);  // returns once wake_ != seen
          seen = wake_.load();
          if (stop_.load()) return;
          take_chunks();
        }
      });
  }
  ~Team() {
    stop_.store(true);
    wake_.fetch_add(1);
    wake_.notify_all();
    for (auto& w : workers_) w.join();
  }
  Team(const Team&) = delete;
  Team& operator=(const Team&) = delete;

  int size() const { return static_cast<int>(workers_.size()) + 1; }

  // Runs job(c) for c in [0, chunks), each exactly once, on the calling thread and the
  // workers; returns when all are done. chunks < 65536.
  void run(int chunks, const std::function<void(int)>& job) {
    if (workers_.empty() || chunks <= 1) {
      for (int c = 0; c < chunks; ++c) job(c);
      return;
    }
    job_.store(&job);
    done_.store(0);
    const std::uint64_t generation = (state_.load() >> 32) + 1;
    state_.store((generation << 32) | (static_cast<std::uint64_t>(chunks) << 16));
    wake_.fetch_add(1);
    wake_.notify_all();
    take_chunks();
    for (int d = done_.load(); d < chunks; d = done_.load()) done_.wait(d);
  }

 private:
  // Claims and runs chunks of the current job until none is left.
  void take_chunks() {
    std::uint64_t s = state_.load();
    for (;;) {
      const int chunks = static_cast<int>((s >> 16) & 0xffff);
      const int next = static_cast<int>(s & 0xffff);
      if (next >= chunks) return;
      if (!state_.compare_exchange_weak(s, s + 1)) continue;  // s reloaded
      // Claimed: the job cannot finish (nor be replaced) before this chunk is done.
      (*job_.load())(next);
      if (done_.fetch_add(1) + 1 == chunks) done_.notify_all();
      s = state_.load();
    }
  }

  std::vector<std::thread> workers_;
  std::atomic<std::uint64_t> state_{0};  // generation << 32 | chunks << 16 | next chunk
  std::atomic<const std::function<void(int)>*> job_{nullptr};
  std::atomic<int> done_{0};
  // Waits are on 32-bit words only: libstdc++ 12 waits on 64-bit atomics through a
  // shared proxy that can miss a notify (seen as a hang at the join).
  std::atomic<std::uint32_t> wake_{0};  // bumped for every job (and to stop)
  std::atomic<bool> stop_{false};
};

}  // namespace ranvier::mlp
