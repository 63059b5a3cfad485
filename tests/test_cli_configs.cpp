// Every run config in configs/ runs through the program, and its output is checked
// against what the config is meant to show. Also the plot script on a real result.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>

#include "models/lif_rate.hpp"
#include "support/cli.hpp"
#include "tools/io/h5.hpp"

using namespace ranvier;
using namespace ranvier::test;
namespace fs = std::filesystem;

namespace {

fs::path run_example(const std::string& name) {
  const fs::path dir = scratch("config_" + name);
  ProgramResult r = run_ranvier("run '" + source_path("configs/" + name + ".yaml") + "' -o out.h5 -q", dir);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  return dir / "out.h5";
}

struct Spikes {
  std::vector<double> t;
  std::vector<std::uint64_t> id;
  std::vector<double> of(std::uint64_t neuron) const {
    std::vector<double> out;
    for (std::size_t i = 0; i < t.size(); ++i)
      if (id[i] == neuron) out.push_back(t[i]);
    return out;
  }
};

Spikes read_spikes(H5::H5File& f, const std::string& pop) {
  H5::Group g = f.openGroup("/spikes/" + pop);
  return {io::h5::read_vector(g, "timestamps"), io::h5::read_uint_vector(g, "node_ids")};
}

int count_in(const std::vector<double>& t, double from, double to) {
  return static_cast<int>(std::count_if(t.begin(), t.end(), [&](double x) { return x >= from && x < to; }));
}

}  // namespace

TEST_CASE("every run config in configs/ is covered by this file") {
  // A new example config must get a check here (training configs are run elsewhere).
  const std::set<std::string> covered = {"hh_step", "lif", "lif_dimensional", "hh_noise"};
  for (const auto& e : fs::directory_iterator(source_path("configs"))) {
    if (e.path().extension() != ".yaml") continue;
    const std::string text = slurp(e.path());
    // Run configs have populations and no sweep (tuning configs: test_cli_tune.cpp).
    if (text.find("\npopulations:") == std::string::npos) continue;
    if (text.find("\nsweep:") != std::string::npos) continue;
    INFO(e.path().string());
    CHECK(covered.count(e.path().stem().string()) == 1);
  }
}

TEST_CASE("configs/hh_step.yaml: rebound spike, onset of repetitive firing, spike shape") {
  H5::H5File f(run_example("hh_step").string(), H5F_ACC_RDONLY);
  const Spikes s = read_spikes(f, "hh");
  // Releasing the -5 uA/cm2 step at 50 ms gives one anode-break spike within ~10 ms.
  CHECK(count_in(s.t, 0, 50) == 0);
  CHECK(count_in(s.t, 50, 65) == 1);
  // 7 and 15 uA/cm2 are above the onset of repetitive firing (6-7): several spikes, more
  // at the larger current.
  const int at7 = count_in(s.t, 150, 200), at15 = count_in(s.t, 200, 250);
  CHECK(at7 >= 3);
  CHECK(at15 > at7);
  H5::Group v = f.openGroup("/report/hh/V");
  std::size_t rows = 0, cols = 0;
  const std::vector<double> V = io::h5::read_matrix(v, "data", rows, cols);
  CHECK(rows == 250 / 0.05 + 1);  // every 5 steps of 0.01 ms, initial state included
  CHECK(cols == 1);
  CHECK(io::h5::read_string_attr(v.openDataSet("data"), "units") == "mV");
  const double peak = *std::max_element(V.begin(), V.end());
  CHECK(peak > 30.0);
  CHECK(peak < 50.0);
  CHECK(V[0] == doctest::Approx(-65.0).epsilon(0.1 / 65));  // starts at rest
  const std::vector<double> time = io::h5::read_vector(v.openGroup("mapping"), "time");
  CHECK(time == std::vector<double>{0.0, 250.05, 0.05});
}

