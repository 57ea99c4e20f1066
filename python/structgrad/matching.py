"""The matching family: the greedy row-column matching of seed 002 §2.3, as a (*batch, n, n)
permutation matrix. theta is (*batch, n, n) entry scores (-inf: forbidden pair). Unlike the
Hungarian algorithm (structgrad.permutation) the greedy matching has the stochastic invariant, so
its traces have exact probabilities.
"""
from typing import Optional

import torch

from . import _C
from ._family import Trace

name = "matching"
_impl = _C.matching


def map(theta: torch.Tensor) -> torch.Tensor:  # noqa: A001  (the verb's public name)
    """The greedy matching: n times the best entry whose row and column are free."""
    return _impl.map(theta)


def sample(theta: torch.Tensor, generator: Optional[torch.Generator] = None) -> torch.Tensor:
    """The greedy matching of theta + G."""
    return _impl.sample(theta, generator)


def log_prob(theta: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """log P(sample == x): the sum over the n! orders of x's entries (n <= 8); (*, *batch)."""
    return _impl.log_prob(theta, x)


def enumerate(n: int, dtype: torch.dtype = torch.float64) -> torch.Tensor:  # noqa: A001
    """Every permutation matrix, (n!, n, n); n <= 8."""
    return _impl.enumerate(n).to(dtype)


def trace(theta: torch.Tensor, generator: Optional[torch.Generator] = None) -> Trace:
    """The greedy recursion: the matching and its trace, the n entries i * n + j in the order picked."""
    return Trace(*_impl.trace(theta, generator))


def trace_log_prob(theta: torch.Tensor, trace: torch.Tensor) -> torch.Tensor:
    """log P(trace), differentiable in theta: (*batch). Invalid traces raise ValueError."""
    return _impl.trace_log_prob(theta, trace)


def conditional_gumbel(theta: torch.Tensor, trace: torch.Tensor,
                       generator: Optional[torch.Generator] = None) -> torch.Tensor:
    """theta + G = -log E given the trace (seed 002 App. B), reparameterized: theta's shape."""
    return _impl.conditional_gumbel(theta, trace, generator)
