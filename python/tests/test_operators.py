"""The family verbs as torch operators: the structgrad.<family> modules are made from them, and
TorchScript can call them."""
import inspect

import pytest
import torch

import structgrad
from structgrad import arborescence, estimators, permutation, spanning_tree, topk


def gen(seed):
    return torch.Generator().manual_seed(seed)


def symmetric(n, seed):
    t = torch.randn(2, n, n, dtype=torch.float64, generator=gen(seed))
    return (t + t.transpose(-1, -2)) / 2


@torch.jit.script
def scripted_tree_marginals(theta: torch.Tensor) -> torch.Tensor:
    return torch.ops.structgrad.spanning_tree_marginals(theta)


@torch.jit.script
def scripted_arborescence_log_partition(theta: torch.Tensor, root: int) -> torch.Tensor:
    return torch.ops.structgrad.arborescence_log_partition(theta, root)


@torch.jit.script
def scripted_permutation_map(theta: torch.Tensor) -> torch.Tensor:
    return torch.ops.structgrad.permutation_map(theta)


@torch.jit.script
def scripted_topk_marginals(theta: torch.Tensor, k: int) -> torch.Tensor:
    return torch.ops.structgrad.topk_marginals(theta, k)


def test_torchscript_calls_equal_the_python_verbs():
    theta = symmetric(5, 0)
    torch.testing.assert_close(scripted_tree_marginals(theta), spanning_tree.marginals(theta), rtol=0, atol=0)
    directed = torch.randn(2, 5, 5, dtype=torch.float64, generator=gen(1))
    torch.testing.assert_close(scripted_arborescence_log_partition(directed, 2),
                               arborescence.log_partition(directed, root=2), rtol=0, atol=0)
    torch.testing.assert_close(scripted_permutation_map(directed), permutation.map(directed), rtol=0, atol=0)
    scores = torch.randn(3, 6, dtype=torch.float64, generator=gen(2))
    torch.testing.assert_close(scripted_topk_marginals(scores, 2), topk.marginals(scores, 2), rtol=0, atol=0)


def test_gradients_flow_through_the_operators():
    theta = symmetric(4, 3)[0].requires_grad_()
    assert torch.autograd.gradcheck(lambda t: torch.ops.structgrad.spanning_tree_log_partition((t + t.T) / 2), (theta,))


def test_every_registered_family_has_a_module_with_its_operators():
    names = [entry["name"] for entry in structgrad.families()]
    assert names == ["categorical", "topk", "correlated_topk", "ranking", "permutation", "matching",
                     "spanning_tree", "arborescence", "binary_tree", "bernoulli"]
    for name in names:
        module = getattr(structgrad, name)
        assert module.name == name
        for verb in ("map", "sample", "enumerate"):
            assert callable(getattr(module, verb)), (name, verb)
            assert getattr(module, verb).__doc__, (name, verb)
        # Every module function is the operator of the same name.
        for verb in module.__all__[1:]:
            assert hasattr(torch.ops.structgrad, f"{name}_{verb}"), (name, verb)


def test_signatures_carry_the_schema_names_and_defaults():
    relax = inspect.signature(topk.relax)
    assert list(relax.parameters) == ["theta", "k", "tau", "regularizer", "hard", "generator", "backward"]
    assert relax.parameters["regularizer"].default == "exponential_family"
    assert relax.parameters["generator"].default is None
    assert inspect.signature(arborescence.marginals).parameters["root"].default == 0
    assert inspect.signature(permutation.relax).parameters["iterations"].default == 20


def test_keyword_calls_and_errors_reach_python():
    theta = torch.randn(2, 5, dtype=torch.float64, generator=gen(4))
    a = topk.relax(theta, k=2, tau=0.5, generator=gen(5))
    b = topk.relax(theta, 2, 0.5, "exponential_family", False, gen(5))
    torch.testing.assert_close(a, b, rtol=0, atol=0)
    with pytest.raises(ValueError, match="topk.relax: tau must be positive"):
        topk.relax(theta, 2, 0.0)
    with pytest.raises(ValueError, match="topk.map: k must be"):
        topk.map(theta, 9)
    trace = topk.trace(theta, 2, generator=gen(6))
    assert isinstance(trace, structgrad.Trace) and trace.trace.shape == (2, 2)


def test_family_values_name_their_parameters():
    assert repr(structgrad.family("topk", k=3)) == "structgrad.family('topk', k=3)"
    assert structgrad.family("arborescence").params == {"root": 0}
    with pytest.raises(ValueError, match="family topk: k must be given"):
        structgrad.family("topk")
    with pytest.raises(ValueError, match="family categorical takes no parameter 'k'"):
        structgrad.family("categorical", k=2)
    with pytest.raises(ValueError, match="unknown structure family 'trees'"):
        structgrad.family("trees")
    theta = torch.randn(5, dtype=torch.float64, generator=gen(7)).requires_grad_()
    by_value, _ = estimators.exact(structgrad.family("topk", k=2), theta, lambda x: (x * x.new_tensor(range(5))).sum(-1))
    by_keyword, _ = estimators.exact("topk", theta, lambda x: (x * x.new_tensor(range(5))).sum(-1), k=2)
    assert torch.equal(by_value, by_keyword)
