// What kills, Ctrl-C and failures of the machine leave behind after `ranvier run`, `tune`
// and `info`, driven with real signals on real child processes: never a partial file at
// the output path, an earlier file byte-identical after a failed --force, a clear message
// and the documented exit code. Nothing here waits on a clock: every signal is sent once
// the run has visibly started (its temporary file exists and its first progress line is
// out, RANVIER_PROGRESS_DELAY=0), and every long run is made long enough (1e8 steps and
// more) that it cannot end before the signal on any machine.
#include <doctest/doctest.h>

#include <H5Cpp.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <string>
#include <vector>

#include "support/cli.hpp"
#include "support/process.hpp"

using namespace ranvier::test;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

void write(const fs::path& p, const std::string& text) {
  std::ofstream(p) << text;
}

// 100 LIF neurons firing at a few hundred Hz with every spike recorded: the temporary
// file grows while the run goes. 50 ms as written; --set duration makes it long.
const char* kRun = R"(dt: 0.1 ms
duration: 50 ms
populations:
  lif:
    model: lif
    size: 100
stimuli:
  drive: {target: lif, type: constant, value: 3}
record: {spikes: all}
)";
const std::string kLong = "duration=1e7 ms";  // 1e8 steps: minutes, never reached

// The LIF tuning sweep, 10 points; --set sweep.duration makes it long.
const char* kTune = R"(dt: 0.1 ms
populations:
  lif: {model: lif}
sweep:
  input: {from: 0, to: 5, points: 10}
  duration: 100 ms
  transient: 10 ms
  method: simulated
)";

const ChildOptions kProgressAtOnce{{"RANVIER_PROGRESS_DELAY=0"}, -1};

// Hidden temporaries ".result.h5.<pid>.<host>.tmp" beside `output`.
std::vector<fs::path> temporaries(const fs::path& output) {
  std::vector<fs::path> found;
  const std::string prefix = "." + output.filename().string() + ".";
  if (!fs::exists(output.parent_path())) return found;
  for (const auto& e : fs::directory_iterator(output.parent_path())) {
    const std::string f = e.path().filename().string();
    if (f.rfind(prefix, 0) == 0 && f.size() > 4 && f.substr(f.size() - 4) == ".tmp")
      found.push_back(e.path());
  }
  return found;
}

// Starts `args` and returns once the run is under way: its temporary beside `output`
// exists and a progress line (`label`: ...) is on stderr. REQUIREs that it got there.
std::unique_ptr<ChildProcess> start_and_wait_for_progress(const std::vector<std::string>& args,
                                                          const fs::path& dir,
                                                          const fs::path& output,
                                                          const std::string& label) {
  auto child = start_ranvier(args, dir, kProgressAtOnce);
  const bool started = child->wait_until(
      [&] {
        return !temporaries(output).empty() && child->err().find(label + ": ") != std::string::npos;
      },
      60s);
  INFO("stderr: " << child->err());
  REQUIRE(started);
  return child;
}

double root_double(const fs::path& file, const char* name) {
  H5::H5File f(file.string(), H5F_ACC_RDONLY);
  H5::Attribute a = f.openGroup("/").openAttribute(name);
  double v = 0;
  a.read(H5::PredType::NATIVE_DOUBLE, &v);
  return v;
}

std::vector<double> read_doubles(const fs::path& file, const std::string& dataset) {
  H5::H5File f(file.string(), H5F_ACC_RDONLY);
  H5::DataSet ds = f.openDataSet(dataset);
  std::vector<double> v(ds.getSpace().getSimpleExtentNpoints());
  if (!v.empty()) ds.read(v.data(), H5::PredType::NATIVE_DOUBLE);
  return v;
}

// A finished result of kRun at `output`, and its bytes, as the "earlier file".
std::string make_earlier_result(const fs::path& dir, const std::string& output) {
  const ProgramResult r = run_ranvier("run cfg.yaml -q -o " + output, dir);
  REQUIRE(r.exit_code == 0);
  return slurp(dir / output);
}

}  // namespace

