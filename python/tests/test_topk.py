import itertools

import pytest
import torch
from scipy import stats

from structgrad import estimators, topk


def gen(seed):
    return torch.Generator().manual_seed(seed)


def test_marginals_and_log_partition_match_enumeration_at_scale_50():
    theta = torch.randn(4, 7, dtype=torch.float64, generator=gen(0)) * 50
    all_x = topk.enumerate(7, 3)
    scores = theta @ all_x.T
    torch.testing.assert_close(topk.log_partition(theta, 3), torch.logsumexp(scores, -1), rtol=1e-9, atol=0)
    torch.testing.assert_close(topk.marginals(theta, 3), torch.softmax(scores, -1) @ all_x, rtol=0, atol=1e-9)


@pytest.mark.parametrize("regularizer", ["exponential_family", "euclidean", "categorical_entropy", "binary_entropy"])
def test_relax_gradcheck_float64(regularizer):
    theta = torch.randn(2, 6, dtype=torch.float64, generator=gen(1), requires_grad=True)
    assert torch.autograd.gradcheck(lambda t: topk.relax(t, 2, 0.6, regularizer, generator=gen(2)), (theta,))


def test_sample_matches_gumbel_topk_law_chi_square():
    theta = torch.tensor([0.8, -0.4, 0.1, 1.3, -1.0], dtype=torch.float64)
    all_x = topk.enumerate(5, 2)
    p = topk.log_prob(theta, all_x, 2).exp()
    x = topk.sample(theta.expand(40000, 5), 2, generator=gen(3))
    counts = torch.bincount((x @ all_x.T).argmax(-1), minlength=len(all_x))
    assert stats.chisquare(counts.numpy(), (p * 40000).numpy()).pvalue > 1e-3


def test_log_prob_matches_sequential_sampling_formula():
    theta = torch.randn(6, dtype=torch.float64, generator=gen(4))
    x = torch.zeros(6, dtype=torch.float64)
    x[[1, 4, 5]] = 1
    w = theta.exp()
    total = 0.0
    for order in itertools.permutations([1, 4, 5]):
        p, left = 1.0, w.sum()
        for i in order:
            p *= w[i] / left
            left -= w[i]
        total += p
    torch.testing.assert_close(topk.log_prob(theta, x, 3).exp(), total)


def test_estimators_take_k():
    theta = torch.randn(3, 6, dtype=torch.float64, generator=gen(5), requires_grad=True)
    surrogate, loss = estimators.reinforce(topk, theta, lambda x: x[..., 0] + x[..., 1], num_samples=4, k=2,
                                           generator=gen(6))
    surrogate.backward()
    assert theta.grad.shape == (3, 6) and loss.shape == (3,)
    report = estimators.check("reinforce", topk, torch.randn(5, dtype=torch.float64, generator=gen(7)),
                              lambda x: (x * torch.arange(5.0, dtype=torch.float64)).sum(-1) ** 2,
                              draws=10000, num_samples=4, k=2)
    assert report["passed"] and not report["bias_detected"], report["verdict"]
    with pytest.raises(ValueError, match="k must be given"):
        estimators.exact(topk, theta, lambda x: x.sum(-1))


@pytest.mark.parametrize("regularizer", ["exponential_family", "euclidean", "categorical_entropy", "binary_entropy"])
def test_relax_hard_is_the_sample_forward_and_the_relaxed_gradient(regularizer):
    theta = torch.randn(5, 6, dtype=torch.float64, generator=gen(8), requires_grad=True)
    w = torch.randn(5, 6, dtype=torch.float64, generator=gen(9))
    hard = topk.relax(theta, 3, 0.6, regularizer, hard=True, generator=gen(10))
    assert torch.equal(hard.detach(), topk.sample(theta.detach(), 3, generator=gen(10)))
    (hard_grad,) = torch.autograd.grad((hard * w).sum(), theta)
    soft = topk.relax(theta, 3, 0.6, regularizer, hard=False, generator=gen(10))
    (soft_grad,) = torch.autograd.grad((soft * w).sum(), theta)
    assert soft_grad.abs().sum() > 0
    torch.testing.assert_close(hard_grad, soft_grad, rtol=0, atol=1e-12)


