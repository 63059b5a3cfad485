#!/usr/bin/python3
"""The peer's figure for bench_hh: the same Hodgkin-Huxley population in Brian2's C++
standalone mode (same equations, rk4, dt = 0.01 ms, 1 s, currents spread over
0..20 uA/cm2, one thread). Prints the simulation-loop time (device._last_run_time, code
generation and compilation excluded) and neuron-steps per second.

Needs Brian2, which Ranvier does not depend on:  apt-get install python3-brian
    /usr/bin/python3 tools/bench/peer_brian2_hh.py 1000 10000 --repeat 3
"""
import argparse
import statistics
import tempfile
import warnings

warnings.filterwarnings("ignore")

import brian2 as b2  # noqa: E402

EQS = """
dv/dt = (I - gNa*m**3*h*(v - ENa) - gK*n**4*(v - EK) - gL*(v - EL)) / C : volt
dm/dt = alpham*(1 - m) - betam*m : 1
dh/dt = alphah*(1 - h) - betah*h : 1
dn/dt = alphan*(1 - n) - betan*n : 1
alpham = 0.1/mV*(v + 40*mV) / (1 - exp(-(v + 40*mV)/(10*mV))) / ms : Hz
betam = 4*exp(-(v + 65*mV)/(18*mV)) / ms : Hz
alphah = 0.07*exp(-(v + 65*mV)/(20*mV)) / ms : Hz
betah = 1/(1 + exp(-(v + 35*mV)/(10*mV))) / ms : Hz
alphan = 0.01/mV*(v + 55*mV) / (1 - exp(-(v + 55*mV)/(10*mV))) / ms : Hz
betan = 0.125*exp(-(v + 65*mV)/(80*mV)) / ms : Hz
I : amp/meter**2
"""


def run_once(size):
    with tempfile.TemporaryDirectory() as d:
        b2.device.reinit()
        b2.device.activate()
        b2.set_device("cpp_standalone", directory=d, build_on_run=False)
        b2.prefs.devices.cpp_standalone.openmp_threads = 0
        b2.defaultclock.dt = 0.01 * b2.ms
        ns = dict(C=1 * b2.uF / b2.cm**2, gNa=120 * b2.msiemens / b2.cm**2, gK=36 * b2.msiemens / b2.cm**2,
                  gL=0.3 * b2.msiemens / b2.cm**2, ENa=50 * b2.mV, EK=-77 * b2.mV, EL=-54.387 * b2.mV)
        g = b2.NeuronGroup(size, EQS, method="rk4", threshold="v > 0*mV", refractory="v > 0*mV", namespace=ns)
        g.v = -65 * b2.mV
        g.m, g.h, g.n = 0.0529, 0.5961, 0.3177
        g.I = "20*uA/cm**2 * i / (N - 1)"
        b2.run(1 * b2.second)
        b2.device.build(directory=d, compile=True, run=True, debug=False)
        return b2.device._last_run_time


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("sizes", type=int, nargs="+")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    for n in args.sizes:
        times = [run_once(n) for _ in range(args.repeat)]
        t = statistics.median(times)
        print(f"brian2 cpp_standalone HH rk4 n={n}: median {t:.3f} s over {args.repeat} runs "
              f"({n * 100000 / t / 1e6:.1f} M neuron-steps/s); all: {', '.join(f'{x:.3f}' for x in times)}")


if __name__ == "__main__":
    main()
