// A fixed team of threads sharing out the chunks of a job: the data-parallel training
// step. Chunks are taken dynamically (an atomic counter), so when a worker is slow to
// wake or descheduled on a busy machine, the calling thread takes its chunk instead of
// waiting; chunk c always does the same work (replica c), so results do not depend on
// which thread ran it. Idle workers sleep in C++20 atomic waits (a futex after a short
// spin), not in OpenMP spin loops.
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
        std::uint64_t seen = 0;
        for (;;) {
          generation_.wait(seen);
          seen = generation_.load();
          if (stop_.load()) return;
          take_chunks();
        }
      });
  }
  ~Team() {
    stop_.store(true);
    generation_.fetch_add(1);
    generation_.notify_all();
    for (auto& w : workers_) w.join();
  }
  Team(const Team&) = delete;
  Team& operator=(const Team&) = delete;

  int size() const { return static_cast<int>(workers_.size()) + 1; }

  // Runs job(c) for c in [0, chunks), each exactly once, on the calling thread and the
  // workers; returns when all are done.
  void run(int chunks, const std::function<void(int)>& job) {
    if (workers_.empty() || chunks <= 1) {
      for (int c = 0; c < chunks; ++c) job(c);
      return;
    }
    job_.store(&job);
    chunks_.store(chunks);
    done_.store(0);
    next_.store(0);
    generation_.fetch_add(1);
    generation_.notify_all();
    take_chunks();
    for (int d = done_.load(); d < chunks; d = done_.load()) done_.wait(d);
  }

 private:
  void take_chunks() {
    const std::function<void(int)>* job = job_.load();
    const int chunks = chunks_.load();
    for (int c = next_.fetch_add(1); c < chunks; c = next_.fetch_add(1)) {
      (*job)(c);
      if (done_.fetch_add(1) + 1 == chunks) done_.notify_all();
    }
  }

  std::vector<std::thread> workers_;
  std::atomic<std::uint64_t> generation_{0};
  std::atomic<const std::function<void(int)>*> job_{nullptr};
  std::atomic<int> chunks_{0}, next_{0}, done_{0};
  std::atomic<bool> stop_{false};
};

}  // namespace ranvier::mlp
