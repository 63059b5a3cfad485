// Opening an HDF5 file Ranvier did not just write itself (a model, a data set, a
// connectivity matrix, any file given to `ranvier info`) without trusting libhdf5 with it.
//
// libhdf5 1.10.8 (Debian 12's, which we cannot patch) has crash bugs on corrupted files,
// all found by fuzz_h5_bytes while reading a variable-length string attribute from a
// damaged global heap: a memcpy of ~2^64 bytes, and a loop that does not end
// (tests/fuzz/libhdf5_findings/). Nothing in the file can be checked before libhdf5 reads
// it, so the file is first read in a child process: it opens the file read-only, walks
// every object, reads every attribute in full (variable-length strings included) and
// every dataset's type, shape and storage, then ends. Only if that child ended normally
// within the time limit do the real readers open the file; otherwise the file is refused
// with a DataError (exit code 2) naming what libhdf5 was reading when it crashed or hung.
// Dataset payloads are not read (they are what the readers check themselves, and would
// make the probe as slow as the read).
#pragma once

#include <H5Cpp.h>

#include <string>

namespace ranvier::io::h5 {

// How long the child may take, in seconds. It reads metadata only: a trained model file
// takes ~1 ms, a result file with hundreds of datasets a few ms, so a child still busy
// after 5 s on a loaded machine is stuck in a libhdf5 loop (the fuzzed hang spun for
// over 25 s), not reading. The environment variable RANVIER_H5_PROBE_SECONDS overrides
// it (the tests use 1 s to keep the hang case short).
inline constexpr double kProbeSeconds = 5.0;

// kProbeSeconds, or RANVIER_H5_PROBE_SECONDS when that is a positive number.
double probe_seconds();

// Reads `path`'s metadata in a child process as described above. Returns normally when
// the child finished (also when libhdf5 reported errors: the readers then report those
// themselves, with the key or dataset named); throws DataError when the child was killed
// by a signal, ended with a non-zero status (a sanitizer's report), or did not finish
// within `seconds` (it is then killed).
void probe_file(const std::string& path, double seconds = probe_seconds());

// probe_file, then the file opened read-only: the one way a reader opens a file it did
// not write, so none can skip the probe. Errors opening it come as H5::Exception.
H5::H5File open_for_reading(const std::string& path);

}  // namespace ranvier::io::h5
