// `ranvier spike-eval` as a user runs it: a small lif_rate model trained in seconds runs
// as spiking neurons with an accuracy close to the rate network's; the result file has
// the documented layout (and tools/plot_raster.py reads it); the thread count does not
// change the numbers; a tanh model is refused naming the layer (exit 2); an existing
// output is not overwritten without --force.
#include <doctest/doctest.h>

#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <string>

#include "support/cli.hpp"
#include "tools/io/h5.hpp"

namespace fs = std::filesystem;
using namespace ranvier;

namespace {

using Result = test::CombinedResult;

Result run(const std::string& args) {
  return test::run_in_source_dir(args);
}

std::string scratch(const std::string& name) {
  const fs::path dir = fs::path(RANVIER_TEST_SCRATCH) / "cli_spike_eval";
  fs::create_directories(dir);
  return (dir / name).string();
}

// The percentage printed after `label` (e.g. "spiking accuracy:").
double percent_after(const std::string& out, const std::string& label) {
  const auto at = out.find(label);
  REQUIRE(at != std::string::npos);
  return std::stod(out.substr(at + label.size()));
}

// A 6-16-3 network with lif_rate hidden units on the discrete_mapping data (3 classes),
// trained with Adam in a second or two.
const std::string kLifModel =
    "train configs/discrete_mapping.yaml --force --set 'network.layers=[{units: 16, "
    "activation: lif_rate, tau_m: 20 ms, tau_ref: 2 ms, smoothing: 0.1}, {units: 3, "
    "activation: softmax}]' --set 'optimizer={kind: adam, lr: 0.01}' --epochs 40 -o ";

}  // namespace

TEST_CASE("a small lif_rate model runs as spikes: accuracy, layout, threads, raster plot") {
  const std::string model = scratch("lif.h5"), out = scratch("spiking.h5");
  const Result t = run(kLifModel + model);
  INFO(t.out);
  REQUIRE(t.code == 0);
  fs::remove(out);
  const Result r =
      run("spike-eval " + model + " --duration '200 ms' --dt '1 ms' -o " + out + " --threads 1");
  INFO(r.out);
  REQUIRE(r.code == 0);
  const double rate = percent_after(r.out, "rate network accuracy:");
  const double spiking = percent_after(r.out, "spiking accuracy:");
  MESSAGE("rate " << rate << "%, spiking " << spiking << "% at 200 ms");
  CHECK(rate > 90);  // the data are easy: the rate network must have learnt them
  // 600 test samples: one sample is 0.17 points. At 200 ms (100 ms decoded) the filtered
  // current is within a few percent of the rate network's W y, so only samples near a
  // class boundary can change class: 2 points (12 samples) of slack.
  CHECK(std::abs(spiking - rate) <= 2.0);

  // The result file's layout (tools/io/spike_eval_file.hpp).
  {
    H5::H5File f(out, H5F_ACC_RDONLY);
    const H5::Group root = f.openGroup("/");
    CHECK(io::h5::read_string_attr(root, "kind").value_or("") == "spike_eval");
    CHECK(io::h5::read_double_attr(root, "sample_duration").value_or(0) == 200.0);
    CHECK(io::h5::read_double_attr(root, "duration").value_or(0) == 600.0);  // 3 rasters
    const H5::Group ev = f.openGroup("/eval");
    CHECK(io::h5::read_double_attr(ev, "samples").value_or(0) == 600);
    CHECK(std::abs(100 * io::h5::read_double_attr(ev, "spiking_accuracy").value_or(-1) - spiking) <
          0.01);
    CHECK(io::h5::read_vector(ev, "labels").size() == 600);
    CHECK(io::h5::read_vector(ev, "spiking_class").size() == 600);
    std::size_t rows = 0, cols = 0;
    io::h5::read_matrix(ev, "layer_spikes", rows, cols);
    CHECK(rows == 600);
    CHECK(cols == 2);
    for (const char* pop : {"hidden_0", "output"}) {
      const H5::Group sp = f.openGroup(std::string("/spikes/") + pop);
      const auto t_ms = io::h5::read_vector(sp, "timestamps");
      const auto ids = io::h5::read_uint_vector(sp, "node_ids");
      CHECK(t_ms.size() == ids.size());
      if (std::string(pop) == "hidden_0") CHECK(t_ms.size() > 10);
      for (double x : t_ms) CHECK((x >= 0 && x < 600.0));
    }
    CHECK(io::h5::read_double_attr(f.openGroup("/populations/hidden_0"), "size").value_or(0) == 16);
    CHECK(io::h5::read_vector(f.openGroup("/rasters"), "samples").size() == 3);
  }

  // Two threads: the same numbers (the output is compared from the accuracy lines on).
  const Result r2 = run("spike-eval " + model + " --duration '200 ms' --threads 2 -q");
  REQUIRE(r2.code == 0);
  auto numbers = [](const std::string& s) {
    return s.substr(s.find("rate network"),
                    s.find("simulated per sample") - s.find("rate network"));
  };
  CHECK(numbers(r2.out) == numbers(r.out));

  // Poisson input runs too (its accuracy is lower at this duration; only sanity here).
  const Result rp = run("spike-eval " + model + " --input poisson --duration '100 ms' -q");
  INFO(rp.out);
  // discrete_mapping features can be negative: a Poisson rate cannot, so this is refused.
  CHECK(rp.code == 2);
  CHECK(rp.out.find("Poisson input needs inputs >= 0") != std::string::npos);

  // The plot script reads the rasters.
  const std::string png = scratch("raster.png");
  fs::remove(png);
  const Result p = run("/usr/bin/python3 tools/plot_raster.py " + out + " -o " + png);
  INFO(p.out);
  CHECK(p.code == 0);
  CHECK(fs::file_size(png) > 1000);

  // An existing output is kept without --force.
  const Result again = run("spike-eval " + model + " --samples 10 -o " + out);
  CHECK(again.code == 2);
  CHECK(again.out.find("--force") != std::string::npos);
}

