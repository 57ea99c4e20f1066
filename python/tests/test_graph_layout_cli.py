import csv
import json
import math
import subprocess

from conftest import cli_path


def run(*args):
    return subprocess.run([cli_path(), "--threads", "2", "graph-layout", *args], capture_output=True, text=True)


def test_quick_run_trains_every_method_and_writes_the_table(tmp_path):
    done = run("--quick", "--quiet", "--out", str(tmp_path))
    assert done.returncode == 0, done.stderr
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["experiment"] == "graph-layout"
    methods = {row["method"] for row in summary["rows"]}
    assert methods == {"bernoulli_binary_entropy", "topk_exponential_family", "spanning_tree_exponential_family",
                       "spanning_tree_t_reinforce_plus", "spanning_tree_relax"}
    for row in summary["rows"]:
        assert row["setting"] == {"T": 10} and row["seeds"] == 1
        metrics = row["metrics"]
        assert math.isfinite(metrics["elbo"]) and metrics["elbo"] < 0
        assert 0 <= metrics["edge_precision"] <= 100 and 0 <= metrics["edge_recall"] <= 100
        if row["method"].startswith("spanning_tree"):
            # Two trees on the same vertices: as many predicted edges as true ones.
            assert metrics["edge_precision"] == metrics["edge_recall"]
    assert {s["method"] for s in summary["seed_table"]} >= {"spanning_tree_relax", "bernoulli_binary_entropy"}
    with open(tmp_path / "runs.csv") as f:
        runs = list(csv.DictReader(f))
    # Training lowers the negative ELBO: the decoder learns the layout's moves within the quick run.
    for r in runs:
        assert float(r["last_train_loss"]) < float(r["first_train_loss"]), r


def test_unknown_method_is_named_before_training(tmp_path):
    bad = run("--quick", "--only", "tree_magic", "--out", str(tmp_path))
    assert bad.returncode == 2 and "unknown method 'tree_magic'" in bad.stderr
