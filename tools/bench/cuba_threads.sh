#!/usr/bin/env bash
# Two threads against one on the CUBA benchmark, in alternating rounds.
#
#   tools/bench/cuba_threads.sh [NEURONS] [ROUNDS] [BUILD_DIR]
#   (defaults: 64000 neurons, 8 rounds, build/)
#
# A round runs bench_cuba at NEURONS on one thread, then on two, then two independent
# networks of NEURONS/2 at once, one a core (BM_cuba_independent_halves, copies = 2); each
# figure is the median of its 3 repetitions. It prints them, the speed-up of two threads
# (1 thread / 2 threads) and the ceiling (1 thread / the two halves: about the best
# speed-up two cores of this machine give when the halves share nothing). The end prints
# the medians of the rounds.
# Alternating matters on a shared VM: its speed moves by 10-40% from one minute to the
# next, so two series run one after the other compare two different machines. The ratio of
# each round compares runs a few seconds apart.
set -euo pipefail

if [[ ${1:-} == -h || ${1:-} == --help ]]; then
  sed -n '2,15s/^# \{0,1\}//p' "$0"
  exit 0
fi
neurons=${1:-64000}
rounds=${2:-8}
build=${3:-build}
bench="$build/tools/bench/bench_cuba"
if ! [[ $neurons =~ ^(4000|16000|64000)$ ]]; then
  echo "cuba_threads.sh: NEURONS must be one of bench_cuba's sizes: 4000, 16000, 64000" >&2
  exit 2
fi
if ! [[ $rounds =~ ^[1-9][0-9]*$ ]]; then
  echo "cuba_threads.sh: ROUNDS must be a positive whole number, not '$rounds'" >&2
  exit 2
fi

if [[ ! -x $bench ]]; then
  echo "cuba_threads.sh: $bench not found; build first (make build), or give the build" \
    "directory as the third argument" >&2
  exit 2
fi

# The median of the repetitions [ms], as bench_cuba reports it, for the benchmark filter $1.
median_ms() {
  "$bench" --benchmark_filter="$1" 2>/dev/null |
    awk '/manual_time_median/ && $3 == "ms" { print $2; found = 1 } END { exit !found }' || {
    echo "cuba_threads.sh: $bench --benchmark_filter='$1' gave no median in ms; run it by" \
      "hand to see why" >&2
    exit 1
  }
}

one=()
two=()
halves=()
ratio=()
ceiling=()
printf '%-6s %12s %12s %12s %8s %8s\n' round "1 thread" "2 threads" "two halves" speed-up ceiling
for ((r = 1; r <= rounds; ++r)); do
  a=$(median_ms "BM_cuba/neurons:$neurons/threads:1/")
  b=$(median_ms "BM_cuba/neurons:$neurons/threads:2/")
  h=$(median_ms "BM_cuba_independent_halves/neurons:$neurons/copies:2/")
  q=$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.2f", a / b }')
  c=$(awk -v a="$a" -v h="$h" 'BEGIN { printf "%.2f", a / h }')
  one+=("$a")
  two+=("$b")
  halves+=("$h")
  ratio+=("$q")
  ceiling+=("$c")
  printf '%-6s %9s ms %9s ms %9s ms %7sx %7sx\n' "$r" "$a" "$b" "$h" "$q" "$c"
done

median() {
  printf '%s\n' "$@" | sort -g |
    awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
printf '%-6s %9s ms %9s ms %9s ms %7sx %7sx   (CUBA at %s neurons, 1 s simulated)\n' median \
  "$(median "${one[@]}")" "$(median "${two[@]}")" "$(median "${halves[@]}")" \
  "$(median "${ratio[@]}")" "$(median "${ceiling[@]}")" "$neurons"