TEST_CASE("kill -9 during run: no file at the output path; the next run removes the temporary") {
  const fs::path dir = scratch("safety_kill_run");
  write(dir / "cfg.yaml", kRun);
  const fs::path output = dir / "out" / "result.h5";
  auto child = start_and_wait_for_progress(
      {"run", "cfg.yaml", "-o", "out/result.h5", "--set", kLong}, dir, output, "run");
  child->send(SIGKILL);
  const ChildStatus st = child->wait(30s);
  CHECK(st.signalled);
  CHECK(st.signal == SIGKILL);
  CHECK(!fs::exists(output));
  // What the kill leaves: the hidden temporary only (nothing can remove it in a SIGKILL).
  const std::vector<fs::path> left = temporaries(output);
  REQUIRE(left.size() == 1);
  CHECK(left[0].filename().string().find(std::to_string(child->pid())) != std::string::npos);

  // The next run to the same path removes the dead process's temporary and says so.
  const ProgramResult next = run_ranvier("run cfg.yaml -o out/result.h5", dir);
  CHECK(next.exit_code == 0);
  CHECK(next.err.find("note: removed 'out/" + left[0].filename().string() +
                      "', left by an earlier run to 'out/result.h5' that was killed") !=
        std::string::npos);
  CHECK(!fs::exists(left[0]));
  CHECK(count_files(dir / "out") == 1);
}

TEST_CASE("stale temporaries: only those of dead processes on this host are removed") {
  const fs::path dir = scratch("safety_stale");
  write(dir / "cfg.yaml", kRun);
  char host[256] = {0};
  REQUIRE(::gethostname(host, sizeof host - 1) == 0);
  // A pid that is surely dead: a child that has ended and been reaped.
  ChildProcess done("/bin/true", {}, dir / "true");
  REQUIRE(done.wait(30s).exited);
  const std::string dead = ".result.h5." + std::to_string(done.pid()) + "." + host + ".tmp";
  const std::string alive = std::string(".result.h5.1.") + host + ".tmp";  // init lives
  const std::string elsewhere = ".result.h5.12345.another-host.tmp";       // cannot be asked
  const std::string other_output = ".other.h5.1234567.tmp";                // not our name
  for (const auto& f : {dead, alive, elsewhere, other_output}) write(dir / f, "stale");
  const ProgramResult r = run_ranvier("run cfg.yaml -o result.h5", dir);
  CHECK(r.exit_code == 0);
  CHECK(!fs::exists(dir / dead));
  CHECK(r.err.find("note: removed '" + dead + "'") != std::string::npos);
  CHECK(fs::exists(dir / alive));
  CHECK(fs::exists(dir / elsewhere));
  CHECK(fs::exists(dir / other_output));
}

TEST_CASE("kill -9 during run --force over an earlier result: the earlier file is byte-identical") {
  const fs::path dir = scratch("safety_kill_run_force");
  write(dir / "cfg.yaml", kRun);
  fs::create_directories(dir / "out");
  const std::string before = make_earlier_result(dir, "out/result.h5");
  auto child = start_and_wait_for_progress(
      {"run", "cfg.yaml", "-o", "out/result.h5", "--force", "--set", kLong}, dir,
      dir / "out" / "result.h5", "run");
  child->send(SIGKILL);
  CHECK(child->wait(30s).signalled);
  CHECK(slurp(dir / "out" / "result.h5") == before);
}

TEST_CASE("a temporary of a live process is not removed") {
  // A second run to the same path while the first goes must not delete its file.
  const fs::path dir = scratch("safety_live_temporary");
  write(dir / "cfg.yaml", kRun);
  const fs::path output = dir / "out" / "result.h5";
  auto child = start_and_wait_for_progress(
      {"run", "cfg.yaml", "-o", "out/result.h5", "--set", kLong}, dir, output, "run");
  const std::vector<fs::path> live = temporaries(output);
  REQUIRE(live.size() == 1);
  const ProgramResult other = run_ranvier("run cfg.yaml -o out/result.h5", dir);
  CHECK(other.exit_code == 0);
  CHECK(fs::exists(live[0]));
  CHECK(other.err.find("note: removed") == std::string::npos);
  child->send(SIGKILL);
  child->wait(30s);
}

