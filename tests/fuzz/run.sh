#!/usr/bin/env bash
# Runs each libFuzzer target named on the command line for FUZZ_SECONDS (default 60),
# starting from its committed seed corpus (tests/fuzz/corpus/<target>/) and keeping what
# it learns in $FUZZ_BUILD/corpus/<target>/ (not committed). A crash stops the target
# and leaves crash-*/leak-*/timeout-*/oom-* files in $FUZZ_BUILD/findings/<target>/;
# the script then fails. Replay one with: $FUZZ_BUILD/tests/fuzz/<target> <file>
set -uo pipefail
cd "$(dirname "$0")/../.."
build=${FUZZ_BUILD:-build-fuzz}
seconds=${FUZZ_SECONDS:-60}
failed=()
# The HDF5 readers' probe (tools/io/h5_probe.hpp) gives libhdf5 this long per file before
# it counts as hung: a file's metadata takes milliseconds, and an input that hangs libhdf5
# costs the limit once per reader (and again when libFuzzer re-runs it to check for leaks).
export RANVIER_H5_PROBE_SECONDS=${RANVIER_H5_PROBE_SECONDS:-2}
for target in "$@"; do
  exe="$build/tests/fuzz/$target"
  seeds="tests/fuzz/corpus/$target"
  work="$build/corpus/$target"
  findings="$build/findings/$target"
  mkdir -p "$work" "$findings"
  dict=()
  [[ -f "tests/fuzz/$target.dict" ]] && dict=(-dict="tests/fuzz/$target.dict")
  # Input sizes: HDF5 seeds are ~20 kB; CSV stays small enough that the largest class
  # count the reader allows (65536) times its rows fits the malloc limit. The HDF5
  # readers may allocate up to 2^28 doubles (h5::read_matrix's bound) for a valid file.
  max_len=16384 malloc_mb=1024 extra=()
  case "$target" in
    fuzz_csv) max_len=4096 ;;
    # Raw bytes reach libhdf5's own parser, which has crash bugs on malformed files that
    # we cannot fix (tests/fuzz/libhdf5_findings/): the readers first read each file's
    # metadata in a child process (tools/io/h5_probe.hpp), so those crashes and hangs end
    # the child and come back as the user's error; one crash here is a finding again.
    fuzz_h5_bytes) max_len=32768 malloc_mb=2100 ;;
    fuzz_h5_structured) malloc_mb=2100 ;;
  esac
  echo "fuzz: $target for ${seconds}s" >&2
  # -close_fd_mask=1: `ranvier info` prints to stdout; rss/malloc limits make a huge
  # allocation a finding; -timeout: one input running for a minute is a finding (the
  # limit is wall-clock time: 10 s gave false timeouts on a loaded machine under nice).
  if ! ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=0 \
       UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
       "$exe" "$work" "$seeds" "${dict[@]}" "${extra[@]}" -max_total_time="$seconds" -timeout=60 \
       -rss_limit_mb=3072 -malloc_limit_mb="$malloc_mb" -max_len="$max_len" -close_fd_mask=1 \
       -artifact_prefix="$findings/" -print_final_stats=1; then
    failed+=("$target")
  fi
done
if [[ ${#failed[@]} -gt 0 ]]; then
  echo "fuzz: findings in ${failed[*]} (see $build/findings/)" >&2
  exit 1
fi
