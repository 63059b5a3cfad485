// Ctrl-C (SIGINT) and SIGTERM during a long command: the handler only sets a flag; the
// command polls `interrupted()` where it can stop cleanly (between steps of a run,
// between batches of training), saves what must survive (training writes a checkpoint),
// removes its temporary output and throws `Interrupted`, which main turns into exit
// code 130 (128 + SIGINT, as shells report it). A second Ctrl-C while stopping gets the
// default action, so a hung stop can still be killed.
#pragma once

#include <stdexcept>
#include <string>

namespace ranvier::cli {

// Thrown by a command that stopped on request; `what()` says what was kept.
struct Interrupted : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Installs the SIGINT and SIGTERM handlers (idempotent). Called once by main.
void install_interrupt_handlers();

// True once SIGINT or SIGTERM has arrived.
bool interrupted();

// Which signal arrived (SIGINT or SIGTERM), 0 if none.
int interrupt_signal();

// "stopped by Ctrl-C (SIGINT)" or "stopped by SIGTERM", for the message of Interrupted.
std::string signal_description();

// Throws Interrupted(message) if a signal has arrived.
void throw_if_interrupted(const std::string& message);

}  // namespace ranvier::cli
