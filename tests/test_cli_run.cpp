// `ranvier run` and friends, driven as a user drives them: bad input gets exit code 2
// (1 for a numerical blow-up), a message naming where and what, and no output file.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

#include "support/cli.hpp"

using namespace ranvier::test;
namespace fs = std::filesystem;

namespace {

void write(const fs::path& p, const std::string& text) {
  std::ofstream(p) << text;
}

const char* kGood = R"(dt: 0.1 ms
duration: 50 ms
populations:
  lif:
    model: lif
    size: 2
stimuli:
  drive: {target: lif, type: constant, value: [1.5, 3]}
)";

// Runs `ranvier run cfg.yaml -o out/result.h5` on the given config text in a fresh
// directory; the config sits beside, so only the output directory is checked for leftovers.
struct Case {
  fs::path dir;
  ProgramResult result;
  bool output_exists() const { return fs::exists(dir / "out" / "result.h5"); }
  int files_in_out() const { return fs::exists(dir / "out") ? count_files(dir / "out") : 0; }
};

Case run_config(const std::string& name, const std::string& yaml, const std::string& extra = "") {
  Case c{scratch(name), {}};
  write(c.dir / "cfg.yaml", yaml);
  c.result = run_ranvier("run cfg.yaml -o out/result.h5 " + extra, c.dir);
  return c;
}

}  // namespace

TEST_CASE("a good config runs and writes its result") {
  Case c = run_config("good", kGood);
  CHECK(c.result.exit_code == 0);
  CHECK(c.output_exists());
  CHECK(c.files_in_out() == 1);  // no temporary left beside it
  CHECK(c.result.err.find("wrote out/result.h5") != std::string::npos);
}

TEST_CASE("YAML syntax error: exit 2, file:line:column, no output") {
  Case c = run_config("yaml_syntax", "dt: 0.1 ms\nduration: [50 ms\npopulations: {}\n");
  CHECK(c.result.exit_code == 2);
  CHECK(c.result.err.find("cfg.yaml:") != std::string::npos);
  CHECK(c.result.err.find("YAML syntax error") != std::string::npos);
  CHECK(c.files_in_out() == 0);
}

TEST_CASE("unknown key: exit 2, its line, the key path and a did-you-mean") {
  Case c = run_config("unknown_key", std::string(kGood) + "recrod: {spikes: all}\n");
  CHECK(c.result.exit_code == 2);
  CHECK(c.result.err.find("cfg.yaml:9:1") != std::string::npos);
  CHECK(c.result.err.find("did you mean 'record'") != std::string::npos);
  CHECK(c.files_in_out() == 0);
}

TEST_CASE("wrong dimension: exit 2 naming the key and both dimensions") {
  Case c = run_config("wrong_dimension", kGood,
                      "--set populations.lif.params.tau_m=\"20 mV\"");
  CHECK(c.result.exit_code == 2);
  CHECK(c.result.err.find("populations.lif.params.tau_m") != std::string::npos);
  CHECK(c.result.err.find("voltage") != std::string::npos);
  CHECK(c.result.err.find("time") != std::string::npos);
  CHECK(c.files_in_out() == 0);
}

TEST_CASE("zero or negative time constant: exit 2 with the rule and the line") {
  for (const char* tau : {"0 ms", "-5 ms"}) {
    Case c = run_config("bad_tau", std::string("duration: 50 ms\npopulations:\n  lif:\n"
                                               "    model: lif\n    params:\n      tau_m: ") +
                                       tau + "\n");
    CHECK(c.result.exit_code == 2);
    CHECK(c.result.err.find("cfg.yaml:6:14") != std::string::npos);
    CHECK(c.result.err.find("strictly positive") != std::string::npos);
    CHECK(c.result.err.find("tau_m") != std::string::npos);
    CHECK(c.files_in_out() == 0);
  }
}

TEST_CASE("dt larger than the duration: exit 2") {
  Case c = run_config("dt_too_large", kGood, "--set dt=\"100 ms\"");
  CHECK(c.result.exit_code == 2);
  CHECK(c.result.err.find("shorter than one time step") != std::string::npos);
  CHECK(c.files_in_out() == 0);
}

TEST_CASE("missing config file: exit 2 naming it") {
  const fs::path dir = scratch("missing_config");
  ProgramResult r = run_ranvier("run nowhere.yaml -o out/result.h5", dir);
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("nowhere.yaml") != std::string::npos);
  CHECK(r.err.find("cannot open") != std::string::npos);
  CHECK(!fs::exists(dir / "out" / "result.h5"));
}

TEST_CASE("unwritable output directory: exit 2 before running") {
  // /sys refuses new files even to root, where a chmod'ed directory would not.
  const fs::path dir = scratch("unwritable");
  write(dir / "cfg.yaml", kGood);
  ProgramResult r = run_ranvier("run cfg.yaml -o /sys/ranvier-result.h5", dir);
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("cannot write in the output directory '/sys'") != std::string::npos);
  CHECK(!fs::exists("/sys/ranvier-result.h5"));
}

