#!/usr/bin/python3
"""The peer's figure for bench_spike_eval: a plain vectorised numpy simulation of the same
spiking network (all 10000 Fashion-MNIST test images at once, 50 ms, dt = 1 ms, exponential
PSCs with tau_s = 5 ms, constant-current input, filtered-current decoding over the last
half), in the style of Nengo's LIF step: V integrated exactly over the free part of the
step with the synaptic current held, the spike time interpolated linearly inside the step.
Run on the same machine in the same session as bench_spike_eval:

    /usr/bin/python3 tools/bench/peer_numpy_spike_eval.py out/fmnist_lif.h5
"""
import gzip
import sys
import time

import h5py
import numpy as np


def main():
    model = sys.argv[1] if len(sys.argv) > 1 else "out/fmnist_lif.h5"
    f = h5py.File(model, "r")
    n_layers = int(f["model"].attrs["layers"])
    scale = float(f["model"].attrs["input_scale"])
    layers = []
    for i in range(n_layers):
        g = f[f"model/layer_{i}"]
        a = dict(g.attrs)
        layers.append((g["W"][()].astype(np.float64), g["b"][()].astype(np.float64).ravel(),
                       float(a.get("tau_m", 20.0)), float(a.get("tau_ref", 2.0)),
                       float(a.get("threshold", 1.0)), float(a.get("amplitude", 0.01))))
    d = "/usr/share/datasets/fashion-mnist/"
    X = np.frombuffer(gzip.open(d + "t10k-images-idx3-ubyte.gz").read(), np.uint8, offset=16)
    X = X.reshape(-1, 784).astype(np.float64) * scale
    y = np.frombuffer(gzip.open(d + "t10k-labels-idx1-ubyte.gz").read(), np.uint8, offset=8)
    dt, T, tau_s = 1.0, 50.0, 5.0
    steps = int(round(T / dt))
    start = time.perf_counter()
    n = X.shape[0]
    # Hidden layers take the previous hidden layer's LIF parameters for a softmax output.
    params = [layers[min(l, n_layers - 2)] for l in range(n_layers)]
    J = [X @ layers[0][0].T + layers[0][1]] + [np.broadcast_to(L[1], (n, L[0].shape[0])) for L in layers[1:]]
    V = [np.zeros((n, L[0].shape[0])) for L in layers]
    ref = [np.zeros_like(v) for v in V]
    I = [np.zeros_like(v) for v in V]
    pending = [[np.zeros_like(v), np.zeros_like(v)] for v in V]
    Ps = np.exp(-dt / tau_s)
    Isum = np.zeros_like(V[-1])
    for k in range(steps):
        for l in range(1, n_layers):
            I[l] = I[l] * Ps + pending[l][k % 2]
            pending[l][k % 2] = np.zeros_like(V[l])
        if k >= steps // 2:
            Isum += I[-1]
        for l in range(n_layers):
            _, _, tau, tau_ref, th, amp = params[l]
            drive = J[l] + I[l] * (tau_s / dt) * (1 - Ps)  # current held over the step
            free = np.clip(dt - ref[l], 0.0, dt)
            v0 = V[l]
            v1 = drive + (v0 - drive) * np.exp(-free / tau)
            spiked = v1 > th
            # Linear interpolation of the crossing inside the free part of the step.
            frac = np.where(spiked, (v1 - th) / np.maximum(v1 - v0, 1e-12), 0.0)
            ref[l] = np.where(spiked, tau_ref - frac * free, ref[l] - dt)
            V[l] = np.where(spiked, 0.0, v1)
            if l + 1 < n_layers and spiked.any():
                charge = 1000.0 * amp * layers[l + 1][0]  # (n_out, n_in)
                pending[l + 1][k % 2] += (spiked.astype(np.float64) @ charge.T) / tau_s
    decoded = Isum * tau_s * (1 - Ps) / dt / (steps - steps // 2) + layers[-1][1]
    wall = time.perf_counter() - start
    acc = np.mean(decoded.argmax(axis=1) == y)
    print(f"numpy: {n} images, {T:g} ms at dt = {dt:g} ms: spiking accuracy {100 * acc:.2f}%, "
          f"{wall:.2f} s")


if __name__ == "__main__":
    main()
