"""The binary-tree family (seed 002 §2.3, §5.4): a binary tree whose in-order traversal is 0..n-1,
as a (*batch, n, n) matrix with x[p, c] = 1 when p is the parent of c. theta is (*batch, n) node
scores: the best node of a segment becomes its root, the nodes left and right of it its subtrees.
"""
from typing import Optional

import torch

from . import _C
from ._family import Trace

name = "binary_tree"
_impl = _C.binary_tree


def map(theta: torch.Tensor) -> torch.Tensor:  # noqa: A001  (the verb's public name)
    """The tree of theta."""
    return _impl.map(theta)


def sample(theta: torch.Tensor, generator: Optional[torch.Generator] = None) -> torch.Tensor:
    """The tree of theta + G."""
    return _impl.sample(theta, generator)


def log_prob(theta: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """log P(sample == x): a tree fixes its trace, so this is the trace's log-probability; (*, *batch)."""
    return _impl.log_prob(theta, x)


def enumerate(n: int, dtype: torch.dtype = torch.float64) -> torch.Tensor:  # noqa: A001
    """Every binary tree on n ordered nodes (Catalan many), (C_n, n, n); n <= 10."""
    return _impl.enumerate(n).to(dtype)


def trace(theta: torch.Tensor, generator: Optional[torch.Generator] = None) -> Trace:
    """The recursion's trace: every level's subtree roots, left to right, (*batch, n)."""
    return Trace(*_impl.trace(theta, generator))


def trace_log_prob(theta: torch.Tensor, trace: torch.Tensor) -> torch.Tensor:
    """log P(trace), differentiable in theta: (*batch). Invalid traces raise ValueError."""
    return _impl.trace_log_prob(theta, trace)


def conditional_gumbel(theta: torch.Tensor, trace: torch.Tensor,
                       generator: Optional[torch.Generator] = None) -> torch.Tensor:
    """theta + G = -log E given the trace (seed 002 App. B), reparameterized: theta's shape."""
    return _impl.conditional_gumbel(theta, trace, generator)
