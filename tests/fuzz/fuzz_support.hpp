// What every fuzz target shares: the readers take file paths, so an input is written to
// a scratch file first; and the one rule of the targets, that only the library's user
// errors may escape a reader (anything else: a crash, another exception, a sanitizer
// report, a timeout or a huge allocation, is a finding).
#pragma once

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>

#include "sim/spec.hpp"
#include "tools/io/errors.hpp"

namespace ranvier::fuzz {

// A file of `size` bytes, one per process and extension, rewritten on every input;
// in /dev/shm when there is one (no disk traffic for millions of executions).
inline std::string scratch_file(const std::uint8_t* data, std::size_t size, const std::string& ext) {
  static const std::filesystem::path dir =
      std::filesystem::is_directory("/dev/shm") ? "/dev/shm" : std::filesystem::temp_directory_path();
  const std::string path =
      (dir / ("ranvier-fuzz-" + std::to_string(::getpid()) + ext)).string();
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) __builtin_trap();  // the scratch directory itself is broken: not a finding
  if (size) std::fwrite(data, 1, size, f);
  std::fclose(f);
  return path;
}

// Runs `f`, letting through only what `ranvier` reports as the user's error (exit 2).
template <class F>
void expect_user_errors_only(F&& f) {
  try {
    f();
  } catch (const io::UserError&) {
  } catch (const sim::SpecError&) {
  }
}

}  // namespace ranvier::fuzz
