#!/usr/bin/python3
"""Plot tuning curves from a `ranvier tune` result file.

Input on x (J with its unit, or the represented value x), rate in Hz on y, one line per
neuron; the analytic curve, where the file has one, dashed over the simulated one.
Writes PNG, SVG or PDF (by the extension of -o); runs headless.

    /usr/bin/python3 tools/plot_tuning.py out/lif_tuning.h5 -o out/lif_tuning.png
"""
import argparse
import functools

from plot_common import fail, open_result, save, text

import matplotlib.pyplot as plt  # noqa: E402  (plot_common selects the headless backend)

fail = functools.partial(fail, "plot_tuning")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("result", help="HDF5 file written by `ranvier tune`")
    ap.add_argument("-o", "--output", required=True, help="image to write (.png, .svg, .pdf)")
    ap.add_argument("--population", help="only this population (default: all)")
    ap.add_argument("--max-neurons", type=int, default=50, help="draw at most this many neurons per population")
    args = ap.parse_args()

    f = open_result("plot_tuning", args.result, "tuning", "is it the output of `ranvier tune`?")
    pops = [p for p in f["tuning"] if not args.population or p == args.population]
    if not pops:
        fail(f"no population '{args.population}' in {args.result}")

    fig, axes = plt.subplots(1, len(pops), figsize=(6.5 * len(pops), 4.5), squeeze=False)
    for ax, pop in zip(axes[0], pops):
        g = f["tuning"][pop]
        x = g["input"][:]
        variable = text(g["input"].attrs.get("variable", "J"))
        unit = text(g["input"].attrs.get("units", ""))
        simulated = g["rate"][:] if "rate" in g else None
        analytic = g["rate_analytic"][:] if "rate_analytic" in g else None
        n = (simulated if simulated is not None else analytic).shape[1]
        colors = plt.cm.viridis([i / max(1, min(n, args.max_neurons) - 1) for i in range(min(n, args.max_neurons))])
        for i in range(min(n, args.max_neurons)):
            if simulated is not None:
                # One neuron: a wide light line, so an identical analytic curve shows on top.
                ax.plot(x, simulated[:, i], color="tab:blue" if n == 1 else colors[i], lw=4 if n == 1 else 1.2,
                        alpha=0.5 if n == 1 else 1.0, label="simulated" if i == 0 else None)
            if analytic is not None:
                ax.plot(x, analytic[:, i], "--", color="k" if n == 1 else colors[i], lw=0.9,
                        label="analytic" if i == 0 else None)
        label = "x (represented value)" if variable == "x" else "input J"
        if unit and unit != "1":
            label += f" [{unit}]"
        elif variable == "J" and unit == "1":
            label = "input v_in [units of threshold]"
        ax.set_xlabel(label)
        ax.set_ylabel("firing rate [Hz]")
        shown = f" ({args.max_neurons} of {n} shown)" if n > args.max_neurons else ""
        ax.set_title(f"{pop}: {n} neuron{'s' if n > 1 else ''}{shown}", fontsize=10)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, loc="upper left")
    description = text(f.attrs.get("description", ""))
    if description:
        fig.suptitle(description, fontsize=10)
    fig.tight_layout()
    save(fig, args.output)


if __name__ == "__main__":
    main()
