// Progress of a long run on stderr: nothing for the first two seconds (short runs stay
// quiet), then simulated time, wall time, speed and ETA. On a terminal one line is
// rewritten in place; otherwise (CI, a log file) a plain line every few seconds.
#pragma once

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <string>

#include <fmt/format.h>

namespace ranvier::cli {

class Progress {
 public:
  Progress(std::string label, bool quiet)
      : label_(std::move(label)),
        quiet_(quiet),
        tty_(::isatty(STDERR_FILENO) != 0),
        start_(Clock::now()),
        last_(start_) {}

  double elapsed() const { return seconds(Clock::now() - start_); }

  // `done` of `total` units (e.g. ms simulated, samples trained), `unit` names them.
  void update(double done, double total, const char* unit = "ms") {
    if (quiet_) return;
    const auto now = Clock::now();
    const double wall = seconds(now - start_);
    const double since = seconds(now - last_);
    if (wall < 2.0 || since < (tty_ ? 0.25 : 5.0)) return;
    last_ = now;
    const double speed = done / wall;
    const double eta = speed > 0 ? (total - done) / speed : 0.0;
    const std::string line =
        fmt::format("{}: {:.1f} / {:.1f} {} ({:.0f}%), {:.1f} s wall, {:.3g} {}/s, ETA {:.1f} s",
                    label_, done, total, unit, 100.0 * done / total, wall, speed, unit, eta);
    if (tty_) {
      fmt::print(stderr, "\r{}\033[K", line);
      shown_ = true;
    } else {
      fmt::print(stderr, "{}\n", line);
    }
  }

  // Clears the in-place line so the next message starts clean.
  void finish() {
    if (tty_ && shown_) fmt::print(stderr, "\r\033[K");
    shown_ = false;
  }

 private:
  using Clock = std::chrono::steady_clock;
  static double seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }
  std::string label_;
  bool quiet_;
  bool tty_;
  bool shown_ = false;
  Clock::time_point start_, last_;
};

}  // namespace ranvier::cli
