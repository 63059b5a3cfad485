#include "tools/io/datasets.hpp"

#include <sys/stat.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <limits>
#include <sstream>

#include <H5Cpp.h>
#include <fmt/format.h>

#include "tools/io/errors.hpp"
#include "tools/io/h5.hpp"
#include "tools/io/h5_probe.hpp"

namespace ranvier::io {

namespace {

// The whole content of a file, decompressed when it is gzip (zlib reads plain files
// unchanged), refused past `max_bytes`: a small gzip file can expand without bound.
std::vector<std::uint8_t> read_maybe_gzip(const std::string& path,
                                          std::size_t max_bytes = kMaxDecompressedBytes) {
  gzFile f = gzopen(path.c_str(), "rb");
  if (!f) throw DataError(fmt::format("{}: cannot open: {}", path, std::strerror(errno)));
  std::vector<std::uint8_t> out;
  // A gzip file ends with its uncompressed size mod 2^32: reserving it saves the copies
  // of a growing buffer (a third of spike-eval's start-up on the Fashion-MNIST test set).
  if (std::FILE* raw = std::fopen(path.c_str(), "rb")) {
    unsigned char head[2] = {0, 0}, tail[4] = {0, 0, 0, 0};
    if (std::fread(head, 1, 2, raw) == 2 && head[0] == 0x1f && head[1] == 0x8b &&
        std::fseek(raw, -4, SEEK_END) == 0 && std::fread(tail, 1, 4, raw) == 4) {
      const std::size_t size =
          tail[0] | tail[1] << 8 | tail[2] << 16 | static_cast<std::size_t>(tail[3]) << 24;
      // The trailer is checked only at the end: a corrupt one must not reserve gigabytes
      // for a tiny file (fuzz_idx). Deflate expands at most 1032:1, so more is a lie.
      const auto compressed = static_cast<std::size_t>(std::max(0L, std::ftell(raw)));
      if (size <= max_bytes && size / 1032 <= compressed) out.reserve(size);
    }
    std::fclose(raw);
  }
  std::uint8_t buf[1 << 16];
  for (;;) {
    const int n = gzread(f, buf, sizeof buf);
    if (n < 0) {
      int code = 0;
      const std::string msg = gzerror(f, &code);
      gzclose(f);
      throw DataError(fmt::format("{}: corrupt or truncated gzip data ({})", path, msg));
    }
    if (n == 0) break;
    if (out.size() + static_cast<std::size_t>(n) > max_bytes) {
      gzclose(f);
      throw DataError(fmt::format(
          "{}: holds more than {} bytes (decompressed), more than any data set this reader "
          "is for (Fashion-MNIST's training images are 47 MB): is it the right file?",
          path, max_bytes));
    }
    out.insert(out.end(), buf, buf + n);
  }
  int code = 0;
  const std::string msg = gzerror(f, &code);
  gzclose(f);
  if (code != Z_OK && code != Z_STREAM_END)
    throw DataError(fmt::format("{}: corrupt or truncated gzip data ({})", path, msg));
  return out;
}

std::string trim(std::string s) {
  const auto b = s.find_first_not_of(" \t\r");
  const auto e = s.find_last_not_of(" \t\r");
  return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
}

std::vector<std::string> split(const std::string& line, char d) {
  std::vector<std::string> cells;
  std::string cell;
  std::istringstream in(line);
  while (std::getline(in, cell, d)) cells.push_back(trim(cell));
  if (!line.empty() && line.back() == d) cells.emplace_back();
  return cells;
}

struct CsvTable {
  std::vector<std::vector<double>> rows;
  std::vector<int> line;  // file line (1-based) of each row
  std::size_t columns = 0;
};

CsvTable read_csv(const std::string& path, char delimiter, bool header) {
  std::ifstream in(path);
  if (!in) throw DataError(fmt::format("{}: cannot open: {}", path, std::strerror(errno)));
  CsvTable t;
  std::string text;
  int line_no = 0;
  bool first = true;
  while (std::getline(in, text)) {
    ++line_no;
    if (trim(text).empty() || trim(text)[0] == '#') continue;
    if (first && header) {
      first = false;
      t.columns = split(text, delimiter).size();
      continue;
    }
    first = false;
    const std::vector<std::string> cells = split(text, delimiter);
    if (t.columns == 0) t.columns = cells.size();
    if (cells.size() != t.columns)
      throw DataError(fmt::format("{}: row {}: {} columns, but earlier rows have {}", path, line_no,
                                  cells.size(), t.columns));
    std::vector<double> row(cells.size());
    for (std::size_t c = 0; c < cells.size(); ++c) {
      const std::string& s = cells[c];
      const char* end = s.data() + s.size();
      auto [p, ec] = std::from_chars(s.data(), end, row[c]);
      if (s.empty() || ec != std::errc() || p != end || !std::isfinite(row[c]))
        throw DataError(
            fmt::format("{}: row {}, column {}: '{}' is not a number", path, line_no, c + 1, s));
    }
    t.rows.push_back(std::move(row));
    t.line.push_back(line_no);
  }
  if (t.rows.empty()) throw DataError(fmt::format("{}: no data rows", path));
  return t;
}

// Class labels above this are refused before they become a one-hot matrix of
// (classes, samples) floats: a stray "1e9" in a label column would otherwise ask for
// gigabytes (and a label past INT_MAX was an undefined conversion).
constexpr double kMaxClasses = 1 << 16;

// A label read as a number: a whole number in [0, kMaxClasses).
int label_value(double v, const std::string& where) {
  if (!(v == std::floor(v) && v >= 0))
    throw DataError(fmt::format("{}: label {} is not a class number (0, 1, 2, ...)", where, v));
  if (v >= kMaxClasses)
    throw DataError(fmt::format("{}: label {} is out of range: at most {} classes are supported",
                                where, v, kMaxClasses));
  return static_cast<int>(v);
}

void fill_label_targets(mlp::Dataset& d, int classes, int outputs, const std::string& source) {
  if (classes <= 0) {
    // The largest label of an empty set was read past the end.
    if (d.labels.empty())
      throw DataError(fmt::format("{}: no samples, so no classes to count", source));
    classes = *std::max_element(d.labels.begin(), d.labels.end()) + 1;
  }
  check_labels(d.labels, classes, source);
  d.n_classes = classes;
  if (outputs <= 0) outputs = classes;
  if (outputs == 1 && classes != 2)
    throw DataError(
        fmt::format("{}: one output can only hold two classes, not {}", source, classes));
  d.Y = mlp::targets_from_labels(d.labels, classes, outputs);
}

}  // namespace

void check_labels(const std::vector<int>& labels, int classes, const std::string& source) {
  for (std::size_t i = 0; i < labels.size(); ++i)
    if (labels[i] < 0 || labels[i] >= classes)
      throw DataError(fmt::format("{}: label {} of sample {} is out of range: classes are 0 to {}",
                                  source, labels[i], i, classes - 1));
}

IdxReader::IdxReader(const std::string& path, std::size_t max_bytes)
    : path_(path), max_bytes_(max_bytes) {
  gz_ = gzopen(path.c_str(), "rb");
  if (!gz_) throw DataError(fmt::format("{}: cannot open: {}", path, std::strerror(errno)));
  gzbuffer(gz_, 1 << 17);  // fewer reads of the compressed file
  try {
    std::uint8_t head[4 + 4 * 4];
    const std::size_t got = read_some(head, 4);
    if (got < 4)
      throw DataError(
          fmt::format("{}: truncated IDX file: {} bytes, not even a header", path, got));
    if (head[0] != 0 || head[1] != 0)
      throw DataError(fmt::format(
          "{}: not an IDX file: wrong magic number (first bytes {:02x} {:02x}, expected 00 00)",
          path, head[0], head[1]));
    if (head[2] != 0x08)
      throw DataError(
          fmt::format("{}: IDX data type 0x{:02x} is not supported (only unsigned bytes, 0x08)",
                      path, head[2]));
    const int rank = head[3];
    if (rank < 1 || rank > 4)
      throw DataError(fmt::format("{}: IDX file with {} dimensions (1 to 4 expected)", path, rank));
    const std::size_t header = 4 + 4 * static_cast<std::size_t>(rank);
    const std::size_t got_dims = read_some(head + 4, header - 4);
    if (got_dims < header - 4)
      throw DataError(fmt::format("{}: truncated IDX file: header of {} bytes, file has {}", path,
                                  header, 4 + got_dims));
    // Four 32-bit dimensions can overflow 64 bits and wrap to the size of the data (then
    // the dimensions, negative as ints, were used as counts): the product is checked.
    bool overflow = false;
    for (int i = 0; i < rank; ++i) {
      const std::uint8_t* p = head + 4 + 4 * i;
      const std::uint32_t d = (std::uint32_t(p[0]) << 24) | (std::uint32_t(p[1]) << 16) |
                              (std::uint32_t(p[2]) << 8) | std::uint32_t(p[3]);
      if (d > static_cast<std::uint32_t>(std::numeric_limits<int>::max()))
        throw DataError(
            fmt::format("{}: IDX dimension {} is {}, more than any real data set", path, i, d));
      dims_.push_back(static_cast<int>(d));
      if (d != 0 && count_ > std::numeric_limits<std::size_t>::max() / d)
        overflow = true;
      else
        count_ *= d;
    }
    if (std::find(dims_.begin(), dims_.end(), 0) != dims_.end())
      count_ = 0;
    else if (overflow)
      throw DataError(
          fmt::format("{}: truncated IDX file: the dimensions in its header need more "
                      "than 2^64 data bytes, {} present",
                      path, skip_rest()));
    // The data are not read yet, but the caller allocates data_bytes(): a header that
    // announces more than the file can hold (deflate expands at most 1032:1; a plain file
    // holds its size) is found out now, by counting what is there, not by allocating
    // gigabytes for a small file (fuzz_idx).
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
        count_ / 1032 > static_cast<std::size_t>(st.st_size))
      throw DataError(fmt::format("{}: truncated IDX file: {} data bytes expected, {} present",
                                  path, count_, skip_rest()));
    if (count_ > max_bytes_ - std::min(max_bytes_, header))
      throw DataError(
          fmt::format("{}: its IDX header announces {} data bytes, more than any data set this "
                      "reader is for ({} bytes at most): is it the right file?",
                      path, count_, max_bytes_));
  } catch (...) {
    gzclose(gz_);
    throw;
  }
}

