"""Regression tests for the defects a fuzzing pass of the public Python API found (issue 24, section 3):
each call here once answered a silent wrong number or a raw internal error."""
import pytest
import torch

import structgrad
from structgrad import estimators
from structgrad.distributions import IGRStickBreaking, monte_carlo_kl


def test_log_prob_of_a_point_outside_the_support_is_minus_infinity_or_an_error():
    assert structgrad.categorical.log_prob(torch.zeros(3), torch.zeros(3)).item() == float("-inf")
    assert structgrad.categorical.log_prob(torch.zeros(3), torch.ones(3)).item() == float("-inf")
    with pytest.raises(ValueError, match="0/1"):
        structgrad.bernoulli.log_prob(torch.randn(4), 2 * torch.ones(4))
    theta = torch.randn(5, dtype=torch.float64)
    with pytest.raises(ValueError, match="0/1"):
        structgrad.binary_tree.log_prob(theta, 2 * structgrad.binary_tree.map(theta))
    with pytest.raises(ValueError, match="0/1"):
        structgrad.ranking.log_prob(theta, torch.full((5, 5), 0.2, dtype=torch.float64))
    with pytest.raises(ValueError, match="0/1"):
        structgrad.topk.log_prob(theta, torch.tensor([0.5, 0.5, 1.0, 0.0, 0.0], dtype=torch.float64), 2)


def test_relaxed_refuses_a_family_without_a_relaxation_by_name():
    for name, theta in (("ranking", torch.randn(2, 4)), ("binary_tree", torch.randn(2, 4)),
                        ("matching", torch.randn(2, 4, 4))):
        with pytest.raises(ValueError, match=f"{name}.*no stochastic softmax trick"):
            estimators.relaxed(name, theta, lambda x: x.flatten(2).sum(-1))


def test_pairwise_binary_checks_h_and_names_a():
    h, a = torch.tensor([[float("nan"), 0.0]]), torch.zeros(1, 2, 2)
    with pytest.raises(ValueError, match="h contains NaN"):
        structgrad.pairwise_binary.score(h, a, torch.zeros(1, 2))
    asymmetric = torch.tensor([[[0.0, 1.0], [2.0, 0.0]]])
    with pytest.raises(ValueError, match="a must be symmetric"):
        structgrad.pairwise_binary.map(torch.zeros(1, 2), asymmetric)


def test_estimators_name_a_bad_loss_and_a_bad_family():
    with pytest.raises(TypeError, match="f must return a tensor"):
        estimators.reinforce("categorical", torch.zeros(2, 3), lambda x: None)
    with pytest.raises(TypeError, match="f must be callable"):
        estimators.reinforce("categorical", torch.zeros(2, 3), 3)
    with pytest.raises(TypeError, match="family must be"):
        estimators.reinforce(3, torch.zeros(2, 3), lambda x: x.sum(-1))


def test_float16_is_refused_everywhere_with_one_message():
    theta = torch.zeros(2, 3, dtype=torch.float16)
    for call in (lambda: structgrad.categorical.map(theta), lambda: structgrad.categorical.relax(theta, 1.0),
                 lambda: structgrad.topk.marginals(theta, 1), lambda: structgrad.spanning_tree.marginals(
                     torch.zeros(3, 3, dtype=torch.float16))):
        with pytest.raises(ValueError, match="must be float32 or float64, got Half"):
            call()


def test_hard_of_zero_categories_is_a_clear_error():
    with pytest.raises(ValueError, match="at least one category"):
        structgrad.distributions.hard(torch.zeros(3, 0))


def test_enumerations_too_large_are_refused_before_they_start():
    with pytest.raises(ValueError, match="above the cap of 1048576"):
        structgrad.topk.enumerate(40, 20)
    with pytest.raises(ValueError, match="above the cap"):
        structgrad.correlated_topk.enumerate(40, 20)
    with pytest.raises(ValueError, match="above the cap"):
        estimators.exact("topk", torch.zeros(1, 40), lambda x: x.sum(-1), k=20)
    assert structgrad.topk.enumerate(20, 10).shape == (184756, 20)


