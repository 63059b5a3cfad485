#include "tools/io/output_file.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>
#include <filesystem>
#include <system_error>

#include <fmt/format.h>

#include "tools/io/errors.hpp"

namespace ranvier::io {

namespace fs = std::filesystem;

namespace {

std::string host_name() {
  char buf[HOST_NAME_MAX + 1] = {0};
  if (::gethostname(buf, sizeof buf - 1) != 0 || buf[0] == '\0') return "localhost";
  std::string h(buf);
  for (char& c : h)
    if (c == '/') c = '_';
  return h;
}

// Writes the file's data to the disk (a rename after a power cut must not expose an
// empty file). Returns errno, 0 on success.
int sync_file(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) return errno;
  const int r = ::fsync(fd) == 0 ? 0 : errno;
  ::close(fd);
  return r;
}

// The directory entry of a rename, likewise; failures here are not worth an error
// (some file systems refuse fsync on directories).
void sync_directory(const fs::path& file) {
  fs::path dir = file.parent_path();
  if (dir.empty()) dir = ".";
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

// A program writing `path` with HDF5 holds an exclusive flock() on it (HDF5 1.10's file
// locking; readers hold shared ones). Replacing the file under a writer would silently
// lose what it writes afterwards, so that is refused; replacing it under readers is safe
// (they keep reading the old file), so they do not count.
void refuse_if_being_written(const std::string& path) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) return;  // O_NONBLOCK too: never wait on a FIFO
  const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK);
  if (fd < 0) return;
  const bool locked = ::flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK;
  ::close(fd);  // releases the shared lock if it was taken
  if (locked)
    throw OutputError(fmt::format(
        "'{}' is open for writing in another program (it holds the file's HDF5 lock); close "
        "that program, then run again; '{}' was not changed",
        path, path));
}

}  // namespace

OutputFile::OutputFile(std::string path, bool force, bool create_dirs)
    : path_(std::move(path)), force_(force) {
  if (path_.empty()) throw OutputError("output path is empty; give one with -o FILE");
  const fs::path target(path_);
  std::error_code ec;
  if (fs::is_directory(target, ec))
    throw OutputError(fmt::format("output path '{}' is a directory; give a file name", path_));
  // A device, FIFO or socket (-o /dev/null): the rename would replace the node itself.
  if (fs::exists(target, ec) && !fs::is_regular_file(target, ec))
    throw OutputError(fmt::format(
        "output path '{}' exists and is not a regular file; ranvier writes a new file and "
        "renames it onto the output path, which would replace it: choose a file name",
        path_));
  if (fs::exists(target, ec) && !force_)
    throw OutputError(fmt::format(
        "output file '{}' exists; pass --force to overwrite it, or choose another -o path", path_));
  if (force_) refuse_if_being_written(path_);
  fs::path dir = target.parent_path();
  if (dir.empty()) dir = ".";
  if (!fs::exists(dir, ec)) {
    if (!create_dirs)
      throw OutputError(fmt::format("output directory '{}' does not exist", dir.string()));
    fs::create_directories(dir, ec);
    if (ec)
      throw OutputError(
          fmt::format("cannot create output directory '{}': {}; choose another -o "
                      "path",
                      dir.string(), ec.message()));
  } else if (!fs::is_directory(dir, ec)) {
    throw OutputError(
        fmt::format("cannot write '{}': '{}' is not a directory; choose another -o "
                    "path",
                    path_, dir.string()));
  }
  remove_stale_temporaries(dir.string(), target.filename().string());
  temp_path_ = (target.parent_path() /
                fmt::format(".{}.{}.{}.tmp", target.filename().string(), ::getpid(), host_name()))
                   .string();
  // Create the temporary file now: this is the real test of writability (access() says
  // yes to root on a read-only or special file system), and it fails before a long run.
  const int fd = ::open(temp_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_EXCL, 0644);
  if (fd < 0)
    throw OutputError(
        fmt::format("cannot write in the output directory '{}' ({}); choose another -o path",
                    dir.string(), std::strerror(errno)));
  ::close(fd);
}

