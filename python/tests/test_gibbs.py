"""structgrad.distributions.Gibbs and the Gibbs verbs of the families, against enumeration."""
import json
import subprocess

import numpy as np
import pytest
import torch
from scipy import stats
from torch.distributions import kl_divergence

import structgrad
from structgrad.distributions import Gibbs
from conftest import cli_path

# (family, params, n): one case per family with a Gibbs law.
CASES = [
    ("spanning_tree", {}, 4),
    ("arborescence", {"root": 1}, 4),
    ("topk", {"k": 3}, 6),
    ("correlated_topk", {"k": 2}, 5),
    ("bernoulli", {}, 4),
    ("categorical", {}, 5),
]


def gen(seed):
    return torch.Generator().manual_seed(seed)


def scores(name, n, seed, batch=(), scale=1.0):
    family = structgrad.family(name, **dict(CASES_PARAMS[name]))
    theta = torch.randn(*batch, *family.event_shape(n), dtype=torch.float64, generator=gen(seed)) * scale
    if family.symmetric:
        theta = (theta + theta.transpose(-1, -2)) / 2
    return theta


CASES_PARAMS = {name: params for name, params, _ in CASES}


def enumerate_structures(name, params, n):
    return getattr(structgrad, name).enumerate(n, **params)


@pytest.mark.parametrize("name,params,n", CASES)
def test_samples_follow_exp_log_prob_chi_square(name, params, n):
    theta = scores(name, n, 1, scale=2.0)
    dist = Gibbs(name, theta, **params)
    all_x = enumerate_structures(name, params, n)
    probability = dist.log_prob(all_x).exp()
    assert probability.sum().item() == pytest.approx(1.0, abs=1e-9)
    x = dist.sample((20000,), generator=gen(2))
    assert x.shape == (20000, *theta.shape)
    matches = (x.flatten(1).unsqueeze(1) == all_x.flatten(1).unsqueeze(0)).all(-1)  # (S, N)
    assert (matches.sum(1) == 1).all(), "every sample is exactly one structure"
    counts = matches.sum(0).double().numpy()
    expected = probability.numpy() * 20000
    keep = expected >= 5
    observed, pooled = counts[keep], expected[keep]
    if not keep.all():  # the rare structures in one cell
        observed, pooled = np.append(observed, counts[~keep].sum()), np.append(pooled, expected[~keep].sum())
    assert stats.chisquare(observed, pooled).pvalue > 1e-4


@pytest.mark.parametrize("name,params,n", CASES)
def test_entropy_kl_mean_mode_match_enumeration(name, params, n):
    theta_p, theta_q = scores(name, n, 3, batch=(2,)), scores(name, n, 4, batch=(2,))
    p, q = Gibbs(name, theta_p, **params), Gibbs(name, theta_q, **params)
    all_x = enumerate_structures(name, params, n)
    event = all_x.dim() - 1
    # log_prob of every structure for every instance: (N, 2).
    log_p = p.log_prob(all_x.reshape(all_x.shape[0], 1, *all_x.shape[1:]))
    log_q = q.log_prob(all_x.reshape(all_x.shape[0], 1, *all_x.shape[1:]))
    assert log_p.shape == (all_x.shape[0], 2)
    torch.testing.assert_close(p.entropy(), -(log_p.exp() * log_p).sum(0), atol=1e-9, rtol=0)
    torch.testing.assert_close(kl_divergence(p, q), (log_p.exp() * (log_p - log_q)).sum(0), atol=1e-9, rtol=0)
    weights = log_p.exp().T.reshape(2, -1, *([1] * event))
    torch.testing.assert_close(p.mean, (weights * all_x.unsqueeze(0)).sum(1), atol=1e-9, rtol=0)
    best = all_x[log_p.argmax(0)]
    torch.testing.assert_close(p.mode.double(), best.double())
    assert p.batch_shape == (2,) and p.event_shape == theta_p.shape[1:]


@pytest.mark.parametrize("name,params,n", CASES)
def test_entropy_and_kl_gradcheck_float64(name, params, n):
    family = structgrad.family(name, **params)
    theta_q = scores(name, n, 6, batch=(2,))
    sym = (lambda t: (t + t.transpose(-1, -2)) / 2) if family.symmetric else (lambda t: t)
    theta = scores(name, n, 5, batch=(2,)).requires_grad_()
    assert torch.autograd.gradcheck(lambda t: Gibbs(name, sym(t), **params).entropy(), (theta,))
    assert torch.autograd.gradcheck(
        lambda t: kl_divergence(Gibbs(name, sym(t), **params), Gibbs(name, theta_q, **params)), (theta,))
    assert torch.autograd.gradcheck(
        lambda t: kl_divergence(Gibbs(name, theta_q, **params), Gibbs(name, sym(t), **params)), (theta,))


def test_finite_at_logits_of_a_thousand():
    for name, params, n in CASES:
        theta = (scores(name, n, 7) * 1e3).requires_grad_()
        dist = Gibbs(name, theta, **params)
        x = dist.sample(generator=gen(8))
        total = dist.entropy() + dist.log_prob(x) + kl_divergence(dist, Gibbs(name, theta.detach().neg(), **params))
        assert torch.isfinite(total).all(), name
        total.sum().backward()
        assert torch.isfinite(theta.grad).all(), name


