"""The permutation family: a bijection of n rows onto n columns as a (*batch, n, n) matrix with
P[i, j] = 1 when row i is assigned to column j.

theta is (*batch, n, n) pair scores; a permutation scores sum_ij theta_ij P_ij. ``map`` and
``sample`` accept -inf entries as forbidden pairs. There is no ``log_partition`` (the permanent
is #P-hard) and no ``log_prob`` (the perturb-and-MAP law has no known closed form), so the
``exact`` and ``reinforce`` estimators refuse this family; ``straight_through`` and ``relaxed``
work. Every sampler takes an optional ``generator``; the same seed gives the same result as the
C++ API.
"""
from typing import Optional

import torch

from . import _C

name = "permutation"
_impl = _C.permutation


def map(theta: torch.Tensor) -> torch.Tensor:  # noqa: A001  (the verb's public name)
    """The highest-scoring permutation (Hungarian / Jonker-Volgenant, O(n^3) per instance)."""
    return _impl.map(theta)


def sample(theta: torch.Tensor, generator: Optional[torch.Generator] = None) -> torch.Tensor:
    """Perturb-and-MAP: map(theta + G) with one Gumbel per entry. Not the Gibbs distribution."""
    return _impl.sample(theta, generator)


def relax(theta: torch.Tensor, tau: float, iterations: int = 20, tolerance: float = 0.0,
          backward: str = "implicit", hard: bool = False,
          generator: Optional[torch.Generator] = None) -> torch.Tensor:
    """Gumbel-Sinkhorn: ``sinkhorn((theta + G) / tau, iterations, tolerance, backward)``, a
    doubly-stochastic (*batch, n, n) matrix, with the same noise as ``sample`` for the same
    generator state.

    backward="implicit" (default) differentiates the Sinkhorn fixed point: memory independent of
    ``iterations``, exact once the forward has converged. backward="unroll" is the exact gradient
    of the truncated forward. backward="finite_difference" runs the forward twice more along the
    incoming gradient, exact (to the difference's error) once converged. hard=True: the exact
    sample forward, the relaxed gradient backward.
    """
    return _impl.relax(theta, tau, iterations, tolerance, backward, hard, generator)


def sinkhorn(z: torch.Tensor, iterations: int = 20, tolerance: float = 0.0,
             backward: str = "implicit") -> torch.Tensor:
    """Log-domain Sinkhorn of (*batch, n, n) scores, no noise: the entropy-regularized
    assignment argmax_P <z, P> - sum P log P over doubly-stochastic P. An instance stops early
    once its row sums are within ``tolerance`` of 1 (0: always ``iterations``)."""
    return _impl.sinkhorn(z, iterations, tolerance, backward)


def enumerate(n: int, dtype: torch.dtype = torch.float64) -> torch.Tensor:  # noqa: A001
    """Every n x n permutation matrix: (n!, n, n), 1 <= n <= 8."""
    return _impl.enumerate(n).to(dtype)
