"""The pairwise-binary family from Python: every solver against enumeration, bad input."""
import pytest
import torch

from structgrad import estimators, pairwise_binary


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


def test_verbs_are_torch_operators_with_the_schema_defaults():
    import inspect

    assert "max-flow" in pairwise_binary.__doc__
    assert inspect.signature(pairwise_binary.map).parameters["solver"].default == "auto"
    assert inspect.signature(pairwise_binary.sample).parameters["time_limit"].default is None
    # None is CBC's finite default budget per instance, which direct_pairwise_binary shows as a number.
    assert "None: 60 s" in pairwise_binary.__doc__
    assert inspect.signature(estimators.direct_pairwise_binary).parameters["time_limit"].default == 60

    @torch.jit.script
    def best(h: torch.Tensor, a: torch.Tensor) -> torch.Tensor:
        return torch.ops.structgrad.pairwise_binary_map(h, a, "enumeration")

    h = torch.randn(3, 6, dtype=torch.float64, generator=gen(80))
    a = torch.randn(3, 6, 6, dtype=torch.float64, generator=gen(81))
    a = (a + a.transpose(-1, -2)) / 2
    torch.testing.assert_close(best(h, a), pairwise_binary.map(h, a, solver="enumeration"))
    z, status = pairwise_binary.map_with_status(h, a, solver="integer_program", time_limit=60.0)
    assert (status == 0).all()
    torch.testing.assert_close(pairwise_binary.score(h, a, z), pairwise_binary.score(h, a, best(h, a)))
