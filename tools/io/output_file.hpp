// Writing a result file so that a crash, a kill or an error never leaves a partial file
// at the output path and never overwrites an existing one without --force: write to a
// temporary name in the same directory, then rename() over the target (atomic on POSIX;
// a reader that has the old file open keeps reading the old file).
//
// The temporary is ".<name>.<pid>.<host>.tmp" beside <name>. A kill -9 (or a crash, or a
// power cut) leaves it behind; the next OutputFile for the same <name> removes those whose
// process is gone (same host, no process with that pid), so they do not pile up.
#pragma once

#include <string>
#include <vector>

namespace ranvier::io {

class OutputFile {
 public:
  // Checks at once (before any long run) that `path` may be written: it does not exist
  // unless `force`, and its directory exists (created if `create_dirs`) and is writable.
  // Creates the temporary file. Throws OutputError with the path and what to do.
  OutputFile(std::string path, bool force, bool create_dirs = true);
  ~OutputFile();  // removes the temporary file unless commit() succeeded
  OutputFile(const OutputFile&) = delete;
  OutputFile& operator=(const OutputFile&) = delete;

  const std::string& path() const { return path_; }
  // Where to write; unique per process, hidden ("." prefix), same directory as path().
  const std::string& temp_path() const { return temp_path_; }
  // Temporaries of earlier runs for the same path, left by a kill, removed by the constructor.
  const std::vector<std::string>& removed_stale() const { return removed_stale_; }

  // Flushes the finished temporary file to disk and renames it onto path(). Throws
  // OutputError on failure (the temporary is then removed by the destructor).
  void commit();

  // For a run stopped on request: renames the temporary onto `other` (e.g.
  // "out.partial.h5") instead of path(). False, and nothing renamed, if `other` exists and
  // --force was not given or the rename fails; `why_not` then says why.
  bool commit_as(const std::string& other, std::string& why_not);

 private:
  void remove_stale_temporaries(const std::string& dir, const std::string& name);
  std::string path_;
  std::string temp_path_;
  bool force_;
  bool committed_ = false;
  std::vector<std::string> removed_stale_;
};

// The output path a file name stands for in a message: an OutputFile's temporary of this
// process (".run.h5.<pid>.<host>.tmp") becomes the path the user gave ("run.h5"), which
// is what they know and can act on; any other path is returned as it is.
std::string shown_path(const std::string& path);

// "out/run.h5" -> "out/run.partial.h5" ("run" -> "run.partial").
std::string partial_path(const std::string& path);

}  // namespace ranvier::io
