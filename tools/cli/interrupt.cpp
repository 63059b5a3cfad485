#include "tools/cli/interrupt.hpp"

#include <signal.h>

#include <csignal>

namespace ranvier::cli {

namespace {

volatile std::sig_atomic_t g_signal = 0;

extern "C" void on_signal(int sig) {
  g_signal = sig;
  // The next one of the same kind kills: the user asked twice.
  std::signal(sig, SIG_DFL);
}

}  // namespace

void install_interrupt_handlers() {
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // no SA_RESTART: a blocking read returns EINTR instead of waiting on
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

bool interrupted() {
  return g_signal != 0;
}

int interrupt_signal() {
  return static_cast<int>(g_signal);
}

std::string signal_description() {
  return interrupt_signal() == SIGTERM ? "stopped by SIGTERM" : "stopped by Ctrl-C (SIGINT)";
}

void throw_if_interrupted(const std::string& message) {
  if (interrupted()) throw Interrupted(message);
}

}  // namespace ranvier::cli
