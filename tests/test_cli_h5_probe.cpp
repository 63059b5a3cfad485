// HDF5 files that crash or hang libhdf5 1.10.8 itself (found by fuzz_h5_bytes; kept in
// tests/fuzz/libhdf5_findings/) are refused with the user's error, exit code 2 and the file
// named, by every reader and by the program: the file's metadata is first read in a
// child process (tools/io/h5_probe.hpp), so libhdf5's crash or hang ends only that child.
#include <doctest/doctest.h>

#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "networks/mlp/network.hpp"
#include "support/cli.hpp"
#include "tools/io/datasets.hpp"
#include "tools/io/errors.hpp"
#include "tools/io/h5_probe.hpp"
#include "tools/io/model_file.hpp"
#include "tools/io/output_file.hpp"

using namespace ranvier;
using namespace ranvier::test;
namespace fs = std::filesystem;

namespace {

// The probe's time limit in these tests: the hang case costs it once per reader. The
// child reads a small model's metadata in a few ms, so 1 s still leaves a loaded
// (or sanitized) machine a wide margin.
constexpr double kTestProbeSeconds = 1.0;

// The fuzz inputs are one option byte (fuzz_h5_bytes' data set options) and then the
// file: the file alone, under a name of its own in `dir`.
std::string finding(const std::string& name, const fs::path& dir) {
  const std::string bytes =
      slurp(source_path("tests/fuzz/libhdf5_findings/" + name + ".bin")).substr(1);
  REQUIRE(bytes.size() > 1000);  // a model file's worth: the input is there
  const fs::path p = dir / (name + ".h5");
  std::ofstream(p, std::ios::binary) << bytes;
  return p.string();
}

const std::vector<std::string> kFindings = {"memcpy_overlap_H5HG_read", "leak_H5HG_read",
                                            "leak_H5C_protect", "hang_H5HG_protect"};

// Every process started from here (readers and `ranvier` alike) takes the short limit.
struct ShortProbeLimit {
  ShortProbeLimit() { setenv("RANVIER_H5_PROBE_SECONDS", "1", 1); }
  ~ShortProbeLimit() { unsetenv("RANVIER_H5_PROBE_SECONDS"); }
};

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

std::string small_model(const fs::path& dir) {
  io::ModelFile m;
  m.spec.inputs = 2;
  mlp::LayerSpec l;
  l.units = 1;
  l.activation.kind = mlp::ActivationKind::logistic;
  m.spec.layers.push_back(l);
  m.spec.loss = mlp::LossKind::bce;
  m.params = {0.5f, -0.25f, 0.125f};
  m.config_text = "data: {}\n";
  const std::string p = (dir / "good.h5").string();
  io::write_model_file(p, m);
  return p;
}

}  // namespace

TEST_CASE("the probe passes a good model file, and the environment sets its time limit") {
  const fs::path dir = scratch("h5_probe_good");
  const std::string p = small_model(dir);
  CHECK_NOTHROW(io::h5::probe_file(p));
  CHECK(io::read_model_file(p).params.size() == 3);
  CHECK(io::h5::probe_seconds() == io::h5::kProbeSeconds);
  {
    ShortProbeLimit limit;
    CHECK(io::h5::probe_seconds() == kTestProbeSeconds);
  }
  setenv("RANVIER_H5_PROBE_SECONDS", "soon", 1);  // not a number: the default stays
  CHECK(io::h5::probe_seconds() == io::h5::kProbeSeconds);
  unsetenv("RANVIER_H5_PROBE_SECONDS");
}

TEST_CASE("libhdf5's crash reading a corrupt global heap is refused, naming the attribute") {
  const fs::path dir = scratch("h5_probe_crash");
  const std::string p = finding("memcpy_overlap_H5HG_read", dir);
  // Release: the child dies of SIGSEGV; under AddressSanitizer it reports the memcpy and
  // exits non-zero. Either way the attribute being read is named.
  CHECK_THROWS_WITH_AS(io::h5::probe_file(p, kTestProbeSeconds),
                       doctest::Contains("probably corrupt or truncated"), io::DataError);
  CHECK_THROWS_WITH_AS(io::h5::probe_file(p, kTestProbeSeconds),
                       doctest::Contains("while reading attribute 'created' of '/'"),
                       io::DataError);
  CHECK_THROWS_WITH_AS(io::read_model_file(p), doctest::Contains((p + ": libhdf5").c_str()),
                       io::DataError);
  CHECK_THROWS_WITH_AS(io::load_h5_dataset(p, {}), doctest::Contains("probably corrupt"),
                       io::DataError);
}