TEST_CASE("kill -9 during tune: no file at the output path, an earlier one byte-identical") {
  const fs::path dir = scratch("safety_kill_tune");
  write(dir / "tune.yaml", kTune);
  const fs::path output = dir / "t.h5";
  auto child = start_and_wait_for_progress(
      {"tune", "tune.yaml", "-o", "t.h5", "--set", "sweep.duration=1e7 ms"}, dir, output, "tune");
  child->send(SIGKILL);
  CHECK(child->wait(30s).signalled);
  CHECK(!fs::exists(output));

  REQUIRE(run_ranvier("tune tune.yaml -q -o t.h5", dir).exit_code == 0);
  CHECK(temporaries(output).empty());  // the killed one's temporary was removed
  const std::string before = slurp(output);
  child = start_and_wait_for_progress(
      {"tune", "tune.yaml", "-o", "t.h5", "--force", "--set", "sweep.duration=1e7 ms"}, dir, output,
      "tune");
  child->send(SIGKILL);
  CHECK(child->wait(30s).signalled);
  CHECK(slurp(output) == before);
}

TEST_CASE("Ctrl-C during run: exit 130, the partial result kept apart and marked, output absent") {
  const fs::path dir = scratch("safety_sigint_run");
  write(dir / "cfg.yaml", kRun);
  const fs::path output = dir / "out" / "result.h5";
  const fs::path partial = dir / "out" / "result.partial.h5";
  auto child = start_and_wait_for_progress(
      {"run", "cfg.yaml", "-o", "out/result.h5", "--set", kLong}, dir, output, "run");
  child->send(SIGINT);
  const ChildStatus st = child->wait(60s);
  INFO("stderr: " << child->err());
  CHECK(st.exited);
  CHECK(st.exit_code == 130);
  CHECK(child->err().find("stopped by Ctrl-C (SIGINT) at t = ") != std::string::npos);
  CHECK(child->err().find("is kept in 'out/result.partial.h5'") != std::string::npos);
  CHECK(child->err().find("nothing was written to 'out/result.h5'") != std::string::npos);
  CHECK(!fs::exists(output));
  CHECK(temporaries(output).empty());
  REQUIRE(fs::exists(partial));
  // The partial file is a valid result over [0, simulated_until): marked incomplete, its
  // spikes all before the time it says, and there are spikes (neurons fire at ~100 Hz).
  CHECK(root_double(partial, "complete") == 0);
  const double until = root_double(partial, "simulated_until");
  CHECK(until > 0);
  CHECK(until < 1e7);
  const std::vector<double> t = read_doubles(partial, "/spikes/lif/timestamps");
  CHECK(!t.empty());
  CHECK(std::all_of(t.begin(), t.end(), [&](double x) { return x <= until; }));
  const ProgramResult info = run_ranvier("info out/result.partial.h5", dir);
  CHECK(info.exit_code == 0);
  CHECK(info.out.find("INCOMPLETE: the run was stopped at t = ") != std::string::npos);

  // A finished run says complete = 1 and simulated_until = duration.
  REQUIRE(run_ranvier("run cfg.yaml -q -o out/result.h5", dir).exit_code == 0);
  CHECK(root_double(output, "complete") == 1);
  CHECK(root_double(output, "simulated_until") == 50);
}

TEST_CASE("SIGTERM during run --force: the earlier file intact; an existing partial not replaced") {
  const fs::path dir = scratch("safety_sigterm_run");
  write(dir / "cfg.yaml", kRun);
  const std::string before = make_earlier_result(dir, "result.h5");
  write(dir / "result.partial.h5", "an earlier partial result");
  // Without --force an existing partial file is not replaced: the new partial is dropped.
  const std::vector<std::string> base = {"run", "cfg.yaml", "-o", "result.h5", "--set", kLong};
  std::vector<std::string> args = base;
  args.push_back("--force");
  auto child = start_and_wait_for_progress(args, dir, dir / "result.h5", "run");
  child->send(SIGTERM);
  ChildStatus st = child->wait(60s);
  CHECK(st.exit_code == 130);
  CHECK(child->err().find("stopped by SIGTERM") != std::string::npos);
  CHECK(child->err().find("the earlier 'result.h5' is unchanged") != std::string::npos);
  CHECK(slurp(dir / "result.h5") == before);
  // --force was given, so the old partial was replaced by the new one.
  CHECK(slurp(dir / "result.partial.h5") != "an earlier partial result");
  CHECK(temporaries(dir / "result.h5").empty());

  // Now without --force, to a new output: the existing partial file stays as it was.
  const std::string partial_before = slurp(dir / "result.partial.h5");
  fs::remove(dir / "result.h5");
  child = start_and_wait_for_progress(base, dir, dir / "result.h5", "run");
  child->send(SIGTERM);
  st = child->wait(60s);
  CHECK(st.exit_code == 130);
  CHECK(child->err().find("the partial result was not kept: 'result.partial.h5' exists") !=
        std::string::npos);
  CHECK(slurp(dir / "result.partial.h5") == partial_before);
  CHECK(!fs::exists(dir / "result.h5"));
  CHECK(temporaries(dir / "result.h5").empty());
}

