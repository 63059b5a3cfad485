// The options every config-driven command shares (run, validate, tune): the config
// file, --set overrides, --seed, and for commands that write, -o, --force, --threads.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

namespace ranvier::cli {

struct ConfigOptions {
  std::string config;
  std::vector<std::string> overrides;  // --set key.path=value
  std::optional<std::uint64_t> seed;
  std::string output;  // -o; empty: default_output()
  bool force = false;
  int threads = 1;

  // out/<config name>.h5, beside nothing the user named.
  std::string output_or_default() const {
    if (!output.empty()) return output;
    return (std::filesystem::path("out") / std::filesystem::path(config).stem()).string() + ".h5";
  }
};

// The config positional, --set and --seed; `example_key` shows a --set for this kind.
inline void add_config_options(CLI::App* cmd, ConfigOptions& o, const std::string& what,
                               const std::string& example_set) {
  cmd->add_option("config", o.config, what + " (YAML); the schema is in configs/README.md")
      ->required();
  cmd->add_option("--set", o.overrides,
                  "Override a config key: --set " + example_set +
                      " (repeatable; the value is YAML, with units as in the file)")
      ->take_all()
      ->allow_extra_args(false);
  cmd->add_option("--seed", o.seed, "Replace the config's seed");
}

// -o, --force and --threads, for commands that write a result file.
inline void add_output_options(CLI::App* cmd, ConfigOptions& o) {
  cmd->add_option("-o,--output", o.output, "Result file (HDF5); default out/<config name>.h5");
  cmd->add_flag("-f,--force", o.force, "Overwrite the result file if it exists");
  cmd->add_option("-j,--threads", o.threads, "Threads (OpenMP); results do not depend on it")
      ->check(CLI::Range(1, 256));
}

}  // namespace ranvier::cli
