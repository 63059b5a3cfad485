// Fuzz target: raw bytes as an HDF5 file, through every reader of Ranvier's HDF5 files
// (fuzz_h5_readers.hpp). Most of what this reaches is libhdf5's own parser, which is not
// instrumented; fuzz_h5_structured tests our checks on well-formed files. The readers
// read each file's metadata in a child process first (tools/io/h5_probe.hpp, one fork per
// reader and input: slower, but libhdf5's own crashes and hangs on a corrupt file then
// become the user's error, and anything that still crashes here is a finding).
// Input: byte 0 the data set options; the rest is the file.
#include <cstddef>
#include <cstdint>

#include "tests/fuzz/fuzz_h5_readers.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  ranvier::fuzz::H5ReaderChoices c;
  c.labels = data[0] & 1;
  c.classes = (data[0] >> 1) % 8;
  c.outputs = (data[0] >> 4) % 4;
  const std::string path = ranvier::fuzz::scratch_file(data + 1, size - 1, ".h5");
  ranvier::fuzz::read_h5_like_the_commands(path, c);
  return 0;
}
