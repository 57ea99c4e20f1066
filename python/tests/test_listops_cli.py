import csv
import json
import math
import subprocess

from conftest import cli_path


def run(*args):
    return subprocess.run([cli_path(), "--threads", "2", "listops", *args], capture_output=True, text=True)


def test_quick_run_trains_every_method_and_writes_the_table(tmp_path):
    done = run("--quick", "--quiet", "--out", str(tmp_path))
    assert done.returncode == 0, done.stderr
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["experiment"] == "listops"
    methods = {row["method"] for row in summary["rows"]}
    assert methods == {"arborescence_exponential_family", "arborescence_exponential_family_gaussian",
                       "arborescence_exponential_family_negative_exponential", "arborescence_e_reinforce_plus",
                       "arborescence_t_reinforce_plus", "arborescence_relax", "ground_truth"}
    for row in summary["rows"]:
        assert row["seeds"] == 1
        metrics = row["metrics"]
        assert all(math.isfinite(v) and 0 <= v <= 100 for v in metrics.values()), row
        # Two arborescences on the same tokens: as many sampled edges as true ones.
        assert metrics["precision"] == metrics["recall"]
        if row["method"] == "ground_truth":
            assert metrics["precision"] == 100
    assert {s["method"] for s in summary["seed_table"]} >= {"arborescence_t_reinforce_plus",
                                                             "arborescence_exponential_family_gaussian"}
    with open(tmp_path / "runs.csv") as f:
        runs = list(csv.DictReader(f))
    # Training lowers the cross-entropy within the quick run.
    for r in runs:
        assert float(r["last_train_loss"]) < float(r["first_train_loss"]), r


def test_unknown_method_is_named_before_training(tmp_path):
    bad = run("--quick", "--only", "parse_magic", "--out", str(tmp_path))
    assert bad.returncode == 2 and "unknown method 'parse_magic'" in bad.stderr