def test_spread_logits_trees_are_exact_and_finish():
    theta = torch.rand(5, 5, dtype=torch.float64, generator=gen(9)) * 100 - 50
    theta = (theta + theta.T) / 2
    dist = Gibbs("spanning_tree", theta)
    all_x = structgrad.spanning_tree.enumerate(5)
    probability = dist.log_prob(all_x).exp()
    x = dist.sample((5000,), generator=gen(10))
    index = (x.flatten(1).unsqueeze(1) == all_x.flatten(1).unsqueeze(0)).all(-1).double().argmax(1)
    assert (probability[index] > 1e-12).all()


def test_kl_is_registered_and_refuses_two_families():
    theta = scores("topk", 5, 11)
    with pytest.raises(ValueError, match="one family"):
        kl_divergence(Gibbs("topk", theta, k=2), Gibbs("topk", theta, k=3))


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="no Gibbs distribution"):
        Gibbs("ranking", torch.zeros(4)).entropy()
    with pytest.raises(ValueError, match="invalid values"):
        Gibbs("spanning_tree", torch.full((3, 3), float("nan")))
    with pytest.raises(ValueError, match="NaN"):
        Gibbs("spanning_tree", torch.full((3, 3), float("nan")), validate_args=False).sample()
    with pytest.raises(ValueError, match="root"):
        Gibbs("arborescence", torch.zeros(3, 3), root=3).sample()
    disconnected = torch.full((4, 4), float("-inf"), dtype=torch.float64)
    disconnected[0, 1] = disconnected[1, 0] = disconnected[2, 3] = disconnected[3, 2] = 0
    with pytest.raises(ValueError, match="disconnected"):
        structgrad.spanning_tree.gibbs_sample(disconnected)
    with pytest.raises(ValueError, match="sampler"):
        structgrad.spanning_tree.gibbs_sample(torch.zeros(3, 3), sampler="mcmc")
    with pytest.raises(ValueError, match="0/1"):
        Gibbs("topk", torch.zeros(4), k=2, validate_args=False).log_prob(torch.full((4,), 0.5))


def test_torchscript_calls_the_gibbs_operators():
    @torch.jit.script
    def entropy(theta: torch.Tensor) -> torch.Tensor:
        return torch.ops.structgrad.spanning_tree_entropy(theta)

    theta = scores("spanning_tree", 5, 12)
    torch.testing.assert_close(entropy(theta), Gibbs("spanning_tree", theta).entropy())


def test_cli_sample_law_gibbs():
    out = subprocess.run([cli_path(), "sample", "--family", "spanning_tree", "--n", "5", "--batch", "3", "--seed",
                          "4", "--law", "gibbs"], check=True, capture_output=True, text=True)
    result = json.loads(out.stdout)
    assert result["law"] == "gibbs"
    theta = torch.tensor(result["theta"]["values"], dtype=torch.float64).reshape(3, 5, 5)
    x = torch.tensor(result["sample"]["values"], dtype=torch.float64).reshape(3, 5, 5)
    assert (x.sum((-1, -2)) == 8).all() and torch.equal(x, x.transpose(-1, -2))
    torch.testing.assert_close(torch.tensor(result["log_prob"]["values"], dtype=torch.float64),
                               structgrad.spanning_tree.gibbs_log_prob(theta, x))
    torch.testing.assert_close(torch.tensor(result["entropy"]["values"], dtype=torch.float64),
                               structgrad.spanning_tree.entropy(theta))
    refused = subprocess.run([cli_path(), "sample", "--family", "ranking", "--law", "gibbs"], capture_output=True,
                             text=True)
    assert refused.returncode != 0 and "Gibbs" in refused.stderr


@pytest.mark.parametrize("name,params,n", [("correlated_topk", {"k": 2}, 5), ("spanning_tree", {}, 4),
                                           ("topk", {"k": 2}, 5)])
def test_gibbs_reinforce_is_unbiased_against_the_exact_gibbs_gradient(name, params, n):
    family = structgrad.family(name, **params)
    theta = scores(name, n, 13)
    weights = torch.randn(*theta.shape, dtype=torch.float64, generator=gen(14))
    f = lambda x: (x * weights).flatten(-family.event_dim).sum(-1) ** 2  # noqa: E731
    report = structgrad.estimators.check("gibbs_reinforce", family, theta, f, draws=4000, seed=15, num_samples=4)
    assert report["passed"] and report["claims_unbiased"], report["verdict"]
    # The reference is the Gibbs law's: for a tree it differs from perturb-and-MAP's.
    surrogate, loss = structgrad.estimators.exact_gibbs(family, theta.clone().requires_grad_(), f)
    all_x = enumerate_structures(name, params, n)
    expected = (Gibbs(name, theta, **params).log_prob(all_x).exp() * f(all_x)).sum()
    assert loss.item() == pytest.approx(expected.item(), rel=1e-9)


def test_reinforce_on_correlated_topk_points_to_gibbs_reinforce():
    with pytest.raises(ValueError, match="gibbs_reinforce"):
        structgrad.estimators.reinforce("correlated_topk", torch.zeros(2, 7), lambda x: x.sum(-1), k=2)