TEST_CASE("Ctrl-C during tune: exit 130, nothing kept, nothing left") {
  const fs::path dir = scratch("safety_sigint_tune");
  write(dir / "tune.yaml", kTune);
  auto child = start_and_wait_for_progress(
      {"tune", "tune.yaml", "-o", "t.h5", "--set", "sweep.duration=1e7 ms"}, dir, dir / "t.h5",
      "tune");
  child->send(SIGINT);
  const ChildStatus st = child->wait(60s);
  INFO("stderr: " << child->err());
  CHECK(st.exit_code == 130);
  CHECK(child->err().find("stopped by Ctrl-C (SIGINT) while sweeping 'lif'") != std::string::npos);
  CHECK(child->err().find("nothing was written to 't.h5'") != std::string::npos);
  CHECK(count_files(dir) == 1);  // the config only

  // HH with encoders: the gains and biases are searched on simulated f-I curves first.
  child = start_and_wait_for_progress({"tune", source_path("configs/hh_ensemble.yaml"), "-o",
                                       "e.h5", "--set", "sweep.duration=1e7 ms"},
                                      dir, dir / "e.h5", "tune");
  child->send(SIGINT);
  INFO("stderr: " << child->err());
  CHECK(child->wait(60s).exit_code == 130);
  CHECK(child->err().find("while searching the gains and biases of 'hh'") != std::string::npos);
  CHECK(count_files(dir) == 1);
}

TEST_CASE("output directory that cannot be written: exit 2 before running, nothing left") {
  const fs::path dir = scratch("safety_unwritable");
  write(dir / "cfg.yaml", kRun);
  // Root ignores permission bits, so: a path whose "directory" is a regular file,
  SUBCASE("a file where the directory should be") {
    write(dir / "notadir", "x");
    const ProgramResult r = run_ranvier("run cfg.yaml -o notadir/result.h5", dir);
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("'notadir' is not a directory") != std::string::npos);
    CHECK(slurp(dir / "notadir") == "x");
  }
  // a FIFO (or device: -o /dev/null) given as the output, which a rename would replace
  // (tested on a FIFO of our own: a broken check must not replace /dev/null on CI),
  SUBCASE("a FIFO as the output") {
    REQUIRE(::mkfifo((dir / "pipe").c_str(), 0644) == 0);
    const ProgramResult r = run_ranvier("run cfg.yaml -o pipe --force", dir);
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("'pipe' exists and is not a regular file") != std::string::npos);
    CHECK(fs::is_fifo(dir / "pipe"));
    CHECK(temporaries(dir / "pipe").empty());
  }
  // a directory under /proc, which no one may create,
  SUBCASE("a directory that cannot be created") {
    const ProgramResult r = run_ranvier("run cfg.yaml -o /proc/ranvier-test/result.h5", dir);
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("cannot create output directory '/proc/ranvier-test'") != std::string::npos);
  }
  // and a read-only bind mount of a real directory, where the sandbox allows mounting.
  SUBCASE("a read-only file system") {
    const fs::path ro = dir / "ro";
    fs::create_directories(ro);
    if (::mount(ro.c_str(), ro.c_str(), nullptr, MS_BIND, nullptr) != 0 ||
        ::mount(nullptr, ro.c_str(), nullptr, MS_BIND | MS_REMOUNT | MS_RDONLY, nullptr) != 0) {
      ::umount(ro.c_str());
      MESSAGE("mount is not permitted here; the read-only case is not tested");
      return;
    }
    const ProgramResult r = run_ranvier("run cfg.yaml -o ro/result.h5", dir);
    ::umount(ro.c_str());
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("cannot write in the output directory 'ro' (Read-only file system)") !=
          std::string::npos);
    CHECK(fs::is_empty(ro));
  }
  CHECK(count_files(dir) >= 1);
}

