"""The finite-difference backward of every family's relax against its hand-written backward."""
import pytest
import torch

from structgrad import arborescence, categorical, estimators, permutation, spanning_tree, topk


def gen(seed):
    return torch.Generator().manual_seed(seed)


def vector(seed):
    return torch.randn(4, 6, dtype=torch.float64, generator=gen(seed))


def matrix(seed, symmetric=False):
    t = torch.randn(4, 5, 5, dtype=torch.float64, generator=gen(seed))
    return (t + t.transpose(-1, -2)) / 2 if symmetric else t


# (name, theta, relax(theta, backward)): the noise is fixed by the generator's seed.
CASES = [
    ("categorical entropy", vector(1), lambda t, b: categorical.relax(t, 2.0, "entropy", generator=gen(9), backward=b)),
    ("categorical euclidean", vector(2),
     lambda t, b: categorical.relax(t, 2.0, "euclidean", generator=gen(9), backward=b)),
    *[(f"topk {r}", vector(3), lambda t, b, r=r: topk.relax(t, 3, 2.0, r, generator=gen(9), backward=b))
      for r in ["exponential_family", "euclidean", "categorical_entropy", "binary_entropy"]],
    ("spanning_tree", matrix(4, True), lambda t, b: spanning_tree.relax(t, 2.0, generator=gen(9), backward=b)),
    ("arborescence", matrix(5), lambda t, b: arborescence.relax(t, 2.0, root=2, generator=gen(9), backward=b)),
    ("arborescence hard", matrix(6),
     lambda t, b: arborescence.relax(t, 2.0, hard=True, generator=gen(9), backward=b)),
]


def gradient(relax, theta, g, backward):
    x = theta.clone().requires_grad_(True)
    (relax(x, backward) * g).sum().backward()
    return x.grad


@pytest.mark.parametrize("name,theta,relax", CASES, ids=[c[0] for c in CASES])
def test_finite_difference_agrees_with_custom(name, theta, relax):
    g = torch.randn(theta.shape, dtype=torch.float64, generator=gen(7))
    custom = gradient(relax, theta, g, "custom")
    assert custom.abs().max() > 1e-3
    torch.testing.assert_close(gradient(relax, theta, g, "finite_difference"), custom, rtol=0,
                               atol=1e-4 * custom.abs().max().item())


def test_permutation_finite_difference_agrees_with_implicit_once_converged():
    theta, g = matrix(8), torch.randn(4, 5, 5, dtype=torch.float64, generator=gen(10))

    def relax(t, backward):
        return permutation.relax(t, 0.7, iterations=300, backward=backward, generator=gen(11))

    implicit = gradient(relax, theta, g, "implicit")
    torch.testing.assert_close(gradient(relax, theta, g, "finite_difference"), implicit, rtol=0,
                               atol=1e-4 * implicit.abs().max().item())


def test_relaxed_estimator_takes_the_backward():
    theta = vector(12).requires_grad_(True)
    f = lambda x: (x * torch.arange(6.0, dtype=torch.float64)).sum(-1)  # noqa: E731
    grads = []
    for backward in ["custom", "finite_difference"]:
        surrogate, _ = estimators.relaxed(topk, theta, f, tau=2.0, k=2, generator=gen(13), backward=backward)
        grads.append(torch.autograd.grad(surrogate, theta)[0])
    torch.testing.assert_close(grads[1], grads[0], rtol=1e-6, atol=1e-8)


def test_bad_backward_is_a_value_error_naming_the_argument():
    v, m = vector(14), matrix(15)
    with pytest.raises(ValueError, match="categorical.relax: backward must be"):
        categorical.relax(v, 1.0, backward="unroll")
    with pytest.raises(ValueError, match="topk.relax: backward must be"):
        topk.relax(v, 2, 1.0, backward="implicit")
    with pytest.raises(ValueError, match="spanning_tree.relax: backward must be"):
        spanning_tree.relax(matrix(16, True), 1.0, backward="fd")
    with pytest.raises(ValueError, match="arborescence.relax: backward must be"):
        arborescence.relax(m, 1.0, backward="")
    with pytest.raises(ValueError, match="permutation.relax: backward must be"):
        permutation.relax(m, 1.0, backward="custom")
    with pytest.raises(ValueError, match="backward must be"):
        estimators.relaxed(categorical, v, lambda x: x.sum(-1), backward="bogus")