IdxReader::~IdxReader() {
  if (gz_) gzclose(gz_);
}

std::size_t IdxReader::read_some(std::uint8_t* out, std::size_t bytes) {
  std::size_t got = 0;
  while (got < bytes) {
    const unsigned piece = static_cast<unsigned>(std::min<std::size_t>(bytes - got, 1 << 30));
    const int n = gzread(gz_, out + got, piece);
    if (n < 0) {
      int code = 0;
      const std::string msg = gzerror(gz_, &code);
      throw DataError(fmt::format("{}: corrupt or truncated gzip data ({})", path_, msg));
    }
    if (n == 0) break;
    got += static_cast<std::size_t>(n);
    decompressed_ += static_cast<std::size_t>(n);
    if (decompressed_ > max_bytes_)
      throw DataError(fmt::format(
          "{}: holds more than {} bytes (decompressed), more than any data set this reader "
          "is for (Fashion-MNIST's training images are 47 MB): is it the right file?",
          path_, max_bytes_));
  }
  if (got < bytes) {  // the end: a gzip stream that stopped early is an error, not an end
    int code = 0;
    const std::string msg = gzerror(gz_, &code);
    if (code != Z_OK && code != Z_STREAM_END)
      throw DataError(fmt::format("{}: corrupt or truncated gzip data ({})", path_, msg));
  }
  return got;
}

