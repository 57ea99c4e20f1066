import pytest
import torch

from structgrad import arborescence, estimators, spanning_tree


def gen(seed):
    return torch.Generator().manual_seed(seed)


def symmetric(batch, n, seed, scale=1.0):
    t = torch.randn(batch, n, n, dtype=torch.float64, generator=gen(seed)) * scale
    return (t + t.transpose(-1, -2)) / 2


def slogdet_log_partition(theta):
    """The textbook matrix-tree theorem (LU), fine at moderate logits: the reference here."""
    w = torch.exp(theta) * (1 - torch.eye(theta.shape[-1], dtype=theta.dtype))
    laplacian = torch.diag_embed(w.sum(-1)) - w
    return torch.linalg.slogdet(laplacian[..., 1:, 1:]).logabsdet


@pytest.mark.parametrize("scale", [1.0, 50.0])
def test_spanning_tree_matches_enumeration(scale):
    theta = symmetric(3, 5, 0, scale)
    all_x = spanning_tree.enumerate(5)
    scores = (all_x.unsqueeze(1) * theta).sum((-1, -2)) / 2
    torch.testing.assert_close(spanning_tree.log_partition(theta), torch.logsumexp(scores, 0), rtol=1e-9, atol=0)
    expected = (torch.softmax(scores, 0)[..., None, None] * all_x.unsqueeze(1)).sum(0)
    torch.testing.assert_close(spanning_tree.marginals(theta), expected, rtol=0, atol=1e-9)


def test_spanning_tree_agrees_with_slogdet_where_that_is_accurate():
    theta = symmetric(4, 8, 1)
    torch.testing.assert_close(spanning_tree.log_partition(theta), slogdet_log_partition(theta))


def test_spanning_tree_gradients():
    theta = symmetric(2, 4, 2).requires_grad_(True)
    assert torch.autograd.gradcheck(lambda t: spanning_tree.relax((t + t.transpose(-1, -2)) / 2, 0.7,
                                                                  generator=gen(3)), (theta,))
    # marginals are the gradient of log Z (each undirected edge's share split over its two entries)
    (grad,) = torch.autograd.grad(spanning_tree.log_partition(theta).sum(), theta)
    torch.testing.assert_close(2 * grad, spanning_tree.marginals(theta.detach()))


def test_arborescence_matches_enumeration_and_gradcheck():
    theta = torch.randn(3, 5, 5, dtype=torch.float64, generator=gen(4)) * 30
    all_x = arborescence.enumerate(5, root=2)
    scores = (all_x.unsqueeze(1) * theta).sum((-1, -2))
    torch.testing.assert_close(arborescence.log_partition(theta, root=2), torch.logsumexp(scores, 0))
    small = torch.randn(2, 4, 4, dtype=torch.float64, generator=gen(5), requires_grad=True)
    assert torch.autograd.gradcheck(lambda t: arborescence.relax(t, 0.5, root=1, generator=gen(6)), (small,))


def test_samples_are_valid_structures():
    x = spanning_tree.sample(symmetric(16, 7, 7), generator=gen(8))
    assert torch.equal(x, x.transpose(-1, -2)) and torch.all(x.sum((-1, -2)) == 12)
    a = arborescence.sample(torch.randn(16, 7, 7, generator=gen(9)), root=3, generator=gen(10))
    in_degree = a.sum(-2)
    assert torch.all(in_degree[:, 3] == 0) and torch.all(in_degree.sum(-1) == 6)


def test_estimators_with_root_keyword():
    theta = torch.randn(3, 5, 5, dtype=torch.float64, generator=gen(11), requires_grad=True)
    surrogate, loss = estimators.relaxed(arborescence, theta, lambda x: x[..., 0, :].sum(-1), tau=0.5, root=0,
                                         generator=gen(12))
    surrogate.backward()
    assert torch.isfinite(theta.grad).all() and loss.shape == (3,)


def relax_of(family, theta, hard, seed):
    if family is spanning_tree:
        return spanning_tree.relax(theta, 0.6, hard=hard, generator=gen(seed))
    return arborescence.relax(theta, 0.6, root=2, hard=hard, generator=gen(seed))


def sample_of(family, theta, seed):
    if family is spanning_tree:
        return spanning_tree.sample(theta, generator=gen(seed))
    return arborescence.sample(theta, root=2, generator=gen(seed))


@pytest.mark.parametrize("family", [spanning_tree, arborescence])
def test_relax_hard_is_the_sample_forward_and_the_relaxed_gradient(family):
    theta = symmetric(4, 6, 14) if family is spanning_tree else torch.randn(4, 6, 6, dtype=torch.float64,
                                                                               generator=gen(14))
    theta.requires_grad_(True)
    w = torch.randn(4, 6, 6, dtype=torch.float64, generator=gen(15))
    hard = relax_of(family, theta, True, 16)
    assert torch.equal(hard.detach(), sample_of(family, theta.detach(), 16))
    (hard_grad,) = torch.autograd.grad((hard * w).sum(), theta)
    (soft_grad,) = torch.autograd.grad((relax_of(family, theta, False, 16) * w).sum(), theta)
    assert soft_grad.abs().sum() > 0
    torch.testing.assert_close(hard_grad, soft_grad, rtol=0, atol=1e-12)


