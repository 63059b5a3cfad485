// Small helpers over HDF5's C++ API, so every Ranvier file writes attributes, datasets
// and appendable (streamed) datasets the same way, and h5py reads them as plain arrays
// and strings. Row-major throughout: a (rows, cols) dataset is rows of cols values.
#pragma once

#include <H5Cpp.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace ranvier::io::h5 {

// Silences HDF5's own error printing; errors still come as H5::Exception.
void quiet_errors();

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
std::vector<double> read_matrix(const H5::Group& loc, const std::string& name,
                                std::size_t& rows, std::size_t& cols);

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