void OutputFile::remove_stale_temporaries(const std::string& dir, const std::string& name) {
  const std::string prefix = "." + name + ".", suffix = ".tmp", host = "." + host_name();
  std::error_code ec;
  fs::directory_iterator it(dir, ec), end;
  for (; !ec && it != end; it.increment(ec)) {
    const std::string f = it->path().filename().string();
    if (f.size() <= prefix.size() + suffix.size() || f.compare(0, prefix.size(), prefix) != 0 ||
        f.compare(f.size() - suffix.size(), suffix.size(), suffix) != 0)
      continue;
    // "<pid>.<host>": only this host's processes can be checked for life.
    const std::string middle = f.substr(prefix.size(), f.size() - prefix.size() - suffix.size());
    const std::size_t dot = middle.find('.');
    if (dot == std::string::npos || middle.substr(dot) != host) continue;
    char* stop = nullptr;
    const long pid = std::strtol(middle.c_str(), &stop, 10);
    if (stop != middle.c_str() + dot || pid <= 0) continue;
    // Our own pid: a dead process's, reused (this process has not made its temporary yet).
    if (pid != ::getpid() && (::kill(static_cast<pid_t>(pid), 0) == 0 || errno != ESRCH))
      continue;  // alive (or not ours to ask about)
    std::error_code rec;
    if (fs::is_regular_file(it->path(), rec) && fs::remove(it->path(), rec))
      removed_stale_.push_back((fs::path(path_).parent_path() / f).string());
  }
}

OutputFile::~OutputFile() {
  if (!committed_ && !temp_path_.empty()) {
    std::error_code ec;
    fs::remove(temp_path_, ec);  // nothing to do if it was never created
  }
}

void OutputFile::commit() {
  std::error_code ec;
  // Checked again: another process may have created the file during a long run.
  if (!force_ && fs::exists(path_, ec))
    throw OutputError(fmt::format(
        "output file '{}' appeared while this run was going; pass --force to overwrite it", path_));
  if (force_) refuse_if_being_written(path_);  // it may have been opened during the run
  if (const int err = sync_file(temp_path_))
    throw OutputError(
        fmt::format("cannot write the finished output '{}' to disk: {}; is the "
                    "disk full? an earlier '{}' was not changed",
                    path_, std::strerror(err), path_));
  if (std::rename(temp_path_.c_str(), path_.c_str()) != 0)
    throw OutputError(
        fmt::format("cannot move the finished output onto '{}': {}; '{}' was not "
                    "changed",
                    path_, std::strerror(errno), path_));
  committed_ = true;
  sync_directory(path_);
}

bool OutputFile::commit_as(const std::string& other, std::string& why_not) {
  std::error_code ec;
  if (!force_ && fs::exists(other, ec)) {
    why_not = fmt::format("'{}' exists (pass --force to replace it)", other);
    return false;
  }
  if (const int err = sync_file(temp_path_)) {
    why_not = fmt::format("it could not be written to disk ({})", std::strerror(err));
    return false;
  }
  if (std::rename(temp_path_.c_str(), other.c_str()) != 0) {
    why_not = fmt::format("it could not be moved to '{}' ({})", other, std::strerror(errno));
    return false;
  }
  committed_ = true;
  sync_directory(other);
  return true;
}

std::string shown_path(const std::string& path) {
  const fs::path p(path);
  const std::string name = p.filename().string();
  const std::string suffix = fmt::format(".{}.{}.tmp", ::getpid(), host_name());
  if (name.size() <= 1 + suffix.size() || name[0] != '.' ||
      name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0)
    return path;
  return (p.parent_path() / name.substr(1, name.size() - 1 - suffix.size())).string();
}

std::string partial_path(const std::string& path) {
  fs::path p(path);
  const std::string ext = p.extension().string();
  p.replace_filename(p.stem().string() + ".partial" + ext);
  return p.string();
}

}  // namespace ranvier::io
