// What `ranvier train` leaves behind when it is repeated, resumed, interrupted (Ctrl-C,
// SIGTERM), killed (SIGKILL) or blows up (a non-finite loss): the model file at the output
// path is always absent or complete, a resumed run ends with exactly the weights of an
// uninterrupted one, and the same seed and thread count give the same file apart from the
// wall-clock fields named in configs/training.md.
#include <doctest/doctest.h>

#include <H5Cpp.h>
#include <signal.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "support/cli.hpp"
#include "support/process.hpp"
#include "tools/io/model_file.hpp"

namespace fs = std::filesystem;
using namespace ranvier;
using namespace std::chrono_literals;

namespace {

const std::string kConfig = test::source_path("configs/discrete_mapping.yaml");

// A run long enough to be interrupted while it goes: 400 epochs of 2400 samples, a
// checkpoint after every epoch (each a file write, so several seconds in all). The
// reference and the resumed runs write only at the end (checkpoint_seconds large).
std::vector<std::string> long_run(const std::string& out, int threads = 1,
                                  const std::string& checkpoint_seconds = "0") {
  return {"train",
          kConfig,
          "-q",
          "-o",
          out,
          "--threads",
          std::to_string(threads),
          "--set",
          "training.epochs=400",
          "--set",
          "data.samples_per_class=1000",
          "--checkpoint-seconds",
          checkpoint_seconds};
}

std::string words(const std::vector<std::string>& args) {
  std::string s;
  for (const auto& a : args) s += "'" + a + "' ";
  return s;
}

// Every dataset and attribute of an HDF5 file as "path" / "path@attribute" -> raw bytes
// (strings as their text), so two files can be compared entry by entry.
void collect(const H5::H5Object& obj, const std::string& where,
             std::map<std::string, std::string>& out) {
  for (int i = 0; i < obj.getNumAttrs(); ++i) {
    H5::Attribute a = obj.openAttribute(static_cast<unsigned>(i));
    std::string value;
    if (a.getTypeClass() == H5T_STRING) {
      a.read(a.getStrType(), value);
    } else {
      value.resize(a.getInMemDataSize());
      a.read(a.getDataType(), value.data());
    }
    out[where + "@" + a.getName()] = value;
  }
}

void walk(const H5::Group& g, const std::string& where, std::map<std::string, std::string>& out) {
  collect(g, where.empty() ? "/" : where, out);
  for (hsize_t i = 0; i < g.getNumObjs(); ++i) {
    const std::string name = g.getObjnameByIdx(i);
    const std::string path = where + "/" + name;
    if (g.getObjTypeByIdx(i) == H5G_GROUP) {
      walk(g.openGroup(name), path, out);
    } else if (g.getObjTypeByIdx(i) == H5G_DATASET) {
      H5::DataSet ds = g.openDataSet(name);
      std::string bytes(ds.getInMemDataSize(), '\0');
      if (!bytes.empty()) ds.read(bytes.data(), ds.getDataType());
      out[path] = bytes;
      collect(ds, path, out);
    }
  }
}

std::map<std::string, std::string> contents(const std::string& path) {
  H5::H5File f(path, H5F_ACC_RDONLY);
  std::map<std::string, std::string> out;
  walk(f.openGroup("/"), "", out);
  return out;
}

// The wall-clock fields: the only entries allowed to differ between two runs.
bool wall_clock(const std::string& key) {
  return key == "/@created" || key == "/training/seconds";
}

void check_same_files(const std::string& a, const std::string& b) {
  const auto ca = contents(a), cb = contents(b);
  CHECK(ca.size() == cb.size());
  int compared = 0;
  for (const auto& [key, value] : ca) {
    INFO(key);
    const auto it = cb.find(key);
    REQUIRE(it != cb.end());
    if (wall_clock(key)) continue;
    CHECK(value == it->second);
    ++compared;
  }
  CHECK(compared > 30);  // the model, the curves, the optimizer: not an empty comparison
}

// The weights, optimizer state and curves (without seconds) of two model files agree
// exactly: a resumed run against one never stopped.
void check_same_model(const io::ModelFile& a, const io::ModelFile& b) {
  CHECK(a.state.history.epochs() == b.state.history.epochs());
  CHECK(a.params == b.params);
  CHECK(a.state.optimizer.m == b.state.optimizer.m);
  CHECK(a.state.optimizer.steps == b.state.optimizer.steps);
  CHECK(a.state.history.train_loss == b.state.history.train_loss);
  CHECK(a.state.history.val_loss == b.state.history.val_loss);
  CHECK(a.state.history.test_acc == b.state.history.test_acc);
}

bool all_finite(const std::vector<float>& v) {
  for (float x : v)
    if (!std::isfinite(x)) return false;
  return true;
}

// The uninterrupted reference for long_run() (no checkpoints on the way: quicker).
const io::ModelFile& reference(int threads) {
  static std::map<int, io::ModelFile> cache;
  if (!cache.count(threads)) {
    const fs::path dir = test::scratch("train_ckpt_reference_" + std::to_string(threads));
    const auto r = test::run_ranvier(words(long_run("ref.h5", threads, "1000")), dir);
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    cache[threads] = io::read_model_file((dir / "ref.h5").string());
  }
  return cache.at(threads);
}

}  // namespace

