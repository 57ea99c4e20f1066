"""The recursive Gumbel-Max trick from Python: trace verbs of every family, exact probabilities
against enumeration, gradcheck, and the score-function estimators against the exact gradient."""
import pytest
import scipy.stats
import torch

import structgrad
from structgrad import arborescence, binary_tree, estimators, matching, ranking, spanning_tree, topk


def gen(seed):
    return torch.Generator().manual_seed(seed)


def symmetric(n, seed):
    a = torch.randn(n, n, dtype=torch.float64, generator=gen(seed)).triu(1)
    return a + a.T


# (module, theta, keyword parameters) of a small instance of every family with log_prob.
CASES = {
    "topk": (topk, torch.randn(5, dtype=torch.float64, generator=gen(1)), {"k": 2}),
    "ranking": (ranking, torch.randn(4, dtype=torch.float64, generator=gen(2)), {}),
    "matching": (matching, torch.randn(3, 3, dtype=torch.float64, generator=gen(3)), {}),
    "spanning_tree": (spanning_tree, symmetric(4, 4), {}),
    "binary_tree": (binary_tree, torch.randn(4, dtype=torch.float64, generator=gen(5)), {}),
}


def enumerate_structures(module, theta, params):
    n = theta.shape[-1]
    return module.enumerate(n, **params)


@pytest.mark.parametrize("name", sorted(CASES))
def test_samples_follow_the_exact_distribution(name):
    module, theta, params = CASES[name]
    all_x = enumerate_structures(module, theta, params)
    p = module.log_prob(theta, all_x, **params).exp() if params else module.log_prob(theta, all_x).exp()
    torch.testing.assert_close(p.sum(), torch.tensor(1.0, dtype=torch.float64))
    draws = 20000
    t = module.trace(theta.expand(draws, *theta.shape), **params, generator=gen(6))
    assert torch.equal(t.structure, module.sample(theta.expand(draws, *theta.shape), **params, generator=gen(6)))
    which = (t.structure.reshape(draws, 1, -1) == all_x.reshape(1, len(all_x), -1)).all(-1)
    assert torch.equal(which.sum(-1), torch.ones(draws, dtype=torch.long))
    counts = which.sum(0).numpy()
    result = scipy.stats.chisquare(counts, p.numpy() * draws)
    assert result.pvalue > 1e-3, (name, result)


@pytest.mark.parametrize("name", sorted(CASES) + ["arborescence"])
def test_trace_log_prob_and_conditional_gumbel_gradcheck(name):
    if name == "arborescence":
        module, theta, params = arborescence, torch.randn(4, 4, dtype=torch.float64, generator=gen(7)), {"root": 1}
    else:
        module, theta, params = CASES[name]
    batch = theta.expand(3, *theta.shape).clone()
    t = module.trace(batch, **params, generator=gen(8))
    symmetrize = (lambda th: (th + th.transpose(-1, -2)) / 2) if name == "spanning_tree" else (lambda th: th)
    x = batch.clone().requires_grad_()
    assert torch.autograd.gradcheck(lambda th: module.trace_log_prob(symmetrize(th), t.trace, **params), (x,))
    finite = torch.isfinite(module.conditional_gumbel(batch, t.trace, **params, generator=gen(9)))
    assert torch.autograd.gradcheck(
        lambda th: module.conditional_gumbel(symmetrize(th), t.trace, **params, generator=gen(9))[finite], (x,))


def test_conditional_gumbel_gives_back_the_trace():
    theta = torch.randn(300, 6, dtype=torch.float64, generator=gen(10))
    t = ranking.trace(theta, generator=gen(11))
    e = ranking.conditional_gumbel(theta, t.trace, generator=gen(12))
    assert torch.equal(e.argsort(-1, descending=True), t.trace)


def test_arborescence_trace_is_the_minimum_arborescence_under_e():
    theta = torch.randn(50, 4, 4, dtype=torch.float64, generator=gen(13))
    t = arborescence.trace(theta, root=2, generator=gen(14))
    all_x = arborescence.enumerate(4, root=2)
    e = torch.exp(-t.perturbed).nan_to_num(posinf=0.0)  # off-key entries are -inf: never used
    cost = (all_x.unsqueeze(0) * e.unsqueeze(1)).sum((-1, -2))  # (50, N)
    assert torch.equal(all_x[cost.argmin(-1)], t.structure)
    assert torch.isfinite(arborescence.trace_log_prob(theta, t.trace, root=2)).all()