TEST_CASE("a model with tanh hidden units is refused, naming the layer") {
  const std::string model = scratch("tanh.h5");
  const Result t = run("train configs/discrete_mapping.yaml --force --epochs 2 -o " + model);
  REQUIRE(t.code == 0);
  const Result r = run("spike-eval " + model + " -o " + scratch("never.h5"));
  INFO(r.out);
  CHECK(r.code == 2);
  CHECK(r.out.find("layer 0") != std::string::npos);
  CHECK(r.out.find("tanh") != std::string::npos);
  CHECK(r.out.find("lif_rate") != std::string::npos);
  CHECK(!fs::exists(scratch("never.h5")));
}

TEST_CASE("spike-eval --help explains the conversion") {
  const Result r = run("spike-eval --help");
  CHECK(r.code == 0);
  for (const char* s : {"--duration", "--tau-s", "--input", "--decode", "poisson", "LIF"})
    CHECK(r.out.find(s) != std::string::npos);
}

TEST_CASE("configs/fmnist_lif.yaml: one epoch on a subset, then spike-eval of its test images") {
  if (!fs::exists("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz")) return;
  const std::string model = scratch("fmnist_lif.h5");
  const Result t = run("train configs/fmnist_lif.yaml --force -q -o " + model +
                       " --epochs 1 --threads 2 --set data.limit_train=3000 "
                       "--set data.limit_test=300");
  INFO(t.out);
  REQUIRE(t.code == 0);
  // The test set comes from the config stored in the model (300 images).
  const Result r = run("spike-eval " + model + " --duration '50 ms' --threads 2");
  INFO(r.out);
  REQUIRE(r.code == 0);
  CHECK(r.out.find("samples:                 300 (test set)") != std::string::npos);
  const double rate = percent_after(r.out, "rate network accuracy:");
  const double spiking = percent_after(r.out, "spiking accuracy:");
  // One epoch on 3000 images is far from converged but well above chance (10%); the
  // spiking network follows the rate network within 5 points (15 of 300 images) at 50 ms.
  CHECK(rate > 50);
  CHECK(std::abs(spiking - rate) <= 5.0);
  // One thread reads the images before its batches, two threads simulate the first ones
  // while thread 0 still gunzips: the same numbers. --timings names the phases.
  const Result r1 = run("spike-eval " + model + " --duration '50 ms' --threads 1 --timings");
  INFO(r1.out);
  REQUIRE(r1.code == 0);
  auto numbers = [](const std::string& s) {
    const auto from = s.find("rate network accuracy");
    return s.substr(from, s.find("simulated per sample") - from);
  };
  CHECK(numbers(r1.out) == numbers(r.out));
  for (const char* phase : {"spike-eval timings", "model file, config, labels",
                            "batches:", "gunzipped the images", "total"})
    CHECK(r1.out.find(phase) != std::string::npos);
}
