"""Determinism (the reliability issue): one seed gives bit-identical samples and gradients at 1 and
2 torch threads, for every sampler of every family and every estimator that applies to it; calls
from several Python threads at once give the serial results."""
import concurrent.futures
import inspect

import pytest
import torch

import structgrad
from structgrad import estimators

PARAMS = {"topk": {"k": 3}, "correlated_topk": {"k": 3}, "arborescence": {"root": 1}}
SAMPLERS = ("sample", "relax", "trace", "gibbs_sample")
N, BATCH = 6, 48  # a batch that at::parallel_for splits between two threads


def gen(seed):
    return torch.Generator().manual_seed(seed)


def theta_for(name, seed, batch=BATCH):
    g = gen(seed)
    if name == "correlated_topk":
        return torch.randn(batch, 2 * N - 1, dtype=torch.float64, generator=g)
    if name in ("permutation", "matching", "spanning_tree", "arborescence"):
        m = torch.randn(batch, N, N, dtype=torch.float64, generator=g)
        return (m + m.transpose(-1, -2)) / 2 if name in ("matching", "spanning_tree") else m
    return torch.randn(batch, N, dtype=torch.float64, generator=g)


def at_threads(threads, fn):
    saved = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        return fn()
    finally:
        torch.set_num_threads(saved)


def call(function, theta, seed, params):
    """function(theta, **params, the sampler's own arguments) with a seeded generator."""
    accepted = inspect.signature(function).parameters
    kwargs = {name: value for name, value in params.items() if name in accepted}
    if "tau" in accepted:
        kwargs["tau"] = 0.5
    return function(theta, generator=gen(seed), **kwargs)


def outputs(value):
    return list(value) if isinstance(value, tuple) else [value]


def assert_identical(a, b, what):
    assert len(a) == len(b), what
    for x, y in zip(a, b):
        assert x.dtype == y.dtype and x.shape == y.shape, what
        assert torch.equal(x, y), what


FAMILIES = [entry["name"] for entry in structgrad.families()]


@pytest.mark.parametrize("name", FAMILIES)
def test_samplers_are_identical_at_one_and_two_threads(name):
    module = getattr(structgrad, name)
    checked = 0
    for verb in SAMPLERS:
        if verb not in module.__all__:
            continue
        function = getattr(module, verb)

        def run():
            theta = theta_for(name, 1).requires_grad_(True)
            out = [x.detach() for x in outputs(call(function, theta, 2, PARAMS.get(name, {})))]
            if verb == "relax":
                y = call(function, theta, 2, PARAMS.get(name, {}))
                (y * torch.linspace(-1, 1, y.numel(), dtype=y.dtype).view(y.shape)).sum().backward()
                out.append(theta.grad)
            return out

        assert_identical(at_threads(1, run), at_threads(2, run), f"{name}.{verb}")
        checked += 1
    assert checked >= 2, name


ESTIMATORS = [e["name"] for e in estimators.available() if not e["name"].startswith("exact")]


@pytest.mark.parametrize("name", FAMILIES)
def test_estimators_are_identical_at_one_and_two_threads(name):
    module = getattr(structgrad, name)
    applied = []
    for estimator in ESTIMATORS:
        function = getattr(estimators, estimator)

        def run():
            theta = theta_for(name, 5).requires_grad_(True)

            def f(x):  # x: (S, batch, *structure) -> (S, batch)
                return (x - 0.3).pow(2).flatten(start_dim=2).sum(-1)

            surrogate, loss = function(module, theta, f, generator=gen(6), **PARAMS.get(name, {}))
            surrogate.backward()
            return [loss.detach(), theta.grad]

        try:
            one = at_threads(1, run)
        except (ValueError, TypeError, NotImplementedError):
            continue  # the estimator does not apply to this family (its error says which do)
        assert_identical(one, at_threads(2, run), f"{estimator} on {name}")
        applied.append(estimator)
    assert len(applied) >= 2, (name, applied)


def test_concurrent_python_threads_give_the_serial_results():
    jobs = [(name, seed) for name in ("spanning_tree", "arborescence", "topk", "permutation") for seed in (7, 8)]

    def job(name, seed):
        module = getattr(structgrad, name)
        theta = theta_for(name, seed)
        out = outputs(call(module.sample, theta, seed, PARAMS.get(name, {})))
        if "marginals" in module.__all__:
            out.append(module.marginals(theta, **PARAMS.get(name, {})))
        return out

    serial = [job(*j) for j in jobs]
    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        threaded = list(pool.map(lambda j: job(*j), jobs))
    for j, a, b in zip(jobs, serial, threaded):
        assert_identical(a, b, f"{j}")