def test_partial_ordering_probability():
    theta = torch.randn(2, 6, dtype=torch.float64, generator=gen(15))
    order = torch.tensor([[3, 1], [0, 5]])
    first = theta.gather(-1, order[:, :1]).squeeze(-1) - theta.logsumexp(-1)
    rest = theta.scatter(-1, order[:, :1], float("-inf"))
    second = theta.gather(-1, order[:, 1:]).squeeze(-1) - rest.logsumexp(-1)
    torch.testing.assert_close(ranking.order_log_prob(theta, order), first + second)


def test_invalid_traces_name_the_entry():
    theta = torch.randn(1, 5, dtype=torch.float64)
    with pytest.raises(ValueError, match=r"trace\[1\] = 2"):
        topk.trace_log_prob(theta, torch.tensor([[2, 2]]), 2)
    with pytest.raises(ValueError, match="too short"):
        ranking.trace_log_prob(theta, torch.tensor([[0, 1]]))
    with pytest.raises(ValueError, match="closes|admissible"):
        spanning_tree.trace_log_prob(symmetric(4, 16).unsqueeze(0), torch.tensor([[1, 6, 2]]))
    with pytest.raises(ValueError, match="k"):
        topk.trace(theta, 7)
    with pytest.raises(ValueError, match="disconnected"):
        spanning_tree.trace(torch.full((3, 3), float("-inf"), dtype=torch.float64))


@pytest.mark.parametrize("name", ["matching", "binary_tree", "ranking"])
@pytest.mark.parametrize("estimator", ["e_reinforce", "t_reinforce", "t_reinforce_plus", "e_reinforce_plus"])
def test_score_function_estimators_are_unbiased(name, estimator):
    module, theta, params = CASES[name]
    shape = theta.shape if name == "matching" else (theta.shape[-1],) * 2
    a = torch.randn(*shape, dtype=torch.float64, generator=gen(17))
    f = lambda x: (x * a).sum((-1, -2)) ** 2  # noqa: E731
    report = estimators.check(estimator, module, theta, f, draws=4000, seed=18, num_samples=4, **params)
    assert report["passed"], report["verdict"]
    assert not report["bias_detected"], report["verdict"]


def test_relax_trains_its_control_variate():
    theta = torch.randn(4, 6, dtype=torch.float64, generator=gen(19), requires_grad=True)
    costs = torch.randn(6, dtype=torch.float64, generator=gen(20))
    control = torch.nn.Linear(6, 1).double()
    f = lambda x: (x * costs).sum(-1)  # noqa: E731
    surrogate, loss = estimators.relax(topk, theta, f, control_variate=lambda e: control(e).squeeze(-1),
                                       k=3, num_samples=2, generator=gen(21))
    surrogate.backward()
    assert theta.grad.isfinite().all() and loss.shape == (4,)
    assert control.weight.grad is not None and control.weight.grad.abs().sum() > 0


def test_relax_and_gumbel_rao_from_check():
    theta = torch.randn(5, dtype=torch.float64, generator=gen(22))
    a = torch.randn(5, dtype=torch.float64, generator=gen(23))
    f = lambda x: (x * a).sum(-1) ** 2  # noqa: E731
    report = estimators.check("relax", topk, theta, f, draws=4000, seed=24, tau=0.5, num_samples=1, k=2)
    assert report["passed"] and not report["bias_detected"], report["verdict"]
    report = estimators.check("gumbel_rao", topk, theta, f, draws=4000, seed=25, tau=0.5, num_conditional=4, k=2)
    assert report["passed"] and torch.isfinite(report["mean"]).all()


def test_family_names_include_the_recursive_families():
    assert {"ranking", "matching", "binary_tree"} <= set(structgrad._C.family_names())


def test_arborescence_trace_estimators_against_the_exact_trace_law():
    theta = torch.randn(4, 4, dtype=torch.float64, generator=gen(30))
    a = torch.randn(4, 4, dtype=torch.float64, generator=gen(31))
    f = lambda x: (x * a).sum((-1, -2)) ** 2  # noqa: E731
    report = estimators.check("t_reinforce_plus", arborescence, theta, f, draws=4000, seed=32, num_samples=4, root=1)
    assert report["passed"] and not report["bias_detected"], report["verdict"]
    surrogate, loss = estimators.exact_traces(arborescence, theta.unsqueeze(0).requires_grad_(), f, root=1)
    assert torch.isfinite(loss).all()


def test_bernoulli_trace_is_the_sample_and_its_log_probability():
    theta = torch.randn(3, 5, dtype=torch.float64, generator=gen(40))
    t = structgrad.bernoulli.trace(theta, generator=gen(41))
    assert torch.equal(t.structure, structgrad.bernoulli.sample(theta, generator=gen(41)))
    assert torch.equal(t.trace, t.structure.long()) and torch.equal(t.lengths, torch.full((3,), 5))
    assert torch.equal((t.perturbed > 0).double(), t.structure)
    assert torch.allclose(structgrad.bernoulli.trace_log_prob(theta, t.trace),
                          structgrad.bernoulli.log_prob(theta, t.structure))


