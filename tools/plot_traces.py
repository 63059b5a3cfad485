#!/usr/bin/python3
"""Plot recorded state variables over time from a `ranvier run` result file.

One panel per recorded variable (V, m, h, n, I, ...), one line per recorded neuron,
spike times of those neurons marked on the voltage panel. Writes PNG, SVG or PDF
(by the extension of -o); runs headless.

    /usr/bin/python3 tools/plot_traces.py out/hh_step.h5 -o out/hh_step.png
    /usr/bin/python3 tools/plot_traces.py out/lif.h5 -o v.svg --population lif --variables V
"""
import argparse
import functools

from plot_common import fail, open_result, save, text

import matplotlib.pyplot as plt  # noqa: E402  (plot_common selects the headless backend)
import numpy as np  # noqa: E402

fail = functools.partial(fail, "plot_traces")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("result", help="HDF5 file written by `ranvier run`")
    ap.add_argument("-o", "--output", required=True, help="image to write (.png, .svg, .pdf)")
    ap.add_argument("--population", help="only this population (default: all recorded)")
    ap.add_argument("--variables", nargs="+", help="only these variables (default: all recorded)")
    ap.add_argument("--neurons", type=int, nargs="+", help="only these neuron ids")
    ap.add_argument("--tmin", type=float, help="start of the time axis (ms)")
    ap.add_argument("--tmax", type=float, help="end of the time axis (ms)")
    args = ap.parse_args()

    f = open_result("plot_traces", args.result, "report",
                    "no recorded traces; add a 'record.traces' entry to the config")

    panels = []  # (population, variable, group)
    for pop in f["report"]:
        if args.population and pop != args.population:
            continue
        # Voltage first, the input last, the rest (gates) in between.
        order = sorted(f["report"][pop], key=lambda v: (v != "V", v == "I", "mhn".find(v) if v in "mhn" else 9, v))
        for var in order:
            if args.variables and var not in args.variables:
                continue
            panels.append((pop, var, f["report"][pop][var]))
    if not panels:
        fail("nothing to plot: no recorded trace matches --population/--variables")

    fig, axes = plt.subplots(len(panels), 1, sharex=True, figsize=(9, 1.2 + 1.9 * len(panels)), squeeze=False)
    for ax, (pop, var, g) in zip(axes[:, 0], panels):
        data = g["data"][:]
        ids = g["mapping/node_ids"][:]
        start, _stop, step = g["mapping/time"][:]
        t = start + step * np.arange(data.shape[0])
        unit = text(g["data"].attrs.get("units", ""))
        spikes_t = f[f"spikes/{pop}/timestamps"][:] if f"spikes/{pop}" in f else np.array([])
        spikes_id = f[f"spikes/{pop}/node_ids"][:] if f"spikes/{pop}" in f else np.array([])
        for column, nid in enumerate(ids):
            if args.neurons and int(nid) not in args.neurons:
                continue
            line, = ax.plot(t, data[:, column], lw=0.8, label=f"{pop}[{nid}]")
            if var == "V" and spikes_t.size:
                ts = spikes_t[spikes_id == nid]
                ax.plot(ts, np.full(ts.shape, np.nanmax(data[:, column])), "|", color=line.get_color(), ms=8)
        ax.set_ylabel(f"{var} [{unit}]" if unit and unit != "1" else var)
        ax.set_title(f"{pop}: {var}", fontsize=9, loc="left")
        if len(ids) <= 8:
            ax.legend(fontsize=7, loc="upper right")
    axes[-1, 0].set_xlabel("time [ms]")
    axes[-1, 0].set_xlim(args.tmin, args.tmax)
    description = text(f.attrs.get("description", ""))
    if description:
        fig.suptitle(description, fontsize=10)
    fig.tight_layout()
    save(fig, args.output)


if __name__ == "__main__":
    main()
