"""The sweep of the reliability issue: every family's verbs and every estimator that applies, at
extreme and degenerate input (logit scales 0 to 1e4, equal logits, -inf entries and whole -inf
rows, tau 1e-3 and 1e3, n from 1 to 200 (30 for the matrix families), batch 0, extra leading dimensions, non-contiguous
layouts, float32 and float64). Each call either returns outputs and gradients without NaN or
raises ValueError; nothing else (no other exception, no silent NaN)."""
import inspect
import itertools

import pytest
import torch

import structgrad
from structgrad import estimators

PARAMS = {"topk": {"k": 2}, "correlated_topk": {"k": 2}, "arborescence": {"root": 0}}
MATRIX = ("permutation", "matching", "spanning_tree", "arborescence")
VERBS = ("map", "sample", "relax", "marginals", "log_partition", "trace", "gibbs_sample", "entropy")
FAMILIES = [entry["name"] for entry in structgrad.families()]
SCALES = (0.0, 1e-8, 1.0, 50.0, 1e3, 1e4)


def theta_for(name, n, leading, scale=1.0, dtype=torch.float64, equal=False):
    if name == "correlated_topk":
        event = (2 * n - 1,)
    elif name in MATRIX:
        event = (n, n)
    else:
        event = (n,)
    g = torch.Generator().manual_seed(0)
    t = torch.ones(leading + event, dtype=torch.float64) if equal else torch.randn(leading + event, dtype=torch.float64,
                                                                                 generator=g)
    t = t * scale
    if name in ("matching", "spanning_tree"):
        t = (t + t.transpose(-1, -2)) / 2
    return t.to(dtype)


class Outcomes:
    """Counts each call's outcome; a call that neither succeeds cleanly nor raises ValueError is a
    problem, recorded with what was called."""

    def __init__(self):
        self.ok, self.refused, self.problems = 0, 0, []

    def run(self, what, call, theta):
        theta = theta.clone().requires_grad_(True)
        try:
            out = call(theta)
        except ValueError:
            self.refused += 1
            return
        except Exception as error:  # anything else is the defect this test looks for
            self.problems.append(f"{what}: {type(error).__name__}: {str(error).splitlines()[0][:150]}")
            return
        outs = [o for o in (out if isinstance(out, tuple) else (out,)) if o.is_floating_point()]
        if any(torch.isnan(o).any() for o in outs):
            self.problems.append(f"{what}: NaN in the output")
            return
        y = outs[0] if outs else None
        if y is not None and y.requires_grad:
            (y * torch.linspace(-1, 1, y.numel(), dtype=y.dtype).view(y.shape)).sum().backward()
            if theta.grad is not None and torch.isnan(theta.grad).any():
                self.problems.append(f"{what}: NaN in the gradient")
                return
        self.ok += 1


def verb_call(name, verb, tau=0.5):
    function = getattr(getattr(structgrad, name), verb)
    accepted = inspect.signature(function).parameters
    kwargs = {k: v for k, v in PARAMS.get(name, {}).items() if k in accepted}
    if "tau" in accepted:
        kwargs["tau"] = tau
    if "generator" in accepted:
        kwargs["generator"] = torch.Generator().manual_seed(1)
    return lambda theta: function(theta, **kwargs)


@pytest.mark.parametrize("name", FAMILIES)
def test_every_verb_at_extreme_and_degenerate_input(name):
    outcomes = Outcomes()
    module = getattr(structgrad, name)
    for verb in (v for v in VERBS if v in module.__all__):
        for scale, dtype, equal in itertools.product(SCALES, (torch.float32, torch.float64), (False, True)):
            outcomes.run(f"{name}.{verb} scale {scale} {dtype} equal={equal}", verb_call(name, verb),
                         theta_for(name, 5, (3,), scale, dtype, equal))
        for tau in (1e-3, 1e3):
            outcomes.run(f"{name}.{verb} tau {tau}", verb_call(name, verb, tau), theta_for(name, 5, (2,)))
        for n in (1, 2, 30) + (() if name in MATRIX else (200,)):
            outcomes.run(f"{name}.{verb} n={n}", verb_call(name, verb), theta_for(name, n, (2,), dtype=torch.float32))
        leading = theta_for(name, 5, (2, 3))
        outcomes.run(f"{name}.{verb} leading (2, 3)", verb_call(name, verb), leading)
        outcomes.run(f"{name}.{verb} non-contiguous", verb_call(name, verb), leading.transpose(0, 1))
        outcomes.run(f"{name}.{verb} batch 0", verb_call(name, verb), theta_for(name, 5, (0,)))
        entry = theta_for(name, 5, (2,))
        entry.view(2, -1)[:, 1] = float("-inf")
        if name in ("matching", "spanning_tree"):
            entry = torch.minimum(entry, entry.transpose(-1, -2))
        outcomes.run(f"{name}.{verb} -inf entry", verb_call(name, verb), entry)
        row = theta_for(name, 5, (2,))
        row[0] = float("-inf")
        outcomes.run(f"{name}.{verb} -inf instance", verb_call(name, verb), row)
    assert not outcomes.problems, "\n".join(outcomes.problems)
    assert outcomes.ok >= 20, (name, outcomes.ok, outcomes.refused)


ESTIMATORS = [e["name"] for e in estimators.available() if not e["name"].startswith("exact")]


@pytest.mark.parametrize("name", FAMILIES)
def test_every_estimator_at_extreme_logits(name):
    outcomes = Outcomes()
    module = getattr(structgrad, name)

    def f(x):  # (S, batch, *structure) -> (S, batch)
        return (x - 0.3).pow(2).flatten(start_dim=2).sum(-1)

    applied = 0
    for estimator in ESTIMATORS:
        function = getattr(estimators, estimator)
        try:
            function(module, theta_for(name, 4, (2,)).requires_grad_(True), f, **PARAMS.get(name, {}))
        except (ValueError, TypeError, NotImplementedError):
            continue  # does not apply to this family
        applied += 1
        for scale, dtype in itertools.product(SCALES, (torch.float32, torch.float64)):
            def call(theta, function=function):
                surrogate, loss = function(module, theta, f, generator=torch.Generator().manual_seed(2),
                                           **PARAMS.get(name, {}))
                return surrogate, loss
            outcomes.run(f"{estimator} on {name} scale {scale} {dtype}", call, theta_for(name, 4, (2,), scale, dtype))
    assert not outcomes.problems, "\n".join(outcomes.problems)
    assert applied >= 2 and outcomes.ok >= 2 * len(SCALES), (name, applied, outcomes.ok, outcomes.refused)