TEST_CASE(
    "a disk that fills during run (file size limit): exit 2, the cause, earlier file intact") {
  const fs::path dir = scratch("safety_disk_full_run");
  write(dir / "cfg.yaml", kRun);
  const std::string before = make_earlier_result(dir, "result.h5");
  REQUIRE(before.size() < 256 * 1024);  // the earlier result fits the limit below
  // 1e5 steps of 100 neurons at ~200 Hz: ~16 MB of spikes, far past a 256 KiB limit.
  auto child =
      start_ranvier({"run", "cfg.yaml", "-o", "result.h5", "--force", "--set", "duration=1e4 ms"},
                    dir, ChildOptions{{}, 256 * 1024});
  const ChildStatus st = child->wait(120s);
  INFO("stderr: " << child->err());
  CHECK(st.exited);
  CHECK(st.exit_code == 2);
  CHECK(child->err().find("File too large") != std::string::npos);
  CHECK(child->err().find("the disk is full or a file size limit") != std::string::npos);
  CHECK(child->err().find("the earlier 'result.h5' is unchanged") != std::string::npos);
  CHECK(child->err().find("internal error") == std::string::npos);
  CHECK(slurp(dir / "result.h5") == before);
  CHECK(temporaries(dir / "result.h5").empty());
}

TEST_CASE("a disk that fills while tune writes: exit 2, nothing at the output path") {
  const fs::path dir = scratch("safety_disk_full_tune");
  write(dir / "tune.yaml", kTune);
  // The tuning file is written at the end: a 4 KiB limit fails it there (it is ~30 KiB).
  auto child = start_ranvier({"tune", "tune.yaml", "-o", "t.h5"}, dir, ChildOptions{{}, 4096});
  const ChildStatus st = child->wait(60s);
  INFO("stderr: " << child->err());
  CHECK(st.exit_code == 2);
  CHECK(child->err().find("the disk is full or a file size limit") != std::string::npos);
  CHECK(child->err().find("nothing was written to 't.h5'") != std::string::npos);
  CHECK(count_files(dir) == 1);
}

TEST_CASE("a full tmpfs (ENOSPC) during run: exit 2, the cause, earlier file intact") {
  const fs::path dir = scratch("safety_tmpfs");
  write(dir / "cfg.yaml", kRun);
  const fs::path small = dir / "small";
  fs::create_directories(small);
  if (::mount("tmpfs", small.c_str(), "tmpfs", 0, "size=256k") != 0) {
    MESSAGE("mount is not permitted here; ENOSPC is tested through the file size limit only");
    return;
  }
  const std::string before = make_earlier_result(dir, "small/result.h5");
  const ProgramResult r =
      run_ranvier("run cfg.yaml -o small/result.h5 --force --set 'duration=1e4 ms'", dir);
  const std::string after = slurp(small / "result.h5");
  const bool no_temporaries = temporaries(small / "result.h5").empty();
  ::umount(small.c_str());
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("No space left on device") != std::string::npos);
  CHECK(r.err.find("the disk is full") != std::string::npos);
  CHECK(after == before);
  CHECK(no_temporaries);
}

