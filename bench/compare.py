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


def permutation_rows():
    """Hungarian against a Python loop over scipy's linear_sum_assignment; implicit Sinkhorn
    against the same 20 log-domain iterations composed of torch ops, differentiated by autograd."""
    import numpy as np
    from scipy.optimize import linear_sum_assignment

    g = torch.Generator().manual_seed(0)
    theta = torch.randn(256, 50, 50, dtype=torch.float64, generator=g)

    def scipy_loop():
        weights = theta.numpy()
        x = np.zeros_like(weights)
        for b, w in enumerate(weights):
            rows, cols = linear_sum_assignment(w, maximize=True)
            x[b, rows, cols] = 1
        return torch.from_numpy(x)

    z = torch.randn(64, 50, 50, generator=g, requires_grad=True)
    w = torch.randn(64, 50, 50, generator=g)

    def structgrad_sinkhorn():
        (structgrad.permutation.sinkhorn(z, 20) * w).sum().backward()
        z.grad = None

    def composed_sinkhorn():
        log_p = z
        for _ in range(20):
            log_p = log_p - torch.logsumexp(log_p, -1, keepdim=True)
            log_p = log_p - torch.logsumexp(log_p, -2, keepdim=True)
        (log_p.exp() * w).sum().backward()
        z.grad = None

    rows = [("permutation.map Hungarian vs scipy loop (256x50x50)",
             best_of(lambda: structgrad.permutation.map(theta), inner=3), best_of(scipy_loop, inner=3)),
            ("permutation.sinkhorn 20 it fwd+bwd (64x50x50)",
             best_of(structgrad_sinkhorn, inner=3), best_of(composed_sinkhorn, inner=3))]
    for name, ours, baseline in rows:
        print(f"{name:<50} {ours * 1e3:>14.3f} {baseline * 1e3:>12.3f} {baseline / ours:>8.2f}x")


if __name__ == "__main__":
    permutation_rows()