std::size_t IdxReader::skip_rest() {
  std::vector<std::uint8_t> sink(1 << 16);
  std::size_t total = 0;
  for (std::size_t n; (n = read_some(sink.data(), sink.size())) > 0;) total += n;
  return total;
}

void IdxReader::read_data(std::uint8_t* out, const std::function<void(std::size_t)>& done,
                          std::size_t piece) {
  std::size_t have = 0;
  while (have < count_) {
    const std::size_t want = std::min(piece, count_ - have);
    const std::size_t n = read_some(out + have, want);
    have += n;
    if (n < want)
      throw DataError(fmt::format("{}: truncated IDX file: {} data bytes expected, {} present",
                                  path_, count_, have));
    if (done) done(have);
  }
  std::uint8_t probe[1];
  if (read_some(probe, 1) > 0) {
    const std::size_t extra = 1 + skip_rest();
    throw DataError(
        fmt::format("{}: {} bytes after the IDX data ({} expected): not an IDX file "
                    "of the dimensions in its header",
                    path_, extra, count_));
  }
}

IdxArray read_idx(const std::string& path) {
  IdxReader r(path);
  IdxArray a;
  a.dims = r.dims();
  a.data.resize(r.data_bytes());
  r.read_data(a.data.data());
  return a;
}

mlp::Dataset load_idx_labels(const IdxReader& im, const std::string& images,
                             const std::string& labels, int classes, int limit) {
  const IdxArray lb = read_idx(labels);
  if (im.dims().size() < 2)
    throw DataError(fmt::format("{}: images must have at least 2 dimensions (n, features), not {}",
                                images, im.dims().size()));
  if (lb.dims.size() != 1)
    throw DataError(
        fmt::format("{}: labels must have 1 dimension, not {}", labels, lb.dims.size()));
  if (im.dims()[0] != lb.dims[0])
    throw DataError(fmt::format("{} has {} images but {} has {} labels: the counts must agree",
                                images, im.dims()[0], labels, lb.dims[0]));
  int n = im.dims()[0];
  if (limit > 0) n = std::min(n, limit);
  const int features = static_cast<int>(im.data_bytes() / std::max(im.dims()[0], 1));
  mlp::Dataset d;
  d.X.resize(features, 0);
  d.labels.assign(lb.data.begin(), lb.data.begin() + n);
  if (im.dims().size() == 3) {
    d.image_h = im.dims()[1];
    d.image_w = im.dims()[2];
  }
  fill_label_targets(d, classes, classes, labels);
  return d;
}

