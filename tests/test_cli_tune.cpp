// `ranvier tune`: the tuning configs in configs/ run through the program and show what
// issue 3 asks of them; bad sweeps are refused; the plot scripts draw the results.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>

#include "support/cli.hpp"
#include "tools/io/h5.hpp"

using namespace ranvier;
using namespace ranvier::test;
namespace fs = std::filesystem;

namespace {

struct Curves {
  std::vector<double> input;
  std::vector<double> rate, analytic;  // (points, neurons)
  std::size_t points = 0, neurons = 0;
  std::vector<double> encoder, max_rate, intercept;
  double at(std::size_t p, std::size_t i) const { return rate[p * neurons + i]; }
};

Curves tune(const std::string& config, const std::string& extra = "") {
  const fs::path dir = scratch("tune_" + config);
  ProgramResult r = run_ranvier("tune '" + source_path("configs/" + config + ".yaml") + "' -o t.h5 -q " + extra, dir);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  H5::H5File f((dir / "t.h5").string(), H5F_ACC_RDONLY);
  H5::Group tuning = f.openGroup("/tuning");
  H5::Group g = tuning.openGroup(tuning.getObjnameByIdx(0));
  Curves c;
  c.input = io::h5::read_vector(g, "input");
  if (g.nameExists("rate")) c.rate = io::h5::read_matrix(g, "rate", c.points, c.neurons);
  if (g.nameExists("rate_analytic"))
    c.analytic = io::h5::read_matrix(g, "rate_analytic", c.points, c.neurons);
  if (g.nameExists("encoder")) {
    c.encoder = io::h5::read_vector(g, "encoder");
    c.max_rate = io::h5::read_vector(g, "max_rate");
    c.intercept = io::h5::read_vector(g, "intercept");
  }
  return c;
}

ProgramResult tune_text(const std::string& name, const std::string& yaml, fs::path* dir_out = nullptr) {
  const fs::path dir = scratch("tune_bad_" + name);
  std::ofstream(dir / "cfg.yaml") << yaml;
  if (dir_out) *dir_out = dir;
  return run_ranvier("tune cfg.yaml -o out/t.h5", dir);
}

const char* kLif = R"(dt: 0.1 ms
populations:
  lif: {model: lif}
sweep:
  input: {from: 0, to: 5, points: 11}
  duration: 200 ms
  transient: 20 ms
)";

}  // namespace

TEST_CASE("LIF: the simulated tuning curve equals the analytic one wherever it fires") {
  const Curves c = tune("lif_tuning");
  REQUIRE(c.points == 101);
  int compared = 0;
  for (std::size_t p = 0; p < c.points; ++p) {
    if (c.analytic[p] <= 1.0) {
      CHECK(c.rate[p] == 0.0);  // below threshold: silent
      continue;
    }
    // The issue asks for 0.1% at dt = 0.1 ms; spike times solved inside the step make
    // the intervals exact up to rounding summed over a few hundred spikes, so 1e-9.
    CHECK(c.rate[p] == doctest::Approx(c.analytic[p]).epsilon(1e-9));
    ++compared;
  }
  CHECK(compared > 70);
}

TEST_CASE("heterogeneous LIF: max rate at e.x = 1, silent below the intercept, firing above") {
  const Curves c = tune("lif_ensemble");
  REQUIRE(c.neurons == 30);
  const double window_s = (500.0 - 20.0) * 1e-3;
  for (std::size_t i = 0; i < c.neurons; ++i) {
    INFO("neuron " << i);
    const double e = c.encoder[i];
    REQUIRE(std::abs(e) == 1.0);
    // x = +1 is the last point, -1 the first: the preferred end reaches max_rate. Gain and
    // bias are solved in closed form and the rate measured from exact spike times, so the
    // 1% of the issue is met with a wide margin (1e-6 covers rounding).
    const double at_preferred = e > 0 ? c.at(c.points - 1, i) : c.at(0, i);
    CHECK(at_preferred == doctest::Approx(c.max_rate[i]).epsilon(1e-6));
    for (std::size_t p = 0; p < c.points; ++p) {
      const double ex = e * c.input[p];
      if (ex < c.intercept[i]) CHECK(c.at(p, i) == 0.0);
      // Above the intercept it fires; a rate needs two spikes in the window, so only
      // points whose analytic rate gives at least three are asked to show one.
      if (ex > c.intercept[i] && c.analytic[p * c.neurons + i] * window_s >= 3.0)
        CHECK(c.at(p, i) > 0.0);
    }
  }
}

