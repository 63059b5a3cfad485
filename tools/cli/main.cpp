// `ranvier`: the command-line program. Exit codes: 0 success, 1 a run that failed
// numerically (NaN, blow-up) or an internal error, 2 a usage, config, data or output
// error (the message says where and how to fix it), 130 interrupted.
#include <cstdio>
#include <cstdlib>
#include <exception>

#include <fmt/format.h>

#include "sim/spec.hpp"
#include "tools/cli/commands.hpp"
#include "tools/cli/interrupt.hpp"
#include "tools/io/errors.hpp"
#include "tools/io/h5.hpp"

int main(int argc, char** argv) {
  using namespace ranvier;
  CLI::App app{
      "Ranvier: spiking neurons (Hodgkin-Huxley, LIF) and rate networks.\n"
      "Simulations are described in YAML configs (see configs/README.md) and write HDF5."};
  app.set_version_flag("--version", std::string("ranvier ") + RANVIER_VERSION);
  app.require_subcommand(1);
  app.fallthrough();
  cli::install_interrupt_handlers();
  cli::Context ctx;
  app.add_flag("-q,--quiet", ctx.quiet, "No progress lines on stderr");

  cli::add_run_commands(app, ctx);
  cli::add_info_commands(app, ctx);
  cli::add_tune_commands(app, ctx);
  cli::add_train_commands(app, ctx);
  cli::add_spike_eval_commands(app, ctx);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // CLI11's exit codes are not ours: --help and --version are success, the rest usage.
    const int code = app.exit(e);
    return code == 0 ? 0 : 2;
  } catch (const io::UserError& e) {
    fmt::print(stderr, "error: {}\n", e.what());
    // After a failed HDF5 write (disk full) the library crashes when it shuts down at exit
    // (1.10.8, closing the abandoned file again); the temporary file is already removed.
    if (io::h5::files_abandoned()) {
      std::fflush(nullptr);
      std::_Exit(2);
    }
    return 2;
  } catch (const sim::SpecError& e) {
    fmt::print(stderr, "error: {}: {}\n", e.key_path, e.what());
    return 2;
  } catch (const cli::Interrupted& e) {
    fmt::print(stderr, "\ninterrupted: {}\n", e.what());
    return 130;
  } catch (const sim::NumericalFault& e) {
    fmt::print(stderr, "error: {}\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    fmt::print(stderr, "internal error (please report it): {}\n", e.what());
    return 1;
  }
  return ctx.exit_code;
}
