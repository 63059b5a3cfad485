#!/usr/bin/env bash
# Two threads against one on the CUBA benchmark, in alternating rounds.
#
#   tools/bench/cuba_threads.sh [NEURONS] [ROUNDS] [BUILD_DIR]
#   (defaults: 64000 neurons, 8 rounds, build/)
#
# A round runs bench_cuba at NEURONS on one thread, then on two (each the median of its 3
# repetitions), and prints both and their ratio; the end prints the medians of the rounds.
# Alternating matters on a shared VM: its speed moves by 10-40% from one minute to the
# next, so two series run one after the other compare two different machines. The ratio of
# each round compares runs a few seconds apart.
set -euo pipefail

if [[ ${1:-} == -h || ${1:-} == --help ]]; then
  sed -n '2,11s/^# \{0,1\}//p' "$0"
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

# The median of the repetitions [ms], as bench_cuba reports it, for $1 threads.
median_ms() {
  "$bench" --benchmark_filter="neurons:$neurons/threads:$1/" 2>/dev/null |
    awk '/manual_time_median/ && $3 == "ms" { print $2; found = 1 } END { exit !found }' || {
    echo "cuba_threads.sh: $bench --benchmark_filter='neurons:$neurons/threads:$1/' gave no" \
      "median in ms; run it by hand to see why" >&2
    exit 1
  }
}

one=()
two=()
ratio=()
printf '%-6s %12s %12s %8s\n' round "1 thread" "2 threads" ratio
for ((r = 1; r <= rounds; ++r)); do
  a=$(median_ms 1)
  b=$(median_ms 2)
  q=$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.2f", a / b }')
  one+=("$a")
  two+=("$b")
  ratio+=("$q")
  printf '%-6s %9s ms %9s ms %7sx\n' "$r" "$a" "$b" "$q"
done

median() {
  printf '%s\n' "$@" | sort -g |
    awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
printf '%-6s %9s ms %9s ms %7sx   (CUBA at %s neurons, 1 s simulated)\n' median \
  "$(median "${one[@]}")" "$(median "${two[@]}")" "$(median "${ratio[@]}")" "$neurons"