TEST_CASE("the same seed and thread count give the same model file (but the wall-clock fields)") {
  for (int threads : {1, 2}) {
    CAPTURE(threads);
    const fs::path dir = test::scratch("train_ckpt_same_" + std::to_string(threads));
    const std::string args = "train '" + kConfig + "' -q --threads " + std::to_string(threads);
    REQUIRE(test::run_ranvier(args + " -o a.h5", dir).exit_code == 0);
    // A second apart, so that time stamps (seconds resolution) would show if stored.
    std::this_thread::sleep_for(1100ms);
    REQUIRE(test::run_ranvier(args + " -o b.h5", dir).exit_code == 0);
    check_same_files((dir / "a.h5").string(), (dir / "b.h5").string());
    // Byte for byte: the same size, and no more bytes differ than the wall-clock fields
    // hold (60 doubles of /training/seconds, the ISO 8601 text of /@created). With
    // HDF5's object time stamps on, every object header would differ as well.
    const std::string a = test::slurp(dir / "a.h5"), b = test::slurp(dir / "b.h5");
    REQUIRE(a.size() == b.size());
    std::size_t differ = 0;
    for (std::size_t i = 0; i < a.size(); ++i) differ += a[i] != b[i];
    CHECK(differ <= 60 * 8 + 32);
  }
}

TEST_CASE("--resume after epoch k ends with exactly the weights of an uninterrupted run") {
  const fs::path dir = test::scratch("train_ckpt_resume");
  const std::string base = "train '" + kConfig + "' -q --threads 2";
  REQUIRE(test::run_ranvier(base + " -o full.h5", dir).exit_code == 0);
  // 60 epochs in the config: stop after 23, then resume into the same file up to 60.
  REQUIRE(test::run_ranvier(base + " -o part.h5 --epochs 23", dir).exit_code == 0);
  CHECK(io::read_model_file((dir / "part.h5").string()).state.history.epochs() == 23);
  const auto r = test::run_ranvier(base + " --resume part.h5", dir);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const io::ModelFile full = io::read_model_file((dir / "full.h5").string());
  const io::ModelFile resumed = io::read_model_file((dir / "part.h5").string());
  CHECK(full.state.history.epochs() == 60);
  check_same_model(full, resumed);
  check_same_files((dir / "full.h5").string(), (dir / "part.h5").string());
}

TEST_CASE("Ctrl-C (SIGINT) and SIGTERM: exit 130, the last complete epoch saved, resumable") {
  for (int sig : {SIGINT, SIGTERM}) {
    CAPTURE(sig);
    const fs::path dir = test::scratch("train_ckpt_sigint_" + std::to_string(sig));
    const fs::path out = dir / "m.h5";
    auto child = test::start_ranvier(long_run("m.h5"), dir);
    // A few epochs in: the first checkpoint is there.
    REQUIRE(child->wait_until([&] { return fs::exists(out); }, 60s));
    std::this_thread::sleep_for(100ms);
    REQUIRE_FALSE(child->ended());  // still training: the signal arrives mid-run
    child->send(sig);
    const test::ChildStatus st = child->wait(60s);
    INFO(child->err());
    REQUIRE(st.exited);
    CHECK(st.exit_code == 130);
    CHECK(child->err().find("interrupted: training stopped in epoch") != std::string::npos);
    CHECK(child->err().find("--resume m.h5") != std::string::npos);
    CHECK(test::count_files(dir) == 1);  // the model, no temporary file
    const io::ModelFile saved = io::read_model_file(out.string());
    const int k = saved.state.history.epochs();
    CHECK(k >= 1);
    CHECK(k < 400);
    CHECK(child->err().find("saved the " + std::to_string(k) + " complete epoch") !=
          std::string::npos);
    // Resumed, it ends where the uninterrupted run ends.
    const auto r = test::run_ranvier(words(long_run("m.h5", 1, "1000")) + " --resume m.h5", dir);
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    check_same_model(reference(1), io::read_model_file(out.string()));
  }
}

