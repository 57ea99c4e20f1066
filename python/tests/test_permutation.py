import numpy as np
import pytest
import torch
from scipy import optimize, stats

from structgrad import estimators, permutation


def gen(seed):
    return torch.Generator().manual_seed(seed)


def gumbel(shape, seed):
    # The library's noise stream: float64 uniforms u, E = -log(1 - u), G = -log E.
    u = torch.empty(shape, dtype=torch.float64).uniform_(0, 1, generator=gen(seed))
    return -torch.log((-torch.log1p(-u)).clamp_min(torch.finfo(torch.float64).tiny))


def scores_of_all(theta, all_x):
    return theta.flatten(-2) @ all_x.flatten(-2).T


def test_map_is_an_argmax_by_enumeration_and_agrees_with_scipy():
    all_x = permutation.enumerate(5)
    theta = torch.randn(50, 5, 5, dtype=torch.float64, generator=gen(0)) + gumbel((50, 5, 5), 1)
    best = scores_of_all(theta, all_x).max(-1).values
    torch.testing.assert_close((permutation.map(theta) * theta).sum((-2, -1)), best, rtol=0, atol=1e-12)
    big = torch.randn(8, 40, 40, dtype=torch.float64, generator=gen(2))
    x = permutation.map(big)
    for b in range(8):
        rows, cols = optimize.linear_sum_assignment(big[b].numpy(), maximize=True)
        assert (x[b] * big[b]).sum().item() == pytest.approx(big[b].numpy()[rows, cols].sum(), abs=1e-9)


def test_map_agrees_with_scipy_on_ties_and_forbidden_pairs_at_larger_n():
    # Sizes on and off the solver's vector width; integer scores tie everywhere, and -inf
    # pairs switch off the augmenting row reduction.
    g = gen(7)
    for n in (13, 32, 50):
        ties = torch.randint(-2, 3, (4, n, n), generator=g).double()
        forbidden = torch.randn(4, n, n, dtype=torch.float64, generator=g)
        forbidden[torch.rand(4, n, n, generator=g) < 0.3] = -float("inf")
        for theta in (ties, forbidden):
            x = permutation.map(theta)
            assert torch.equal(x.sum(-1), torch.ones(4, n, dtype=torch.float64))
            assert torch.equal(x.sum(-2), torch.ones(4, n, dtype=torch.float64))
            for b in range(4):
                rows, cols = optimize.linear_sum_assignment(theta[b].numpy(), maximize=True)
                assert (x[b] * theta[b]).nan_to_num(0.0).sum().item() == pytest.approx(
                    theta[b].numpy()[rows, cols].sum(), abs=1e-9)


def test_sample_is_the_map_of_the_same_noise():
    theta = torch.randn(200, 4, 4, dtype=torch.float64, generator=gen(3))
    x = permutation.sample(theta, generator=gen(4))
    all_x = permutation.enumerate(4)
    expected = all_x[scores_of_all(theta + gumbel(theta.shape, 4), all_x).argmax(-1)]
    assert torch.equal(x, expected)


def test_sample_frequencies_match_brute_force_perturb_and_map():
    draws, all_x = 30000, permutation.enumerate(3)
    theta = torch.tensor([[0.5, -0.3, 0.0], [1.0, 0.2, -1.0], [-0.4, 0.8, 0.3]], dtype=torch.float64)
    many = theta.expand(draws, 3, 3)
    ours = torch.bincount(scores_of_all(permutation.sample(many, generator=gen(5)), all_x).argmax(-1), minlength=6)
    reference = torch.bincount(scores_of_all(many + gumbel(many.shape, 6), all_x).argmax(-1), minlength=6)
    assert stats.chi2_contingency(np.stack([ours.numpy(), reference.numpy()]))[1] > 1e-3
    shifted = (theta + 0.15 * torch.eye(3, dtype=torch.float64)).expand(draws, 3, 3)
    other = torch.bincount(scores_of_all(permutation.sample(shifted, generator=gen(7)), all_x).argmax(-1), minlength=6)
    assert stats.chi2_contingency(np.stack([other.numpy(), reference.numpy()]))[1] < 1e-3