mlp::Dataset load_idx_dataset(const std::string& images, const std::string& labels, int classes,
                              double scale, int limit) {
  IdxReader im(images);
  mlp::Dataset d = load_idx_labels(im, images, labels, classes, limit);
  std::vector<std::uint8_t> pixels(im.data_bytes());
  im.read_data(pixels.data());
  const int n = static_cast<int>(d.labels.size()), features = d.features();
  d.X.resize(features, n);
  const float s = static_cast<float>(scale);
  for (int j = 0; j < n; ++j)
    for (int i = 0; i < features; ++i)
      d.X(i, j) = s * static_cast<float>(pixels[static_cast<std::size_t>(j) * features + i]);
  return d;
}

mlp::Dataset load_csv_dataset(const std::string& path, const CsvOptions& opt) {
  const CsvTable t = read_csv(path, opt.delimiter, opt.header);
  const int ncol = static_cast<int>(t.columns);
  std::vector<int> targets = opt.targets, features = opt.features;
  if (targets.empty()) targets = {ncol - 1};
  if (features.empty())
    for (int c = 0; c < ncol; ++c)
      if (std::find(targets.begin(), targets.end(), c) == targets.end()) features.push_back(c);
  for (int c : targets)
    if (c < 0 || c >= ncol)
      throw DataError(fmt::format("{}: target column {} does not exist (the file has {} columns)",
                                  path, c, ncol));
  for (int c : features)
    if (c < 0 || c >= ncol)
      throw DataError(fmt::format("{}: feature column {} does not exist (the file has {} columns)",
                                  path, c, ncol));
  if (opt.labels && targets.size() != 1)
    throw DataError(
        fmt::format("{}: class labels come from one column, not {}", path, targets.size()));
  const int n = static_cast<int>(t.rows.size());
  mlp::Dataset d;
  d.X.resize(static_cast<Eigen::Index>(features.size()), n);
  for (int j = 0; j < n; ++j)
    for (std::size_t i = 0; i < features.size(); ++i)
      d.X(static_cast<Eigen::Index>(i), j) = static_cast<float>(t.rows[j][features[i]]);
  if (opt.labels) {
    for (int j = 0; j < n; ++j) {
      const double v = t.rows[j][targets[0]];
      if (v != std::floor(v))
        throw DataError(fmt::format("{}: row {}, column {}: label {} is not a whole number", path,
                                    t.line[j], targets[0] + 1, v));
      if (v < 0 || (opt.classes > 0 && v >= opt.classes))
        throw DataError(
            fmt::format("{}: row {}, column {}: label {} is out of range: classes are 0 to {}",
                        path, t.line[j], targets[0] + 1, v, opt.classes - 1));
      d.labels.push_back(
          label_value(v, fmt::format("{}: row {}, column {}", path, t.line[j], targets[0] + 1)));
    }
    fill_label_targets(d, opt.classes, opt.outputs, path);
  } else {
    d.Y.resize(static_cast<Eigen::Index>(targets.size()), n);
    for (int j = 0; j < n; ++j)
      for (std::size_t i = 0; i < targets.size(); ++i)
        d.Y(static_cast<Eigen::Index>(i), j) = static_cast<float>(t.rows[j][targets[i]]);
  }
  return d;
}

