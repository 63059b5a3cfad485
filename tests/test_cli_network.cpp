// Network configs from the command line: bad projections and sources are refused with
// file:line:column and a message that says the rule (issue 4, test 7); a matrix read from
// HDF5; identical spikes at 1 and 2 threads through the program.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <regex>

#include "support/cli.hpp"
#include "tools/io/h5.hpp"

using namespace ranvier;
using namespace ranvier::test;
namespace fs = std::filesystem;

namespace {

// Two small LIF populations and one projection whose body is `projection` (YAML lines
// indented by four spaces); the projection's first line is line 21.
std::string network(const std::string& projection, const std::string& extra = "") {
  return "dt: 0.1 ms\n"          // 1
         "duration: 20 ms\n"     // 2
         "populations:\n"        // 3
         "  a:\n"                // 4
         "    model: lif\n"      // 5
         "    size: 4\n"         // 6
         "  b:\n"                // 7
         "    model: lif\n"      // 8
         "    size: 3\n"         // 9
         "sources:\n"            // 10
         "  noise:\n"            // 11
         "    type: poisson\n"   // 12
         "    size: 5\n"         // 13
         "    rate: 100 Hz\n"    // 14
         "stimuli:\n"            // 15
         "  drive:\n"            // 16
         "    target: a\n"       // 17
         "    type: constant\n"  // 18
         "    value: 1.5\n"      // 19
         "projections:\n"        // 20
         "  ab:\n"               // 21
         + projection + extra;
}

struct Refusal {
  int exit_code;
  std::string err;
};

Refusal run_config(const std::string& name, const std::string& text) {
  const fs::path dir = scratch("net_" + name);
  std::ofstream(dir / "bad.yaml") << text;
  ProgramResult r = run_ranvier("run bad.yaml -o out.h5 -q", dir);
  return {r.exit_code, r.err};
}

// The error names bad.yaml:line:column and contains `what`.
void expect_refused(const std::string& name, const std::string& text, int line,
                    const std::string& what) {
  const Refusal r = run_config(name, text);
  INFO(r.err);
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("bad.yaml:" + std::to_string(line) + ":") != std::string::npos);
  CHECK(std::regex_search(r.err, std::regex("bad\\.yaml:[0-9]+:[0-9]+")));
  CHECK(r.err.find(what) != std::string::npos);
}

const std::string kRest = "    rule: all_to_all\n    weight: 0.5\n    delay: 1 ms\n";

}  // namespace

TEST_CASE("a good network config runs") {
  const Refusal r = run_config("good", network("    source: noise\n    target: b\n" + kRest));
  INFO(r.err);
  CHECK(r.exit_code == 0);
}

TEST_CASE("a projection to an unknown population is refused with a did-you-mean") {
  expect_refused("unknown_target", network("    source: a\n    target: bb\n" + kRest), 23,
                 "did you mean 'b'");
  expect_refused("unknown_source", network("    source: nois\n    target: b\n" + kRest), 22,
                 "did you mean 'noise'");
  // A spike source is not a target.
  expect_refused("source_as_target", network("    source: a\n    target: noise\n" + kRest), 23,
                 "noise");
}

TEST_CASE("a delay below dt is refused") {
  expect_refused("short_delay",
                 network("    source: a\n    target: b\n    rule: all_to_all\n    weight: 0.5\n"
                         "    delay: 0.05 ms\n"),
                 26, "at least dt");
  // A drawn delay with a negative mean is refused too.
  expect_refused("neg_delay",
                 network("    source: a\n    target: b\n    rule: all_to_all\n    weight: 0.5\n"
                         "    delay: {distribution: normal, mean: -1 ms, std: 1 ms}\n"),
                 26, "delay");
}

TEST_CASE("p outside [0, 1] is refused") {
  for (const char* p : {"1.5", "-0.1"})
    expect_refused(std::string("p_") + p,
                   network(std::string("    source: a\n    target: b\n    rule: fixed_probability\n"
                                       "    p: ") +
                           p + "\n    weight: 0.5\n"),
                   25, "[0, 1]");
  expect_refused("p_missing",
                 network("    source: a\n    target: b\n    rule: fixed_probability\n"
                         "    weight: 0.5\n"),
                 24, "needs 'p'");
}

