#include "tools/io/h5_probe.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <vector>

#include <fmt/format.h>

#include "tools/io/errors.hpp"
#include "tools/io/h5.hpp"

// Set by the sanitizer runtimes when one is linked in (weak: null otherwise).
extern "C" void __sanitizer_set_death_callback(void (*callback)()) __attribute__((weak));

// LeakSanitizer's built-in suppressions, read when a sanitizer runtime is linked in
// (unused otherwise). On a corrupted global heap, libhdf5 1.10.8 can read a
// variable-length string "successfully" and leak the copy H5HG_read made of the heap
// object (267 bytes for tests/fuzz/libhdf5_findings/leak_H5HG_read.bin, via
// H5T__conv_vlen). No error is reported, so neither the probe nor the readers can refuse
// the file before it happens; the readers refuse it afterwards, and the process has
// leaked a few hundred bytes once. Only allocations made inside H5HG_read are suppressed.
extern "C" const char* __lsan_default_suppressions() {
  return "leak:H5HG_read\n";
}

namespace ranvier::io::h5 {

namespace {

// What the child is reading, written before each libhdf5 call into a page shared with
// the parent, so a crash or a hang can be reported with the object and attribute named.
struct ProbeStep {
  char text[480];
  // Set, with libhdf5's innermost error message in `cause`, when libhdf5 reported an
  // error reading the metadata of a file it could open: an object header, a link, an
  // attribute (variable-length ones included) or a dataset's header. The file is then
  // refused here, before the readers touch it: the damaged metadata is how all libhdf5's
  // bugs above were reached, its error paths leak (424 bytes of a cached object header,
  // found by fuzz_h5_bytes), and the library then prints "infinite loop closing library"
  // when the program exits.
  bool refused;
  char cause[240];
};

// An attribute larger than this is not read by the child. Ranvier's readers read only
// one-element attributes; the largest Ranvier writes is a config text of some kB. Reading
// a (corrupted) multi-GB one would only make the child run out of memory and refuse a
// file the readers could report on themselves.
constexpr std::size_t kMaxAttributeBytes = std::size_t{64} << 20;

struct Walk {
  ProbeStep* step;
  std::string object;  // "/model/layer_0"
};

void say(ProbeStep* step, const std::string& what) {
  std::snprintf(step->text, sizeof step->text, "%s", what.c_str());
}

herr_t innermost_error(unsigned n, const H5E_error2_t* err, void* data) {
  if (n == 0 && err->desc) {
    auto* step = static_cast<ProbeStep*>(data);
    std::snprintf(step->cause, sizeof step->cause, "%s", err->desc);
  }
  return 0;
}

// libhdf5 failed on the step named in step->text: keep its reason and end the child.
[[noreturn]] void refuse(ProbeStep* step) {
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, innermost_error, step);
  step->refused = true;
  _exit(0);
}

// Reads attribute `name` of the open object `loc` in full, the way the readers convert
// it: strings as strings (variable-length ones from the global heap, then freed),
// numbers as doubles, anything else in its native memory type.
void read_attribute(hid_t loc, const char* name, Walk& w) {
  say(w.step, fmt::format("reading attribute '{}' of '{}'", name, w.object));
  const hid_t attr = H5Aopen(loc, name, H5P_DEFAULT);
  if (attr < 0) refuse(w.step);
  const hid_t type = H5Aget_type(attr);
  const hid_t space = H5Aget_space(attr);
  if (type < 0 || space < 0) refuse(w.step);
  const hssize_t points = H5Sget_simple_extent_npoints(space);
  if (points > 0) {
    const H5T_class_t cls = H5Tget_class(type);
    hid_t mem = -1;
    if (cls == H5T_INTEGER || cls == H5T_FLOAT)
      mem = H5Tcopy(H5T_NATIVE_DOUBLE);
    else if (cls == H5T_STRING)
      mem = H5Tcopy(type);  // what H5::Attribute::read(StrType, std::string&) uses
    else
      mem = H5Tget_native_type(type, H5T_DIR_DEFAULT);
    const std::size_t element = mem >= 0 ? H5Tget_size(mem) : 0;
    const auto n = static_cast<std::size_t>(points);
    if (element > 0 && n <= kMaxAttributeBytes / element) {
      std::vector<unsigned char> buffer(n * element);
      const bool variable = H5Tis_variable_str(mem) > 0 || H5Tdetect_class(mem, H5T_VLEN) > 0;
      const bool read = H5Aread(attr, mem, buffer.data()) >= 0;
      if (read && variable) H5Dvlen_reclaim(mem, space, H5P_DEFAULT, buffer.data());
      // A failed read of a number or a fixed string is left to the readers to report;
      // variable-length data comes from the global heap, whose damage is what crashes.
      if (!read && variable) refuse(w.step);
    }
    if (mem >= 0) H5Tclose(mem);
  }
  H5Sclose(space);
  H5Tclose(type);
  H5Aclose(attr);
}

// The callbacks run inside libhdf5's C frames, which an exception must not cross: one
// (out of memory for a name) ends the child, and the readers meet the file themselves.
herr_t visit_attribute(hid_t loc, const char* name, const H5A_info_t* /*info*/, void* data) {
  try {
    read_attribute(loc, name, *static_cast<Walk*>(data));
  } catch (...) {
    _exit(0);
  }
  return 0;
}

// What `ranvier info` and the readers ask of a dataset before its values: type class,
// size and sign, shape, filters, and the storage size (which walks a chunked dataset's
// chunk index).
void read_dataset_header(hid_t ds, Walk& w) {
  say(w.step, fmt::format("reading the type, shape and storage of dataset '{}'", w.object));
  const hid_t type = H5Dget_type(ds);
  if (type < 0) refuse(w.step);
  H5Tget_class(type);
  H5Tget_size(type);
  H5Tget_sign(type);
  H5Tclose(type);
  const hid_t space = H5Dget_space(ds);
  if (space < 0) refuse(w.step);
  const int rank = H5Sget_simple_extent_ndims(space);
  if (rank > 0 && rank <= H5S_MAX_RANK) {
    std::vector<hsize_t> dims(static_cast<std::size_t>(rank));
    H5Sget_simple_extent_dims(space, dims.data(), nullptr);
  }
  H5Sclose(space);
  const hid_t plist = H5Dget_create_plist(ds);
  if (plist < 0) refuse(w.step);
  H5Pget_layout(plist);
  H5Pget_nfilters(plist);
  H5Pclose(plist);
  H5Dget_storage_size(ds);
}

void visit_object_header(hid_t root, const char* name, const H5O_info_t* info, Walk& w) {
  w.object = std::strcmp(name, ".") == 0 ? "/" : "/" + std::string(name);
  say(w.step, fmt::format("opening object '{}'", w.object));
  const hid_t obj = H5Oopen(root, name, H5P_DEFAULT);
  if (obj < 0) refuse(w.step);
  say(w.step, fmt::format("listing the attributes of '{}'", w.object));
  hsize_t index = 0;
  if (H5Aiterate2(obj, H5_INDEX_NAME, H5_ITER_NATIVE, &index, visit_attribute, &w) < 0)
    refuse(w.step);
  if (info->type == H5O_TYPE_DATASET) read_dataset_header(obj, w);
  if (info->type == H5O_TYPE_GROUP) {
    say(w.step, fmt::format("listing group '{}'", w.object));
    H5G_info_t g;
    if (H5Gget_info(obj, &g) < 0) refuse(w.step);
  }
  H5Oclose(obj);
}

herr_t visit_object(hid_t root, const char* name, const H5O_info_t* info, void* data) {
  try {
    visit_object_header(root, name, info, *static_cast<Walk*>(data));
  } catch (...) {
    _exit(0);
  }
  return 0;
}

// The child: never returns. _exit, not exit: no atexit handlers (HDF5's own shutdown,
// the parent's), no flush of stdio buffers the parent still owns, no leak check.
[[noreturn]] void child_walk(const std::string& path, ProbeStep* step) {
  // A crash here is the parent's to report: a fuzzer or sanitizer linked into the
  // program must not treat it as its own (libFuzzer would save the input as a crash).
  if (__sanitizer_set_death_callback) __sanitizer_set_death_callback(nullptr);
  // Nor print its report: the parent's error says what libhdf5 was reading, and a
  // sanitizer report in a log would read as a crash of the program.
  if (const int null = open("/dev/null", O_WRONLY); null >= 0) dup2(null, STDERR_FILENO);
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);  // libhdf5's errors: the readers report them
  say(step, "opening the file");
  const hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  if (file >= 0) {
    Walk w{step, "/"};
    say(step, "walking the objects from '/'");
    // On a failure between two objects (a damaged link table), step->text still names
    // the last object read: the failure came while looking for the next one.
    if (H5Ovisit2(file, H5_INDEX_NAME, H5_ITER_NATIVE, visit_object, &w,
                  H5O_INFO_BASIC | H5O_INFO_NUM_ATTRS) < 0) {
      say(step, fmt::format("walking the objects after '{}'", w.object));
      refuse(step);
    }
  }
  // No H5Fclose: the child ends here, and closing flushes nothing for a read-only file.
  _exit(0);
}

