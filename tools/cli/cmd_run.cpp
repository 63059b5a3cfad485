// `ranvier run` and `ranvier validate`: a run config in, an HDF5 result out.
#include <cmath>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "sim/simulation.hpp"
#include "tools/cli/commands.hpp"
#include "tools/cli/config_options.hpp"
#include "tools/cli/interrupt.hpp"
#include "tools/cli/output_notes.hpp"
#include "tools/cli/progress.hpp"
#include "tools/io/config.hpp"
#include "tools/io/errors.hpp"
#include "tools/io/output_file.hpp"
#include "tools/io/run_config.hpp"
#include "tools/io/run_writer.hpp"

namespace ranvier::cli {

namespace {

// Reads, lowers and validates: every error here is the user's, with file:line:column.
std::pair<io::ConfigDocument, io::RunConfig> load(const ConfigOptions& o) {
  io::ConfigDocument doc = io::load_config(o.config, o.overrides);
  io::RunConfig cfg = io::read_run_config(doc, o.seed);
  try {
    sim::validate(cfg.spec);
  } catch (const sim::SpecError& e) {
    throw cfg.locate(e);
  }
  return {std::move(doc), std::move(cfg)};
}

std::size_t total_neurons(const sim::RunSpec& spec) {
  std::size_t n = 0;
  for (const auto& p : spec.populations) n += p.size;
  return n;
}

// Said in every error after the output file was reserved: the user's file is untouched.
std::string untouched(const std::string& output, bool existed) {
  return existed ? fmt::format("the earlier '{}' is unchanged", output)
                 : fmt::format("nothing was written to '{}'", output);
}

// Ctrl-C or SIGTERM in a run: what was simulated so far is a valid result over a shorter
// time (every stream is whole up to `reached`), so it is kept under another name, marked
// complete = 0, rather than thrown away after maybe hours. Throws Interrupted saying so.
[[noreturn]] void stop_keeping_partial(io::OutputFile& out, io::RunWriter& writer, double elapsed,
                                       double reached, double duration, bool existed) {
  std::string kept;
  try {
    writer.finish(elapsed, reached);
    const std::string partial = io::partial_path(out.path());
    std::string why_not;
    if (out.commit_as(partial, why_not))
      kept = fmt::format(
          "what was simulated is kept in '{}' (root attributes complete = 0, "
          "simulated_until = {:.10g} ms)",
          partial, reached);
    else
      kept = "the partial result was not kept: " + why_not;
  } catch (const io::OutputError& e) {
    kept = fmt::format("the partial result was not kept: {}", e.what());
  }
  throw Interrupted(fmt::format("{} at t = {:.10g} ms of {:.10g} ms; {}; {}", signal_description(),
                                reached, duration, kept, untouched(out.path(), existed)));
}

void run(const ConfigOptions& o, Context& ctx) {
  auto [doc, cfg] = load(o);
  const std::string output = o.output_or_default();
  const bool existed = std::filesystem::exists(output);
  io::OutputFile out(output, o.force);  // refuses before the run, not after it
  report_stale_temporaries(out, ctx.quiet);

  sim::Simulation simulation(cfg.spec, sim::RunOptions{o.threads});
  io::h5::RootInfo root{"run", doc.text, o.config, cfg.spec.seed};
  Progress progress("run", ctx.quiet);
  std::optional<io::RunWriter> writer;
  try {
    writer.emplace(out.temp_path(), cfg, root);
    double reached = 0.0;  // ms: every step before it is in the writer
    try {
      simulation.run(*writer, [&](double t, double t_end) {
        reached = t;
        progress.update(t, t_end);
        if (t < t_end) throw_if_interrupted("");
      });
    } catch (const Interrupted&) {
      progress.finish();
      stop_keeping_partial(out, *writer, progress.elapsed(), reached, cfg.spec.duration, existed);
    }
    progress.finish();
    writer->finish(progress.elapsed());
  } catch (const H5::Exception& e) {
    progress.finish();
    throw io::OutputError(fmt::format("{}; {}", io::h5::explain(e, out.temp_path(), "write"),
                                      untouched(output, existed)));
  } catch (const io::OutputError& e) {
    progress.finish();
    throw io::OutputError(fmt::format("{}; {}", e.what(), untouched(output, existed)));
  } catch (const sim::NumericalFault&) {
    progress.finish();
    throw;  // main prints it; the temporary is removed by `out`
  }
  out.commit();
  if (!ctx.quiet) {
    std::uint64_t spikes = 0;
    for (std::size_t p = 0; p < cfg.spec.populations.size(); ++p) spikes += writer->spike_count(p);
    const double rate = static_cast<double>(spikes) /
                        (static_cast<double>(total_neurons(cfg.spec)) * cfg.spec.duration * 1e-3);
    fmt::print(stderr,
               "wrote {}: {} ms simulated in {:.3f} s wall, {} neurons, {} spikes ({:.3g} Hz "
               "mean)\n",
               output, cfg.spec.duration, progress.elapsed(), total_neurons(cfg.spec), spikes,
               rate);
  }
}

void validate(const ConfigOptions& o) {
  auto [doc, cfg] = load(o);
  const sim::RunSpec& s = cfg.spec;
  fmt::print(
      "{}: valid: {} population(s), {} neurons, {} stimuli, {} trace(s); {} steps of {} ms "
      "({} ms), seed {}\n",
      o.config, s.populations.size(), total_neurons(s), s.stimuli.size(), s.traces.size(),
      static_cast<long long>(std::llround(s.duration / s.dt)), s.dt, s.duration, s.seed);
}

}  // namespace

void add_run_commands(CLI::App& app, Context& ctx) {
  auto opts = std::make_shared<ConfigOptions>();
  CLI::App* run_cmd =
      app.add_subcommand("run", "Run a simulation config and write its spikes and traces to HDF5");
  add_config_options(run_cmd, *opts, "Run config", "populations.lif.params.tau_ref=\"1 ms\"");
  add_output_options(run_cmd, *opts);
  run_cmd->footer(
      "Example:\n  ranvier run configs/hh_step.yaml -o out/hh_step.h5\n"
      "  ranvier run configs/lif.yaml --set populations.lif.params.tau_ref=\"1 ms\" --force\n"
      "Output: written to a hidden temporary file beside the output and renamed onto it when "
      "the run is done, so the output is never a partial file (kill -9 leaves only the "
      "temporary, which the next run to the same output removes). Ctrl-C or SIGTERM stops the "
      "run and keeps what was simulated as <name>.partial.h5 (out/run.h5 -> "
      "out/run.partial.h5, root attribute complete = 0).\n"
      "Exit codes: 0 done, 1 the run failed numerically (NaN, blow-up), 2 a config or output "
      "error (disk full, directory not writable, file locked), 130 stopped by Ctrl-C/SIGTERM.");
  run_cmd->callback([opts, &ctx] { run(*opts, ctx); });

  auto vopts = std::make_shared<ConfigOptions>();
  CLI::App* validate_cmd =
      app.add_subcommand("validate", "Check a run config (keys, units, values) without running it");
  add_config_options(validate_cmd, *vopts, "Run config", "populations.lif.size=20");
  validate_cmd->callback([vopts] { validate(*vopts); });
}

}  // namespace ranvier::cli
