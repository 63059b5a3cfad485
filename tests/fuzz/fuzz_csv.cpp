// Fuzz target: the CSV readers, as `ranvier train` (`source: csv`) and `ranvier predict`
// use them. Input: byte 0 the options (delimiter, header, labels or values), byte 1 the
// number of classes (mod 8), byte 2 the outputs (mod 4), byte 3 a column choice; the
// rest is the CSV text.
#include <cstddef>
#include <cstdint>

#include "tests/fuzz/fuzz_support.hpp"
#include "tools/io/datasets.hpp"

using namespace ranvier;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 4) return 0;
  static const char delimiters[4] = {',', ';', '\t', ' '};
  io::CsvOptions opt;
  opt.delimiter = delimiters[data[0] & 3];
  opt.header = data[0] & 4;
  opt.labels = !(data[0] & 8);
  opt.classes = data[1] % 8;
  opt.outputs = data[2] % 4;
  // Columns as a config may name them: none (defaults), or one target / one feature,
  // possibly out of range (-1 .. 6).
  const int col = static_cast<int>(data[3] % 8) - 1;
  if (data[0] & 16) opt.targets = {col};
  if (data[0] & 32) opt.features = {col, 0};
  const std::string path = fuzz::scratch_file(data + 4, size - 4, ".csv");
  fuzz::expect_user_errors_only([&] { (void)io::load_csv_dataset(path, opt); });
  fuzz::expect_user_errors_only([&] { (void)io::read_csv_matrix(path, opt.delimiter, opt.header); });
  return 0;
}
