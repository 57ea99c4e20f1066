"""The arborescence family: a (*batch, n, n) indicator with x[i, j] = 1 for the edge i -> j.

theta is (*batch, n, n) directed edge scores (-inf: absent edge; the diagonal and the edges into
the root are ignored); root defaults to 0. If some vertex cannot be reached from the root, the
functions raise ValueError.
"""
from typing import Optional

import torch

from . import _C
from ._family import Trace

name = "arborescence"
_impl = _C.arborescence


def map(theta: torch.Tensor, root: int = 0) -> torch.Tensor:  # noqa: A001  (the verb's public name)
    """The maximum arborescence (Chu-Liu-Edmonds)."""
    return _impl.map(theta, root)


def sample(theta: torch.Tensor, root: int = 0, generator: Optional[torch.Generator] = None) -> torch.Tensor:
    """Perturb-and-MAP (seed 000): the maximum arborescence under theta + G. Not the law of the
    Exponential-Min recursion of seed 002 (minimum-sum arborescence under E)."""
    return _impl.sample(theta, root, generator)


def relax(theta: torch.Tensor, tau: float, root: int = 0, hard: bool = False,
          generator: Optional[torch.Generator] = None, backward: str = "custom") -> torch.Tensor:
    """The stochastic softmax trick: edge marginals of the Gibbs distribution over arborescences
    at (theta + G) / tau (log-stable directed matrix-tree theorem).
    backward="custom" (hand-written) or "finite_difference" (two more solver calls)."""
    return _impl.relax(theta, tau, root, hard, generator, backward)


def log_partition(theta: torch.Tensor, root: int = 0) -> torch.Tensor:
    """log of the sum over arborescences of exp(score): (*batch)."""
    return _impl.log_partition(theta, root)


def marginals(theta: torch.Tensor, root: int = 0) -> torch.Tensor:
    """P(i -> j in A): (*batch, n, n)."""
    return _impl.marginals(theta, root)


def enumerate(n: int, root: int = 0, dtype: torch.dtype = torch.float64) -> torch.Tensor:  # noqa: A001
    """Every arborescence of the complete digraph on n <= 7 vertices: (n^(n-2), n, n)."""
    return _impl.enumerate(n, root).to(dtype)


def trace(theta: torch.Tensor, root: int = 0, generator: Optional[torch.Generator] = None) -> Trace:
    """Recursive Gumbel-Max with Chu-Liu-Edmonds (seed 002): E ~ Exp(exp(theta)) per edge; the
    structure is the MINIMUM-sum arborescence under E, a different law from ``sample``'s maximum
    under theta + G. The trace: every non-root node's cheapest in-edge (increasing node), then the
    cheapest edge into each contracted cycle; keys i * n + j, padded with -1."""
    return Trace(*_impl.trace(theta, root, generator))


def trace_log_prob(theta: torch.Tensor, trace: torch.Tensor, root: int = 0) -> torch.Tensor:
    """log P(trace), differentiable in theta: (*batch). Invalid traces raise ValueError."""
    return _impl.trace_log_prob(theta, trace, root)


def conditional_gumbel(theta: torch.Tensor, trace: torch.Tensor, root: int = 0,
                       generator: Optional[torch.Generator] = None) -> torch.Tensor:
    """theta + G = -log E given the trace, (*batch, n, n), -inf off the edges; reparameterized."""
    return _impl.conditional_gumbel(theta, trace, root, generator)
