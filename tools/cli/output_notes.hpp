// Messages about an output file that every writing command prints the same way.
#pragma once

#include <cstdio>

#include <fmt/format.h>

#include "tools/io/output_file.hpp"

namespace ranvier::cli {

// Temporaries of earlier runs to the same path that were killed (kill -9, a crash), which
// OutputFile removed: said once, so a user who wonders where disk space went knows.
inline void report_stale_temporaries(const io::OutputFile& out, bool quiet) {
  if (quiet) return;
  for (const auto& f : out.removed_stale())
    fmt::print(stderr, "note: removed '{}', left by an earlier run to '{}' that was killed\n", f,
               out.path());
}

}  // namespace ranvier::cli