TEST_CASE("a result open in another program while run --force replaces it") {
  const fs::path dir = scratch("safety_open_elsewhere");
  write(dir / "cfg.yaml", kRun);
  make_earlier_result(dir, "result.h5");  // duration 50 ms
  // h5py holds the file open for reading, waits for "go", then reads it again: it still
  // sees the earlier file (rename gives the new one a new inode), never a torn mixture.
  // Each helper runs in its own directory: a ChildProcess's output goes beside its cwd.
  const fs::path result = dir / "result.h5";
  write(dir / "reader.py", R"(import h5py, os, sys, time
f = h5py.File(sys.argv[1], 'r')
print('open', flush=True)
while not os.path.exists(sys.argv[2]):
    time.sleep(0.01)
print('duration', f.attrs['duration'], 'complete', f.attrs['complete'], flush=True)
)");
  fs::create_directories(dir / "reader");
  {
    ChildProcess reader("/usr/bin/python3",
                        {(dir / "reader.py").string(), result.string(), (dir / "go").string()},
                        dir / "reader");
    REQUIRE(reader.wait_until([&] { return reader.out().find("open") != std::string::npos; }, 60s));
    const ProgramResult r =
        run_ranvier("run cfg.yaml -q -o result.h5 --force --set 'duration=20 ms'", dir);
    CHECK(r.exit_code == 0);  // readers do not block a replacement
    write(dir / "go", "");
    CHECK(reader.wait(60s).exit_code == 0);
    INFO("reader: " << reader.out() << reader.err());
    CHECK(reader.out().find("duration 50.0 complete 1") != std::string::npos);
    CHECK(root_double(result, "duration") == 20);
  }
  // A program writing the file (h5py in append mode holds HDF5's exclusive lock): --force
  // is refused before the run, `info` says who has it; both leave it alone.
  write(dir / "writer.py", R"(import h5py, os, sys, time
f = h5py.File(sys.argv[1], 'a')
print('open', flush=True)
while not os.path.exists(sys.argv[2]):
    time.sleep(0.01)
f.close()
)");
  fs::create_directories(dir / "writer");
  ChildProcess writer("/usr/bin/python3",
                      {(dir / "writer.py").string(), result.string(), (dir / "go2").string()},
                      dir / "writer");
  REQUIRE(writer.wait_until([&] { return writer.out().find("open") != std::string::npos; }, 60s));
  const ProgramResult forced = run_ranvier("run cfg.yaml -o result.h5 --force", dir);
  CHECK(forced.exit_code == 2);
  CHECK(forced.err.find("'result.h5' is open for writing in another program") != std::string::npos);
  const ProgramResult info = run_ranvier("info result.h5", dir);
  CHECK(info.exit_code == 2);
  CHECK(info.err.find("cannot read 'result.h5': unable to lock file") != std::string::npos);
  CHECK(info.err.find("another program has it open for writing") != std::string::npos);
  write(dir / "go2", "");
  CHECK(writer.wait(60s).exit_code == 0);
  CHECK(temporaries(result).empty());
  // h5py's append mode may rewrite metadata on close; the data the run wrote is intact.
  CHECK(root_double(result, "duration") == 20);
}

TEST_CASE("info on damaged, foreign and non-HDF5 files: exit 2 with what is wrong, no crash") {
  const fs::path dir = scratch("safety_info");
  write(dir / "cfg.yaml", kRun);
  const std::string good = make_earlier_result(dir, "result.h5");
  REQUIRE(good.size() > 4096);
  const auto info = [&](const std::string& name, const std::string& bytes) {
    std::ofstream(dir / name, std::ios::binary) << bytes;
    return run_ranvier("info " + name, dir);
  };
  SUBCASE("truncated copies of a real result") {
    // Cut after the superblock (HDF5 sees its stored end-of-file beyond the real one) and
    // inside the signature; every cut is refused with exit 2, never a crash (exit 1/signal).
    for (std::size_t cut : {good.size() / 2, good.size() - 1, std::size_t{100}}) {
      const ProgramResult r = info("cut.h5", good.substr(0, cut));
      INFO("cut at " << cut << ": " << r.err);
      CHECK(r.exit_code == 2);
      CHECK(r.err.find("cannot read 'cut.h5': the file is truncated") != std::string::npos);
      CHECK(r.err.find("get the file again") != std::string::npos);
    }
    const ProgramResult r = info("cut.h5", good.substr(0, 4));
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("'cut.h5' is not an HDF5 file") != std::string::npos);
  }
  SUBCASE("empty, text and random bytes") {
    for (const std::string& bytes :
         {std::string(), std::string("dt: 0.1 ms\n"), std::string(5000, '\x5a')}) {
      const ProgramResult r = info("bad.h5", bytes);
      CHECK(r.exit_code == 2);
      CHECK(r.err.find("'bad.h5' is not an HDF5 file") != std::string::npos);
    }
  }
  SUBCASE("a directory, a missing file") {
    fs::create_directories(dir / "adir");
    ProgramResult r = run_ranvier("info adir", dir);
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("'adir' is a directory") != std::string::npos);
    r = run_ranvier("info missing.h5", dir);
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("'missing.h5' does not exist") != std::string::npos);
  }
  SUBCASE("an HDF5 file from another tool") {
    write(dir / "make.py",
          "import h5py\nwith h5py.File('other.h5', 'w') as f:\n"
          "    f['x'] = [1.0, 2.0]\n    f['g/y'] = [[1, 2], [3, 4]]\n");
    REQUIRE(std::system(("cd '" + dir.string() + "' && /usr/bin/python3 make.py").c_str()) == 0);
    const ProgramResult r = run_ranvier("info other.h5", dir);
    CHECK(r.exit_code == 0);
    CHECK(r.out.find("HDF5 file not written by ranvier") != std::string::npos);
    CHECK(r.out.find("/g/y  (2 x 2) int64") != std::string::npos);
  }
  SUBCASE("a result with a damaged middle") {
    // Bytes overwritten inside the metadata after the superblock: the library's checks
    // (checksums, signatures of object headers) reject it; exit 2 and no crash.
    std::string bad = good;
    for (std::size_t i = 800; i < 1600 && i < bad.size(); ++i) bad[i] = '\xff';
    const ProgramResult r = info("damaged.h5", bad);
    INFO(r.err);
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("cannot read 'damaged.h5'") != std::string::npos);
  }
}

