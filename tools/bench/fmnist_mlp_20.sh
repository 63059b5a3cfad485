#!/bin/bash
# The full Fashion-MNIST recipe of configs/fmnist_mlp.yaml: 20 epochs, then the test
# accuracy per epoch from the model file. Not part of the test suite (about a minute on
# two cores). Usage: tools/bench/fmnist_mlp_20.sh [build dir] [threads]
set -euo pipefail
BUILD=${1:-build}
THREADS=${2:-2}
cd "$(dirname "$0")/../.."
mkdir -p out
"$BUILD/tools/ranvier" train configs/fmnist_mlp.yaml -o out/fmnist.h5 --force --threads "$THREADS"
/usr/bin/python3 - <<'PY'
import h5py
t = h5py.File("out/fmnist.h5", "r")["training"]
for e, (a, s) in enumerate(zip(t["test_acc"][()], t["seconds"][()]), 1):
    print(f"epoch {e:2d}: test accuracy {100 * a:.2f}%  ({s:.2f} s)")
best = max(t["test_acc"][()])
print(f"final {100 * t['test_acc'][-1]:.2f}%, best {100 * best:.2f}%:",
      "meets" if t["test_acc"][-1] >= 0.89 else "BELOW", "the 89% target")
PY
/usr/bin/python3 tools/plot_training.py out/fmnist.h5 -o out/fmnist_curves.png --grad-norms
