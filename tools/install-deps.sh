#!/usr/bin/env bash
# Installs every Debian 12 package Ranvier builds, tests and plots with.
# Idempotent: packages already present are skipped, so `make` can call it on every run
# at the cost of one dpkg query. Needs root (or sudo) only when something is missing.
# Optional groups, named as arguments, add to the base set: `fuzz` (clang 14 and its
# libFuzzer/sanitizer runtimes, for `make fuzz`; `make test` does not need them).
set -euo pipefail

packages=(
  cmake g++ make pkg-config
  libboost-dev          # Boost.Odeint (header-only)
  libeigen3-dev         # dense linear algebra for the rate networks
  libhdf5-dev           # HDF5 C++ API (H5Cpp.h)
  doctest-dev           # unit tests
  libyaml-cpp-dev       # config files (0.7, CMake target yaml-cpp)
  libcli11-dev          # command line
  libfmt-dev            # formatting
  libbenchmark-dev      # tools/bench
  python3-h5py python3-matplotlib   # plot scripts, run with /usr/bin/python3
  dataset-fashion-mnist # /usr/share/datasets/fashion-mnist/
)

for group in "$@"; do
  case "$group" in
    fuzz) packages+=(clang-14 libclang-rt-14-dev) ;;  # clang++-14, libclang_rt.fuzzer
    *) echo "install-deps: unknown group '$group' (known: fuzz)" >&2; exit 2 ;;
  esac
done

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$p")
done

if [[ ${#missing[@]} -eq 0 ]]; then
  exit 0
fi

echo "install-deps: installing ${missing[*]}" >&2
sudo=""
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || { echo "install-deps: run as root or install sudo (missing: ${missing[*]})" >&2; exit 1; }
  sudo=sudo
fi
export DEBIAN_FRONTEND=noninteractive
# An old or absent package list makes apt-get install fail on a fresh machine.
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: done" >&2