// Numerical faults: every kind of run that can blow up stops with exit 1, the population,
// neuron, time and advice, and leaves nothing at the output path (an earlier file intact).
namespace {

struct Fault {
  ProgramResult result;
  std::string before, after;  // the earlier result's bytes, and what is there afterwards
};

Fault run_faulty(const std::string& name, const std::string& yaml, const std::string& command) {
  const fs::path dir = scratch(name);
  write(dir / "cfg.yaml", kRun);
  write(dir / "bad.yaml", yaml);
  Fault f;
  f.before = make_earlier_result(dir, "result.h5");
  f.result = run_ranvier(command + " bad.yaml -o result.h5 --force", dir);
  f.after = slurp(dir / "result.h5");
  CHECK(temporaries(dir / "result.h5").empty());
  CHECK(count_files(dir) == 3);  // cfg, bad, result: no partial file anywhere
  return f;
}

}  // namespace

TEST_CASE("a blow-up in a network (HH driven through synapses): exit 1 naming the target") {
  // 1e6 uA*ms/cm2 per spike into 'b': its potential leaves any range within a few steps
  // of the first spike of 'a' (about 2 ms at 10 uA/cm2).
  const Fault f = run_faulty("fault_network", R"(dt: 0.01 ms
duration: 20 ms
populations:
  a: {model: hh, size: 2}
  b: {model: hh, size: 2}
stimuli:
  drive: {target: a, type: constant, value: 10 uA/cm2}
projections:
  ab: {source: a, target: b, rule: all_to_all, weight: 1e6 uA*ms/cm2, delay: 0.1 ms,
       synapse: {tau: 5 ms}}
)",
                             "run");
  INFO(f.result.err);
  CHECK(f.result.exit_code == 1);
  CHECK(f.result.err.find("population 'b' neuron 0: V became NaN at t = ") != std::string::npos);
  CHECK(f.result.err.find("use a smaller dt") != std::string::npos);
  CHECK(f.after == f.before);
}

TEST_CASE("a blow-up from a noise stimulus and from an LIF input: exit 1 with advice") {
  SUBCASE("white noise of huge sigma on HH") {
    const Fault f = run_faulty("fault_noise", R"(dt: 0.01 ms
duration: 10 ms
populations:
  hh: {model: hh, size: 2}
stimuli:
  n: {target: hh, type: white_noise, mean: 0 uA/cm2, sigma: 1e6 uA/cm2}
)",
                               "run");
    INFO(f.result.err);
    CHECK(f.result.exit_code == 1);
    CHECK(f.result.err.find("population 'hh' neuron ") != std::string::npos);
    CHECK(f.result.err.find("at t = 0.01 ms (rk4, dt = 0.01 ms)") != std::string::npos);
    CHECK(f.after == f.before);
  }
  SUBCASE("LIF driven to -1e308") {
    const Fault f = run_faulty("fault_lif", R"(dt: 0.1 ms
duration: 10 ms
populations:
  lif: {model: lif, size: 2}
stimuli:
  drive: {target: lif, type: constant, value: -1e308}
)",
                               "run");
    INFO(f.result.err);
    CHECK(f.result.exit_code == 1);
    CHECK(f.result.err.find("population 'lif' neuron 0: V ") != std::string::npos);
    CHECK(f.result.err.find("check the input magnitude") != std::string::npos);
    CHECK(f.after == f.before);
  }
}

