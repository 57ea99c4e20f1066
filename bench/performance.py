#!/usr/bin/env python3
"""The performance targets, each timed beside the baseline it is measured against, in one run:
interleaved rounds (ours, then the baseline, again and again), the least time of each side, at 1
and 2 torch threads. Writes docs/PERFORMANCE.md with the machine, the command and every ratio.

    PYTHONPATH=python /usr/bin/python3 bench/performance.py [--rounds N] [--out docs/PERFORMANCE.md]

Targets (the performance issue): the recursive traces at least 50x seed 002's reference, the
spanning-tree trace within 2x of the relaxation, spanning-tree sampling within 3x of sorting its
edge weights, `categorical.relax` at least as fast as `F.gumbel_softmax`. Scaling: time against n
and batch, with the fitted exponent.
"""
import argparse
import datetime
import math
import os
import platform
import statistics
import subprocess
import sys
import time

import torch
import torch.nn.functional as F

import structgrad

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from recursive_compare import cle_composed, kruskal_composed  # noqa: E402  (the reference's recursions)
import demo_compare  # noqa: E402


def interleaved(ours, baseline, rounds):
    """The least seconds of ours and of the baseline over `rounds` alternating calls (after one
    warm-up call each). Alternating puts a slow spell of the machine on both sides when it is
    longer than a round; the minimum discards the spells shorter than that, which medians of a few
    second-long reference calls did not (their ratios moved 3x between runs)."""
    ours()
    baseline()
    a, b = [], []
    for _ in range(rounds):
        start = time.perf_counter()
        ours()
        middle = time.perf_counter()
        baseline()
        b.append(time.perf_counter() - middle)
        a.append(middle - start)
    return min(a), min(b)


def median_time(fn, rounds):
    fn()
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


class Row:
    """One target: ours against a baseline; `kind` says how the ratio is read."""

    def __init__(self, name, baseline, target, kind, ours_s, baseline_s):
        self.name, self.baseline, self.target, self.kind = name, baseline, target, kind
        self.ours_s, self.baseline_s = ours_s, baseline_s

    @property
    def ratio(self):
        # "speed-up": baseline time / ours (higher is better); "slowdown": ours / baseline.
        return self.baseline_s / self.ours_s if self.kind == "speed-up" else self.ours_s / self.baseline_s

    @property
    def met(self):
        bound = float(self.target.split()[-1].rstrip("x"))
        return self.ratio >= bound if self.kind == "speed-up" else self.ratio <= bound


def seed_reference_kruskal(reference_dir):
    """Seed 002's own spanning-tree code (a checkout of its public repository): sample, trace
    log-probability, backward. Its parameters are the log-means of E, ours the log-rates, so it is
    given -theta; its log-probability equals ours on the same trace (checked in trace_rows)."""
    sys.path.insert(0, reference_dir)
    from estimators import uniform_to_exp
    from spanning_tree.functions import span_log_prob, span_struct

    def run(theta):
        logits = -theta
        edges = span_struct(uniform_to_exp(logits.detach()))
        return edges, span_log_prob(edges, logits)
    return run


