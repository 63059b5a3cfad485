"""What the plot scripts of tools/ share: opening a Ranvier HDF5 file with a clear
error, reading string attributes, and saving a figure atomically (written beside the
target and renamed, so a failed plot never leaves a partial image)."""
import os
import sys

import matplotlib

matplotlib.use("Agg")  # headless: no display needed

import h5py  # noqa: E402


def fail(tool, message):
    """Print `message` as the tool's error and exit with code 2 (a usage or input error)."""
    print(f"{tool}: error: {message}", file=sys.stderr)
    sys.exit(2)


def text(value):
    """An HDF5 string attribute as str (h5py returns bytes or str by how it was written)."""
    return value.decode() if isinstance(value, bytes) else str(value)


def open_result(tool, path, group, hint):
    """Open `path` read-only and check it has `group`; otherwise exit 2 with `hint`."""
    if not os.path.exists(path):
        fail(tool, f"'{path}' does not exist")
    try:
        f = h5py.File(path, "r")
    except OSError as e:
        fail(tool, f"'{path}' is not a readable HDF5 file ({e})")
    if group not in f:
        fail(tool, f"'{path}' has no /{group} group: {hint}")
    return f


def save(fig, output):
    """Save `fig` to `output` (format from the extension) via a temporary file."""
    out_dir = os.path.dirname(os.path.abspath(output))
    os.makedirs(out_dir, exist_ok=True)
    root, ext = os.path.splitext(os.path.basename(output))
    tmp = os.path.join(out_dir, f".{root}.tmp{ext}")
    try:
        fig.savefig(tmp, dpi=120)
        os.replace(tmp, output)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    print(f"wrote {output}")
