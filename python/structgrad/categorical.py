"""The categorical family: one of n categories as a one-hot vector.

theta is (*batch, n) logits; structures are (*batch, n) one-hot tensors of theta's dtype.
Every function takes an optional ``generator`` (a ``torch.Generator``); the same seed gives the
same result as the C++ API.
"""
from typing import Optional

import torch

from . import _C
from ._family import Trace

name = "categorical"
_impl = _C.categorical


def map(theta: torch.Tensor) -> torch.Tensor:  # noqa: A001  (the verb's public name)
    """argmax_i theta_i as a one-hot vector."""
    return _impl.map(theta)


def sample(theta: torch.Tensor, generator: Optional[torch.Generator] = None) -> torch.Tensor:
    """Gumbel-max: map(theta + G), distributed as softmax(theta)."""
    return _impl.sample(theta, generator)


def relax(theta: torch.Tensor, tau: float, regularizer: str = "entropy", hard: bool = False,
          generator: Optional[torch.Generator] = None, backward: str = "custom") -> torch.Tensor:
    """The stochastic softmax trick: regularized argmax of (theta + G) / tau.

    regularizer="entropy" is the Gumbel-softmax, "euclidean" is sparsemax (closed-form backward).
    hard=True returns the exact sample forward and the relaxed gradient backward.
    backward="custom" is the hand-written backward, "finite_difference" two more solver calls
    along the incoming gradient (the Jacobian is symmetric).
    """
    return _impl.relax(theta, tau, regularizer, hard, generator, backward)


def log_partition(theta: torch.Tensor) -> torch.Tensor:
    """logsumexp(theta) over the last dimension: (*batch)."""
    return _impl.log_partition(theta)


def marginals(theta: torch.Tensor) -> torch.Tensor:
    """softmax(theta): the probability of each category, (*batch, n)."""
    return _impl.marginals(theta)


def log_prob(theta: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """log P(sample(theta) == x) for one-hot x broadcastable to theta."""
    return _impl.log_prob(theta, x)


def enumerate(n: int, dtype: torch.dtype = torch.float64) -> torch.Tensor:  # noqa: A001
    """All n one-hot vectors, (n, n)."""
    return _impl.enumerate(n).to(dtype)


def trace(theta: torch.Tensor, generator: Optional[torch.Generator] = None) -> Trace:
    """Recursive Gumbel-Max with one step: the sample and its trace, the argmin of E / exp(theta)
    with E ~ Exp(1); the same draw as ``sample`` for the same generator state."""
    return Trace(*_impl.trace(theta, generator))


def trace_log_prob(theta: torch.Tensor, trace: torch.Tensor) -> torch.Tensor:
    """log P(trace) = log_softmax(theta)[trace], differentiable in theta: (*batch)."""
    return _impl.trace_log_prob(theta, trace)


def conditional_gumbel(theta: torch.Tensor, trace: torch.Tensor,
                       generator: Optional[torch.Generator] = None) -> torch.Tensor:
    """theta + G conditioned on argmax(theta + G) == trace (the -log E scale), reparameterized
    in theta: (*batch, n)."""
    return _impl.conditional_gumbel(theta, trace, generator)
