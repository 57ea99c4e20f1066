import pytest
import torch

from structgrad import correlated_topk, estimators


def gen(seed):
    return torch.Generator().manual_seed(seed)


def test_log_partition_and_marginals_match_enumeration_at_scale_50():
    theta = torch.randn(3, 11, dtype=torch.float64, generator=gen(0)) * 50  # 6 items, 5 pairs
    all_z = correlated_topk.enumerate(6, 3)
    scores = theta @ all_z.T
    torch.testing.assert_close(correlated_topk.log_partition(theta, 3), torch.logsumexp(scores, -1), rtol=1e-12,
                               atol=1e-9)
    torch.testing.assert_close(correlated_topk.marginals(theta, 3), torch.softmax(scores, -1) @ all_z, rtol=0,
                               atol=1e-9)
    torch.testing.assert_close(correlated_topk.map(theta, 3), all_z[scores.argmax(-1)])


def test_relax_gradcheck_and_scripted_operator():
    theta = torch.randn(2, 9, dtype=torch.float64, generator=gen(1), requires_grad=True)
    assert torch.autograd.gradcheck(lambda t: correlated_topk.relax(t, 2, 0.6, generator=gen(2)), (theta,))

    @torch.jit.script
    def scripted(t: torch.Tensor, k: int):
        return torch.ops.structgrad.correlated_topk_marginals(t, k)

    torch.testing.assert_close(scripted(theta, 2), correlated_topk.marginals(theta, 2))


def test_estimators_take_it_like_any_family():
    theta = torch.randn(4, 9, dtype=torch.float64, generator=gen(3), requires_grad=True)
    weights = torch.randn(9, dtype=torch.float64, generator=gen(4))

    def f(z):
        return (z * weights).sum(-1)

    direct = {"argmax": "linear", "costs": weights.expand(4, 9), "eps": 5.0}
    for name, kwargs in [("relaxed", {"tau": 0.5}), ("straight_through", {}), ("direct", direct)]:
        surrogate, loss = getattr(estimators, name)(correlated_topk, theta, f, k=2, generator=gen(5), **kwargs)
        grad, = torch.autograd.grad(surrogate, theta)
        assert torch.isfinite(grad).all() and grad.abs().sum() > 0, name
    with pytest.raises(ValueError, match="no tractable log-probability"):
        estimators.reinforce(correlated_topk, theta, f, k=2, num_samples=4)


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="2n - 1"):
        correlated_topk.map(torch.zeros(3, 4), 1)
    with pytest.raises(ValueError, match="k"):
        correlated_topk.marginals(torch.zeros(3, 5), 4)