def test_bernoulli_conditional_noise_keeps_the_sample_and_has_the_logistic_law():
    # Drawing z, then theta + L given z, is drawing theta + L: its CDF is the logistic's shifted by
    # theta (Kolmogorov-Smirnov at the 1e-3 level, 20,000 draws; logits of magnitude up to 30).
    theta = torch.tensor([-30.0, -2.0, 0.0, 1.5, 30.0], dtype=torch.float64)
    draws = theta.expand(20000, 5)
    t = structgrad.bernoulli.trace(draws, generator=gen(42))
    e = structgrad.bernoulli.conditional_gumbel(draws, t.trace, generator=gen(43))
    assert torch.isfinite(e).all() and torch.equal((e > 0).long(), t.trace)
    for i in range(5):
        values, _ = torch.sort(e[:, i] - theta[i])
        cdf = torch.sigmoid(values)
        empirical = torch.arange(1, 20001, dtype=torch.float64) / 20000
        ks = torch.max(torch.maximum((empirical - cdf).abs(), (empirical - 1 / 20000 - cdf).abs()))
        assert ks < 1.95 / 20000 ** 0.5, (i, float(ks))
    # The power of that test: the unconditioned logistic for the other sign is rejected.
    wrong, _ = torch.sort(-(e[:, 3] - theta[3]))
    ks = torch.max((torch.arange(1, 20001, dtype=torch.float64) / 20000 - torch.sigmoid(wrong + 3.0)).abs())
    assert ks > 1.95 / 20000 ** 0.5


def test_bernoulli_conditional_noise_is_reparameterized():
    theta = torch.randn(2, 4, dtype=torch.float64, generator=gen(44), requires_grad=True)
    trace = structgrad.bernoulli.trace(theta.detach(), generator=gen(45)).trace
    torch.autograd.gradcheck(lambda th: structgrad.bernoulli.conditional_gumbel(th, trace, generator=gen(46)), (theta,))


def test_bernoulli_trace_input_is_checked():
    theta = torch.zeros(2, 3, dtype=torch.float64)
    with pytest.raises(ValueError, match="trace must have theta's shape"):
        structgrad.bernoulli.trace_log_prob(theta, torch.zeros(2, 4, dtype=torch.long))
    with pytest.raises(ValueError, match="trace must hold 0 or 1"):
        structgrad.bernoulli.conditional_gumbel(theta, torch.full((2, 3), 2, dtype=torch.long))
    with pytest.raises(ValueError, match="trace must be an integer tensor"):
        structgrad.bernoulli.trace_log_prob(theta, torch.zeros(2, 3))


@pytest.mark.parametrize("estimator, params", [("relax", {}), ("rebar", {"eta": 0.5}), ("rebar", {"eta": 2.0})])
def test_relax_and_rebar_are_unbiased_for_bernoulli(estimator, params):
    theta = torch.tensor([0.3, -1.0, 2.0, 0.0], dtype=torch.float64)
    a = torch.randn(4, dtype=torch.float64, generator=gen(47))
    f = lambda x: (x * a).sum(-1) ** 2  # noqa: E731
    report = estimators.check(estimator, structgrad.bernoulli, theta, f, draws=4000, seed=48, tau=0.5,
                              num_samples=1, **params)
    assert report["passed"] and not report["bias_detected"], report["verdict"]


def test_rebar_control_variate_lowers_the_variance_and_a_bad_eta_is_named():
    theta = torch.tensor([0.3, -1.0, 2.0, 0.0], dtype=torch.float64)
    a = torch.randn(4, dtype=torch.float64, generator=gen(49))
    f = lambda x: (x * a).sum(-1) ** 2  # noqa: E731
    rebar = estimators.check("rebar", structgrad.bernoulli, theta, f, draws=2000, seed=50, tau=0.5, num_samples=1)
    plain = estimators.check("t_reinforce", structgrad.bernoulli, theta, f, draws=2000, seed=50, num_samples=1)
    # The relaxed loss at tau 0.5 takes a quarter of the plain score function's variance off (0.73 of it
    # at this seed); at tau 0.1 it would add variance (2.1x): REBAR's own argument for tuning eta and tau.
    assert rebar["variance"] < 0.85 * plain["variance"], (rebar["variance"], plain["variance"])
    with pytest.raises(ValueError, match="eta must be finite"):
        estimators.rebar(structgrad.bernoulli, theta, f, eta=float("nan"))
