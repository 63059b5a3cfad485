// Each sub-command of `ranvier` lives in its own cmd_*.cpp and adds itself to the app
// here. A command's callback does its work and returns the process exit code through
// `Context::exit_code`; user errors are thrown as io::UserError (exit 2).
#pragma once

#include <CLI/CLI.hpp>

namespace ranvier::cli {

struct Context {
  bool quiet = false;  // --quiet: no progress lines
  int exit_code = 0;
};

void add_run_commands(CLI::App& app, Context& ctx);    // run, validate (cmd_run.cpp)
void add_info_commands(CLI::App& app, Context& ctx);   // info, models (cmd_info.cpp)
void add_tune_commands(CLI::App& app, Context& ctx);   // tune (cmd_tune.cpp)
void add_train_commands(CLI::App& app, Context& ctx);  // train, eval, predict, gradcheck (cmd_train.cpp)
void add_spike_eval_commands(CLI::App& app, Context& ctx);  // spike-eval (cmd_spike_eval.cpp)

}  // namespace ranvier::cli
