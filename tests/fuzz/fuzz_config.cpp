// Fuzz target: YAML text through the path `ranvier validate`, `tune` and `train` take
// before any work: parse (with --set overrides), read the typed config with its units,
// then the engine's own validation.
// Input: the first byte picks the kind ('0' run, '1' tune, '2' train: its value mod 3);
// leading lines "#set key=value" become --set overrides; the rest is the config.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "sim/simulation.hpp"
#include "tests/fuzz/fuzz_support.hpp"
#include "tools/io/config.hpp"
#include "tools/io/run_config.hpp"
#include "tools/io/train_config.hpp"
#include "tools/io/tune_config.hpp"

using namespace ranvier;

namespace {

void check_run(const io::ConfigDocument& doc) {
  io::RunConfig cfg = io::read_run_config(doc);
  try {
    sim::validate(cfg.spec);
  } catch (const sim::SpecError& e) {
    throw cfg.locate(e);
  }
}

void check_tune(const io::ConfigDocument& doc) {
  io::TuneConfig tc = io::read_tune_config(doc);
  sim::RunSpec check;  // as cmd_tune's validate_populations
  check.dt = tc.settings.dt;
  check.duration = tc.settings.duration;
  check.populations = tc.base.spec.populations;
  try {
    sim::validate(check);
  } catch (const sim::SpecError& e) {
    throw tc.base.locate(e);
  }
}

void check_train(const io::ConfigDocument& doc) {
  io::TrainConfig cfg = io::parse_train_config(doc);
  (void)cfg;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const int kind = data[0] % 3;
  std::string text(reinterpret_cast<const char*>(data + 1), size - 1);
  std::vector<std::string> overrides;
  while (text.rfind("#set ", 0) == 0) {
    const std::size_t eol = text.find('\n');
    overrides.push_back(text.substr(5, eol == std::string::npos ? std::string::npos : eol - 5));
    text.erase(0, eol == std::string::npos ? text.size() : eol + 1);
  }
  fuzz::expect_user_errors_only([&] {
    const io::ConfigDocument doc = io::parse_config(text, "fuzz.yaml", overrides);
    if (kind == 0) check_run(doc);
    if (kind == 1) check_tune(doc);
    if (kind == 2) check_train(doc);
  });
  return 0;
}
