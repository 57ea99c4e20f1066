#!/usr/bin/env python3
"""`structgrad demo`'s training loop against the same model trained by a plain PyTorch Python loop:
seed 003's discrete VAE on binarized Fashion-MNIST (784 -> 300 -> K, K -> 300 -> 784, Bernoulli
likelihood, exact KL to the uniform prior, Adam 1e-3, batch 100), training time only (the demo's
evaluations are excluded from its `train_seconds`; the loop evaluates nothing).

    PYTHONPATH=python /usr/bin/python3 bench/demo_compare.py [--steps 1600] [--rounds 2]

Baselines, by the demo's labels: `gumbel_softmax` and `gumbel_softmax_st` use
`F.gumbel_softmax(tau=0.5, hard=False/True)`; `exact` decodes the K one-hots once per step and
weighs the K losses of every image by softmax(theta). Runs alternate (ours, the loop, ...) and the
medians are reported, at 1 and 2 threads.
"""
import argparse
import gzip
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch
import torch.nn.functional as F

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = "/usr/share/datasets/fashion-mnist"


def images(path):
    with gzip.open(path) as f:
        raw = f.read()
    count, rows, cols = (int.from_bytes(raw[i:i + 4], "big") for i in (4, 8, 12))
    pixels = np.frombuffer(raw, dtype=np.uint8, offset=16).reshape(count, rows * cols)
    return (torch.from_numpy(pixels.astype(np.float32)) / 255 > 0.5).float()


def plain_loop(label, train, steps, batch_size=100, categories=10, hidden=300, seed=0):
    """Seconds of `steps` Adam steps of the demo's model, written as a plain PyTorch loop."""
    torch.manual_seed(seed)
    pixels = train.size(1)
    encoder = torch.nn.Sequential(torch.nn.Linear(pixels, hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, categories))
    decoder = torch.nn.Sequential(torch.nn.Linear(categories, hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, pixels))
    optimizer = torch.optim.Adam(list(encoder.parameters()) + list(decoder.parameters()), lr=1e-3)
    one_hots = torch.eye(categories)
    order, position = torch.randperm(train.size(0)), 0
    start = time.perf_counter()
    for _ in range(steps):
        if position + batch_size > order.numel():
            order, position = torch.randperm(train.size(0)), 0
        x = train[order[position:position + batch_size]]
        position += batch_size
        theta = encoder(x)
        log_q = F.log_softmax(theta, -1)
        kl = (log_q.exp() * log_q).sum(-1) + torch.log(torch.tensor(float(categories)))
        if label == "exact":
            logits = decoder(one_hots)  # (K, pixels): each one-hot decoded once
            losses = F.binary_cross_entropy_with_logits(logits[:, None, :].expand(-1, x.size(0), -1),
                                                        x.expand(categories, -1, -1), reduction="none").sum(-1)
            reconstruction = (log_q.exp().t() * losses).sum()
        else:
            z = F.gumbel_softmax(theta, tau=0.5, hard=label == "gumbel_softmax_st")
            reconstruction = F.binary_cross_entropy_with_logits(decoder(z), x, reduction="none").sum()
        loss = (reconstruction + kl.sum()) / x.size(0)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return time.perf_counter() - start


def structgrad_demo(label, steps, threads, cli):
    with tempfile.TemporaryDirectory() as out:
        subprocess.run([cli, "--threads", str(threads), "demo", "--only", label, "--steps", str(steps), "--quiet",
                        "--eval-every", str(steps), "--out", out], check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        with open(os.path.join(out, "summary.json")) as f:
            summary = json.load(f)
    return next(r["metrics"]["train_seconds"] for r in summary["rows"] if r["method"] == label)


def compare(labels, steps, rounds, cli):
    """(label, threads, our median seconds, the loop's median seconds) for each label, at 1 and 2
    threads; runs alternate between ours and the loop."""
    train = images(os.path.join(DATA, "train-images-idx3-ubyte.gz"))
    for threads in (1, 2):
        torch.set_num_threads(threads)
        for label in labels:
            ours, loop = [], []
            for _ in range(rounds):
                ours.append(structgrad_demo(label, steps, threads, cli))
                loop.append(plain_loop(label, train, steps))
            yield label, threads, statistics.median(ours), statistics.median(loop)


DEFAULT_CLI = os.environ.get("STRUCTGRAD_CLI", os.path.join(ROOT, "build", "structgrad"))
LABELS = ["gumbel_softmax", "gumbel_softmax_st", "exact"]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=1600)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--labels", nargs="+", default=LABELS)
    parser.add_argument("--cli", default=DEFAULT_CLI)
    args = parser.parse_args()
    print("| estimator | threads | structgrad demo s | plain PyTorch loop s | ratio (ours / loop) |")
    print("|---|---|---|---|---|")
    for label, threads, ours, loop in compare(args.labels, args.steps, args.rounds, args.cli):
        print(f"| {label} | {threads} | {ours:.2f} | {loop:.2f} | {ours / loop:.2f}x |", flush=True)


if __name__ == "__main__":
    sys.exit(main())
