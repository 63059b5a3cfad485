// Every run config in configs/ runs through the program, and its output is checked
// against what the config is meant to show. Also the plot script on a real result.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>

#include "models/lif_rate.hpp"
#include "models/psc_filter.hpp"
#include "support/cli.hpp"
#include "tools/io/h5.hpp"

using namespace ranvier;
using namespace ranvier::test;
namespace fs = std::filesystem;

namespace {

fs::path run_example(const std::string& name) {
  const fs::path dir = scratch("config_" + name);
  ProgramResult r =
      run_ranvier("run '" + source_path("configs/" + name + ".yaml") + "' -o out.h5 -q", dir);
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
  return static_cast<int>(
      std::count_if(t.begin(), t.end(), [&](double x) { return x >= from && x < to; }));
}

}  // namespace

TEST_CASE("every run config in configs/ is covered by this file") {
  // A new example config must get a check here (training configs are run elsewhere).
  const std::set<std::string> covered = {"hh_step", "lif", "lif_dimensional", "hh_noise",
                                         "cuba",    "psp", "hh_network"};
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
  CHECK(io::h5::read_string_attr(f.openDataSet("/populations/cells/params/tau_m"), "units") ==
        "ms");
  std::size_t rows = 0, cols = 0;
  const std::vector<double> V = io::h5::read_matrix(v, "data", rows, cols);
  CHECK(cols == 3);
  CHECK(rows == 500 / 0.2 + 1);
  for (double x : V) {
    CHECK(x <= -50.0);
    CHECK(x >= -90.0);  // sine and noise can push below the leak, not far
  }
  const std::vector<double> tau =
      io::h5::read_vector(f.openGroup("/populations/cells/params"), "tau_m");
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

TEST_CASE("configs/cuba.yaml: self-sustained irregular activity near Brian2's 5.6 Hz") {
  // Brian2 2.5.1's CUBA example gives about 5.6 Hz; a different random network and initial
  // state moves the mean rate by a few tenths of a hertz, so 4.5 to 7 Hz is the bound. The
  // activity must last: every 100 ms window has spikes.
  H5::H5File f(run_example("cuba").string(), H5F_ACC_RDONLY);
  const Spikes e = read_spikes(f, "exc"), i = read_spikes(f, "inh");
  const double rate_e = e.t.size() / 3200.0, rate_i = i.t.size() / 800.0;  // 1 s
  MESSAGE("CUBA mean rates: exc " << rate_e << " Hz, inh " << rate_i << " Hz");
  CHECK(rate_e > 4.5);
  CHECK(rate_e < 7.0);
  CHECK(rate_i > 4.5);
  CHECK(rate_i < 7.0);
  for (int w = 0; w < 10; ++w) CHECK(count_in(e.t, 100.0 * w, 100.0 * (w + 1)) > 100);
  // The population rate in 1 ms bins: 1000 bins whose mean is the spike count's rate, and
  // each bin is that bin's spike count / (3200 neurons * 1 ms).
  H5::Group g = f.openGroup("/rates/exc");
  const std::vector<double> r = io::h5::read_vector(g, "data");
  REQUIRE(r.size() == 1000);
  double sum = 0;
  for (double x : r) sum += x;
  CHECK(sum / 1000.0 == doctest::Approx(rate_e).epsilon(1e-12));
  CHECK(r[500] == doctest::Approx(count_in(e.t, 500.0, 501.0) * 1000.0 / 3200.0));
}

TEST_CASE("configs/psp.yaml: one spike, then exactly the analytic PSP in the other neuron") {
  // pre fires once during its 1 ms pulse; the spike, stamped at the end of its step, reaches
  // post 0.5 ms later. post's V (every step) must equal V_L + R w (e^(-s/5) - e^(-s/20)) /
  // (5 - 20), s = t - arrival, to 1e-9 mV (the integration is exact: only rounding differs).
  H5::H5File f(run_example("psp").string(), H5F_ACC_RDONLY);
  const Spikes pre = read_spikes(f, "pre"), post = read_spikes(f, "post");
  REQUIRE(pre.t.size() == 1);
  CHECK(post.t.empty());
  CHECK(pre.t[0] > 10.0);
  CHECK(pre.t[0] < 11.0);
  const double arrival = (std::floor(pre.t[0] / 0.1) + 1) * 0.1 + 0.5;
  H5::Group g = f.openGroup("/report/post/V");
  std::size_t rows = 0, cols = 0;
  const std::vector<double> V = io::h5::read_matrix(g, "data", rows, cols);
  REQUIRE(rows == 601);
  double worst = 0, peak = 0;
  for (std::size_t k = 0; k < rows; ++k) {
    const double expect = -65.0 + models::lif_psp(k * 0.1 - arrival, 8.1, 1.0, 20.0, 5.0);
    worst = std::max(worst, std::fabs(V[k] - expect));
    peak = std::max(peak, V[k] + 65.0);
  }
  CHECK(worst < 1e-9);
  CHECK(peak == doctest::Approx(0.2551).epsilon(0.001));  // at 9.24 ms after the arrival
}

TEST_CASE("configs/hh_network.yaml: Poisson-driven HH network fires irregularly") {
  H5::H5File f(run_example("hh_network").string(), H5F_ACC_RDONLY);
  const Spikes s = read_spikes(f, "hh");
  const double rate = s.t.size() / 100.0 / 0.5;
  MESSAGE("HH network mean rate " << rate << " Hz");
  CHECK(rate > 5.0);
  CHECK(rate < 150.0);
  // Irregular: neuron 0's inter-spike intervals vary (CV above 0.1).
  const auto t0 = s.of(0);
  REQUIRE(t0.size() > 5);
  double m = 0, m2 = 0;
  for (std::size_t k = 1; k < t0.size(); ++k) {
    const double isi = t0[k] - t0[k - 1];
    m += isi;
    m2 += isi * isi;
  }
  m /= static_cast<double>(t0.size() - 1);
  m2 /= static_cast<double>(t0.size() - 1);
  CHECK(std::sqrt(m2 - m * m) / m > 0.1);
  // The recorded input: ten of the 400 Poisson sources at 10 Hz for 0.5 s, 50 spikes
  // expected (Poisson: sd ~7; 5 sd either way), on the 0.01 ms grid, ids 0-9 only.
  const Spikes in = read_spikes(f, "noise");
  MESSAGE("recorded input spikes " << in.t.size());
  CHECK(in.t.size() > 15);
  CHECK(in.t.size() < 85);
  for (std::size_t k = 0; k < in.t.size(); ++k) {
    CHECK(in.id[k] < 10);
    CHECK(in.t[k] >= 0.0);
    CHECK(in.t[k] < 500.0);
    CHECK(std::fabs(in.t[k] / 0.01 - std::round(in.t[k] / 0.01)) < 1e-6);
  }
  std::int64_t is_source = 0;
  f.openGroup("/spikes/noise").openAttribute("source").read(H5::PredType::NATIVE_INT64, &is_source);
  CHECK(is_source == 1);
}
