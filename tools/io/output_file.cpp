#include "tools/io/output_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>

#include <fmt/format.h>

#include "tools/io/errors.hpp"

namespace ranvier::io {

namespace fs = std::filesystem;

OutputFile::OutputFile(std::string path, bool force, bool create_dirs)
    : path_(std::move(path)), force_(force) {
  if (path_.empty()) throw OutputError("output path is empty; give one with -o FILE");
  const fs::path target(path_);
  std::error_code ec;
  if (fs::is_directory(target, ec))
    throw OutputError(fmt::format("output path '{}' is a directory; give a file name", path_));
  if (fs::exists(target, ec) && !force_)
    throw OutputError(fmt::format(
        "output file '{}' exists; pass --force to overwrite it, or choose another -o path",
        path_));
  fs::path dir = target.parent_path();
  if (dir.empty()) dir = ".";
  if (!fs::exists(dir, ec)) {
    if (!create_dirs)
      throw OutputError(fmt::format("output directory '{}' does not exist", dir.string()));
    fs::create_directories(dir, ec);
    if (ec)
      throw OutputError(fmt::format("cannot create output directory '{}': {}", dir.string(),
                                    ec.message()));
  }
  temp_path_ = (dir / fmt::format(".{}.{}.tmp", target.filename().string(), ::getpid())).string();
  // Create the temporary file now: this is the real test of writability (access() says
  // yes to root on a read-only or special file system), and it fails before a long run.
  const int fd = ::open(temp_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0)
    throw OutputError(fmt::format(
        "cannot write in the output directory '{}' ({}); choose another -o path",
        dir.string(), std::strerror(errno)));
  ::close(fd);
}

OutputFile::~OutputFile() {
  if (!committed_) {
    std::error_code ec;
    fs::remove(temp_path_, ec);  // nothing to do if it was never created
  }
}

void OutputFile::commit() {
  std::error_code ec;
  // Checked again: another process may have created the file during a long run.
  if (!force_ && fs::exists(path_, ec))
    throw OutputError(fmt::format(
        "output file '{}' appeared while this run was going; pass --force to overwrite it",
        path_));
  if (std::rename(temp_path_.c_str(), path_.c_str()) != 0)
    throw OutputError(
        fmt::format("cannot move the finished output onto '{}': {}", path_, std::strerror(errno)));
  committed_ = true;
}

}  // namespace ranvier::io