@pytest.mark.parametrize("iterations,tolerance,backward,atol", [
    (200, 0.0, "implicit", 1e-5), (10000, 1e-10, "implicit", 1e-4), (20, 0.0, "unroll", 1e-5)])
def test_relax_gradcheck_float64(iterations, tolerance, backward, atol):
    theta = torch.randn(2, 4, 4, dtype=torch.float64, generator=gen(8), requires_grad=True)
    fn = lambda t: permutation.relax(t, 0.8, iterations, tolerance, backward, generator=gen(9))  # noqa: E731
    assert torch.autograd.gradcheck(fn, (theta,), atol=atol)


def test_relax_is_doubly_stochastic_and_hard_is_the_sample():
    theta = torch.randn(3, 6, 6, dtype=torch.float64, generator=gen(10), requires_grad=True)
    soft = permutation.relax(theta, 0.5, iterations=300, generator=gen(11))
    torch.testing.assert_close(soft.sum(-1), torch.ones(3, 6, dtype=torch.float64))
    torch.testing.assert_close(soft.sum(-2), torch.ones(3, 6, dtype=torch.float64))
    hard = permutation.relax(theta, 0.5, hard=True, generator=gen(11))
    assert torch.equal(hard.detach(), permutation.sample(theta.detach(), generator=gen(11)))
    hard.pow(2).sum().backward()
    assert torch.isfinite(theta.grad).all()


def test_sinkhorn_implicit_and_unrolled_gradients_agree_when_converged():
    z = torch.randn(2, 5, 5, dtype=torch.float64, generator=gen(12), requires_grad=True)
    w = torch.randn(2, 5, 5, dtype=torch.float64, generator=gen(13))
    implicit, = torch.autograd.grad((permutation.sinkhorn(z, 300) * w).sum(), z)
    unrolled, = torch.autograd.grad((permutation.sinkhorn(z, 300, backward="unroll") * w).sum(), z)
    torch.testing.assert_close(implicit, unrolled, rtol=0, atol=1e-9)


def test_estimators_straight_through_and_relaxed_run_exact_refuses():
    theta = torch.randn(2, 4, 4, dtype=torch.float64, generator=gen(14), requires_grad=True)
    target = permutation.enumerate(4)[7]

    def f(x):
        return (x - target).pow(2).sum((-2, -1))

    for estimate in (lambda: estimators.straight_through(permutation, theta, f, generator=gen(15)),
                     lambda: estimators.relaxed(permutation, theta, f, tau=0.5, hard=True, generator=gen(15))):
        surrogate, loss = estimate()
        surrogate.backward()
        assert loss.shape == (2,) and torch.isfinite(theta.grad).all() and theta.grad.abs().sum() > 0
        theta.grad = None
    with pytest.raises(ValueError, match="no closed-form probability of its samples"):
        estimators.exact(permutation, theta, f)
    with pytest.raises(ValueError, match="log-probability"):
        estimators.reinforce(permutation, theta, f)


def test_bad_input():
    with pytest.raises(ValueError, match="theta must be square"):
        permutation.map(torch.zeros(2, 3, 4))
    with pytest.raises(ValueError, match="theta contains NaN"):
        permutation.sample(torch.full((3, 3), float("nan")))
    with pytest.raises(ValueError, match="tau must be positive"):
        permutation.relax(torch.zeros(3, 3), 0.0)
    with pytest.raises(ValueError, match="no perfect matching"):
        permutation.map(torch.tensor([[0.0, float("-inf")], [0.0, float("-inf")]]))
    with pytest.raises(ValueError, match="backward must be"):
        permutation.relax(torch.zeros(3, 3), 1.0, backward="finite")