std::string signal_name(int sig) {
  const char* abbrev = sigabbrev_np(sig);
  const char* text = strsignal(sig);
  return fmt::format("signal SIG{} ({})", abbrev ? abbrev : std::to_string(sig).c_str(),
                     text ? text : "unknown");
}

std::string advice(const std::string& path) {
  return fmt::format(
      "the file is probably corrupt or truncated: re-create it (write it again with "
      "ranvier, h5py or the tool that made it), or check it with `h5dump -H '{}'`",
      path);
}

// The shared page, unmapped when the probe ends however it ends.
struct SharedPage {
  void* p = MAP_FAILED;
  SharedPage() {
    p = mmap(nullptr, sizeof(ProbeStep), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  }
  ~SharedPage() {
    if (p != MAP_FAILED) munmap(p, sizeof(ProbeStep));
  }
};

}  // namespace

double probe_seconds() {
  if (const char* s = std::getenv("RANVIER_H5_PROBE_SECONDS")) {
    char* end = nullptr;
    const double v = std::strtod(s, &end);
    if (end != s && *end == '\0' && v > 0 && v < 1e6) return v;
  }
  return kProbeSeconds;
}

void probe_file(const std::string& path, double seconds) {
  SharedPage page;
  if (page.p == MAP_FAILED)
    throw DataError(fmt::format("{}: cannot check the file before reading it: mmap: {}", path,
                                std::strerror(errno)));
  auto* step = new (page.p) ProbeStep{};
  // The child holds the write end of a pipe and never writes: the read end reports
  // end-of-file the moment the child ends, however it ends, so the parent waits in poll()
  // with the time limit, wakes at once, and disturbs none of the program's signals.
  int ends[2];
  if (pipe2(ends, O_CLOEXEC) != 0)
    throw DataError(fmt::format("{}: cannot check the file before reading it: pipe: {}", path,
                                std::strerror(errno)));
  const pid_t pid = fork();
  if (pid < 0) {
    const int err = errno;
    close(ends[0]);
    close(ends[1]);
    throw DataError(fmt::format("{}: cannot check the file before reading it: fork: {}", path,
                                std::strerror(err)));
  }
  if (pid == 0) {
    close(ends[0]);
    child_walk(path, step);
  }
  close(ends[1]);
  using clock = std::chrono::steady_clock;
  const auto deadline = clock::now() + std::chrono::duration<double>(seconds);
  bool timed_out = false;
  for (;;) {
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - clock::now());
    if (left.count() <= 0) {
      timed_out = true;
      break;
    }
    pollfd p{ends[0], POLLIN, 0};
    const int r = poll(&p, 1, static_cast<int>(std::min<long>(left.count(), 1'000'000)));
    if (r > 0) break;                    // end-of-file: the child has ended
    if (r < 0 && errno != EINTR) break;  // cannot wait: let waitpid below decide
  }
  close(ends[0]);
  if (timed_out) kill(pid, SIGKILL);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  const std::string what(step->text, strnlen(step->text, sizeof step->text));
  if (timed_out)
    throw DataError(fmt::format("{}: libhdf5 hung while {} (did not finish within {} s); {}", path,
                                what, seconds, advice(path)));
  if (WIFSIGNALED(status))
    throw DataError(fmt::format("{}: libhdf5 crashed with {} while {}; {}", path,
                                signal_name(WTERMSIG(status)), what, advice(path)));
  if (step->refused) {
    const std::string cause(step->cause, strnlen(step->cause, sizeof step->cause));
    throw DataError(fmt::format("{}: libhdf5 failed while {}{}; {}", path, what,
                                cause.empty() ? "" : " (" + cause + ")", advice(path)));
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
    throw DataError(fmt::format(
        "{}: libhdf5 failed while {} (the process reading the file ended with exit status {}, "
        "as a sanitizer ends one after reporting a crash); {}",
        path, what, WEXITSTATUS(status), advice(path)));
}

H5::H5File open_for_reading(const std::string& path) {
  probe_file(path);
  quiet_errors();
  return H5::H5File(path, H5F_ACC_RDONLY);
}

}  // namespace ranvier::io::h5
