import json
import subprocess

import numpy as np
import pytest
import torch
from scipy import stats

import structgrad
from structgrad import categorical
from conftest import cli_path


def gen(seed):
    return torch.Generator().manual_seed(seed)


def sparsemax_reference(z):
    """Sparsemax by sorting, in numpy (Martins & Astudillo, Alg. 1)."""
    z = np.asarray(z, dtype=np.float64)
    s = np.sort(z)[::-1]
    cumsum = np.cumsum(s)
    k = np.arange(1, len(z) + 1)
    support = k[1 + k * s > cumsum][-1]
    return np.maximum(z - (cumsum[support - 1] - 1) / support, 0)


def test_sample_frequencies_match_marginals_chi_square():
    theta = torch.tensor([0.5, -1.0, 1.2, 0.0, -0.3], dtype=torch.float64)
    x = categorical.sample(theta.expand(40000, 5), generator=gen(0))
    counts = x.sum(0).numpy()
    expected = categorical.marginals(theta).numpy() * 40000
    assert stats.chisquare(counts, expected).pvalue > 1e-3


@pytest.mark.parametrize("regularizer", ["entropy", "euclidean"])
@pytest.mark.parametrize("tau", [0.3, 1.0, 3.0])
def test_relax_gradcheck_float64(regularizer, tau):
    theta = torch.randn(3, 5, dtype=torch.float64, generator=gen(1), requires_grad=True)
    fn = lambda t: categorical.relax(t, tau, regularizer=regularizer, generator=gen(2))  # noqa: E731
    assert torch.autograd.gradcheck(fn, (theta,))


def test_hard_relax_is_the_sample_forward():
    theta = torch.randn(64, 6, dtype=torch.float64, generator=gen(3))
    hard = categorical.relax(theta, 0.5, hard=True, generator=gen(4))
    assert torch.equal(hard, categorical.sample(theta, generator=gen(4)))


def test_euclidean_relaxation_is_sparsemax():
    theta = torch.randn(10, 7, dtype=torch.float64, generator=gen(5))
    noise_free = categorical.relax(theta, 0.5, regularizer="euclidean", generator=gen(6))
    perturbed = theta - torch.log(-torch.log1p(-torch.rand(10, 7, dtype=torch.float64, generator=gen(6))))
    for row, p in zip(perturbed / 0.5, noise_free):
        np.testing.assert_allclose(p.numpy(), sparsemax_reference(row.numpy()), atol=1e-12)


def test_trace_and_trace_log_prob():
    theta = torch.randn(5, 4, dtype=torch.float64, generator=gen(7))
    t = categorical.trace(theta, generator=gen(8))
    assert torch.equal(t.structure, categorical.sample(theta, generator=gen(8)))
    assert t.trace.shape == (5, 1) and torch.equal(t.lengths, torch.ones(5, dtype=torch.long))
    total = sum(categorical.trace_log_prob(theta, torch.full((5, 1), i)).exp() for i in range(4))
    torch.testing.assert_close(total, torch.ones(5, dtype=torch.float64))


def test_conditional_gumbel_keeps_the_argmax():
    theta = torch.randn(100, 6, dtype=torch.float64, generator=gen(9))
    t = categorical.trace(theta, generator=gen(10))
    g = categorical.conditional_gumbel(theta, t.trace, generator=gen(11))
    assert torch.equal(g.argmax(-1, keepdim=True), t.trace)


def test_log_partition_and_marginals_match_enumeration():
    theta = torch.randn(3, 5, dtype=torch.float64, generator=gen(12)) * 50
    all_x = categorical.enumerate(5)
    scores = theta @ all_x.T
    torch.testing.assert_close(categorical.log_partition(theta), torch.logsumexp(scores, -1))
    torch.testing.assert_close(categorical.marginals(theta), torch.softmax(scores, -1) @ all_x)


def test_same_numbers_as_the_cli_for_the_same_seed():
    out = subprocess.run([cli_path(), "sample", "--family", "categorical", "--n", "6", "--batch", "4",
                          "--seed", "17"], check=True, capture_output=True, text=True).stdout
    result = json.loads(out)
    g = gen(17)
    theta = torch.randn(4, 6, dtype=torch.float64, generator=g)
    x = categorical.sample(theta, generator=g)
    np.testing.assert_array_equal(np.array(result["theta"]["values"]).reshape(4, 6), theta.numpy())
    np.testing.assert_array_equal(np.array(result["sample"]["values"]).reshape(4, 6), x.numpy())


@pytest.mark.parametrize("call, message", [
    (lambda: categorical.relax(torch.zeros(2, 3), 0.0), "tau must be positive"),
    (lambda: categorical.relax(torch.zeros(2, 3), 1.0, regularizer="l1"), "regularizer"),
    (lambda: categorical.sample(torch.full((2, 3), float("nan"))), "theta contains NaN"),
    (lambda: categorical.sample(torch.full((2, 3), float("inf"))), "theta must be finite"),
    (lambda: categorical.map(torch.zeros(2, 0)), "must not be empty"),
    (lambda: categorical.trace_log_prob(torch.zeros(2, 3), torch.full((2, 1), 5)), "outside"),
])
def test_bad_input_raises_value_error(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_python_exceptions_from_f_propagate():
    def f(x):
        raise KeyError("from f")

    with pytest.raises(KeyError):
        structgrad.estimators.relaxed(categorical, torch.zeros(2, 3), f)
