#!/usr/bin/env python3
"""Write one experiment's section of docs/RESULTS.md from its summary.json.

The section `## <experiment>` is replaced (or appended): the command that made the results, what
differs from the seed (the summary's notes), our table (mean ± std over seeds) and the seed's table
beside it, matched by method and setting. Usage:

    scripts/results_md.py results/subset_selection/summary.json [more summary.json of the same experiment] \
        --command "structgrad subset-selection --seeds 3" [--results docs/RESULTS.md]

With --keep-rows, the rows of the section's table that the new summaries do not have stay as they
are (rows of earlier runs, written by this script from summaries that are no longer at hand), the
new command joins the section's, and its "What we find" stays unless --findings replaces it.
"""
import argparse
import json
import os
import re

HEADER = "# Results\n\nOur runs of the seeds' experiments beside the seeds' tables. Each section is written by " \
         "`scripts/results_md.py` from the run's `summary.json`.\n"


def number(value, digits):
    """Three (mean) or two (std) significant digits; whole numbers from 100 on (an ELBO of -1370)."""
    return f"{value:.0f}" if abs(value) >= 100 else f"{value:.{digits}g}"


def cell(mean, std, scale):
    if mean is None:
        return ""
    return f"{number(mean * scale, 3)} ± {number(std * scale, 2)}"


def text(value):
    """A table cell's text: a '|' (as in the seed's "Top |V| - 1") would end the cell."""
    return str(value).replace("|", "\\|")


def setting_text(setting):
    return ", ".join(f"{key}={value}" for key, value in setting.items())


def section(summary, command, earlier_rows=()):
    notes = summary.get("notes", {})
    display = notes.get("display", {})
    metrics = list(summary["rows"][0]["metrics"]) if summary["rows"] else []
    label = {m: display.get(m, [m, 1])[0] for m in metrics}
    scale = {m: display.get(m, [m, 1])[1] for m in metrics}
    seed_rows = summary.get("seed_table", [])

    lines = [f"## {summary['experiment']}", "", f"Command: `{command}`", ""]
    for key, value in notes.items():
        if key != "display":
            lines.append(f"- {key}: {value}")
    lines += ["", "### Ours", "", "| method | setting | " + " | ".join(label[m] for m in metrics) +
              " | seeds | seed's " + " | seed's ".join(label[m] for m in metrics) + " |",
              "|" + "---|" * (3 + 2 * len(metrics))]
    lines += list(earlier_rows)
    for row in summary["rows"]:
        theirs = [s for s in seed_rows if s["method"] == row["method"] and s["setting"] == row["setting"]]
        seed_cells = []
        for m in metrics:
            # A seed row without this metric (the seed does not report it) leaves the cell empty.
            seed_cells.append("; ".join(cell(s["metrics"].get(m), s["std"].get(m, 0), scale[m]) +
                                        f" ({s['source'].split(',')[0]})" for s in theirs if m in s["metrics"]))
        lines.append(f"| {row['method']} | {setting_text(row['setting'])} | " +
                     " | ".join(cell(row["metrics"][m], row["std"][m], scale[m]) for m in metrics) +
                     f" | {row['seeds']} | " + " | ".join(seed_cells) + " |")
    if seed_rows:
        lines += ["", "### The seeds' tables", "", "| source | seed's method | our label | setting | " +
                  " | ".join(label[m] for m in metrics) + " |", "|" + "---|" * (4 + len(metrics))]
        for s in seed_rows:
            lines.append(f"| {text(s['source'])} | {text(s['seed_method'])} | {s['method']} | {setting_text(s['setting'])} | " +
                         " | ".join(cell(s["metrics"].get(m), s["std"].get(m, 0), scale[m]) for m in metrics) + " |")
    return "\n".join(lines) + "\n"


def earlier_section(old, summary):
    """An existing section's command, the rows of its table that `summary` does not replace, and its
    findings."""
    command = re.search(r"^Command: `(.*)`$", old, re.M).group(1)
    ours = old.split("### Ours", 1)[1].split("\n### ", 1)[0]
    new_keys = {(row["method"], setting_text(row["setting"])) for row in summary["rows"]}
    rows = [line for line in ours.splitlines() if line.startswith("|")][2:]  # below the header and its rule
    kept = [line for line in rows if tuple(c.strip() for c in line.strip("|").split(" | ")[:2]) not in new_keys]
    findings = old.split("### What we find\n", 1)[1].strip() if "### What we find\n" in old else ""
    return command, kept, findings


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("summary", nargs="+", help="summary.json files of one experiment; their rows are joined")
    parser.add_argument("--command", required=True, help="the command line that made the summary")
    parser.add_argument("--results", default=os.path.join(os.path.dirname(__file__), "..", "docs", "RESULTS.md"))
    parser.add_argument("--findings", default="", help="a paragraph of what the run shows, kept in the section")
    parser.add_argument("--keep-rows", action="store_true",
                        help="keep the section's rows the new summaries do not have, and its findings")
    args = parser.parse_args()
    summary = None
    for path in args.summary:
        with open(path) as f:
            part = json.load(f)
        if summary is None:
            summary = part
        else:
            assert part["experiment"] == summary["experiment"], (path, part["experiment"])
            summary["rows"] += part["rows"]
    existing = open(args.results).read() if os.path.exists(args.results) else HEADER
    pattern = re.compile(rf"^## {re.escape(summary['experiment'])}\n.*?(?=^## |\Z)", re.S | re.M)
    command, earlier_rows, findings = args.command, [], args.findings
    match = pattern.search(existing)
    if args.keep_rows and match:
        command, earlier_rows, kept_findings = earlier_section(match.group(0), summary)
        command += "; " + args.command
        findings = findings or kept_findings
    text = section(summary, command, earlier_rows)
    if findings:
        text += "\n### What we find\n\n" + findings.strip() + "\n"
    if pattern.search(existing):
        existing = pattern.sub(lambda _: text + "\n", existing)
    else:
        existing = existing.rstrip("\n") + "\n\n" + text
    with open(args.results, "w") as f:
        f.write(existing)


if __name__ == "__main__":
    main()
