// The config layer: units, key paths, locations, overrides and the run-config lowering.
#include <doctest/doctest.h>

#include <string>

#include "tools/io/config.hpp"
#include "tools/io/errors.hpp"
#include "tools/io/run_config.hpp"
#include "tools/io/units.hpp"

using namespace ranvier;
using models::Quantity;

namespace {

// Conversions are products of powers of ten: a relative 1e-12 allows the rounding of a
// few multiplications and nothing more.
double q(const char* text, Quantity kind) { return io::parse_quantity(text, kind).value; }

std::string error_of(const std::string& yaml, const std::vector<std::string>& sets = {}) {
  try {
    io::ConfigDocument doc = io::parse_config(yaml, "test.yaml", sets);
    io::read_run_config(doc);
  } catch (const io::ConfigError& e) {
    return e.what();
  }
  return "";
}

const char* kMinimal = R"(
duration: 10 ms
populations:
  lif:
    model: lif
)";

}  // namespace

TEST_CASE("units convert to the canonical unit of each quantity") {
  CHECK(q("20 ms", Quantity::time) == doctest::Approx(20).epsilon(1e-12));
  CHECK(q("0.02 s", Quantity::time) == doctest::Approx(20).epsilon(1e-12));
  CHECK(q("20", Quantity::time) == 20);
  CHECK(q("-65 mV", Quantity::voltage) == doctest::Approx(-65).epsilon(1e-12));
  CHECK(q("-0.065 V", Quantity::voltage) == doctest::Approx(-65).epsilon(1e-12));
  CHECK(q("10 uA/cm2", Quantity::current_density) == doctest::Approx(10).epsilon(1e-12));
  CHECK(q("0.01 mA/cm^2", Quantity::current_density) == doctest::Approx(10).epsilon(1e-12));
  CHECK(q("0.1 A/m2", Quantity::current_density) == doctest::Approx(10).epsilon(1e-12));
  CHECK(q("3 S/m2", Quantity::conductance_density) == doctest::Approx(0.3).epsilon(1e-12));
  CHECK(q("1 uF/cm\u00b2", Quantity::capacitance_density) == doctest::Approx(1).epsilon(1e-12));
  CHECK(q("0.2 kHz", Quantity::rate) == doctest::Approx(200).epsilon(1e-12));
  CHECK(q("5 1/s", Quantity::rate) == doctest::Approx(5).epsilon(1e-12));
  CHECK(q("5 s^-1", Quantity::rate) == doctest::Approx(5).epsilon(1e-12));
  CHECK(q("500 pA", Quantity::current) == doctest::Approx(0.5).epsilon(1e-12));
  CHECK(q("1 mV/MOhm", Quantity::current) == doctest::Approx(1).epsilon(1e-12));
  CHECK(q("10 kOhm", Quantity::resistance) == doctest::Approx(0.01).epsilon(1e-12));
  CHECK(q("200 pF", Quantity::capacitance) == doctest::Approx(0.2).epsilon(1e-12));
  // Canonical and power-of-ten units convert exactly, not merely within rounding.
  CHECK(q("40 uA/cm2", Quantity::current_density) == 40.0);
  CHECK(q("0.3 mS/cm2", Quantity::conductance_density) == 0.3);
  CHECK(q("1 s", Quantity::time) == 1000.0);
  CHECK(q("250 pA", Quantity::current) == 0.25);
  CHECK(io::parse_quantity("1.5", Quantity::current).had_unit == false);
  CHECK(io::parse_quantity("1.5 nA", Quantity::current).had_unit == true);
}

