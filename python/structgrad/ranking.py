"""The ranking family (Plackett-Luce / insertion sort, seed 002 §2.3): an ordering of n items as a
(*batch, n, n) matrix with x[i, r] = 1 when item i has rank r. theta is (*batch, n) item scores.
"""
from typing import Optional

import torch

from . import _C
from ._family import Trace

name = "ranking"
_impl = _C.ranking


def map(theta: torch.Tensor) -> torch.Tensor:  # noqa: A001  (the verb's public name)
    """The items by decreasing score."""
    return _impl.map(theta)


def sample(theta: torch.Tensor, generator: Optional[torch.Generator] = None) -> torch.Tensor:
    """Plackett-Luce: the items by decreasing theta + G."""
    return _impl.sample(theta, generator)


def log_prob(theta: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """log P(sample == x) for rank matrices x (*, *batch, n, n): (*, *batch), differentiable."""
    return _impl.log_prob(theta, x)


def enumerate(n: int, dtype: torch.dtype = torch.float64) -> torch.Tensor:  # noqa: A001
    """Every ordering of n items, (n!, n, n); n <= 8."""
    return _impl.enumerate(n).to(dtype)


def trace(theta: torch.Tensor, generator: Optional[torch.Generator] = None) -> Trace:
    """Insertion sort as a recursion: the ranking and its trace, the items in rank order, (*batch, n)."""
    return Trace(*_impl.trace(theta, generator))


def trace_log_prob(theta: torch.Tensor, trace: torch.Tensor) -> torch.Tensor:
    """log P(trace), differentiable in theta: (*batch). Invalid traces raise ValueError."""
    return _impl.trace_log_prob(theta, trace)


def conditional_gumbel(theta: torch.Tensor, trace: torch.Tensor,
                       generator: Optional[torch.Generator] = None) -> torch.Tensor:
    """theta + G = -log E given the trace (seed 002 App. B), reparameterized: theta's shape."""
    return _impl.conditional_gumbel(theta, trace, generator)


def order_log_prob(theta: torch.Tensor, order: torch.Tensor) -> torch.Tensor:
    """log P(the first m ranks are ``order``) for order (*batch, m) item indices, m <= n: the
    Plackett-Luce probability of a full or partial ordering. (*batch), differentiable."""
    return _impl.order_log_prob(theta, order)
