"""The ranking family (Plackett-Luce / insertion sort, seed 002 §2.3): an ordering of n items as a
(*batch, n, n) matrix with x[i, r] = 1 when item i has rank r. theta is (*batch, n) item scores.
"""
import torch

from . import _C
from ._family import plain_verbs, trace_verbs

name = "ranking"
_impl = _C.ranking

map, sample, log_prob, enumerate = plain_verbs(  # noqa: A001  (the verbs' public names)
    _impl,
    map_doc="The items by decreasing score.",
    sample_doc="Plackett-Luce: the items by decreasing theta + G.",
    log_prob_doc="log P(sample == x) for rank matrices x (*, *batch, n, n): (*, *batch), differentiable.",
    enumerate_doc="Every ordering of n items, (n!, n, n); n <= 8.")

trace, trace_log_prob, conditional_gumbel = trace_verbs(
    _impl,
    trace_doc="Insertion sort as a recursion: the ranking and its trace, the items in rank order, (*batch, n).",
    conditional_doc="theta + G = -log E given the trace (seed 002 App. B), reparameterized: theta's shape.")


def order_log_prob(theta: torch.Tensor, order: torch.Tensor) -> torch.Tensor:
    """log P(the first m ranks are ``order``) for order (*batch, m) item indices, m <= n: the
    Plackett-Luce probability of a full or partial ordering. (*batch), differentiable."""
    return _impl.order_log_prob(theta, order)