TEST_CASE("existing output is kept without --force and replaced with it") {
  Case c = run_config("existing", kGood);
  REQUIRE(c.result.exit_code == 0);
  std::ofstream(c.dir / "out" / "result.h5") << "precious";
  ProgramResult again = run_ranvier("run cfg.yaml -o out/result.h5", c.dir);
  CHECK(again.exit_code == 2);
  CHECK(again.err.find("exists; pass --force") != std::string::npos);
  CHECK(slurp(c.dir / "out" / "result.h5") == "precious");
  CHECK(count_files(c.dir / "out") == 1);
  ProgramResult forced = run_ranvier("run cfg.yaml -o out/result.h5 --force", c.dir);
  CHECK(forced.exit_code == 0);
  CHECK(slurp(c.dir / "out" / "result.h5") != "precious");
}

TEST_CASE("a blow-up stops the run: exit 1 with time, neuron and advice, no output") {
  Case c = run_config("blowup", R"(dt: 0.5 ms
duration: 50 ms
populations:
  hh: {model: hh, integrator: rk4}
stimuli:
  drive: {target: hh, type: constant, value: 10 uA/cm2}
)");
  CHECK(c.result.exit_code == 1);
  CHECK(c.result.err.find("'hh'") != std::string::npos);
  CHECK(c.result.err.find("neuron 0") != std::string::npos);
  CHECK(c.result.err.find("t = ") != std::string::npos);
  CHECK(c.result.err.find("smaller dt (e.g. 0.05 ms)") != std::string::npos);  // dt / 10
  CHECK(c.result.err.find("exponential_euler") != std::string::npos);
  CHECK(c.files_in_out() == 0);
}

TEST_CASE("validate checks without running; --help explains every sub-command") {
  const fs::path dir = scratch("validate");
  write(dir / "cfg.yaml", kGood);
  ProgramResult ok = run_ranvier("validate cfg.yaml", dir);
  CHECK(ok.exit_code == 0);
  CHECK(ok.out.find("valid") != std::string::npos);
  CHECK(!fs::exists(dir / "out"));
  // A misspelt key inside the population (appended after the last line it would sit
  // under the flow mapping of `stimuli`, which is a YAML syntax error instead).
  std::string bad_text = kGood;
  bad_text.insert(bad_text.find("stimuli:"), "    sise: 3\n");
  write(dir / "bad.yaml", bad_text);
  ProgramResult bad = run_ranvier("validate bad.yaml", dir);
  CHECK(bad.exit_code == 2);
  CHECK(bad.err.find("did you mean 'size'") != std::string::npos);

  for (const char* cmd : {"", "run ", "validate ", "info ", "models "}) {
    ProgramResult h = run_ranvier(std::string(cmd) + "--help", dir);
    CHECK(h.exit_code == 0);
    CHECK(h.out.size() > 100);
  }
  ProgramResult none = run_ranvier("", dir);
  CHECK(none.exit_code == 2);
  ProgramResult bogus = run_ranvier("run cfg.yaml --frobnicate", dir);
  CHECK(bogus.exit_code == 2);
}

TEST_CASE("models lists every parameter with unit and default; info describes a result") {
  const fs::path dir = scratch("models_info");
  ProgramResult m = run_ranvier("models", dir);
  CHECK(m.exit_code == 0);
  for (const char* s : {"lif", "hh", "tau_m", "tau_ref", "g_Na", "uA/cm2", "-54.387"})
    CHECK(m.out.find(s) != std::string::npos);
  CHECK(run_ranvier("models nosuch", dir).exit_code == 2);

  write(dir / "cfg.yaml", kGood);
  REQUIRE(run_ranvier("run cfg.yaml -o r.h5 -q", dir).exit_code == 0);
  ProgramResult i = run_ranvier("info r.h5", dir);
  CHECK(i.exit_code == 0);
  CHECK(i.out.find("/spikes/lif/timestamps") != std::string::npos);
  CHECK(i.out.find("[ms]") != std::string::npos);
  CHECK(run_ranvier("info cfg.yaml", dir).exit_code == 2);  // not HDF5
  CHECK(run_ranvier("info nothing.h5", dir).exit_code == 2);
}

TEST_CASE("long runs report progress on stderr; --quiet silences it") {
  // Progress starts after 2 s of wall time; RANVIER_PROGRESS_DELAY=0 makes this short run
  // "long" so the test does not depend on the machine's speed.
  const std::string yaml = R"(dt: 0.01 ms
duration: 200 ms
populations:
  hh: {model: hh, size: 200}
stimuli:
  drive: {target: hh, type: constant, value: 10 uA/cm2}
record: {spikes: none}
)";
  const fs::path dir = scratch("progress");
  write(dir / "cfg.yaml", yaml);
  ProgramResult r = run_ranvier("run cfg.yaml -o out/p.h5", dir);
  REQUIRE(r.exit_code == 0);
  CHECK(r.err.find("run: ") == std::string::npos);  // shorter than 2 s: no progress
  setenv("RANVIER_PROGRESS_DELAY", "0", 1);
  r = run_ranvier("run cfg.yaml -o out/q.h5", dir);
  ProgramResult quiet = run_ranvier("run cfg.yaml -o out/r.h5 --quiet", dir);
  unsetenv("RANVIER_PROGRESS_DELAY");
  REQUIRE(r.exit_code == 0);
  // stderr is a file here, so progress comes as plain lines, each with the ETA.
  CHECK(r.err.find("run: ") != std::string::npos);
  CHECK(r.err.find("ETA") != std::string::npos);
  CHECK(r.err.find('\r') == std::string::npos);
  REQUIRE(quiet.exit_code == 0);
  CHECK(quiet.err.empty());
}
