#!/usr/bin/python3
"""Plot a spike raster from a Ranvier result file, with the population rate under it.

Reads /spikes/<population>/{timestamps,node_ids} (SONATA layout) of every population,
or only --population. The rate panel is the spike count in bins of --bin ms, divided by
the population size and the bin width. Writes PNG, SVG or PDF; runs headless.

    /usr/bin/python3 tools/plot_raster.py out/run.h5 -o out/raster.png
"""
import argparse
import functools

from plot_common import fail, open_result, save, text

import matplotlib.pyplot as plt  # noqa: E402  (plot_common selects the headless backend)
import numpy as np  # noqa: E402

fail = functools.partial(fail, "plot_raster")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("result", help="HDF5 file with /spikes (ranvier run, spike-eval)")
    ap.add_argument("-o", "--output", required=True, help="image to write (.png, .svg, .pdf)")
    ap.add_argument("--population", help="only this population (default: all)")
    ap.add_argument("--bin", type=float, default=5.0, help="bin width of the rate panel in ms (default 5)")
    ap.add_argument("--tmin", type=float, help="start of the time axis (ms)")
    ap.add_argument("--tmax", type=float, help="end of the time axis (ms)")
    args = ap.parse_args()
    if args.bin <= 0:
        fail("--bin must be positive")

    f = open_result("plot_raster", args.result, "spikes", "no recorded spikes; set record.spikes in the config")
    pops = [p for p in f["spikes"] if not args.population or p == args.population]
    if not pops:
        fail(f"no spikes of population '{args.population}' in {args.result}")

    duration = float(f.attrs["duration"]) if "duration" in f.attrs else None
    fig, (ax_raster, ax_rate) = plt.subplots(2, 1, sharex=True, figsize=(9, 6), height_ratios=[3, 1])
    offset = 0
    for pop in pops:
        t = f["spikes"][pop]["timestamps"][:]
        ids = f["spikes"][pop]["node_ids"][:].astype(np.int64)
        size = int(f["populations"][pop].attrs["size"]) if f"populations/{pop}" in f else (int(ids.max()) + 1 if ids.size else 1)
        # Ticks for small populations, dots for large ones, so both stay readable.
        small = size <= 200
        dots = ax_raster.scatter(t, ids + offset, s=max(20.0, 2000.0 / size) if small else 1.0,
                                 marker="|" if small else ".", linewidths=1.0 if small else 0,
                                 label=f"{pop} ({t.size} spikes)")
        end = duration if duration else (t.max() if t.size else 1.0)
        edges = np.arange(0.0, end + args.bin, args.bin)
        counts, _ = np.histogram(t, bins=edges)
        ax_rate.step(edges[:-1], counts / size / (args.bin * 1e-3), where="post", color=dots.get_facecolor()[0],
                     label=pop)
        offset += size
    # spike-eval files hold the rasters of several samples one after the other: mark where
    # each sample starts (the network is reset between samples).
    sample = float(f.attrs["sample_duration"]) if "sample_duration" in f.attrs else None
    if sample and duration and duration > sample:
        for x in np.arange(sample, duration - 1e-9, sample):
            for ax in (ax_raster, ax_rate):
                ax.axvline(x, color="0.5", linewidth=0.8, linestyle="--")
    ax_raster.set_ylabel("neuron")
    ax_raster.legend(fontsize=8, loc="upper right", markerscale=1)
    ax_rate.set_ylabel("rate [Hz]")
    ax_rate.set_xlabel("time [ms]")
    ax_rate.set_xlim(args.tmin if args.tmin is not None else 0, args.tmax if args.tmax is not None else duration)
    description = text(f.attrs.get("description", ""))
    if description:
        fig.suptitle(description, fontsize=10)
    fig.tight_layout()
    save(fig, args.output)


if __name__ == "__main__":
    main()