TEST_CASE("configs/lif.yaml: each neuron's inter-spike interval is 1/G(v_in)") {
  H5::H5File f(run_example("lif").string(), H5F_ACC_RDONLY);
  const Spikes s = read_spikes(f, "lif");
  const double inputs[] = {1.01, 1.05, 1.1, 1.5, 2, 5, 10, 50};
  models::LifRateParams p;  // the normalized defaults, tau_m 20 ms, tau_ref 2 ms
  for (std::uint64_t i = 0; i < 8; ++i) {
    const std::vector<double> t = s.of(i);
    REQUIRE(t.size() >= 3);
    const double mean_isi = (t.back() - t.front()) / static_cast<double>(t.size() - 1);
    // Spike times are solved inside the step and stored as float64: the interval is exact
    // up to rounding, far inside the 0.1% the issue asks for.
    CHECK(1000.0 / mean_isi == doctest::Approx(models::lif_rate(p, inputs[i])).epsilon(1e-6));
  }
}

TEST_CASE("configs/lif_dimensional.yaml: units in the file, V bounded by reset and threshold") {
  H5::H5File f(run_example("lif_dimensional").string(), H5F_ACC_RDONLY);
  H5::Group v = f.openGroup("/report/cells/V");
  CHECK(io::h5::read_string_attr(v.openDataSet("data"), "units") == "mV");
  CHECK(io::h5::read_string_attr(f.openDataSet("/report/cells/I/data"), "units") == "nA");
  CHECK(io::h5::read_string_attr(f.openDataSet("/populations/cells/params/tau_m"), "units") == "ms");
  std::size_t rows = 0, cols = 0;
  const std::vector<double> V = io::h5::read_matrix(v, "data", rows, cols);
  CHECK(cols == 3);
  CHECK(rows == 500 / 0.2 + 1);
  for (double x : V) {
    CHECK(x <= -50.0);
    CHECK(x >= -90.0);  // sine and noise can push below the leak, not far
  }
  const std::vector<double> tau = io::h5::read_vector(f.openGroup("/populations/cells/params"), "tau_m");
  CHECK(*std::min_element(tau.begin(), tau.end()) >= 10.0);
  CHECK(*std::max_element(tau.begin(), tau.end()) <= 30.0);
  CHECK(read_spikes(f, "cells").t.size() > 20);
}

TEST_CASE("configs/hh_noise.yaml: independent noise gives different spike trains") {
  H5::H5File f(run_example("hh_noise").string(), H5F_ACC_RDONLY);
  const Spikes s = read_spikes(f, "hh");
  REQUIRE(s.t.size() > 5);
  std::set<std::uint64_t> firing(s.id.begin(), s.id.end());
  CHECK(firing.size() >= 3);
  CHECK(*firing.rbegin() < 10);
  CHECK(s.of(0) != s.of(1));
  CHECK(std::is_sorted(s.t.begin(), s.t.end()));  // sorting = by_time
}

TEST_CASE("the same config and seed give the same file contents; another seed does not") {
  const fs::path dir = scratch("reproducible");
  const std::string cfg = "'" + source_path("configs/hh_noise.yaml") + "'";
  REQUIRE(run_ranvier("run " + cfg + " -o a.h5 -q", dir).exit_code == 0);
  REQUIRE(run_ranvier("run " + cfg + " -o b.h5 -q --threads 2", dir).exit_code == 0);
  REQUIRE(run_ranvier("run " + cfg + " -o c.h5 -q --seed 4", dir).exit_code == 0);
  H5::H5File a((dir / "a.h5").string(), H5F_ACC_RDONLY), b((dir / "b.h5").string(), H5F_ACC_RDONLY),
      c((dir / "c.h5").string(), H5F_ACC_RDONLY);
  CHECK(read_spikes(a, "hh").t == read_spikes(b, "hh").t);
  CHECK(read_spikes(a, "hh").t != read_spikes(c, "hh").t);
}

TEST_CASE("plot_traces.py writes a non-empty image from a result") {
  const fs::path result = run_example("lif");
  const fs::path png = result.parent_path() / "v.png";
  const std::string cmd = "/usr/bin/python3 '" + source_path("tools/plot_traces.py") + "' '" +
                          result.string() + "' -o '" + png.string() + "' > /dev/null";
  REQUIRE(std::system(cmd.c_str()) == 0);
  REQUIRE(fs::exists(png));
  CHECK(fs::file_size(png) > 10000);
  CHECK(slurp(png).substr(1, 3) == "PNG");
}
