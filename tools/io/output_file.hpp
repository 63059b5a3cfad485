// Writing a result file so that a crash, a kill or an error never leaves a partial file
// at the output path and never overwrites an existing one without --force: write to a
// temporary name in the same directory, then rename() over the target (atomic on POSIX).
#pragma once

#include <string>

namespace ranvier::io {

class OutputFile {
 public:
  // Checks at once (before any long run) that `path` may be written: it does not exist
  // unless `force`, and its directory exists (created if `create_dirs`) and is writable.
  // Throws OutputError with the path and what to do.
  OutputFile(std::string path, bool force, bool create_dirs = true);
  ~OutputFile();  // removes the temporary file unless commit() succeeded
  OutputFile(const OutputFile&) = delete;
  OutputFile& operator=(const OutputFile&) = delete;

  const std::string& path() const { return path_; }
  // Where to write; unique per process, hidden ("." prefix), same directory as path().
  const std::string& temp_path() const { return temp_path_; }
  // Renames the finished temporary file onto path(). Throws OutputError on failure.
  void commit();

 private:
  std::string path_;
  std::string temp_path_;
  bool force_;
  bool committed_ = false;
};

}  // namespace ranvier::io