TEST_CASE("a blow-up in a tuning sweep: exit 1 naming the sweep point and its input") {
  // rk4 at dt = 0.5 ms is unstable for HH once the input is strong enough to fire it.
  const Fault f = run_faulty("fault_tune", R"(dt: 0.5 ms
populations:
  hh: {model: hh, integrator: rk4}
sweep:
  input: {from: 0 uA/cm2, to: 40 uA/cm2, points: 81}
  duration: 100 ms
  transient: 10 ms
  method: simulated
)",
                             "tune");
  INFO(f.result.err);
  CHECK(f.result.exit_code == 1);
  // The sweep's engine population holds one neuron per point: the message maps it back.
  const std::regex where(
      R"(population 'hh' neuron 0 at sweep point (\d+) of 81 \(input = ([0-9.]+) uA/cm2\): V )");
  std::smatch m;
  REQUIRE(std::regex_search(f.result.err, m, where));
  CHECK(std::stod(m[2].str()) == doctest::Approx(0.5 * std::stod(m[1].str())));  // 0.5 per point
  CHECK(f.result.err.find("use a smaller dt (e.g. 0.05 ms)") != std::string::npos);
  CHECK(f.after == f.before);
}

TEST_CASE("an infinite synaptic current into LIF neurons stops the run (it was fired through)") {
  // 50 sources spiking at once, each delivering 1e308: their sum overflows to +inf, which
  // drives V to +inf, a "spike" and a reset every step unless the current is checked.
  const Fault f = run_faulty("fault_lif_synapses", R"(dt: 0.1 ms
duration: 20 ms
populations:
  a: {model: lif, size: 50}
  b: {model: lif, size: 2}
stimuli:
  drive: {target: a, type: constant, value: 3}
projections:
  ab: {source: a, target: b, rule: all_to_all, weight: 1e308, delay: 0.1 ms,
       synapse: {tau: 5 ms}}
)",
                             "run");
  INFO(f.result.err);
  CHECK(f.result.exit_code == 1);
  CHECK(f.result.err.find("population 'b' neuron 0: the synaptic current of channel 0 became "
                          "infinite") != std::string::npos);
  CHECK(f.result.err.find("projection weights") != std::string::npos);
  CHECK(f.after == f.before);
}

TEST_CASE("a disk that fills while train writes its model: exit 2, earlier model intact") {
  // The model file goes through the same checked writer as run's result: before, a full
  // disk crashed train (abort or segfault in HDF5's destructors) and could leave a model
  // file with missing datasets at the output path.
  const fs::path dir = scratch("safety_disk_full_train");
  const std::string cfg = source_path("configs/xor.yaml");
  ProgramResult first = run_ranvier("train " + cfg + " -o model.h5 -q", dir);
  REQUIRE(first.exit_code == 0);
  const std::string before = slurp(dir / "model.h5");
  for (const char* out : {"model.h5", "new.h5"}) {
    // 4 KiB: less than any model file (the config text alone is larger).
    auto child =
        start_ranvier({"train", cfg, "-o", out, "--force", "-q"}, dir, ChildOptions{{}, 4096});
    const ChildStatus st = child->wait(60s);
    INFO(out << " stderr: " << child->err());
    CHECK(st.exited);
    CHECK(st.exit_code == 2);
    CHECK(child->err().find("the disk is full or a file size limit") != std::string::npos);
    CHECK(child->err().find("internal error") == std::string::npos);
    CHECK(temporaries(dir / out).empty());
  }
  CHECK(slurp(dir / "model.h5") == before);
  CHECK(!fs::exists(dir / "new.h5"));
}
