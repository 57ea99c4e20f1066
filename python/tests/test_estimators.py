import subprocess

import pytest
import torch

import structgrad
from structgrad import categorical, estimators
from conftest import cli_path


def gen(seed):
    return torch.Generator().manual_seed(seed)


def quadratic(a, b):
    return lambda x: (x * a).sum(-1) + (x * b).sum(-1) ** 2


def test_exact_matches_autograd_of_the_expectation():
    theta = torch.randn(2, 5, dtype=torch.float64, generator=gen(0), requires_grad=True)
    costs = torch.randn(5, dtype=torch.float64, generator=gen(1))
    surrogate, loss = estimators.exact(categorical, theta, lambda x: (x * costs).sum(-1))
    surrogate.backward()
    reference = theta.detach().clone().requires_grad_(True)
    (torch.softmax(reference, -1) * costs).sum().backward()
    torch.testing.assert_close(theta.grad, reference.grad)
    torch.testing.assert_close(loss, (torch.softmax(theta.detach(), -1) * costs).sum(-1))


@pytest.mark.parametrize("name, params", [("exact", {}), ("reinforce", {"num_samples": 4})])
def test_unbiased_estimators_pass_the_check(name, params):
    theta = torch.randn(5, dtype=torch.float64, generator=gen(2))
    f = quadratic(torch.randn(5, dtype=torch.float64, generator=gen(3)),
                  torch.randn(5, dtype=torch.float64, generator=gen(4)))
    report = estimators.check(name, categorical, theta, f, draws=20000, seed=5, **params)
    assert report["passed"] and not report["bias_detected"], report["verdict"]


def test_relaxed_reports_its_bias():
    theta = torch.randn(5, dtype=torch.float64, generator=gen(2))
    f = quadratic(torch.randn(5, dtype=torch.float64, generator=gen(3)),
                  torch.randn(5, dtype=torch.float64, generator=gen(4)))
    report = estimators.check("relaxed", categorical, theta, f, draws=20000, seed=5, tau=0.5)
    assert report["bias_detected"] and report["passed"]
    assert report["relative_bias"] > 0.05


def test_surrogate_trains_f_parameters():
    decoder = torch.nn.Linear(4, 3).double()
    x_target = torch.randn(6, 3, dtype=torch.float64, generator=gen(6))
    theta = torch.randn(6, 4, dtype=torch.float64, generator=gen(7), requires_grad=True)

    def f(z):
        return ((decoder(z) - x_target) ** 2).sum(-1)

    for estimator in (lambda: estimators.relaxed(categorical, theta, f, tau=0.5, generator=gen(8)),
                      lambda: estimators.reinforce(categorical, theta, f, num_samples=3, generator=gen(8)),
                      lambda: estimators.straight_through(categorical, theta, f, generator=gen(8))):
        decoder.zero_grad()
        theta.grad = None
        surrogate, loss = estimator()
        surrogate.backward()
        assert loss.shape == (6,)
        assert decoder.weight.grad is not None and theta.grad is not None
        assert torch.isfinite(theta.grad).all()


def test_estimator_bad_input():
    theta = torch.zeros(2, 3)
    with pytest.raises(ValueError, match="num_samples must be at least 2"):
        estimators.reinforce(categorical, theta, lambda x: x.sum(-1), num_samples=1)
    with pytest.raises(ValueError, match="f must return losses of shape"):
        estimators.relaxed(categorical, theta, lambda x: x.sum())
    with pytest.raises(ValueError, match="unknown structure family"):
        estimators.exact("nope", theta, lambda x: x.sum(-1))


def test_cli_check_exit_codes():
    ok = subprocess.run([cli_path(), "check", "--estimator", "reinforce", "--n", "4", "--draws", "5000",
                         "--num-samples", "4"], capture_output=True, text=True)
    assert ok.returncode == 0 and "consistent with unbiased" in ok.stdout
    biased = subprocess.run([cli_path(), "check", "--estimator", "relaxed", "--tau", "0.5", "--n", "4",
                             "--draws", "5000"], capture_output=True, text=True)
    assert biased.returncode == 0 and "biased: relative bias" in biased.stdout
    bad = subprocess.run([cli_path(), "check", "--estimator", "nope"], capture_output=True, text=True)
    assert bad.returncode == 2 and "unknown estimator" in bad.stderr


