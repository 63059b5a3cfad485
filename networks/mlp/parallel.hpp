// A fixed team of threads that runs one job per member and waits for all of them: the
// data-parallel training step. Members block on a std::barrier (a futex after a short
// spin), so a busy machine slows the team down gracefully instead of burning the cores
// in spin-waits as an OpenMP team per matrix product does.
#pragma once

#include <barrier>
#include <functional>
#include <thread>
#include <vector>

namespace ranvier::mlp {

class Team {
 public:
  explicit Team(int size) : start_(size), done_(size) {
    for (int r = 1; r < size; ++r)
      workers_.emplace_back([this, r] {
        for (;;) {
          start_.arrive_and_wait();
          if (stop_) return;
          (*job_)(r);
          done_.arrive_and_wait();
        }
      });
  }
  ~Team() {
    stop_ = true;
    if (!workers_.empty()) start_.arrive_and_wait();
    for (auto& w : workers_) w.join();
  }
  Team(const Team&) = delete;
  Team& operator=(const Team&) = delete;

  int size() const { return static_cast<int>(workers_.size()) + 1; }
  // Runs job(0) on the calling thread and job(r) on worker r, returns when all are done.
  void run(const std::function<void(int)>& job) {
    if (workers_.empty()) {
      job(0);
      return;
    }
    job_ = &job;
    start_.arrive_and_wait();
    job(0);
    done_.arrive_and_wait();
  }

 private:
  std::barrier<> start_, done_;
  std::vector<std::thread> workers_;
  const std::function<void(int)>* job_ = nullptr;
  bool stop_ = false;
};

}  // namespace ranvier::mlp
