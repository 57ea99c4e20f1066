#!/usr/bin/env python3
"""Plot lines from a CSV, one per value of its `label` column: y against x (by default test_loss
against step), and optionally a reference column (a paper's figures) dashed in the same colour."""
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
    parser.add_argument("--x", default="step", help="column on the x axis")
    parser.add_argument("--y", default="test_loss", help="column on the y axis")
    parser.add_argument("--xlabel", default="training step")
    parser.add_argument("--ylabel", default="test loss")
    parser.add_argument("--reference", help="column drawn dashed beside y (empty cells skipped)")
    parser.add_argument("--reference-label", help="legend suffix of the reference lines (default: its column)")
    parser.add_argument("--logx", action="store_true")
    args = parser.parse_args()

    lines = defaultdict(list)
    references = defaultdict(list)
    with open(args.csv, newline="") as f:
        for row in csv.DictReader(f):
            x = float(row[args.x])
            lines[row["label"]].append((x, float(row[args.y])))
            if args.reference and row.get(args.reference):
                references[row["label"]].append((x, float(row[args.reference])))

    fig, ax = plt.subplots(figsize=(7, 4.5))
    for label, points in lines.items():
        xs, ys = zip(*sorted(points))
        (line,) = ax.plot(xs, ys, marker="o", markersize=3, label=label)
        if references[label]:
            xs, ys = zip(*sorted(references[label]))
            ax.plot(xs, ys, linestyle="--", marker="x", markersize=4, color=line.get_color(),
                    label=f"{label} ({args.reference_label or args.reference})")
    if args.logx:
        ax.set_xscale("log")
    ax.set_xlabel(args.xlabel)
    ax.set_ylabel(args.ylabel)
    ax.set_title(args.title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small")
    fig.tight_layout()
    fig.savefig(args.png, dpi=120)


if __name__ == "__main__":
    main()
