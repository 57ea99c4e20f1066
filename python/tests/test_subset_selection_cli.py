import csv
import json
import math
import subprocess

from conftest import cli_path


def run(*args):
    return subprocess.run([cli_path(), "--threads", "2", "subset-selection", *args], capture_output=True, text=True)


def test_quick_run_trains_every_method_and_writes_the_table(tmp_path):
    done = run("--quick", "--quiet", "--out", str(tmp_path))
    assert done.returncode == 0, done.stderr
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["experiment"] == "subset-selection"
    methods = {row["method"] for row in summary["rows"]}
    assert methods == {"topk_euclidean", "topk_categorical_entropy", "topk_binary_entropy", "topk_exponential_family",
                       "correlated_topk", "topk_e_reinforce_plus", "topk_t_reinforce_plus", "topk_relax",
                       "topk_direct", "topk_gumbel_rao"}
    for row in summary["rows"]:
        assert row["setting"] == {"encoder": "simple", "k": 5} and row["seeds"] == 1
        assert math.isfinite(row["metrics"]["mse"]) and 0 <= row["metrics"]["precision"] <= 100
    assert {s["method"] for s in summary["seed_table"]} >= {"correlated_topk", "topk_t_reinforce_plus"}
    with open(tmp_path / "runs.csv") as f:
        runs = list(csv.DictReader(f))
    # Training lowers the loss: the decoder alone learns the mean rating within the quick run.
    for r in runs:
        assert float(r["last_train_loss"]) < float(r["first_train_loss"]), r


def test_unknown_method_is_named_before_training(tmp_path):
    bad = run("--quick", "--only", "topk_magic", "--out", str(tmp_path))
    assert bad.returncode == 2 and "unknown method 'topk_magic'" in bad.stderr