def test_available_lists_every_estimator():
    names = {e["name"]: e["unbiased"] for e in estimators.available()}
    assert names == {"exact": True, "exact_traces": True, "exact_gibbs": True, "gibbs_reinforce": True,
                     "straight_through": False, "relaxed": False, "reinforce": True,
                     "e_reinforce": True, "e_reinforce_plus": True, "t_reinforce": True, "t_reinforce_plus": True,
                     "relax": True, "rebar": True, "gumbel_rao": False, "direct": False, "arm": True}


def test_import_has_the_public_names():
    for verb in ("map", "sample", "relax", "log_partition", "marginals", "enumerate", "trace",
                 "trace_log_prob", "conditional_gumbel"):
        assert callable(getattr(structgrad.categorical, verb))


def test_readme_python_example_runs():
    import os
    import re

    readme = open(os.path.join(os.path.dirname(__file__), "..", "..", "README.md")).read()
    example = re.search(r"```python\n(.*?)```", readme, re.S).group(1)
    exec(compile(example, "README.md", "exec"), {})


def test_estimator_signatures_and_docs_come_from_the_bindings():
    import inspect

    # The defaults are C++'s (estimators.h: kLeaveOneOutSamples, kConditionalDraws; RelaxOptions; DirectOptions).
    assert inspect.signature(estimators.reinforce).parameters["num_samples"].default == 8
    assert inspect.signature(estimators.t_reinforce_plus).parameters["num_samples"].default == 8
    assert inspect.signature(estimators.t_reinforce).parameters["num_samples"].default == 1
    assert inspect.signature(estimators.gumbel_rao).parameters["num_conditional"].default == 8
    relaxed = inspect.signature(estimators.relaxed).parameters
    assert relaxed["tau"].default == 1.0 and relaxed["hard"].default is False and relaxed["regularizer"].default == ""
    direct = inspect.signature(estimators.direct).parameters
    assert direct["eps"].default == 1.0 and direct["argmax"].default == "enumerate" and direct["step"].default == 0
    assert inspect.signature(estimators.direct_pairwise_binary).parameters["time_limit"].default == 60  # CBC, per instance
    assert inspect.signature(estimators.check).parameters["draws"].default == 20000
    # The family's parameters ride along as keywords.
    assert list(inspect.signature(estimators.reinforce).parameters)[-1] == "params"
    for name in ("exact", "relaxed", "reinforce", "t_reinforce_plus", "relax", "gumbel_rao", "direct", "arm", "check"):
        function = getattr(estimators, name)
        assert function.__doc__ and function.__name__ == name, name
    assert "leave-one-out" in estimators.reinforce.__doc__
    assert "EpsSchedule" in estimators.direct.__doc__


def test_estimators_take_the_family_positionally_or_by_keyword():
    theta = torch.randn(2, 5, dtype=torch.float64, generator=torch.Generator().manual_seed(0), requires_grad=True)
    f = lambda x: (x * torch.arange(5.0, dtype=torch.float64)).sum(-1)  # noqa: E731
    first, _ = estimators.reinforce(structgrad.topk, theta, f, 4, torch.Generator().manual_seed(1), k=2)
    second, _ = estimators.reinforce(family="topk", theta=theta, f=f, num_samples=4,
                                     generator=torch.Generator().manual_seed(1), k=2)
    third, _ = estimators.reinforce(structgrad.family("topk", k=2), theta, f, num_samples=4,
                                    generator=torch.Generator().manual_seed(1))
    assert first.item() == second.item() == third.item()
    schedule = estimators.EpsSchedule(start=-2.0, rate=0.0)
    surrogate, _ = estimators.direct("categorical", theta, lambda x: (x * theta.detach()).sum(-1), eps=schedule,
                                     step=5, generator=torch.Generator().manual_seed(2))
    assert torch.isfinite(surrogate)
