// Reading training data from files into mlp::Dataset: IDX (MNIST, Fashion-MNIST; gzipped
// or not), CSV (feature and target columns) and HDF5 datasets. Every problem is an
// io::DataError naming the file and what is wrong (wrong magic, truncation, counts that
// differ, a non-numeric CSV cell by row and column, a label out of range).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "networks/mlp/data.hpp"

struct gzFile_s;  // zlib's

namespace ranvier::io {

// An IDX file: unsigned bytes with their dimensions (dims[0] is the number of items).
struct IdxArray {
  std::vector<int> dims;
  std::vector<std::uint8_t> data;  // row-major, prod(dims) bytes
};
// Reads an IDX file of unsigned bytes (type 0x08); gzip-compressed files are detected
// by their content, not their name.
IdxArray read_idx(const std::string& path);

// Bytes of a data file, gunzipped when it is gzip; a DataError past `max_bytes` (a small
// gzip file can decompress to any size).
inline constexpr std::size_t kMaxDecompressedBytes = std::size_t{4} << 30;

// An IDX file of unsigned bytes read in two parts: the constructor reads and checks the
// header, read_data() then decompresses the data into the caller's buffer piece by piece
// and says after each piece how many bytes are in place, so a consumer can start on the
// first items while the rest are decompressed (spike-eval simulates the first test images
// during the gunzip of the others). read_idx() is this in one call. Every problem is a
// DataError naming the file: those of the header at construction; truncated data, bytes
// past the data, corrupt gzip data or more than `max_bytes` decompressed from read_data().
class IdxReader {
 public:
  explicit IdxReader(const std::string& path, std::size_t max_bytes = kMaxDecompressedBytes);
  ~IdxReader();
  IdxReader(const IdxReader&) = delete;
  IdxReader& operator=(const IdxReader&) = delete;
  const std::vector<int>& dims() const { return dims_; }  // dims[0]: the number of items
  std::size_t data_bytes() const { return count_; }       // prod(dims)
  // Fills out[0, data_bytes()), calling done(bytes in place) after each `piece` bytes.
  void read_data(std::uint8_t* out, const std::function<void(std::size_t)>& done = {},
                 std::size_t piece = std::size_t{1} << 18);

 private:
  std::size_t read_some(std::uint8_t* out, std::size_t bytes);  // fewer only at the end
  std::size_t skip_rest();                                      // bytes left, read and dropped
  std::string path_;
  std::size_t max_bytes_;
  ::gzFile_s* gz_ = nullptr;
  std::vector<int> dims_;
  std::size_t count_ = 1;         // data bytes the header announces
  std::size_t decompressed_ = 0;  // bytes read so far, header included
};
std::vector<std::uint8_t> read_data_file(const std::string& path,
                                         std::size_t max_bytes = kMaxDecompressedBytes);

// Images (n, h, w) and labels (n) into a data set: X (h*w, n) scaled by `scale`,
// one-hot targets over `classes`. `limit` > 0 keeps only the first `limit` samples.
mlp::Dataset load_idx_dataset(const std::string& images, const std::string& labels, int classes,
                              double scale, int limit = 0);
// What load_idx_dataset does but the images' conversion: the labels read and checked
// against the images (counts, classes), targets, image size, and X with the images'
// feature count but no columns. For a caller that reads the images itself from `images`
// (opened on the file `images_path`) and converts them as it goes.
mlp::Dataset load_idx_labels(const IdxReader& images, const std::string& images_path,
                             const std::string& labels, int classes, int limit = 0);

struct CsvOptions {
  char delimiter = ',';
  bool header = false;        // first line holds column names
  std::vector<int> features;  // 0-based columns; empty: all but the target columns
  std::vector<int> targets;   // 0-based columns; empty: the last column
  bool labels = true;         // targets are class labels (one column) or values
  int classes = 0;            // labels: number of classes (0: max label + 1)
  int outputs = 0;            // labels: network outputs (1 for a 0/1 target)
};
mlp::Dataset load_csv_dataset(const std::string& path, const CsvOptions& opt);
// A CSV of numbers, one sample per row: (columns, rows) with one sample per column.
mlp::Matrix<float> read_csv_matrix(const std::string& path, char delimiter = ',',
                                   bool header = false);

// HDF5: `x` a (n, features) dataset, `y` either 1-D integer labels (classification) or
// (n, outputs) values.
struct H5DataOptions {
  std::string x = "x", y = "y";
  bool labels = true;
  int classes = 0;
  int outputs = 0;
};
mlp::Dataset load_h5_dataset(const std::string& path, const H5DataOptions& opt);

// Checks every label of `d` is in [0, classes); throws DataError naming `source`.
void check_labels(const std::vector<int>& labels, int classes, const std::string& source);

}  // namespace ranvier::io