def trace_rows(rounds, reference_dir=None):
    g = torch.Generator().manual_seed(0)
    batch, n = 256, 30
    a = torch.randn(batch, n, n, dtype=torch.float64, generator=g)
    undirected = ((a + a.transpose(-1, -2)) / 2).requires_grad_()
    directed = torch.randn(batch, n, n, dtype=torch.float64, generator=g).requires_grad_()

    def ours(module, theta):
        def run():
            t = module.trace(theta.detach(), generator=g)
            module.trace_log_prob(theta, t.trace).sum().backward()
            theta.grad = None
        return run

    def reference(module, composed, theta):
        def run():
            t = module.trace(theta.detach(), generator=g)
            torch.stack([composed(theta[b], t.perturbed[b]) for b in range(batch)]).sum().backward()
            theta.grad = None
        return run

    def relax(module, theta):
        def run():
            module.relax(theta, 1.0, generator=g).sum().backward()
            theta.grad = None
        return run

    # The reference recursions compute our numbers (checked on a few instances).
    for module, composed, theta in ((structgrad.spanning_tree, kruskal_composed, undirected),
                                    (structgrad.arborescence, cle_composed, directed)):
        t = module.trace(theta.detach()[:4], generator=g)
        mine = module.trace_log_prob(theta.detach()[:4], t.trace)
        theirs = torch.stack([composed(theta.detach()[b], t.perturbed[b]) for b in range(4)])
        torch.testing.assert_close(mine, theirs)

    few = max(5, rounds // 2)  # the references take a fraction of a second to seconds a call
    rows = []
    stand_in = "composed stand-in of seed 002's recursion (Python, one instance at a time)"
    if reference_dir:
        seed_kruskal = seed_reference_kruskal(reference_dir)
        edges, theirs = seed_kruskal(undirected.detach()[:4])
        mine = structgrad.spanning_tree.trace_log_prob(undirected.detach()[:4], edges[..., 0] * n + edges[..., 1])
        torch.testing.assert_close(theirs, mine.to(theirs.dtype))  # its sum is accumulated in float32

        def seed_run():
            seed_kruskal(undirected)[1].sum().backward()
            undirected.grad = None
        ours_s, base_s = interleaved(ours(structgrad.spanning_tree, undirected), seed_run, few)
        rows.append(Row("spanning_tree `trace` + `trace_log_prob` fwd+bwd, batch 256, n = 30",
                        "seed 002's own code (`span_struct` + `span_log_prob`, batched over instances in Python)",
                        ">= 50x", "speed-up", ours_s, base_s))
    for label, module, composed, theta in (("spanning_tree", structgrad.spanning_tree, kruskal_composed, undirected),
                                           ("arborescence", structgrad.arborescence, cle_composed, directed)):
        ours_s, base_s = interleaved(ours(module, theta), reference(module, composed, theta), few)
        rows.append(Row(f"{label} `trace` + `trace_log_prob` fwd+bwd, batch 256, n = 30", stand_in, ">= 50x",
                        "speed-up", ours_s, base_s))
    ours_s, base_s = interleaved(ours(structgrad.spanning_tree, undirected), relax(structgrad.spanning_tree, undirected),
                                 rounds)
    rows.append(Row("spanning_tree `trace` + `trace_log_prob` fwd+bwd, batch 256, n = 30",
                    "`spanning_tree.relax` fwd+bwd, same size", "<= 2x", "slowdown", ours_s, base_s))
    i, j = torch.triu_indices(n, n, 1)
    weights = undirected.detach()[:, i, j].contiguous()
    ours_s, base_s = interleaved(lambda: structgrad.spanning_tree.sample(undirected.detach(), generator=g),
                                 lambda: torch.sort(weights, -1, descending=True), rounds)
    rows.append(Row("`spanning_tree.sample`, batch 256, n = 30", "`torch.sort` of the same edge weights", "<= 3x",
                    "slowdown", ours_s, base_s))
    return rows


def categorical_rows(rounds):
    g = torch.Generator().manual_seed(0)
    rows = []
    for batch, k in ((100, 10), (1024, 100)):
        theta = torch.randn(batch, k, generator=g, requires_grad=True)
        weights = torch.randn(batch, k, generator=g)
        for hard in (False, True):
            def ours():
                (structgrad.categorical.relax(theta, 0.5, hard=hard, generator=g) * weights).sum().backward()
                theta.grad = None

            def baseline():
                (F.gumbel_softmax(theta, tau=0.5, hard=hard) * weights).sum().backward()
                theta.grad = None

            ours_s, base_s = interleaved(ours, baseline, rounds * 4)
            rows.append(Row(f"`categorical.relax(tau=0.5{', hard=True' if hard else ''})` fwd+bwd, ({batch}, {k})",
                            "`F.gumbel_softmax`", ">= 1x", "speed-up", ours_s, base_s))
    return rows


def fitted_exponent(sizes, seconds):
    """Least-squares slope of log time against log size."""
    x = [math.log(s) for s in sizes]
    y = [math.log(t) for t in seconds]
    mx, my = sum(x) / len(x), sum(y) / len(y)
    return sum((a - mx) * (b - my) for a, b in zip(x, y)) / sum((a - mx) ** 2 for a in x)


def scaling_rows(rounds):
    """Time against n at batch 16, and against batch at n = 30, for four kernels."""
    g = torch.Generator().manual_seed(0)

    def symmetric(batch, n):
        a = torch.randn(batch, n, n, dtype=torch.float64, generator=g)
        return (a + a.transpose(-1, -2)) / 2

    def trace_run(batch, n):
        theta = symmetric(batch, n).requires_grad_()

        def run():
            t = structgrad.spanning_tree.trace(theta.detach(), generator=g)
            structgrad.spanning_tree.trace_log_prob(theta, t.trace).sum().backward()
        return run

    def matrix_tree_run(batch, n):
        theta = symmetric(batch, n).requires_grad_()
        return lambda: structgrad.spanning_tree.marginals(theta).sum().backward()

    def hungarian_run(batch, n):
        theta = torch.randn(batch, n, n, dtype=torch.float64, generator=g)
        return lambda: structgrad.permutation.map(theta)

    def sinkhorn_run(batch, n):
        theta = torch.randn(batch, n, n, generator=g, requires_grad=True)
        return lambda: structgrad.permutation.sinkhorn(theta, 20).sum().backward()

    kernels = (("spanning_tree trace + log-prob fwd+bwd", trace_run, (10, 30, 100, 300)),
               ("spanning_tree.marginals fwd+bwd (matrix-tree)", matrix_tree_run, (10, 30, 100, 300)),
               ("permutation.map (Hungarian)", hungarian_run, (10, 30, 100, 300)),
               ("permutation.sinkhorn 20 iterations fwd+bwd", sinkhorn_run, (10, 30, 100, 300)))
    out = []
    for name, make, ns in kernels:
        by_n = [median_time(make(16 if n <= 100 else 2, n), max(3, rounds // 4)) / (16 if n <= 100 else 2) for n in ns]
        batches = (1, 16, 256, 1024)
        by_batch = [median_time(make(b, 30), max(3, rounds // 4)) for b in batches]
        out.append((name, ns, by_n, batches, by_batch))
    return out


def machine():
    cpu = platform.processor() or "unknown CPU"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, torch {torch.__version__}, Python {platform.python_version()}"


def commit():
    try:
        return subprocess.check_output(["git", "rev-parse", "--short", "HEAD"], text=True,
                                       stderr=subprocess.DEVNULL).strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def markdown(results, scaling, rounds, notes, demo_rows, demo_steps):
    lines = ["# Performance", "",
             f"Written by `make bench` (`bench/performance.py --rounds {rounds}`) on {datetime.date.today()}, "
             f"commit {commit()}: {machine()}.", "",
             "Each row times ours and its baseline in alternating rounds and reports the least time of each; the "
             "ratio is the baseline's time over ours for a speed-up, ours over the baseline's for a slowdown. The "
             "stand-in recursions are the composed-PyTorch recursions of `bench/recursive_compare.py` (one "
             "instance at a time in Python, every level's argmin and normalizer as torch ops, the gradient by "
             "autograd), checked against our log-probabilities before they are timed. Seed 002's own code is timed"
             " too where a checkout of it is given (`--reference-dir` or `STRUCTGRAD_SEED002_DIR`; it is not part "
             "of structgrad): its spanning-tree recursion is batched over instances, so it is faster than the "
             "stand-in. Its Chu-Liu-Edmonds is a C++ extension with the defects listed in "
             "`../shared/seeds/README.md` and is not built here.", ""]
    for threads, rows in results:
        lines += [f"## {threads} thread{'s' if threads > 1 else ''}", "",
                  "| job | baseline | ours ms | baseline ms | ratio | target | met |", "|---|---|---|---|---|---|---|"]
        for r in rows:
            lines.append(f"| {r.name} | {r.baseline} | {r.ours_s * 1e3:.2f} | {r.baseline_s * 1e3:.2f} | "
                         f"{r.ratio:.2f}x {r.kind} | {r.target} | {'yes' if r.met else 'no'} |")
        lines.append("")
    if demo_rows:
        lines += ["## Training loop", "",
                  f"`structgrad --threads T demo --only LABEL --steps {demo_steps}` (its `train_seconds`: the "
                  "evaluations excluded) against the same model, optimizer, batches and estimator as a plain PyTorch "
                  "Python loop (`bench/demo_compare.py`: `F.gumbel_softmax` for the Gumbel-softmax labels; for "
                  "`exact`, the K one-hots decoded once per step). Target: ours at most the loop's time.", "",
                  "| estimator | threads | structgrad demo s | plain PyTorch loop s | ours / loop | met |",
                  "|---|---|---|---|---|---|"]
        for label, threads, ours, loop in demo_rows:
            lines.append(f"| {label} | {threads} | {ours:.2f} | {loop:.2f} | {ours / loop:.2f}x | "
                         f"{'yes' if ours <= loop else 'no'} |")
        lines.append("")
    lines += notes
    lines += ["## Scaling (1 thread)", "",
              "Seconds per instance against n (batch 16; 2 at n = 300) and seconds per call against the batch "
              "(n = 30), with the least-squares exponent of each.", "",
              "| kernel | n | s per instance | exponent in n | batch | s per call | exponent in batch |",
              "|---|---|---|---|---|---|---|"]
    for name, ns, by_n, batches, by_batch in scaling:
        lines.append(f"| {name} | {', '.join(map(str, ns))} | {', '.join(f'{t:.2e}' for t in by_n)} | "
                     f"{fitted_exponent(ns, by_n):.2f} | {', '.join(map(str, batches))} | "
                     f"{', '.join(f'{t:.2e}' for t in by_batch)} | {fitted_exponent(batches, by_batch):.2f} |")
    lines.append("")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=20, help="interleaved rounds per row")
    parser.add_argument("--out", default=None, help="write the Markdown report here")
    parser.add_argument("--no-scaling", action="store_true", help="skip the scaling table")
    parser.add_argument("--demo-steps", type=int, default=1600,
                        help="steps of each training-loop run (0: skip the training-loop table)")
    parser.add_argument("--cli", default=demo_compare.DEFAULT_CLI, help="the structgrad executable")
    parser.add_argument("--reference-dir", default=os.environ.get("STRUCTGRAD_SEED002_DIR"),
                        help="a checkout of seed 002's public code (RakitinDen/pytorch-recursive-gumbel-max-trick): "
                             "its spanning-tree recursion becomes a baseline (default: $STRUCTGRAD_SEED002_DIR)")
    args = parser.parse_args()
    results = []
    for threads in (1, 2):
        torch.set_num_threads(threads)
        rows = trace_rows(args.rounds, args.reference_dir) + categorical_rows(args.rounds)
        for r in rows:
            print(f"[{threads} thread(s)] {r.name}: ours {r.ours_s * 1e3:.2f} ms, baseline {r.baseline_s * 1e3:.2f} ms, "
                  f"{r.ratio:.2f}x {r.kind} (target {r.target}: {'met' if r.met else 'not met'})", flush=True)
        results.append((threads, rows))
    torch.set_num_threads(1)
    scaling = [] if args.no_scaling else scaling_rows(args.rounds)
    demo_rows = []
    if args.demo_steps > 0:
        for row in demo_compare.compare(demo_compare.LABELS, args.demo_steps, 2, args.cli):
            print(f"[{row[1]} thread(s)] demo {row[0]}: ours {row[2]:.2f} s, plain loop {row[3]:.2f} s", flush=True)
            demo_rows.append(row)
    for name, ns, by_n, batches, by_batch in scaling:
        print(f"{name}: exponent {fitted_exponent(ns, by_n):.2f} in n, {fitted_exponent(batches, by_batch):.2f} in batch",
              flush=True)
    notes_path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "performance_notes.md")
    notes = open(notes_path).read().splitlines() + [""] if os.path.exists(notes_path) else []
    report = markdown(results, scaling, args.rounds, notes, demo_rows, args.demo_steps)
    if args.out:
        with open(args.out, "w") as f:
            f.write(report)
        print(f"wrote {args.out}")
    else:
        print(report)


if __name__ == "__main__":
    main()