def test_straight_through_is_the_sample_forward_and_the_marginals_gradient():
    theta = torch.randn(4, 6, dtype=torch.float64, generator=gen(11), requires_grad=True)
    target = torch.randn(4, 6, dtype=torch.float64, generator=gen(12))
    seen = []

    def f(x):
        seen.append(x.detach())
        return (x - target).pow(2).sum(-1)

    surrogate, _ = estimators.straight_through(topk, theta, f, k=2, generator=gen(13))
    surrogate.backward()
    hard = topk.sample(theta.detach(), 2, generator=gen(13))
    assert torch.equal(seen[0][0], hard)
    # d f / d x at the sample, carried back through the marginals
    (expected,) = torch.autograd.grad((topk.marginals(theta, 2) * 2 * (hard - target)).sum(), theta)
    torch.testing.assert_close(theta.grad, expected, rtol=0, atol=1e-12)


def test_bad_input():
    with pytest.raises(ValueError, match="k must be in"):
        topk.sample(torch.zeros(2, 4), 5)
    with pytest.raises(ValueError, match="tau must be positive"):
        topk.relax(torch.zeros(2, 4), 2, 0.0)


def _gradient(relax, theta, g, backward):
    t = theta.clone().requires_grad_(True)
    x = relax(t, backward)
    (x * g).sum().backward()
    return x.detach(), t.grad


@pytest.mark.parametrize("regularizer", ["categorical_entropy", "binary_entropy"])
def test_relax_unroll_agrees_with_the_default_backward(regularizer):
    theta = torch.randn(5, 8, dtype=torch.float64, generator=gen(8))
    g = torch.randn(5, 8, dtype=torch.float64, generator=gen(9))

    def relax(t, backward):
        if backward is None:
            return topk.relax(t, 3, 0.5, regularizer, generator=gen(10))
        return topk.relax(t, 3, 0.5, regularizer, generator=gen(10), backward=backward)

    x_default, default = _gradient(relax, theta, g, None)
    x_unroll, unroll = _gradient(relax, theta, g, "unroll")
    _, finite_difference = _gradient(relax, theta, g, "finite_difference")
    torch.testing.assert_close(x_unroll, x_default, rtol=0, atol=1e-12)
    torch.testing.assert_close(unroll, default, rtol=0, atol=1e-12 * default.abs().max().item())
    torch.testing.assert_close(finite_difference, unroll, rtol=0, atol=1e-6 * unroll.abs().max().item())
    t = theta[:2].clone().requires_grad_(True)
    assert torch.autograd.gradcheck(lambda t: topk.relax(t, 2, 0.6, regularizer, generator=gen(11),
                                                         backward="unroll"), (t,))


@pytest.mark.parametrize("regularizer", ["exponential_family", "euclidean"])
def test_relax_unroll_is_refused_without_a_smooth_threshold(regularizer):
    with pytest.raises(ValueError, match='topk.relax: backward must be "custom" or "finite_difference" for regularizer'):
        topk.relax(torch.zeros(2, 4), 2, 1.0, regularizer, backward="unroll")


def test_euclidean_is_the_sort_based_projection_at_any_temperature():
    # Dyadic scores whose projection is dyadic come out exactly, also far from the origin and at
    # a temperature that only rescales them (1 / 2^20).
    z = torch.tensor([[3, 2.25, 1.5, 0]], dtype=torch.float64)
    expected = torch.tensor([[1, 0.875, 0.125, 0]], dtype=torch.float64)
    for shift, tau in [(0.0, 1.0), (1e9, 1.0), (0.0, 2.0 ** -20)]:
        assert torch.equal(topk.relax_perturbed((z + shift) * tau, 2, tau, "euclidean"), expected)
    with pytest.raises(ValueError, match="topk.relax_perturbed: tau must be positive"):
        topk.relax_perturbed(z, 2, 0.0, "euclidean")