TEST_CASE("a unit of the wrong dimension or an unknown unit is refused with the reason") {
  auto message = [](const char* text, Quantity kind) {
    try {
      io::parse_quantity(text, kind);
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  const std::string wrong = message("20 mV", Quantity::time);
  CHECK(wrong.find("voltage") != std::string::npos);
  CHECK(wrong.find("time") != std::string::npos);
  CHECK(message("20 mss", Quantity::time).find("unknown unit 'mss'") != std::string::npos);
  CHECK(message("fast", Quantity::time).find("not a number") != std::string::npos);
  CHECK(message("3 ms", Quantity::dimensionless).find("dimensionless") != std::string::npos);
}

TEST_CASE("unknown keys name file:line:column, the key path and a did-you-mean") {
  const std::string e = error_of(R"(duration: 10 ms
populations:
  lif:
    model: lif
    params:
      tua_m: 10 ms
)");
  CHECK(e.find("test.yaml:6:7") != std::string::npos);
  CHECK(e.find("populations.lif.params.tua_m") != std::string::npos);
  CHECK(e.find("did you mean 'tau_m'") != std::string::npos);
}

TEST_CASE("YAML syntax errors give the line and column") {
  const std::string e = error_of("duration: 10 ms\npopulations: [a,\n  b: c\n");
  CHECK(e.find("test.yaml:") != std::string::npos);
  CHECK(e.find("YAML syntax error") != std::string::npos);
}

TEST_CASE("a wrong dimension in a config names the key") {
  const std::string e = error_of(std::string(kMinimal) + "    params: {tau_m: 10 mV}\n");
  CHECK(e.find("populations.lif.params.tau_m") != std::string::npos);
  CHECK(e.find("voltage") != std::string::npos);
}

TEST_CASE("--set overrides existing keys, creates new ones and is named in errors") {
  io::ConfigDocument doc = io::parse_config(
      kMinimal, "test.yaml",
      {"populations.lif.size=4", "populations.lif.params.tau_ref=1 ms", "dt=0.05 ms"});
  io::RunConfig cfg = io::read_run_config(doc);
  REQUIRE(cfg.spec.populations.size() == 1);
  CHECK(cfg.spec.populations[0].size == 4);
  CHECK(cfg.spec.populations[0].params.at("tau_ref") == std::vector<double>(4, 1.0));
  CHECK(cfg.spec.dt == doctest::Approx(0.05).epsilon(1e-12));
  CHECK(doc.text.find("tau_ref: 1 ms") != std::string::npos);  // the stored config has it

  const std::string e = error_of(kMinimal, {"populations.lif.params.tau_m=fast"});
  CHECK(e.find("--set populations.lif.params.tau_m=fast") != std::string::npos);
  CHECK(error_of(kMinimal, {"novalue"}).find("key.path=value") != std::string::npos);
}

TEST_CASE("per-neuron values: one, a list of the right length, or a seeded distribution") {
  const std::string yaml = std::string(kMinimal) +
                           "    size: 5\n"
                           "    params:\n"
                           "      tau_m: {distribution: uniform, low: 10 ms, high: 30 ms}\n"
                           "      tau_ref: [1, 2, 3, 4, 5]\n";
  io::RunConfig a = io::read_run_config(io::parse_config(yaml, "a.yaml"));
  io::RunConfig b = io::read_run_config(io::parse_config(yaml, "b.yaml"));
  const auto& tau = a.spec.populations[0].params.at("tau_m");
  CHECK(tau == b.spec.populations[0].params.at("tau_m"));  // same seed, same values
  for (double t : tau) CHECK((t >= 10 && t <= 30));
  CHECK(tau[0] != tau[1]);
  io::RunConfig c = io::read_run_config(io::parse_config(yaml, "c.yaml"), 99);
  CHECK(c.spec.populations[0].params.at("tau_m") != tau);  // another seed, other values

  const std::string e =
      error_of(std::string(kMinimal) + "    size: 3\n    params: {tau_ref: [1, 2]}\n");
  CHECK(e.find("has 2 values but the population has 3 neurons") != std::string::npos);
}

TEST_CASE("LIF: normalized and dimensional forms are not mixed silently") {
  const std::string normalized_with_current =
      std::string(kMinimal) +
      "stimuli:\n  drive: {target: lif, type: constant, value: 0.5 nA}\n";
  CHECK(error_of(normalized_with_current).find("normalized") != std::string::npos);

  const std::string partial = std::string(kMinimal) + "    params: {V_th: -50 mV}\n";
  CHECK(error_of(partial).find("params.V_L must be given too") != std::string::npos);

  io::RunConfig cfg = io::read_run_config(io::parse_config(
      std::string(kMinimal) +
          "    params: {V_L: -70 mV, V_th: -50 mV, V_reset: -65, R: 100 MOhm, C: 0.2 nF}\n"
          "stimuli:\n  drive: {target: lif, type: constant, value: 200 pA}\n",
      "d.yaml"));
  CHECK(cfg.units.at("lif").voltage == "mV");
  CHECK(cfg.spec.populations[0].params.at("V_reset")[0] == -65);  // bare number: mV
  CHECK(cfg.spec.populations[0].params.at("tau_m")[0] == doctest::Approx(20).epsilon(1e-12));
  CHECK(cfg.spec.stimuli[0].values[0] == doctest::Approx(0.2).epsilon(1e-12));
}

TEST_CASE("references to populations, neurons and variables are checked") {
  CHECK(error_of(std::string(kMinimal) + "stimuli:\n  d: {target: lfi, type: constant, value: 1}\n")
            .find("did you mean 'lif'") != std::string::npos);
  CHECK(error_of(std::string(kMinimal) +
                 "stimuli:\n  d: {target: lif, neurons: [3], type: constant, value: 1}\n")
            .find("neuron 3 does not exist") != std::string::npos);
  CHECK(error_of(std::string(kMinimal) +
                 "record:\n  traces:\n    t: {population: lif, variables: [W]}\n")
            .find("choose one of") != std::string::npos);
  CHECK(error_of(std::string(kMinimal) + "    integrator: rk5\n").find("did you mean 'rk4'") !=
        std::string::npos);
  CHECK(error_of("dt: 1 ms\nduration: 0.5 ms\npopulations: {a: {model: lif}}\n")
            .find("shorter than one time step") != std::string::npos);
}