TEST_CASE("HH: a type II jump to repetitive firing between 6 and 7 uA/cm2, rates rising") {
  // 0.1 uA/cm2 steps from 5 to 8 around the onset (about 6.2-6.3 for the squid axon).
  const Curves c = tune("hh_tuning", "--set 'sweep.input={from: 5, to: 8, points: 31}' "
                                     "--set 'sweep.duration=600 ms'");
  std::size_t onset = c.points;
  for (std::size_t p = 0; p < c.points; ++p)
    if (c.rate[p] > 0.0) {
      onset = p;
      break;
    }
  REQUIRE(onset < c.points);
  CHECK(c.input[onset] > 6.0);
  CHECK(c.input[onset] <= 7.0);
  // Type II: the first repetitive rate is far from zero (the squid axon starts near 50 Hz).
  CHECK(c.rate[onset] > 30.0);
  for (std::size_t p = onset; p < c.points; ++p) CHECK(c.rate[p] > 0.0);
  for (std::size_t p = onset + 1; p < c.points; ++p) CHECK(c.rate[p] > c.rate[p - 1]);
  // Over the whole default range (0..40 uA/cm2) the rate keeps rising.
  const Curves wide = tune("hh_tuning", "--set 'sweep.duration=400 ms'");
  CHECK(wide.rate.back() > wide.rate[wide.points / 2]);
  CHECK(wide.rate[wide.points / 2] > 0.0);
}

TEST_CASE("heterogeneous HH: gains and biases from the simulated f-I curves reach max rates") {
  const Curves c = tune("hh_ensemble");
  for (std::size_t i = 0; i < c.neurons; ++i) {
    const double at_preferred = c.encoder[i] > 0 ? c.at(c.points - 1, i) : c.at(0, i);
    // The inputs are located to 0.001 uA/cm2, where the f-I slope is about 3 Hz per
    // uA/cm2: 1e-3 relative is a hundred times that error and ten times below the 1%.
    CHECK(at_preferred == doctest::Approx(c.max_rate[i]).epsilon(1e-3));
  }
}

TEST_CASE("bad sweeps are refused with exit 2, a clear message and no output") {
  struct Bad {
    const char* name;
    std::string yaml;
    const char* message;
  };
  const std::string lif(kLif);
  const std::vector<Bad> cases = {
      {"no_points", std::string(kLif).replace(lif.find("points: 11"), 10, "points: 0"),
       "empty range"},
      {"reversed", std::string(kLif).replace(lif.find("to: 5"), 5, "to: -1"), "range is empty"},
      {"transient", std::string(kLif).replace(lif.find("transient: 20 ms"), 16, "transient: 300 ms"),
       "must be shorter than the time per input"},
      {"unreachable",
       lif + "encoding:\n  lif: {max_rates: 600 Hz, intercepts: 0}\n",
       "cannot be reached: with tau_ref = 2 ms no LIF neuron fires faster than"},
      {"intercept", lif + "encoding:\n  lif: {max_rates: 100 Hz, intercepts: 1.2}\n",
       "intercepts must be below 1"},
      {"hh_analytic",
       "dt: 0.01 ms\npopulations: {hh: {model: hh}}\nsweep: {input: [1, 2], duration: 100 ms, "
       "method: analytic}\n",
       "no closed-form rate"},
  };
  for (const Bad& b : cases) {
    INFO(b.name);
    fs::path dir;
    ProgramResult r = tune_text(b.name, b.yaml, &dir);
    CHECK(r.exit_code == 2);
    CHECK(r.err.find(b.message) != std::string::npos);
    CHECK(r.err.find("cfg.yaml:") != std::string::npos);
    CHECK(!fs::exists(dir / "out" / "t.h5"));
    if (fs::exists(dir / "out")) CHECK(count_files(dir / "out") == 0);
  }
}

TEST_CASE("plot_tuning.py and plot_raster.py write non-empty images") {
  const fs::path dir = scratch("plots");
  REQUIRE(run_ranvier("tune '" + source_path("configs/lif_ensemble.yaml") + "' -o t.h5 -q", dir).exit_code == 0);
  REQUIRE(run_ranvier("run '" + source_path("configs/hh_noise.yaml") + "' -o r.h5 -q", dir).exit_code == 0);
  const std::string py = "/usr/bin/python3 '" + source_path("tools/");
  REQUIRE(std::system((py + "plot_tuning.py' '" + (dir / "t.h5").string() + "' -o '" +
                       (dir / "t.svg").string() + "' >/dev/null").c_str()) == 0);
  REQUIRE(std::system((py + "plot_raster.py' '" + (dir / "r.h5").string() + "' -o '" +
                       (dir / "r.png").string() + "' >/dev/null").c_str()) == 0);
  CHECK(fs::file_size(dir / "t.svg") > 10000);
  CHECK(slurp(dir / "t.svg").find("<svg") != std::string::npos);
  CHECK(fs::file_size(dir / "r.png") > 10000);
  // A file of the wrong kind is refused with exit code 2, not a traceback.
  CHECK(WEXITSTATUS(std::system((py + "plot_tuning.py' '" + (dir / "r.h5").string() + "' -o '" +
                                 (dir / "x.png").string() + "' 2>/dev/null").c_str())) == 2);
  CHECK(!fs::exists(dir / "x.png"));
}
