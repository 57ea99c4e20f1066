"""The pairwise-binary family (seed 003 §4.1): z in {0,1}^n with
score(z) = sum_i h_i z_i + sum_{i<j} a_ij z_i z_j, the structured encoder of direct optimization.

h is (*batch, n); a is (*batch, n, n) symmetric (the diagonal ignored). ``solver``: "auto"
(enumeration for n <= 16, max-flow when every a_ij >= 0, CBC otherwise), "max_flow" (supermodular
only), "integer_program" (CBC, with ``time_limit`` in seconds), "enumeration" (n <= 20).
"""
from typing import Optional, Tuple

import torch

from . import _C

name = "pairwise_binary"
_impl = _C.pairwise_binary
_NO_LIMIT = float("inf")


def map(h: torch.Tensor, a: torch.Tensor, solver: str = "auto",  # noqa: A001  (the verb's public name)
        time_limit: float = _NO_LIMIT) -> torch.Tensor:
    """The highest-scoring z, (*batch, n). ValueError when CBC hits the time limit (see map_with_status)."""
    return _impl.map(h, a, solver, time_limit)


def map_with_status(h: torch.Tensor, a: torch.Tensor, solver: str = "auto",
                    time_limit: float = _NO_LIMIT) -> Tuple[torch.Tensor, torch.Tensor]:
    """(z, status): status (*batch) is 0 optimal, 1 time limit (z: CBC's best), 2 solver error."""
    return _impl.map_with_status(h, a, solver, time_limit)


def sample(h: torch.Tensor, a: torch.Tensor, pairwise_noise: bool = True, generator: Optional[torch.Generator] = None,
           solver: str = "auto", time_limit: float = _NO_LIMIT) -> torch.Tensor:
    """Perturb-and-MAP: a Gumbel for each value of every unary choice and, with pairwise_noise, of every
    pairwise choice z_i z_j (which can make a_ij negative; without it a supermodular a stays so)."""
    return _impl.sample(h, a, pairwise_noise, generator, solver, time_limit)


def perturb(h: torch.Tensor, a: torch.Tensor, pairwise_noise: bool = True,
            generator: Optional[torch.Generator] = None) -> Tuple[torch.Tensor, torch.Tensor]:
    """(h + L, a + L'): the perturbation ``sample`` maximizes, a logistic per unary choice and, with
    pairwise_noise, one per pair (mirrored, so a + L' stays symmetric)."""
    return _impl.perturb(h, a, pairwise_noise, generator)


def score(h: torch.Tensor, a: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    """score(z) for z (*, *batch, n): (*, *batch), differentiable."""
    return _impl.score(h, a, z)


def log_partition(h: torch.Tensor, a: torch.Tensor) -> torch.Tensor:
    """log sum_z exp(score(z)) by enumeration (n <= 16), differentiable: (*batch)."""
    return _impl.log_partition(h, a)


def enumerate(n: int, dtype: torch.dtype = torch.float64) -> torch.Tensor:  # noqa: A001
    """Every z in {0,1}^n: (2^n, n)."""
    return _impl.enumerate(n).to(dtype)
