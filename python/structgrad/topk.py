"""The k-subset family: k of n items as a (*batch, n) indicator with k ones.

theta is (*batch, n) item scores; a subset scores the sum of its items. Every sampler takes an
optional ``generator``; the same seed gives the same result as the C++ API.
"""
from typing import Optional

import torch

from . import _C
from ._family import Trace

name = "topk"
_impl = _C.topk


def map(theta: torch.Tensor, k: int) -> torch.Tensor:  # noqa: A001  (the verb's public name)
    """The k highest-scoring items."""
    return _impl.map(theta, k)


def sample(theta: torch.Tensor, k: int, generator: Optional[torch.Generator] = None) -> torch.Tensor:
    """Gumbel top-k: map(theta + G), i.e. k items drawn without replacement with probabilities ∝ exp(theta)."""
    return _impl.sample(theta, k, generator)


def relax(theta: torch.Tensor, k: int, tau: float, regularizer: str = "exponential_family", hard: bool = False,
          generator: Optional[torch.Generator] = None, backward: str = "custom") -> torch.Tensor:
    """The stochastic softmax trick over k-subsets: regularized argmax of (theta + G) / tau over
    {x in [0,1]^n, sum x = k}.

    regularizer: "exponential_family" (correlated top-k: marginals of p(S) ∝ exp(<z, x_S>), O(nk)
    DP), "euclidean" (projection, exact by one sort), "categorical_entropy", "binary_entropy". All
    have hand-written backward. hard=True: the exact sample forward, the relaxed gradient backward.
    backward="custom" is the hand-written backward, "finite_difference" two more solver calls
    along the incoming gradient (the Jacobian is symmetric); "unroll", for the two entropies only
    (their threshold solves a smooth equation; the DP has none, and the projection's is piecewise
    linear), is autograd through Newton steps on the threshold started from the root: the same
    gradient to rounding.
    """
    return _impl.relax(theta, k, tau, regularizer, hard, generator, backward)


def log_partition(theta: torch.Tensor, k: int) -> torch.Tensor:
    """log sum over k-subsets of exp(sum of their scores): (*batch)."""
    return _impl.log_partition(theta, k)


def marginals(theta: torch.Tensor, k: int) -> torch.Tensor:
    """P(i in S) under p(S) ∝ exp(sum_{i in S} theta_i): (*batch, n)."""
    return _impl.marginals(theta, k)


def log_prob(theta: torch.Tensor, x: torch.Tensor, k: int) -> torch.Tensor:
    """log P(sample(theta, k) == x) under Gumbel top-k (sum over the k! draw orders; k <= 8)."""
    return _impl.log_prob(theta, x, k)


def enumerate(n: int, k: int, dtype: torch.dtype = torch.float64) -> torch.Tensor:  # noqa: A001
    """Every k-subset of n items: (C(n, k), n)."""
    return _impl.enumerate(n, k).to(dtype)


def relax_perturbed(perturbed: torch.Tensor, k: int, tau: float, regularizer: str = "exponential_family",
                    backward: str = "custom") -> torch.Tensor:
    """``relax`` on given perturbed scores (no noise drawn), e.g. from ``conditional_gumbel``."""
    return _impl.relax_perturbed(perturbed, k, tau, regularizer, backward)


def trace(theta: torch.Tensor, k: int, generator: Optional[torch.Generator] = None) -> Trace:
    """Recursive Gumbel-Max (seed 002 Alg. 1): the sample and its trace, the k items in the order
    drawn, (*batch, k). The same law as ``sample``."""
    return Trace(*_impl.trace(theta, k, generator))


def trace_log_prob(theta: torch.Tensor, trace: torch.Tensor, k: int) -> torch.Tensor:
    """log P(trace), differentiable in theta: (*batch). Invalid traces raise ValueError."""
    return _impl.trace_log_prob(theta, trace, k)


def conditional_gumbel(theta: torch.Tensor, trace: torch.Tensor, k: int,
                       generator: Optional[torch.Generator] = None) -> torch.Tensor:
    """theta + G = -log E given the trace (seed 002 App. B), reparameterized: (*batch, n)."""
    return _impl.conditional_gumbel(theta, trace, k, generator)
