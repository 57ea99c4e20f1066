"""The pairwise-binary family from Python: every solver against enumeration, bad input."""
import pytest
import torch

from structgrad import pairwise_binary


def gen(seed):
    return torch.Generator().manual_seed(seed)


def symmetric(batch, n, seed, nonnegative):
    a = torch.randn(batch, n, n, dtype=torch.float64, generator=gen(seed)).triu(1)
    a = a.abs() if nonnegative else a
    return a + a.transpose(-1, -2)


@pytest.mark.parametrize("nonnegative", [True, False])
def test_solvers_agree_with_enumeration(nonnegative):
    h = torch.randn(20, 8, dtype=torch.float64, generator=gen(1))
    a = symmetric(20, 8, 2, nonnegative)
    all_z = pairwise_binary.enumerate(8)
    best = pairwise_binary.score(h, a, all_z.unsqueeze(1)).max(0).values
    for solver in ["auto", "integer_program", "enumeration"] + (["max_flow"] if nonnegative else []):
        z, status = pairwise_binary.map_with_status(h, a, solver=solver)
        assert torch.equal(status, torch.zeros(20, dtype=torch.long))
        torch.testing.assert_close(pairwise_binary.score(h, a, z), best)


def test_sample_and_bad_input():
    h = torch.randn(4, 5, dtype=torch.float64, generator=gen(3))
    a = symmetric(4, 5, 4, False)
    x = pairwise_binary.sample(h, a, generator=gen(5))
    assert x.shape == h.shape and ((x == 0) | (x == 1)).all()
    with pytest.raises(ValueError, match="max_flow"):
        pairwise_binary.map(h, a, solver="max_flow")
    with pytest.raises(ValueError, match="symmetric"):
        pairwise_binary.map(h, a + torch.randn(4, 5, 5, dtype=torch.float64, generator=gen(6)))
    with pytest.raises(ValueError, match="shape"):
        pairwise_binary.map(h, a[..., :4, :4])