TEST_CASE("SIGKILL at any moment leaves no model or a complete, resumable one") {
  // Kills at increasing delays: before the first checkpoint, between, and (by chance)
  // during writes; with two threads, as the data-parallel step has its own state.
  int complete = 0, killed = 0;
  for (int delay_ms : {0, 200, 700, 1500}) {
    CAPTURE(delay_ms);
    const fs::path dir = test::scratch("train_ckpt_kill_" + std::to_string(delay_ms));
    const fs::path out = dir / "m.h5";
    auto child = test::start_ranvier(long_run("m.h5", 2), dir);
    if (delay_ms > 0) {
      child->wait_until([&] { return fs::exists(out); }, 60s);
      std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
    }
    child->send(SIGKILL);
    const test::ChildStatus st = child->wait(60s);
    // On a fast, quiet machine the run (~2 s) can end before the latest kill: then it must
    // have ended normally, and its file is checked like a checkpoint below.
    CHECK((st.signalled || (st.exited && st.exit_code == 0)));
    killed += st.signalled ? 1 : 0;
    if (!fs::exists(out)) continue;  // killed before the first checkpoint: nothing there
    ++complete;
    const io::ModelFile saved = io::read_model_file(out.string());  // throws if partial
    CHECK(saved.state.history.epochs() >= 1);
    CHECK(all_finite(saved.params));
    const auto r = test::run_ranvier(words(long_run("m.h5", 2, "1000")) + " --resume m.h5", dir);
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    check_same_model(reference(2), io::read_model_file(out.string()));
  }
  CHECK(killed >= 2);    // the early kills land while it trains, on any machine
  CHECK(complete >= 3);  // the later kills found a checkpoint to resume from
}

TEST_CASE("a non-finite loss or gradient stops training: epoch, batch, layer, advice, exit 1") {
  // SGD on sin(pi x) with a step schedule that multiplies the rate by 1e8 after epoch 2:
  // epoch 3 diverges (the gradients overflow float within a few batches).
  const fs::path dir = test::scratch("train_ckpt_nan");
  const auto r = test::run_ranvier(
      "train '" + test::source_path("configs/function_fit.yaml") +
          "' -o m.h5 --epochs 5 --checkpoint-seconds 0 --set optimizer.kind=sgd --set "
          "optimizer.lr=0.05 --set 'optimizer.schedule={kind: step, step_epochs: 2, gamma: 1e8}'",
      dir);
  INFO(r.err);
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("training stopped at epoch 3, batch") != std::string::npos);
  CHECK(r.err.find("of layer 0 are not finite") != std::string::npos);
  CHECK(r.err.find("Lower the learning rate (it was 5e+06 in that epoch") != std::string::npos);
  CHECK(r.err.find("after epoch 2, is in m.h5") != std::string::npos);
  // The last good checkpoint: two epochs, finite weights.
  const io::ModelFile m = io::read_model_file((dir / "m.h5").string());
  CHECK(m.state.history.epochs() == 2);
  CHECK(all_finite(m.params));
  CHECK(std::isfinite(m.state.history.train_loss.back()));
}

TEST_CASE("checkpoints never replace a file that was there before without --force") {
  const fs::path dir = test::scratch("train_ckpt_noforce");
  const std::string base = "train '" + kConfig + "' -q --epochs 3 --checkpoint-seconds 0";
  REQUIRE(test::run_ranvier(base + " -o a.h5", dir).exit_code == 0);
  std::ofstream(dir / "b.h5") << "someone else's file";
  const std::string before = test::slurp(dir / "b.h5");
  // A new run, and a resumed run writing elsewhere: both refuse at once (exit 2).
  for (const std::string& args : {base + " -o b.h5", base + " --resume a.h5 -o b.h5"}) {
    CAPTURE(args);
    const auto r = test::run_ranvier(args, dir);
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("pass --force") != std::string::npos);
    CHECK(test::slurp(dir / "b.h5") == before);
  }
  CHECK(test::count_files(dir) == 2);  // a.h5, b.h5: no temporary left behind
  // With --force the file is replaced by a model.
  REQUIRE(test::run_ranvier(base + " --force -o b.h5", dir).exit_code == 0);
  CHECK(io::read_model_file((dir / "b.h5").string()).state.history.epochs() == 3);
}
