// Small helpers over HDF5's C++ API, so every Ranvier file writes attributes, datasets
// and appendable (streamed) datasets the same way, and h5py reads them as plain arrays
// and strings. Row-major throughout: a (rows, cols) dataset is rows of cols values.
#pragma once

#include <H5Cpp.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace ranvier::io::h5 {

// Silences HDF5's own error printing; errors still come as H5::Exception. Instead of
// printing, the library's error stack of the latest failure is kept (see last_error):
// H5::Exception itself only names the API call ("H5Fopen failed"), not the cause.
void quiet_errors();

// The cause of the latest HDF5 failure, from the innermost entry of its error stack,
// shortened ("truncated file: eof = 1024, ...", "unable to lock file"), and the errno
// the library reported with it (0 if none). Taken once: a second call returns empty.
struct ErrorCause {
  std::string text;
  int error_number = 0;  // errno of a failed read/write/lock/open, 0 if none
};
ErrorCause take_last_error();

// How many HDF5 calls have failed in this process (counted by quiet_errors' handler,
// including those in the C++ API's destructors, which print and swallow their errors: a
// writer compares the count before and after, so no failure goes unnoticed).
std::uint64_t failure_count();

// Creates (truncates) `path` for writing such that a failed write surfaces at the write
// (no sieve buffer that a dataset's destructor would flush, printing and swallowing the
// error). Chunked datasets and metadata are still cached: flush the file before closing.
H5::H5File create_file(const std::string& path);

// After a failed write (disk full): the file is being discarded, but HDF5 would retry
// every cached write when each object closes, print from the C++ destructors, and can
// crash closing objects whose flush failed. Redirects the file's descriptor to /dev/null
// so those writes succeed and the objects close cleanly; the caller removes the file.
void discard_writes(H5::H5File& file) noexcept;

// True once a file was abandoned by discard_writes or close_file. HDF5 would then try to
// close it again when the library shuts down at exit and crash (1.10.8): the program ends
// with std::_Exit after its message instead (main does this).
bool files_abandoned();

// file.close(), but a failed close (the last writes, or extending the file to its end,
// hit a full disk) is retried with writes discarded, so the library is left with no
// half-closed file (HDF5 1.10 crashes on one at exit); then the first error is thrown.
void close_file(H5::H5File& file);

// Writes a whole new file at `path` (a temporary the caller renames): create_file,
// `contents`, flush, close_file. A failure anywhere, including one the C++ API's
// destructors swallow, discards the file's writes and throws io::OutputError saying what
// happened to `path` and what to do (a full disk, a file size limit, a lock). `contents`
// must let go of every group and dataset it opened before it returns.
void write_new_file(const std::string& path, const std::function<void(H5::H5File&)>& contents);

// What to tell a user about `e`, which happened on `path` while doing `action` ("create",
// "write", "read"): the file, the cause and what to do. One sentence, no trailing period.
std::string explain(const H5::Exception& e, const std::string& path, const std::string& action);
// The same for a failure noticed only through failure_count() (no exception to hand).
std::string explain_last(const std::string& path, const std::string& action);

// Opens or creates every group on a "/a/b/c" path.
H5::Group ensure_group(H5::H5File& file, const std::string& path);

void write_attr(const H5::H5Object& obj, const std::string& name, const std::string& value);
void write_attr(const H5::H5Object& obj, const std::string& name, const char* value);
void write_attr(const H5::H5Object& obj, const std::string& name, double value);
void write_attr(const H5::H5Object& obj, const std::string& name, std::int64_t value);
void write_attr(const H5::H5Object& obj, const std::string& name, std::uint64_t value);
void write_attr(const H5::H5Object& obj, const std::string& name, const std::vector<double>& v);

std::optional<std::string> read_string_attr(const H5::H5Object& obj, const std::string& name);
std::optional<double> read_double_attr(const H5::H5Object& obj, const std::string& name);

// Whole datasets. `units`, when not empty, becomes the dataset's "units" attribute.
H5::DataSet write_vector(const H5::Group& loc, const std::string& name,
                         const std::vector<double>& v, const std::string& units = "");
H5::DataSet write_vector(const H5::Group& loc, const std::string& name,
                         const std::vector<std::uint64_t>& v, const std::string& units = "");
H5::DataSet write_vector(const H5::Group& loc, const std::string& name,
                         const std::vector<std::int64_t>& v, const std::string& units = "");
H5::DataSet write_matrix(const H5::Group& loc, const std::string& name, const double* data,
                         std::size_t rows, std::size_t cols, const std::string& units = "");
H5::DataSet write_matrix(const H5::Group& loc, const std::string& name, const float* data,
                         std::size_t rows, std::size_t cols, const std::string& units = "");

std::vector<double> read_vector(const H5::Group& loc, const std::string& name);
std::vector<std::uint64_t> read_uint_vector(const H5::Group& loc, const std::string& name);
// A 1-D or 2-D dataset as row-major values, with its shape.
std::vector<double> read_matrix(const H5::Group& loc, const std::string& name, std::size_t& rows,
                                std::size_t& cols);

// A dataset that grows along its first dimension while a run goes: rows of `cols`
// values (cols == 0 for a 1-D dataset), chunked, buffered in memory up to `buffer_rows`
// and appended to the file in blocks, so a long run does not hold its output in memory.
template <class T>
class Appendable {
 public:
  Appendable(const H5::Group& loc, const std::string& name, std::size_t cols,
             const std::string& units = "", std::size_t buffer_rows = 1 << 14);
  void append(const T* row);  // one row of max(cols, 1) values
  void append(T value) { append(&value); }
  void flush();
  std::size_t rows() const { return written_ + buffer_.size() / width(); }
  H5::DataSet& dataset() { return dataset_; }

 private:
  std::size_t width() const { return cols_ == 0 ? 1 : cols_; }
  H5::DataSet dataset_;
  std::size_t cols_;
  std::size_t buffer_rows_;
  std::size_t written_ = 0;
  std::vector<T> buffer_;
};

extern template class Appendable<double>;
extern template class Appendable<std::uint64_t>;

// The attributes every Ranvier file carries at its root.
struct RootInfo {
  std::string kind;    // "run", "tuning", "model", ...
  std::string config;  // the full config after overrides, as YAML text
  std::string config_file;
  std::uint64_t seed = 0;
};
void write_root_attributes(H5::H5File& file, const RootInfo& info);
std::string now_iso8601();

}  // namespace ranvier::io::h5
