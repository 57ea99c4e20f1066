#!/usr/bin/env python3
"""Plot test-loss curves from a CSV with columns label, step, seconds, test_loss, one line per label."""
import argparse
import csv
from collections import defaultdict

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("csv")
    parser.add_argument("png")
    parser.add_argument("--title", default="test loss")
    args = parser.parse_args()

    curves = defaultdict(list)
    with open(args.csv, newline="") as f:
        for row in csv.DictReader(f):
            curves[row["label"]].append((int(row["step"]), float(row["test_loss"])))

    fig, ax = plt.subplots(figsize=(7, 4.5))
    for label, points in curves.items():
        steps, losses = zip(*sorted(points))
        ax.plot(steps, losses, marker="o", markersize=3, label=label)
    ax.set_xlabel("training step")
    ax.set_ylabel("test loss")
    ax.set_title(args.title)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(args.png, dpi=120)


if __name__ == "__main__":
    main()
