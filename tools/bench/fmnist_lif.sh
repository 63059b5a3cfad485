#!/bin/bash
# Rate to spikes on Fashion-MNIST (issue 7): trains configs/fmnist_lif.yaml (784-256-128-10,
# lif_rate hidden units, 20 epochs), then runs the trained network as spiking LIF neurons
# on the full test set at 25, 50, 100 and 200 ms per image (dt = 1 ms, tau_s = 5 ms) and
# prints the rate accuracy beside the spiking one. Not part of the test suite (a few
# minutes on two cores). Usage: tools/bench/fmnist_lif.sh [build dir] [threads]
set -euo pipefail
BUILD=${1:-build}
THREADS=${2:-2}
cd "$(dirname "$0")/../.."
mkdir -p out
"$BUILD/tools/ranvier" train configs/fmnist_lif.yaml -o out/fmnist_lif.h5 --force --threads "$THREADS"
echo "duration  rate acc  spiking acc  difference  spikes/inference  wall"
for ms in 25 50 100 200; do
  "$BUILD/tools/ranvier" -q spike-eval out/fmnist_lif.h5 --duration "$ms ms" --dt "1 ms" \
    --threads "$THREADS" -o "out/fmnist_spiking_${ms}ms.h5" --force >/dev/null
  /usr/bin/python3 - "out/fmnist_spiking_${ms}ms.h5" "$ms" <<'PY'
import sys, h5py
f = h5py.File(sys.argv[1], "r")
e = f["eval"].attrs
r, s = 100 * e["rate_accuracy"], 100 * e["spiking_accuracy"]
print(f"{sys.argv[2]:>5} ms  {r:7.2f}%  {s:10.2f}%  {s - r:+9.2f}   {e['mean_spikes']:15.1f}")
PY
done
/usr/bin/python3 tools/plot_raster.py out/fmnist_spiking_50ms.h5 -o out/fmnist_raster.png
echo "raster of the first samples at 50 ms: out/fmnist_raster.png"
