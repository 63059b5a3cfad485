#!/usr/bin/python3
"""The peer's figure for bench_cuba: Brian2's CUBA example (Brette et al. 2007, after
Vogels & Abbott 2005) in C++ standalone mode, one thread, 1 s at dt = 0.1 ms, at several
sizes with the connection probability lowered to keep 80 synapses per neuron. Prints
the simulation-loop time (device._last_run_time: code generation, compilation and
network construction excluded) and the mean rate.

Needs Brian2, which Ranvier does not depend on:  apt-get install python3-brian
    /usr/bin/python3 tools/bench/peer_brian2_cuba.py 4000 16000 64000 --repeat 3
"""
import argparse
import statistics
import tempfile
import warnings

warnings.filterwarnings("ignore")

import brian2 as b2  # noqa: E402
from brian2 import ms, mV  # noqa: E402

EQS = """
dv/dt  = (ge + gi - (v - El)) / taum : volt (unless refractory)
dge/dt = -ge / taue : volt
dgi/dt = -gi / taui : volt
"""


def run_once(size):
    with tempfile.TemporaryDirectory() as d:
        b2.device.reinit()
        b2.device.activate()
        b2.set_device("cpp_standalone", directory=d, build_on_run=False)
        b2.prefs.devices.cpp_standalone.openmp_threads = 0
        b2.defaultclock.dt = 0.1 * ms
        ns = dict(taum=20 * ms, taue=5 * ms, taui=10 * ms, Vt=-50 * mV, Vr=-60 * mV, El=-49 * mV,
                  we=(60 * 0.27 / 10) * mV, wi=(-20 * 4.5 / 10) * mV)
        p = 80.0 / size
        n_exc = int(0.8 * size)
        P = b2.NeuronGroup(size, EQS, threshold="v > Vt", reset="v = Vr", refractory=5 * ms,
                           method="exact", namespace=ns)
        P.v = "Vr + rand() * (Vt - Vr)"
        Ce = b2.Synapses(P, P, on_pre="ge += we", namespace=ns)
        Ci = b2.Synapses(P, P, on_pre="gi += wi", namespace=ns)
        Ce.connect(f"i < {n_exc}", p=p)
        Ci.connect(f"i >= {n_exc}", p=p)
        spikes = b2.SpikeMonitor(P)
        b2.run(1 * b2.second)
        b2.device.build(directory=d, compile=True, run=True, debug=False)
        return b2.device._last_run_time, spikes.num_spikes / size


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("sizes", type=int, nargs="+")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    for size in args.sizes:
        runs = [run_once(size) for _ in range(args.repeat)]
        t = statistics.median(r[0] for r in runs)
        rate = statistics.median(r[1] for r in runs)
        print(f"brian2 cpp_standalone CUBA n={size}: median loop {t:.3f} s over {args.repeat} runs, "
              f"mean rate {rate:.2f} Hz; all: {', '.join(f'{r[0]:.3f}' for r in runs)}")


if __name__ == "__main__":
    main()
