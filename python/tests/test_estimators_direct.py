"""Direct optimization through argmax (seed 003) from Python."""
import pytest
import torch

import structgrad
from structgrad import estimators


def gen(seed):
    return torch.Generator().manual_seed(seed)


def test_direct_is_nearly_unbiased_at_small_eps_for_categorical():
    theta = torch.randn(5, dtype=torch.float64, generator=gen(1))
    a = torch.randn(5, dtype=torch.float64, generator=gen(2))
    f = lambda x: (x * a).sum(-1) ** 2  # noqa: E731
    far = estimators.check("direct", structgrad.categorical, theta, f, draws=8000, seed=3, eps=2.0)
    near = estimators.check("direct", structgrad.categorical, theta, f, draws=8000, seed=3, eps=0.1)
    assert near["relative_bias"] < far["relative_bias"]
    assert near["variance"] > far["variance"]


def test_direct_descends_and_trains_the_decoder():
    theta = torch.zeros(8, 4, dtype=torch.float64, requires_grad=True)
    decoder = torch.nn.Linear(4, 1).double()
    f = lambda x: decoder(x).squeeze(-1) ** 2  # noqa: E731
    surrogate, loss = estimators.direct(structgrad.categorical, theta, f, eps=estimators.EpsSchedule(), step=0,
                                        generator=gen(4))
    surrogate.backward()
    assert loss.shape == (8,) and theta.grad.shape == theta.shape
    assert decoder.weight.grad is not None


def test_direct_linear_costs_on_a_structured_family():
    a = torch.randn(6, 6, dtype=torch.float64, generator=gen(5))
    theta = ((a + a.T) / 2).expand(3, 6, 6).clone().requires_grad_()
    costs = torch.randn(6, 6, dtype=torch.float64, generator=gen(6))
    costs = costs + costs.T
    f = lambda x: (x * costs).sum((-1, -2)) / 2  # noqa: E731
    surrogate, _ = estimators.direct(structgrad.spanning_tree, theta, f, eps=0.5, argmax="linear",
                                     costs=costs.expand(3, 6, 6), generator=gen(7))
    surrogate.backward()
    assert torch.equal(theta.grad.tril(), torch.zeros_like(theta.grad))  # each edge scores once: upper triangle


def test_eps_schedule_and_bad_input():
    schedule = estimators.EpsSchedule(start=1.0, rate=1e-3, every=100, minimum=0.1)
    assert schedule.value(99) == 1.0 and schedule.value(10 ** 6) == pytest.approx(0.1)
    theta = torch.randn(2, 3, dtype=torch.float64)
    with pytest.raises(ValueError, match="eps"):
        estimators.direct(structgrad.categorical, theta, lambda x: x.sum(-1), eps=0.0)
    with pytest.raises(ValueError, match="shape"):
        estimators.direct(structgrad.categorical, theta, lambda x: x)


def test_arm_and_direct_on_binary_latents():
    theta = torch.randn(6, dtype=torch.float64, generator=gen(8))
    a = torch.randn(6, dtype=torch.float64, generator=gen(9))
    f = lambda x: (x * a).sum(-1) ** 2  # noqa: E731
    report = estimators.check("arm", structgrad.bernoulli, theta, f, draws=8000, seed=10, num_samples=2)
    assert report["passed"] and not report["bias_detected"], report["verdict"]
    report = estimators.check("direct", structgrad.bernoulli, theta, f, draws=4000, seed=11, eps=0.1, argmax="flip")
    assert torch.isfinite(report["mean"]).all()
    x = structgrad.bernoulli.sample(theta.expand(20000, 6), generator=gen(12))
    torch.testing.assert_close(x.mean(0), torch.sigmoid(theta), atol=0.02, rtol=0)


def test_direct_on_a_pairwise_binary_encoder():
    """Seed 003 §4.1: the three loss-augmented argmaxes agree on a linear loss, the decoder inside f gets
    its gradient, max-flow serves a supermodular encoder, and bad input is refused by name."""
    from structgrad import pairwise_binary
    h = torch.randn(8, 5, dtype=torch.float64, generator=gen(70), requires_grad=True)
    upper = torch.randn(8, 5, 5, dtype=torch.float64, generator=gen(71)).triu(1)
    a = (upper + upper.transpose(-1, -2)).requires_grad_()
    costs = torch.randn(8, 5, dtype=torch.float64, generator=gen(72))
    grads = []
    for argmax in ["enumerate", "linear", "flip"]:
        surrogate, loss = estimators.direct_pairwise_binary(h, a, lambda z: (z * costs).sum(-1), eps=0.5,
                                                            argmax=argmax, costs=costs, generator=gen(73))
        grads.append(torch.autograd.grad(surrogate, [h, a]))
        assert loss.shape == (8,)
    for g in grads[1:]:
        torch.testing.assert_close(g[0], grads[0][0])
        torch.testing.assert_close(g[1], grads[0][1])

    decoder = torch.nn.Linear(5, 3).double()
    supermodular = a.detach().abs()
    z_star = pairwise_binary.map(*pairwise_binary.perturb(h.detach(), supermodular, False, gen(74)))
    surrogate, loss = estimators.direct_pairwise_binary(
        h, supermodular, lambda z: decoder(z).pow(2).sum(-1), eps=estimators.EpsSchedule(start=-1.0), step=0,
        argmax="flip", pairwise_noise=False, solver="max_flow", generator=gen(74))
    surrogate.backward()
    assert decoder.weight.grad is not None and decoder.weight.grad.abs().sum() > 0
    torch.testing.assert_close(loss, decoder(z_star).pow(2).sum(-1).detach())

    with pytest.raises(ValueError, match="eps"):
        estimators.direct_pairwise_binary(h, a, lambda z: z.sum(-1), eps=0.0)
    with pytest.raises(ValueError, match="supermodular"):
        estimators.direct_pairwise_binary(h, a, lambda z: z.sum(-1), solver="max_flow")
    with pytest.raises(ValueError, match="shape"):
        estimators.direct_pairwise_binary(h, a, lambda z: z)