def test_projections_are_exact_at_logits_of_1e16():
    # Ties at 1e16 share their mass although 1/2 is below the logits' resolution (their ulp is 2).
    z = torch.tensor([[1e16, 1e16, 3e16, 0.0]], dtype=torch.float64, requires_grad=True)
    expected = torch.tensor([[0.5, 0.5, 1.0, 0.0]], dtype=torch.float64)
    for regularizer in ("euclidean", "categorical_entropy", "binary_entropy"):
        x = structgrad.topk.relax_perturbed(z, 2, 1.0, regularizer=regularizer)
        torch.testing.assert_close(x, expected, atol=1e-12, rtol=0, msg=regularizer)
        (x * torch.arange(4.0, dtype=torch.float64)).sum().backward()
        assert torch.isfinite(z.grad).all(), regularizer
        z.grad = None
    y = structgrad.categorical.relax_perturbed(torch.tensor([[1e16, 1e16, 0.0]], dtype=torch.float64), 1.0,
                                               regularizer="euclidean")
    torch.testing.assert_close(y, torch.tensor([[0.5, 0.5, 0.0]], dtype=torch.float64), atol=1e-12, rtol=0)


def test_topk_gibbs_law_is_exact_at_logits_of_1e16():
    theta = torch.tensor([[1e16, 3e16, 1e16, 0.0]], dtype=torch.float64, requires_grad=True)
    mu = structgrad.topk.marginals(theta, 2)
    torch.testing.assert_close(mu, torch.tensor([[0.5, 1.0, 0.5, 0.0]], dtype=torch.float64), atol=1e-12, rtol=0)
    (mu * torch.arange(4.0, dtype=torch.float64)).sum().backward()
    assert torch.isfinite(theta.grad).all()
    # The same law shifted to small logits: the decided items carry nothing of the covariance.
    small = torch.tensor([[0.0, 2e3, 0.0, -1e3]], dtype=torch.float64, requires_grad=True)
    (structgrad.topk.marginals(small, 2) * torch.arange(4.0, dtype=torch.float64)).sum().backward()
    torch.testing.assert_close(theta.grad, small.grad, atol=1e-12, rtol=0)
    assert structgrad.topk.log_partition(theta, 2).item() == pytest.approx(4e16)
    relaxed = structgrad.topk.relax_perturbed(theta.detach(), 2, 1.0, regularizer="exponential_family")
    torch.testing.assert_close(relaxed, mu.detach(), atol=1e-12, rtol=0)


def test_stick_breaking_log_prob_at_a_saturated_sigmoid_is_not_a_finite_wrong_value():
    """At y = 40 the sigmoid rounds to 1 in float64 and z no longer determines y: log_prob gave 88.8
    against the true value (the draw's own); now -inf there, and exact where y can be read back."""
    q = IGRStickBreaking(0.5, torch.zeros(4, dtype=torch.float64), torch.ones(4, dtype=torch.float64), rho=0.99)
    for y0, readable in ((10.0, True), (20.0, True), (40.0, False)):
        record = q.transform(torch.tensor([y0, 0.0, 0.0, 0.0], dtype=torch.float64))
        value = q.log_prob(record.z, record.num_categories)
        if readable:
            torch.testing.assert_close(value, record.log_prob, rtol=1e-9, atol=1e-6)
        else:
            assert value.item() == float("-inf"), value
    # The Monte Carlo KL of two IGR-SB scores p at q's latent draw, so it stays finite there.
    far = IGRStickBreaking(0.5, torch.full((4,), 60.0, dtype=torch.float64), torch.ones(4, dtype=torch.float64))
    near = IGRStickBreaking(0.5, torch.full((4,), 59.0, dtype=torch.float64), torch.ones(4, dtype=torch.float64))
    estimate, error = monte_carlo_kl(far, near, 2000, torch.Generator().manual_seed(0))
    assert torch.isfinite(estimate) and abs(estimate.item() - 0.5) < 4 * error.item() + 1e-9
