"""The spanning-tree family: a symmetric (*batch, n, n) indicator, x[i, j] = x[j, i] = 1 on tree edges.

theta is (*batch, n, n) symmetric edge scores (-inf: absent edge; diagonal ignored); a tree's
score counts each edge once. A disconnected graph raises ValueError.
"""
from typing import Optional

import torch

from . import _C
from ._family import trace_verbs

name = "spanning_tree"
_impl = _C.spanning_tree


def map(theta: torch.Tensor) -> torch.Tensor:  # noqa: A001  (the verb's public name)
    """The maximum spanning tree (Kruskal)."""
    return _impl.map(theta)


def sample(theta: torch.Tensor, generator: Optional[torch.Generator] = None) -> torch.Tensor:
    """Perturb-and-MAP: Kruskal on theta + G, one Gumbel per undirected edge."""
    return _impl.sample(theta, generator)


def relax(theta: torch.Tensor, tau: float, hard: bool = False,
          generator: Optional[torch.Generator] = None, backward: str = "custom") -> torch.Tensor:
    """The stochastic softmax trick: edge marginals of the Gibbs distribution over trees at
    (theta + G) / tau (log-stable matrix-tree theorem). hard=True: the exact tree forward.
    backward="custom" (hand-written) or "finite_difference" (two more solver calls)."""
    return _impl.relax(theta, tau, hard, generator, backward)


def log_partition(theta: torch.Tensor) -> torch.Tensor:
    """log of the sum over spanning trees of exp(score): (*batch)."""
    return _impl.log_partition(theta)


def marginals(theta: torch.Tensor) -> torch.Tensor:
    """P({i, j} in T), symmetric (*batch, n, n)."""
    return _impl.marginals(theta)


def enumerate(n: int, dtype: torch.dtype = torch.float64) -> torch.Tensor:  # noqa: A001
    """Every spanning tree of the complete graph on n <= 8 vertices: (n^(n-2), n, n)."""
    return _impl.enumerate(n).to(dtype)


def log_prob(theta: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """log P(sample == x): the sum over the (n-1)! orders in which Kruskal adds x's edges (n <= 9).
    x: (*, *batch, n, n); returns (*, *batch)."""
    return _impl.log_prob(theta, x)


trace, trace_log_prob, conditional_gumbel = trace_verbs(
    _impl,
    trace_doc="Recursive Gumbel-Max with Kruskal: the tree and its trace, the n - 1 edges in the order added as "
              "keys i * n + j (i < j), (*batch, n - 1). The same law as ``sample``.",
    conditional_doc="theta + G given the trace, symmetric (*batch, n, n) with -inf on the diagonal; reparameterized.")