TEST_CASE("a matrix of the wrong shape or a missing matrix file is refused") {
  const fs::path dir = scratch("net_matrix_files");
  {
    H5::H5File f((dir / "w.h5").string(), H5F_ACC_TRUNC);
    const std::vector<double> good = {0, 1, 0, 2, 0, 0, 3, 0, 0, 0, 0, 4};  // (3, 4): b <- a
    io::h5::write_matrix(f, "W", good.data(), 3, 4);
    io::h5::write_matrix(f, "T", good.data(), 4, 3);  // transposed: wrong
  }
  const std::string m = "    source: a\n    target: b\n    rule: matrix\n    matrix: {file: '" +
                        (dir / "w.h5").string() + "', dataset: ";
  expect_refused("matrix_shape", network(m + "T}\n"), 25, "(target, source) = (3, 4)");
  expect_refused("matrix_dataset", network(m + "X}\n"), 25, "cannot read dataset 'X'");
  expect_refused("matrix_file",
                 network("    source: a\n    target: b\n    rule: matrix\n"
                         "    matrix: {file: nowhere.h5, dataset: W}\n"),
                 25, "does not exist");
  const Refusal ok = run_config("matrix_good", network(m + "W}\n    weight: 2\n"));
  INFO(ok.err);
  CHECK(ok.exit_code == 0);
}

TEST_CASE("weights: units, sign-straddling ranges and rules without their key") {
  // A normalized LIF takes a bare number; a charge unit is an error naming the form.
  expect_refused("weight_unit",
                 network("    source: a\n    target: b\n    rule: all_to_all\n"
                         "    weight: 8 pC\n"),
                 25, "normalized");
  expect_refused("weight_straddle",
                 network("    source: a\n    target: b\n    rule: all_to_all\n"
                         "    weight: {distribution: uniform, low: -1, high: 1}\n"),
                 25, "straddle");
  expect_refused("indegree_too_big",
                 network("    source: a\n    target: b\n    rule: fixed_indegree\n"
                         "    indegree: 9\n    weight: 1\n"),
                 25, "");
  expect_refused("stray_key",
                 network("    source: a\n    target: b\n    rule: all_to_all\n    p: 0.5\n"
                         "    weight: 1\n"),
                 25, "belongs to another rule");
  expect_refused("synapse_tau",
                 network("    source: a\n    target: b\n    rule: all_to_all\n    weight: 1\n"
                         "    synapse: {tau: 0 ms}\n"),
                 26, "positive");
}

TEST_CASE("bad spike sources are refused") {
  const std::string p = "    source: noise\n    target: b\n" + kRest;
  std::string t = network(p);
  t.replace(t.find("rate: 100 Hz"), 12, "rate: -5 Hz");
  expect_refused("neg_rate", t, 14, ">= 0");
  t = network(p);
  t.replace(t.find("rate: 100 Hz"), 12, "rate: [1 Hz, 2 Hz]");
  expect_refused("rate_count", t, 14, "one per source");
}

TEST_CASE("spikes of some neurons only") {
  const fs::path dir = scratch("net_spike_subset");
  std::ofstream(dir / "sub.yaml") << network("    source: noise\n    target: b\n" + kRest,
                                             "record:\n  spikes: {a: [1, 3]}\n");
  ProgramResult r = run_ranvier("run sub.yaml -o out.h5 -q --set 'duration=100 ms'", dir);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  H5::H5File f((dir / "out.h5").string(), H5F_ACC_RDONLY);
  H5::Group g = f.openGroup("/spikes/a");
  const auto ids = io::h5::read_uint_vector(g, "node_ids");
  CHECK(ids.size() >= 6);  // v_in = 1.5: a spike every ~24 ms from 22 ms on, per neuron
  for (auto id : ids) CHECK((id == 1 || id == 3));
  CHECK_FALSE(f.nameExists("/spikes/b"));
  std::ofstream(dir / "bad.yaml") << network("    source: noise\n    target: b\n" + kRest,
                                             "record:\n  spikes: {a: [1, 4]}\n");
  r = run_ranvier("run bad.yaml -o out2.h5 -q", dir);
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("bad.yaml:28:") != std::string::npos);  // the list item 4
}

