#!/usr/bin/env python3
"""Side-by-side timings of structgrad against composed-PyTorch baselines, as ratios in one run."""
import time

import torch

import structgrad


def best_of(fn, repeats=5, inner=20):
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(inner):
            fn()
        best = min(best, (time.perf_counter() - start) / inner)
    return best


def main():
    g = torch.Generator().manual_seed(0)
    theta = torch.randn(1024, 100, generator=g, requires_grad=True)

    def structgrad_relax():
        structgrad.categorical.relax(theta, 0.5, regularizer="euclidean", generator=g).pow(2).sum().backward()

    def composed_relax():
        z = (theta - torch.log(-torch.log1p(-torch.rand(theta.shape, generator=g)))) / 0.5
        s, _ = z.sort(-1, descending=True)
        c = s.cumsum(-1)
        k = torch.arange(1, 101, dtype=z.dtype)
        support = ((1 + k * s) > c).sum(-1, keepdim=True)
        t = (c.gather(-1, support - 1) - 1) / support
        (z - t).clamp_min(0).pow(2).sum().backward()

    rows = [("categorical.relax euclidean fwd+bwd (1024x100)", best_of(structgrad_relax), best_of(composed_relax))]
    print(f"{'operation':<50} {'structgrad ms':>14} {'baseline ms':>12} {'speed-up':>9}")
    for name, ours, baseline in rows:
        print(f"{name:<50} {ours * 1e3:>14.3f} {baseline * 1e3:>12.3f} {baseline / ours:>8.2f}x")


if __name__ == "__main__":
    main()
