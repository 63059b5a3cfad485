// Bad data files, one test each: every one is an io::DataError naming the file and what
// is wrong. And the good paths: plain and gzipped IDX, CSV, HDF5.
#include <doctest/doctest.h>

#include <zlib.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <H5Cpp.h>

#include "tools/io/datasets.hpp"
#include "tools/io/errors.hpp"

using namespace ranvier;
namespace fs = std::filesystem;

namespace {

std::string scratch(const std::string& name) {
  const fs::path dir = fs::path(RANVIER_TEST_SCRATCH) / "io_datasets";
  fs::create_directories(dir);
  return (dir / name).string();
}

std::vector<std::uint8_t> idx_bytes(std::vector<int> dims, std::size_t data_bytes,
                                    std::uint8_t fill = 1) {
  std::vector<std::uint8_t> b = {0, 0, 0x08, static_cast<std::uint8_t>(dims.size())};
  for (int d : dims)
    for (int s = 24; s >= 0; s -= 8) b.push_back(static_cast<std::uint8_t>((d >> s) & 0xff));
  b.insert(b.end(), data_bytes, fill);
  return b;
}

std::string write_file(const std::string& name, const std::vector<std::uint8_t>& bytes) {
  const std::string p = scratch(name);
  std::ofstream(p, std::ios::binary)
      .write(reinterpret_cast<const char*>(bytes.data()),
             static_cast<std::streamsize>(bytes.size()));
  return p;
}

std::string write_gz(const std::string& name, const std::vector<std::uint8_t>& bytes) {
  const std::string p = scratch(name);
  gzFile f = gzopen(p.c_str(), "wb");
  gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size()));
  gzclose(f);
  return p;
}

std::string write_text(const std::string& name, const std::string& text) {
  const std::string p = scratch(name);
  std::ofstream(p) << text;
  return p;
}

}  // namespace

TEST_CASE("IDX: plain and gzipped files read the same") {
  const auto images = idx_bytes({3, 2, 2}, 12, 255);
  const auto labels = idx_bytes({3}, 3, 2);
  const std::string gi = write_gz("ok-images.gz", images), gl = write_gz("ok-labels.gz", labels);
  const std::string pi = write_file("ok-images", images), pl = write_file("ok-labels", labels);
  const mlp::Dataset a = io::load_idx_dataset(gi, gl, 10, 1.0 / 255, 0);
  const mlp::Dataset b = io::load_idx_dataset(pi, pl, 10, 1.0 / 255, 0);
  CHECK(a.size() == 3);
  CHECK(a.features() == 4);
  CHECK(a.image_h == 2);
  CHECK(a.X(0, 0) == 1.0f);
  CHECK(a.labels == std::vector<int>{2, 2, 2});
  CHECK(a.X == b.X);
  CHECK(a.Y == b.Y);
  CHECK(a.Y(2, 1) == 1.0f);
}

TEST_CASE("IDX: a truncated file") {
  const std::string p = write_gz("truncated.gz", idx_bytes({10, 28, 28}, 5000));
  CHECK_THROWS_WITH_AS(io::read_idx(p), doctest::Contains("truncated IDX file: 7840 data bytes"),
                       io::DataError);
  CHECK_THROWS_WITH_AS(io::read_idx(p), doctest::Contains("truncated.gz"), io::DataError);
}

TEST_CASE(
    "IDX: read in pieces, the same bytes as whole, each piece announced once it is in place") {
  // 5000 items of 3 bytes, not all equal, gzipped: IdxReader::read_data in pieces of
  // 4096 bytes (spike-eval's streaming) against read_idx.
  std::vector<std::uint8_t> b = idx_bytes({5000, 3}, 0);
  for (int k = 0; k < 15000; ++k) b.push_back(static_cast<std::uint8_t>(k * 7919 % 251));
  const std::string p = write_gz("pieces.gz", b);
  const io::IdxArray whole = io::read_idx(p);
  io::IdxReader r(p);
  CHECK(r.dims() == std::vector<int>{5000, 3});
  REQUIRE(r.data_bytes() == 15000);
  std::vector<std::uint8_t> out(r.data_bytes(), 0);
  std::vector<std::size_t> done;
  bool in_place = true;  // every announced byte already holds its value
  r.read_data(
      out.data(),
      [&](std::size_t bytes) {
        done.push_back(bytes);
        in_place = in_place && std::equal(out.begin(), out.begin() + static_cast<long>(bytes),
                                          whole.data.begin());
      },
      4096);
  CHECK(out == whole.data);
  CHECK(done == std::vector<std::size_t>{4096, 8192, 12288, 15000});
  CHECK(in_place);
}

TEST_CASE(
    "IDX: a header announcing more data than the file can hold is refused before allocating") {
  // 2^31 - 1 items of 2 bytes (4 GiB) in a 26-byte file: no deflate stream or plain file
  // of that size holds them, so nothing is allocated for them (read_idx allocates
  // data_bytes() before reading), and the message counts what is there.
  const std::string p = write_file("overclaim", idx_bytes({0x7fffffff, 2}, 14));
  CHECK_THROWS_WITH_AS(io::read_idx(p),
                       doctest::Contains("truncated IDX file: 4294967294 data bytes expected, "
                                         "14 present"),
                       io::DataError);
  // 2 MiB announced in a file that could hold them compressed, against a bound of 1 MiB.
  const std::string q = write_file("over-bound", idx_bytes({1 << 20, 2}, 4096));
  CHECK_THROWS_WITH_AS(io::IdxReader(q, std::size_t{1} << 20),
                       doctest::Contains("announces 2097152 data bytes, more than any data set"),
                       io::DataError);
}

