// `ranvier tune`: tuning curves (rate against constant input) of LIF and HH populations,
// simulated on the engine and, for LIF, analytic; optionally for heterogeneous
// populations given by maximum rates and intercepts (Nengo's way).
#include <cmath>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "sim/simulation.hpp"
#include "sim/tuning.hpp"
#include "tools/cli/commands.hpp"
#include "tools/cli/config_options.hpp"
#include "tools/cli/interrupt.hpp"
#include "tools/cli/output_notes.hpp"
#include "tools/cli/progress.hpp"
#include "tools/io/config.hpp"
#include "tools/io/errors.hpp"
#include "tools/io/output_file.hpp"
#include "tools/io/tune_config.hpp"
#include "tools/io/tuning_file.hpp"

namespace ranvier::cli {

namespace {

// Every population checked by the engine's own validation before anything runs.
void validate_populations(const io::TuneConfig& tc) {
  sim::RunSpec check;
  check.dt = tc.settings.dt;
  check.duration = tc.settings.duration;
  check.populations = tc.base.spec.populations;
  try {
    sim::validate(check);
  } catch (const sim::SpecError& e) {
    throw tc.base.locate(e);
  }
}

// The sweep runs its points * n neurons as one population, so the engine's "neuron k"
// is neuron k % n at sweep point k / n: say that, with the input there.
sim::NumericalFault fault_at_sweep_point(const sim::NumericalFault& f, const io::TuneTarget& target,
                                         std::size_t n) {
  const std::size_t point = f.neuron / n, neuron = f.neuron % n;
  const std::string engine = fmt::format("population '{}' neuron {}", f.population, f.neuron);
  const std::string unit =
      target.input_units.empty() || target.input_units == "1" ? "" : " " + target.input_units;
  const std::string here = fmt::format(
      "population '{}' neuron {} at sweep point {} of {} ({} = {:g}{})", f.population, neuron,
      point, target.input.size(), target.encoding ? "x" : "input", target.input[point], unit);
  std::string message = f.what();
  if (message.compare(0, engine.size(), engine) == 0) message.replace(0, engine.size(), here);
  return sim::NumericalFault(message, f.t, f.population, neuron, f.variable);
}

void tune(const ConfigOptions& o, Context& ctx) {
  io::ConfigDocument doc = io::load_config(o.config, o.overrides);
  io::TuneConfig tc = io::read_tune_config(doc, o.seed);
  tc.settings.threads = o.threads;
  validate_populations(tc);
  const std::string output = o.output_or_default();
  const bool existed = std::filesystem::exists(output);
  io::OutputFile out(output, o.force);
  report_stale_temporaries(out, ctx.quiet);
  const std::string untouched = existed ? fmt::format("the earlier '{}' is unchanged", output)
                                        : fmt::format("nothing was written to '{}'", output);

  Progress progress("tune", ctx.quiet);
  // Ctrl-C/SIGTERM: every input point of a sweep runs at once in one simulation, so no
  // curve is finished before the end and nothing partial is worth keeping.
  std::string stage;
  const auto poll = [&](double t, double t_end) {
    progress.update(t, t_end);
    if (t < t_end && interrupted()) {
      progress.finish();
      throw Interrupted(
          fmt::format("{} while {} (at t = {:.10g} of {:.10g} ms); a tuning sweep runs all "
                      "its inputs at once, so no curve was finished and none is "
                      "kept; {}",
                      signal_description(), stage, t, t_end, untouched));
    }
  };
  std::vector<io::TuningResult> results;
  for (const io::TuneTarget& target : tc.targets) {
    const sim::PopulationSpec& pop = tc.base.spec.populations[target.population];
    const std::size_t n = pop.size, points = target.input.size();
    io::TuningResult r;
    std::vector<double> J(points * n);
    if (target.encoding) {
      try {
        stage = fmt::format("searching the gains and biases of '{}'", pop.name);
        r.gain_bias = sim::solve_gain_bias(pop, *target.encoding, tc.settings, poll);
      } catch (const std::domain_error& e) {
        const std::string key = fmt::format("encoding.{}", pop.name);
        throw io::ConfigError(tc.base.locations.count(key) ? tc.base.locations.at(key) : o.config,
                              key, fmt::format("population '{}': {}", pop.name, e.what()));
      }
      J = sim::encoded_inputs(*target.encoding, *r.gain_bias, target.input);
    } else {
      for (std::size_t p = 0; p < points; ++p)
        for (std::size_t i = 0; i < n; ++i) J[p * n + i] = target.input[p];
    }
    stage = fmt::format("sweeping '{}'", pop.name);
    if (tc.simulated) {
      try {
        r.rate = sim::simulate_rates(pop, J, points, tc.settings, poll);
      } catch (const sim::NumericalFault& f) {
        progress.finish();
        throw fault_at_sweep_point(f, target, n);
      }
    }
    if (tc.analytic) r.rate_analytic = sim::analytic_lif_rates(pop, J, points);
    progress.finish();
    if (!ctx.quiet)
      fmt::print(stderr, "tuned '{}': {} neurons x {} inputs{}\n", pop.name, n, points,
                 tc.simulated ? fmt::format(", {} ms each", tc.settings.duration) : "");
    results.push_back(std::move(r));
  }
  io::h5::RootInfo root{"tuning", doc.text, o.config, tc.settings.seed};
  try {
    io::write_tuning_file(out.temp_path(), tc, results, root);
  } catch (const io::OutputError& e) {
    throw io::OutputError(fmt::format("{}; {}", e.what(), untouched));
  }
  out.commit();
  if (!ctx.quiet) fmt::print(stderr, "wrote {} in {:.3f} s\n", output, progress.elapsed());
}

}  // namespace

void add_tune_commands(CLI::App& app, Context& ctx) {
  auto o = std::make_shared<ConfigOptions>();
  CLI::App* cmd = app.add_subcommand(
      "tune", "Tuning curves: firing rate against constant input, simulated and/or analytic");
  add_config_options(cmd, *o, "Tuning config", "sweep.input.points=50");
  add_output_options(cmd, *o);
  cmd->footer(
      "Example:\n  ranvier tune configs/lif_tuning.yaml -o out/lif_tuning.h5\n"
      "  /usr/bin/python3 tools/plot_tuning.py out/lif_tuning.h5 -o out/lif_tuning.png\n"
      "Output: written to a hidden temporary file beside the output and renamed onto it at "
      "the end, so the output is never a partial file. Ctrl-C or SIGTERM stops the sweep and "
      "keeps nothing.\n"
      "Exit codes: 0 done, 1 the sweep failed numerically (NaN, blow-up), 2 a config or "
      "output error, 130 stopped by Ctrl-C/SIGTERM.");
  cmd->callback([o, &ctx] { tune(*o, ctx); });
}

}  // namespace ranvier::cli
