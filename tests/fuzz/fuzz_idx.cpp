// Fuzz target: the IDX reader (MNIST format, plain or gzip) and the data set built from
// an images file and a labels file, as `ranvier train` with `source: idx` reads them.
// Input: byte 0 the number of classes (mod 16), byte 1 the sample limit (mod 8), bytes
// 2-3 the length L of the images file (big-endian), then L bytes of images and the rest
// as the labels file.
#include <cstddef>
#include <cstdint>

#include "tests/fuzz/fuzz_support.hpp"
#include "tools/io/datasets.hpp"

using namespace ranvier;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 4) return 0;
  const int classes = data[0] % 16;
  const int limit = data[1] % 8;
  std::size_t len = (std::size_t(data[2]) << 8) | data[3];
  data += 4;
  size -= 4;
  if (len > size) len = size;
  const std::string images = fuzz::scratch_file(data, len, ".images.idx");
  const std::string labels = fuzz::scratch_file(data + len, size - len, ".labels.idx");
  fuzz::expect_user_errors_only([&] { (void)io::read_idx(images); });
  fuzz::expect_user_errors_only(
      [&] { (void)io::load_idx_dataset(images, labels, classes, 1.0 / 255, limit); });
  return 0;
}