mlp::Matrix<float> read_csv_matrix(const std::string& path, char delimiter, bool header) {
  const CsvTable t = read_csv(path, delimiter, header);
  mlp::Matrix<float> X(static_cast<Eigen::Index>(t.columns),
                       static_cast<Eigen::Index>(t.rows.size()));
  for (std::size_t j = 0; j < t.rows.size(); ++j)
    for (std::size_t i = 0; i < t.columns; ++i)
      X(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(j)) =
          static_cast<float>(t.rows[j][i]);
  return X;
}

mlp::Dataset load_h5_dataset(const std::string& path, const H5DataOptions& opt) {
  h5::quiet_errors();
  try {
    H5::H5File file = h5::open_for_reading(path);
    std::size_t xr = 0, xc = 0, yr = 0, yc = 0;
    if (!file.nameExists(opt.x))
      throw DataError(fmt::format("{}: no dataset '{}' for the inputs", path, opt.x));
    if (!file.nameExists(opt.y))
      throw DataError(fmt::format("{}: no dataset '{}' for the targets", path, opt.y));
    const std::vector<double> x = h5::read_matrix(file.openGroup("/"), opt.x, xr, xc);
    const std::vector<double> y = h5::read_matrix(file.openGroup("/"), opt.y, yr, yc);
    if (xr != yr)
      throw DataError(fmt::format("{}: '{}' has {} samples but '{}' has {}: the counts must agree",
                                  path, opt.x, xr, opt.y, yr));
    mlp::Dataset d;
    d.X.resize(static_cast<Eigen::Index>(xc), static_cast<Eigen::Index>(xr));
    for (std::size_t j = 0; j < xr; ++j)
      for (std::size_t i = 0; i < xc; ++i)
        d.X(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(j)) =
            static_cast<float>(x[j * xc + i]);
    if (opt.labels) {
      if (yc != 1)
        throw DataError(
            fmt::format("{}: labels '{}' must be 1-D, not ({}, {})", path, opt.y, yr, yc));
      for (std::size_t j = 0; j < yr; ++j)
        d.labels.push_back(label_value(y[j], fmt::format("{}: sample {}", path, j)));
      fill_label_targets(d, opt.classes, opt.outputs, path);
    } else {
      d.Y.resize(static_cast<Eigen::Index>(yc), static_cast<Eigen::Index>(yr));
      for (std::size_t j = 0; j < yr; ++j)
        for (std::size_t i = 0; i < yc; ++i)
          d.Y(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(j)) =
              static_cast<float>(y[j * yc + i]);
    }
    return d;
  } catch (const H5::Exception& e) {
    throw DataError(fmt::format("{}: cannot read HDF5 data: {}", path, e.getDetailMsg()));
  }
}

std::vector<std::uint8_t> read_data_file(const std::string& path, std::size_t max_bytes) {
  return read_maybe_gzip(path, max_bytes);
}

}  // namespace ranvier::io
