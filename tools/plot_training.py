#!/usr/bin/python3
"""Loss and accuracy curves per epoch from a model file written by `ranvier train`.

    /usr/bin/python3 tools/plot_training.py out/fmnist.h5 -o out/fmnist_curves.png

Reads /training/{train,val,test}_{loss,acc} (NaN where a set is absent) and, with
--grad-norms, the per-layer gradient norms /training/grad_norm (epochs, layers). The
image format follows the extension of -o (PNG, SVG, PDF). Headless: matplotlib's Agg.
"""
import argparse
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import h5py  # noqa: E402
import numpy as np  # noqa: E402


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("model", help="model file (HDF5) written by `ranvier train`")
    p.add_argument("-o", "--output", required=True,
                   help="image to write; the extension picks the format (.png, .svg, .pdf)")
    p.add_argument("--log", action="store_true", help="logarithmic loss axis")
    p.add_argument("--grad-norms", action="store_true",
                   help="add a panel with the per-layer gradient norms of each epoch")
    p.add_argument("--title", default=None, help="figure title (default: the file name)")
    a = p.parse_args(argv)

    try:
        f = h5py.File(a.model, "r")
    except OSError as e:
        print(f"error: {a.model}: cannot open: {e}", file=sys.stderr)
        return 2
    with f:
        if "training" not in f:
            print(f"error: {a.model}: no /training group (not a model file of `ranvier train`?)",
                  file=sys.stderr)
            return 2
        t = f["training"]
        curves = {k: np.asarray(t[k][()], dtype=float) for k in t.keys() if k != "grad_norm"}
        grad = np.asarray(t["grad_norm"][()], dtype=float) if "grad_norm" in t else None

    epochs = np.arange(1, len(curves.get("train_loss", [])) + 1)
    if len(epochs) == 0:
        print(f"error: {a.model}: no epochs recorded", file=sys.stderr)
        return 2
    has_acc = any(np.isfinite(curves.get(f"{s}_acc", np.array([np.nan]))).any()
                  for s in ("train", "val", "test"))
    panels = 1 + int(has_acc) + int(a.grad_norms and grad is not None)
    fig, axes = plt.subplots(1, panels, figsize=(5 * panels, 4), squeeze=False)
    axes = axes[0]
    colors = {"train": "C0", "val": "C1", "test": "C2"}
    ax = axes[0]
    for s in ("train", "val", "test"):
        y = curves.get(f"{s}_loss")
        if y is not None and np.isfinite(y).any():
            ax.plot(epochs, y, label=s, color=colors[s])
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    if a.log:
        ax.set_yscale("log")
    ax.legend()
    ax.grid(alpha=0.3)
    k = 1
    if has_acc:
        ax = axes[k]
        k += 1
        for s in ("train", "val", "test"):
            y = curves.get(f"{s}_acc")
            if y is not None and np.isfinite(y).any():
                ax.plot(epochs, 100 * y, label=s, color=colors[s])
        ax.set_xlabel("epoch")
        ax.set_ylabel("accuracy [%]")
        ax.legend()
        ax.grid(alpha=0.3)
    if a.grad_norms and grad is not None:
        ax = axes[k]
        for layer in range(grad.shape[1] if grad.ndim == 2 else 1):
            ax.plot(epochs, grad[:, layer] if grad.ndim == 2 else grad, label=f"layer {layer}")
        ax.set_xlabel("epoch")
        ax.set_ylabel("mean ||dW|| per batch")
        ax.set_yscale("log")
        ax.legend()
        ax.grid(alpha=0.3)
    fig.suptitle(a.title or a.model)
    fig.tight_layout()
    fig.savefig(a.output)
    print(f"wrote {a.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
