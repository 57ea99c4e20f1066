import csv
import json
import math
import subprocess

from conftest import cli_path


def run(*args):
    return subprocess.run([cli_path(), "--threads", "2", "parentheses", *args], capture_output=True, text=True)


def test_quick_run_trains_every_order_and_writes_the_figure(tmp_path):
    done = run("--quick", "--quiet", "--out", str(tmp_path))
    assert done.returncode == 0, done.stderr
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["experiment"] == "parentheses"
    assert {(row["method"], row["setting"]["types"]) for row in summary["rows"]} == {
        (method, types) for method in ("left_to_right", "smart", "ss_relax") for types in (10, 20)}
    for row in summary["rows"]:
        old, new_correct = row["metrics"]["old"], row["metrics"]["new_correct"]
        assert math.isfinite(old) and math.isfinite(new_correct) and 0 <= old and 0 <= new_correct
        assert old + new_correct <= 100 + 1e-9
    with open(tmp_path / "runs.csv") as f:
        runs = list(csv.DictReader(f))
    for r in runs:
        # Training lowers the negative log-likelihood (ELBO for ss_relax) within the quick run.
        assert float(r["last_train_loss"]) < float(r["first_train_loss"]), r
        assert int(r["distinct"]) >= 1
    with open(tmp_path / "figure.csv") as f:
        assert len(list(csv.DictReader(f))) == 2 * 3 * 2


def test_unknown_method_is_named_before_training(tmp_path):
    bad = run("--quick", "--only", "right_to_left", "--out", str(tmp_path))
    assert bad.returncode == 2 and "unknown method 'right_to_left'" in bad.stderr
