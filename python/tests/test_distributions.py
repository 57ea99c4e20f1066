import pytest
import torch
from torch.distributions.relaxed_categorical import ExpRelaxedCategorical

from structgrad.distributions import Concrete, ExpConcrete


def gen(seed):
    return torch.Generator().manual_seed(seed)


def test_exp_concrete_log_prob_matches_torch():
    logits = torch.randn(3, 6, dtype=torch.float64, generator=gen(0))
    q = ExpConcrete(0.4, logits)
    y = q.rsample((5,), generator=gen(1))
    reference = ExpRelaxedCategorical(torch.tensor(0.4, dtype=torch.float64), logits=logits)
    torch.testing.assert_close(q.log_prob(y), reference.log_prob(y))


def test_concrete_samples_on_simplex_and_density_relation():
    logits = torch.randn(4, 5, dtype=torch.float64, generator=gen(2))
    x = Concrete(0.7, logits).rsample((3,), generator=gen(3))
    torch.testing.assert_close(x.sum(-1), torch.ones(3, 4, dtype=torch.float64))
    y = x.log()
    torch.testing.assert_close(Concrete(0.7, logits).log_prob(x), ExpConcrete(0.7, logits).log_prob(y) - y.sum(-1))


def test_rsample_gradcheck():
    logits = torch.randn(2, 4, dtype=torch.float64, generator=gen(4), requires_grad=True)
    assert torch.autograd.gradcheck(lambda l: ExpConcrete(0.5, l).rsample(generator=gen(5)), (logits,))


def test_low_temperature_is_finite_in_log_space():
    logits = (torch.randn(8, 10, dtype=torch.float64, generator=gen(6)) * 1e3).requires_grad_(True)
    q = ExpConcrete(0.01, logits)
    log_p = q.log_prob(q.rsample(generator=gen(7)))
    log_p.sum().backward()
    assert torch.isfinite(log_p).all() and torch.isfinite(logits.grad).all()


def test_bad_temperature():
    with pytest.raises(ValueError, match="temperature must be positive"):
        ExpConcrete(0.0, torch.zeros(3)).rsample()
