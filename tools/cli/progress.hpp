// Progress of a long run on stderr: nothing for the first two seconds (short runs stay
// quiet; RANVIER_PROGRESS_DELAY=seconds changes that), then simulated time, wall time,
// speed and ETA. On a terminal one line is rewritten in place; otherwise (CI, a log
// file) a plain line at once and then every five seconds.
#pragma once

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include <fmt/format.h>

namespace ranvier::cli {

class Progress {
 public:
  Progress(std::string label, bool quiet)
      : label_(std::move(label)),
        quiet_(quiet),
        tty_(::isatty(STDERR_FILENO) != 0),
        delay_(delay_from_environment()),
        start_(Clock::now()),
        last_(start_) {}

  double elapsed() const { return seconds(Clock::now() - start_); }

  // `done` of `total` units (e.g. ms simulated, samples trained), `unit` names them.
  void update(double done, double total, const char* unit = "ms") {
    if (quiet_) return;
    const auto now = Clock::now();
    const double wall = seconds(now - start_);
    const double since = seconds(now - last_);
    if (wall < delay_ || (reported_ && since < (tty_ ? 0.25 : 5.0))) return;
    reported_ = true;
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
  static double delay_from_environment() {
    const char* text = std::getenv("RANVIER_PROGRESS_DELAY");
    char* end = nullptr;
    const double d = text ? std::strtod(text, &end) : 2.0;
    return text && end != text && d >= 0 ? d : 2.0;
  }
  static double seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }
  std::string label_;
  bool quiet_;
  bool tty_;
  bool shown_ = false;     // an in-place line is on the terminal
  bool reported_ = false;  // at least one line was printed
  double delay_;           // seconds before the first line
  Clock::time_point start_, last_;
};

}  // namespace ranvier::cli