TEST_CASE("IDX: a wrong magic number") {
  auto bytes = idx_bytes({4}, 4);
  bytes[0] = 0x50;  // "PK..."
  bytes[1] = 0x4b;
  const std::string p = write_file("wrong-magic", bytes);
  CHECK_THROWS_WITH_AS(io::read_idx(p), doctest::Contains("wrong magic number"), io::DataError);
}

TEST_CASE("IDX: image and label counts differ") {
  const std::string im = write_file("count-images", idx_bytes({5, 2, 2}, 20));
  const std::string lb = write_file("count-labels", idx_bytes({4}, 4));
  CHECK_THROWS_WITH_AS(io::load_idx_dataset(im, lb, 10, 1.0, 0),
                       doctest::Contains("has 5 images but"), io::DataError);
}

TEST_CASE("IDX: a label out of range") {
  const std::string im = write_file("range-images", idx_bytes({2, 2, 2}, 8));
  const std::string lb = write_file("range-labels", idx_bytes({2}, 2, 12));
  CHECK_THROWS_WITH_AS(io::load_idx_dataset(im, lb, 10, 1.0, 0),
                       doctest::Contains("label 12 of sample 0 is out of range"), io::DataError);
}

TEST_CASE("CSV: a non-numeric cell is named by row and column") {
  const std::string p = write_text("bad.csv", "x1,x2,y\n0.5,1.5,0\n0.1,abc,1\n");
  io::CsvOptions opt;
  opt.header = true;
  CHECK_THROWS_WITH_AS(io::load_csv_dataset(p, opt),
                       doctest::Contains("bad.csv: row 3, column 2: 'abc' is not a number"),
                       io::DataError);
}

TEST_CASE("CSV: a label out of range") {
  const std::string p = write_text("label.csv", "0.5,1.5,0\n0.1,0.2,3\n");
  io::CsvOptions opt;
  opt.classes = 3;
  CHECK_THROWS_WITH_AS(io::load_csv_dataset(p, opt),
                       doctest::Contains("row 2, column 3: label 3 is out of range"),
                       io::DataError);
}

TEST_CASE("CSV: features and targets, labels and values") {
  const std::string p = write_text("ok.csv", "# comment\n1,2,3,1\n4,5,6,0\n");
  io::CsvOptions opt;
  const mlp::Dataset d = io::load_csv_dataset(p, opt);
  CHECK(d.features() == 3);
  CHECK(d.labels == std::vector<int>{1, 0});
  opt.labels = false;
  opt.features = {0};
  opt.targets = {1, 2};
  const mlp::Dataset r = io::load_csv_dataset(p, opt);
  CHECK(r.features() == 1);
  CHECK(r.outputs() == 2);
  CHECK(r.Y(1, 1) == 6.0f);
  CHECK_THROWS_WITH_AS(io::load_csv_dataset(write_text("ragged.csv", "1,2\n3\n"), {}),
                       doctest::Contains("row 2: 1 columns"), io::DataError);
}

TEST_CASE("HDF5: inputs and labels") {
  const std::string p = scratch("data.h5");
  {
    H5::H5File f(p, H5F_ACC_TRUNC);
    const hsize_t xd[2] = {3, 2}, yd[1] = {3};
    const double x[6] = {1, 2, 3, 4, 5, 6};
    const std::int64_t y[3] = {0, 1, 1};
    f.createDataSet("x", H5::PredType::NATIVE_DOUBLE, H5::DataSpace(2, xd))
        .write(x, H5::PredType::NATIVE_DOUBLE);
    f.createDataSet("y", H5::PredType::NATIVE_INT64, H5::DataSpace(1, yd))
        .write(y, H5::PredType::NATIVE_INT64);
  }
  io::H5DataOptions opt;
  const mlp::Dataset d = io::load_h5_dataset(p, opt);
  CHECK(d.features() == 2);
  CHECK(d.size() == 3);
  CHECK(d.X(1, 2) == 6.0f);
  CHECK(d.labels == std::vector<int>{0, 1, 1});
  opt.y = "missing";
  CHECK_THROWS_WITH_AS(io::load_h5_dataset(p, opt), doctest::Contains("no dataset 'missing'"),
                       io::DataError);
}

TEST_CASE("the Fashion-MNIST files of the Debian package read when installed") {
  const std::string dir = "/usr/share/datasets/fashion-mnist/";
  if (!fs::exists(dir + "t10k-images-idx3-ubyte.gz")) return;
  const mlp::Dataset d = io::load_idx_dataset(dir + "t10k-images-idx3-ubyte.gz",
                                              dir + "t10k-labels-idx1-ubyte.gz", 10, 1.0 / 255, 0);
  CHECK(d.size() == 10000);
  CHECK(d.features() == 784);
  CHECK(d.image_w == 28);
}

TEST_CASE("gzip: the decompressed size is bounded, and a file within the bound reads whole") {
  // 3 MB of zeros compress to a few kB: the shape of a decompression bomb, scaled down
  // so the test allocates little; the reader's default bound is 4 GiB.
  const std::vector<std::uint8_t> zeros(3 << 20, 0);
  const std::string p = write_gz("bomb.gz", zeros);
  CHECK(fs::file_size(p) < 64 * 1024);
  CHECK_THROWS_WITH_AS(io::read_data_file(p, 1 << 20),
                       doctest::Contains("decompressed), more than any data set"), io::DataError);
  // Exactly at the bound is allowed; the gzip trailer's size is used to reserve.
  const std::vector<std::uint8_t> all = io::read_data_file(p, zeros.size());
  CHECK(all == zeros);
}