TEST_CASE("libhdf5's hang reading a corrupt global heap ends at the time limit") {
  const fs::path dir = scratch("h5_probe_hang");
  const std::string p = finding("hang_H5HG_protect", dir);
  const auto t0 = std::chrono::steady_clock::now();
  CHECK_THROWS_WITH_AS(io::h5::probe_file(p, kTestProbeSeconds),
                       doctest::Contains("did not finish within 1 s"), io::DataError);
  // The limit plus the kill; 4 s of slack for a loaded machine, far below the >25 s hang.
  CHECK(seconds_since(t0) < kTestProbeSeconds + 4);
  ShortProbeLimit limit;
  CHECK_THROWS_WITH_AS(io::read_model_file(p), doctest::Contains((p + ": libhdf5 hung").c_str()),
                       io::DataError);
}

TEST_CASE("metadata libhdf5 reports as damaged is refused before the readers touch it") {
  const fs::path dir = scratch("h5_probe_damaged");
  // libhdf5's error paths on these leak (LeakSanitizer), and after them the library
  // prints "infinite loop closing library" at exit: the walk's error refuses the file,
  // naming where it failed and libhdf5's reason.
  const std::string symbols = finding("leak_H5HG_read", dir);
  CHECK_THROWS_WITH_AS(io::h5::probe_file(symbols, kTestProbeSeconds),
                       doctest::Contains("failed while listing group '/' (bad symbol table node "
                                         "signature)"),
                       io::DataError);
  const std::string header = finding("leak_H5C_protect", dir);
  CHECK_THROWS_WITH_AS(io::read_model_file(header),
                       doctest::Contains((header + ": libhdf5 failed while walking").c_str()),
                       io::DataError);
  CHECK_THROWS_WITH_AS(io::load_h5_dataset(header, {}), doctest::Contains("actual len exceeds EOA"),
                       io::DataError);
}

TEST_CASE("ranvier info and spike-eval refuse each libhdf5 finding with exit code 2") {
  const fs::path dir = scratch("h5_probe_cli");
  ShortProbeLimit limit;
  for (const std::string& name : kFindings) {
    const std::string p = finding(name, dir);
    for (const std::string command : {"info", "spike-eval"}) {
      CAPTURE(name);
      CAPTURE(command);
      const auto t0 = std::chrono::steady_clock::now();
      const ProgramResult r = run_ranvier(command + " '" + p + "'", dir);
      INFO(r.err);
      CHECK(r.exit_code == 2);
      CHECK(r.err.find("error: ") != std::string::npos);
      CHECK(r.err.find(p) != std::string::npos);
      CHECK(r.err.find("internal") == std::string::npos);
      CHECK(r.err.find("infinite loop closing library") == std::string::npos);
      CHECK(seconds_since(t0) < kTestProbeSeconds + 4);  // as above
    }
  }
}

TEST_CASE("a run config's matrix file that crashes libhdf5 is refused at its key") {
  const fs::path dir = scratch("h5_probe_matrix");
  const std::string p = finding("memcpy_overlap_H5HG_read", dir);
  std::ofstream(dir / "net.yaml") << "dt: 0.1 ms\n"
                                     "duration: 5 ms\n"
                                     "populations:\n"
                                     "  a: {model: lif, size: 4}\n"
                                     "  b: {model: lif, size: 3}\n"
                                     "projections:\n"
                                     "  ab:\n"
                                     "    source: a\n"
                                     "    target: b\n"
                                     "    rule: matrix\n"
                                     "    matrix: {file: '"
                                  << p << "', dataset: W}\n";
  const ProgramResult r = run_ranvier("run net.yaml -o out.h5 -q", dir);
  INFO(r.err);
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("net.yaml:11:") != std::string::npos);  // the matrix's file key
  CHECK(r.err.find("probably corrupt or truncated") != std::string::npos);
  CHECK(!fs::exists(dir / "out.h5"));
}

TEST_CASE("a model that cannot be written is reported under the output path, not the temporary") {
  const fs::path dir = scratch("h5_write_error_path");
  const std::string target = (dir / "model.h5").string();
  io::OutputFile out(target, /*force=*/false);
  CHECK(io::shown_path(out.temp_path()) == target);
  CHECK(io::shown_path(target) == target);                   // not a temporary: unchanged
  CHECK(io::shown_path((dir / ".x.h5.1.h.tmp").string()) ==  // another process's
        (dir / ".x.h5.1.h.tmp").string());
  // The temporary replaced by a directory: libhdf5 cannot create the file there.
  fs::remove(out.temp_path());
  fs::create_directory(out.temp_path());
  io::ModelFile m;
  m.spec.inputs = 1;
  try {
    io::write_model_file(out.temp_path(), m);
    FAIL("writing over a directory succeeded");
  } catch (const io::OutputError& e) {
    const std::string message = e.what();
    INFO(message);
    CHECK(message.find("'" + target + "'") != std::string::npos);
    CHECK(message.find(".tmp") == std::string::npos);
  }
  fs::remove(out.temp_path());
}