TEST_CASE("a spike source's spikes are recorded when named") {
  // noise: 5 Poisson sources at 100 Hz for 1 s, 500 spikes expected (sd ~22; 5 sd either
  // way). Named in the list, it gets /spikes/noise like a population, marked source = 1,
  // with its count and mean rate; 'all' and the default record populations only.
  const fs::path dir = scratch("net_source_spikes");
  std::ofstream(dir / "src.yaml") << network("    source: noise\n    target: b\n" + kRest,
                                             "record:\n  spikes: [a, noise]\n");
  ProgramResult r = run_ranvier("run src.yaml -o out.h5 -q --set 'duration=1000 ms'", dir);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  H5::H5File f((dir / "out.h5").string(), H5F_ACC_RDONLY);
  H5::Group g = f.openGroup("/spikes/noise");
  const auto ids = io::h5::read_uint_vector(g, "node_ids");
  const auto t = io::h5::read_vector(g, "timestamps");
  CHECK(ids.size() > 390);
  CHECK(ids.size() < 610);
  REQUIRE(t.size() == ids.size());
  for (std::size_t k = 0; k < t.size(); ++k) {
    CHECK(ids[k] < 5);
    if (k) CHECK(t[k] >= t[k - 1]);  // by time
  }
  std::int64_t is_source = 0;
  g.openAttribute("source").read(H5::PredType::NATIVE_INT64, &is_source);
  CHECK(is_source == 1);
  double rate = 0;
  g.openAttribute("mean_rate").read(H5::PredType::NATIVE_DOUBLE, &rate);
  CHECK(rate == doctest::Approx(static_cast<double>(ids.size()) / 5.0));
  CHECK_FALSE(f.nameExists("/spikes/b"));
  std::ofstream(dir / "all.yaml") << network("    source: noise\n    target: b\n" + kRest,
                                             "record:\n  spikes: all\n");
  REQUIRE(run_ranvier("run all.yaml -o all.h5 -q", dir).exit_code == 0);
  H5::H5File fa((dir / "all.h5").string(), H5F_ACC_RDONLY);
  CHECK(fa.nameExists("/spikes/a"));
  CHECK_FALSE(fa.nameExists("/spikes/noise"));
  // An unknown name says what may be recorded: the populations and the sources.
  std::ofstream(dir / "bad.yaml") << network("    source: noise\n    target: b\n" + kRest,
                                             "record:\n  spikes: [a, nois]\n");
  r = run_ranvier("run bad.yaml -o bad.h5 -q", dir);
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("bad.yaml:28:") != std::string::npos);
  CHECK(r.err.find("noise") != std::string::npos);
}

TEST_CASE("the program gives identical spikes at 1 and 2 threads for a network") {
  const fs::path dir = scratch("net_threads");
  const std::string cfg = "'" + source_path("configs/hh_network.yaml") + "'";
  REQUIRE(run_ranvier("run " + cfg + " -o a.h5 -q --threads 1", dir).exit_code == 0);
  REQUIRE(run_ranvier("run " + cfg + " -o b.h5 -q --threads 2", dir).exit_code == 0);
  H5::H5File a((dir / "a.h5").string(), H5F_ACC_RDONLY), b((dir / "b.h5").string(), H5F_ACC_RDONLY);
  for (const char* name : {"timestamps", "node_ids"}) {
    H5::Group ga = a.openGroup("/spikes/hh"), gb = b.openGroup("/spikes/hh");
    const auto va = io::h5::read_vector(ga, name), vb = io::h5::read_vector(gb, name);
    CHECK(va.size() > 100);
    CHECK(va == vb);
  }
}

TEST_CASE("a synaptic channel's current is recorded as I_<channel> in the input unit") {
  // Projection ab (weight 0.5 > 0: channel exc) from a, driven to fire, onto b. The trace
  // writes /report/b/I_exc with b's input unit (normalized LIF: "1"); it is 0 until the
  // first spike of a arrives (a fires from ~22 ms on: v_in = 1.5) and positive after.
  const fs::path dir = scratch("net_syn_current");
  std::ofstream(dir / "syn.yaml") << network(
      "    source: a\n    target: b\n" + kRest,
      "record:\n  traces:\n    i:\n      population: b\n      variables: [V, I_exc]\n");
  ProgramResult r = run_ranvier("run syn.yaml -o out.h5 -q --set 'duration=40 ms'", dir);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  H5::H5File f((dir / "out.h5").string(), H5F_ACC_RDONLY);
  H5::Group g = f.openGroup("/report/b/I_exc");
  std::size_t rows = 0, cols = 0;
  const std::vector<double> I = io::h5::read_matrix(g, "data", rows, cols);
  REQUIRE(rows == 401);
  REQUIRE(cols == 3);
  CHECK(io::h5::read_string_attr(g.openDataSet("data"), "units").value_or("?") == "1");
  CHECK(I[0] == 0.0);
  CHECK(I[200 * cols] == 0.0);  // 20 ms: before a's first spike arrives
  CHECK(I[400 * cols] > 0.0);   // 40 ms: a has fired
  std::ofstream(dir / "bad.yaml") << network(
      "    source: a\n    target: b\n" + kRest,
      "record:\n  traces:\n    i:\n      population: b\n      variables: [V, I_inh]\n");
  r = run_ranvier("run bad.yaml -o out2.h5 -q", dir);
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("bad.yaml:31:") != std::string::npos);  // the variables list item
  CHECK(r.err.find("I_exc") != std::string::npos);         // what is allowed
}