def test_arborescence_straight_through_is_the_sample_forward_and_the_marginals_gradient():
    theta = torch.randn(3, 5, 5, dtype=torch.float64, generator=gen(17), requires_grad=True)
    target = torch.randn(3, 5, 5, dtype=torch.float64, generator=gen(18))
    seen = []

    def f(x):
        seen.append(x.detach())
        return (x - target).pow(2).sum((-1, -2))

    surrogate, _ = estimators.straight_through(arborescence, theta, f, root=2, generator=gen(19))
    surrogate.backward()
    hard = arborescence.sample(theta.detach(), root=2, generator=gen(19))
    assert torch.equal(seen[0][0], hard)
    # d f / d x at the sample, carried back through the marginals
    (expected,) = torch.autograd.grad((arborescence.marginals(theta, root=2) * 2 * (hard - target)).sum(), theta)
    torch.testing.assert_close(theta.grad, expected, rtol=0, atol=1e-12)


@pytest.mark.parametrize("family", [spanning_tree, arborescence])
@pytest.mark.parametrize("verb", ["map", "sample", "relax", "log_partition", "marginals"])
def test_nan_is_refused_by_every_verb(family, verb):
    theta = symmetric(2, 4, 20)
    theta[1, 0, 2] = theta[1, 2, 0] = float("nan")
    call = {"map": lambda: family.map(theta), "sample": lambda: family.sample(theta, generator=gen(21)),
            "relax": lambda: family.relax(theta, 0.5, generator=gen(21)),
            "log_partition": lambda: family.log_partition(theta), "marginals": lambda: family.marginals(theta)}[verb]
    with pytest.raises(ValueError, match="theta contains NaN"):
        call()


def test_bad_input():
    with pytest.raises(ValueError, match="symmetric"):
        spanning_tree.sample(torch.randn(2, 4, 4, generator=gen(13)))
    with pytest.raises(ValueError, match="square"):
        arborescence.map(torch.zeros(2, 3, 4))
    split = torch.full((1, 4, 4), float("-inf"))
    split[0, 0, 1] = split[0, 1, 0] = split[0, 2, 3] = split[0, 3, 2] = 0
    with pytest.raises(ValueError, match="disconnected"):
        spanning_tree.map(split)
    with pytest.raises(ValueError, match="root"):
        arborescence.sample(torch.zeros(2, 4, 4), root=7)


@pytest.mark.parametrize("family", [spanning_tree, arborescence])
def test_cli_samples_match_python_for_the_same_seed(family):
    import json
    import subprocess

    from conftest import cli_path

    out = subprocess.run([cli_path(), "sample", "--family", family.name, "--n", "5", "--batch", "3", "--seed", "21"],
                         check=True, capture_output=True, text=True).stdout
    result = json.loads(out)
    g = gen(21)
    theta = torch.randn(3, 5, 5, dtype=torch.float64, generator=g)
    if family is spanning_tree:
        theta = (theta + theta.transpose(-1, -2)) / 2
    x = family.sample(theta, generator=g)
    assert result["sample"]["shape"] == [3, 5, 5]
    assert torch.equal(torch.tensor(result["sample"]["values"], dtype=torch.float64).view(3, 5, 5), x)


@pytest.mark.parametrize("family", [spanning_tree, arborescence])
def test_perturbations_from_python(family):
    """The perturbation argument of sample and relax (seed 000's arborescence table); the laws
    themselves are tested by chi-square in structures/perturbation_test.cpp."""
    g = torch.Generator().manual_seed(3)
    theta = torch.randn(64, 5, 5, dtype=torch.float64, generator=g)
    theta = (theta + theta.transpose(-1, -2)) / 2
    for perturbation in ("gumbel", "gaussian", "negative_exponential"):
        x = family.sample(theta, generator=torch.Generator().manual_seed(4), perturbation=perturbation)
        assert bool(torch.isfinite(family.gibbs_log_prob(theta, x)).all()), perturbation  # x is a structure
        t = theta.clone().requires_grad_(True)
        y = family.relax(t, 0.5, hard=True, generator=torch.Generator().manual_seed(4), perturbation=perturbation)
        assert torch.equal(y.detach(), x), perturbation
        (y * torch.randn_like(y)).sum().backward()
        assert torch.isfinite(t.grad).all(), perturbation
    with pytest.raises(ValueError, match='perturbation must be "gumbel", "gaussian" or "negative_exponential"'):
        family.sample(theta, perturbation="logistic")
    with pytest.raises(ValueError, match="within \\+-700"):
        family.relax(theta * 1e3, 1.0, perturbation="negative_exponential")
