#!/usr/bin/python3
"""The peer's figure for bench_mlp: the same Fashion-MNIST recipe in PyTorch
(784-256-128-10 ReLU, He-uniform init, softmax cross-entropy, SGD lr 0.02 momentum 0.9,
batch 64, float32), seconds per training epoch at 1 and 2 threads, median of several
epochs, and the test accuracy reached.

Needs PyTorch, which Ranvier does not depend on:
    apt-get install python3-torch libopenblas0-pthread     # OpenBLAS, not reference BLAS
    /usr/bin/python3 tools/bench/peer_torch_fmnist.py --epochs 5 --threads 1 2
"""
import argparse
import gzip
import os
import statistics
import time

# torch.set_num_threads sets PyTorch's own threads; OpenBLAS would start a pool of its
# own on top and oversubscribe the cores (4+ s per epoch instead of ~1 s on 2 cores).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402

ROOT = "/usr/share/datasets/fashion-mnist/"


def idx(name, offset):
    with gzip.open(ROOT + name) as f:
        return np.frombuffer(f.read(), dtype=np.uint8, offset=offset)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    args = ap.parse_args()
    x_train = torch.tensor(idx("train-images-idx3-ubyte.gz", 16).reshape(-1, 784), dtype=torch.float32) / 255
    y_train = torch.tensor(idx("train-labels-idx1-ubyte.gz", 8), dtype=torch.long)
    x_test = torch.tensor(idx("t10k-images-idx3-ubyte.gz", 16).reshape(-1, 784), dtype=torch.float32) / 255
    y_test = torch.tensor(idx("t10k-labels-idx1-ubyte.gz", 8), dtype=torch.long)
    for threads in args.threads:
        torch.set_num_threads(threads)
        torch.manual_seed(1)
        model = torch.nn.Sequential(torch.nn.Linear(784, 256), torch.nn.ReLU(), torch.nn.Linear(256, 128),
                                    torch.nn.ReLU(), torch.nn.Linear(128, 10))
        for layer in model:
            if isinstance(layer, torch.nn.Linear):
                torch.nn.init.kaiming_uniform_(layer.weight, nonlinearity="relu")
                torch.nn.init.zeros_(layer.bias)
        opt = torch.optim.SGD(model.parameters(), lr=0.02, momentum=0.9)
        loss_fn = torch.nn.CrossEntropyLoss()
        seconds = []
        for _ in range(args.epochs):
            perm = torch.randperm(x_train.shape[0])
            start = time.perf_counter()
            for b in range(0, x_train.shape[0], 64):
                i = perm[b:b + 64]
                opt.zero_grad()
                loss = loss_fn(model(x_train[i]), y_train[i])
                loss.backward()
                opt.step()
            seconds.append(time.perf_counter() - start)
        with torch.no_grad():
            acc = (model(x_test).argmax(1) == y_test).float().mean().item()
        print(f"pytorch {torch.__version__} threads={threads}: median {statistics.median(seconds):.3f} s/epoch over "
              f"{args.epochs} epochs (all: {', '.join(f'{s:.3f}' for s in seconds)}); test accuracy {100 * acc:.2f}%")


if __name__ == "__main__":
    main()
