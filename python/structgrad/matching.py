"""The matching family: the greedy row-column matching of seed 002 §2.3, as a (*batch, n, n)
permutation matrix. theta is (*batch, n, n) entry scores (-inf: forbidden pair). Unlike the
Hungarian algorithm (structgrad.permutation) the greedy matching has the stochastic invariant, so
its traces have exact probabilities.
"""
import torch

from . import _C
from ._family import plain_verbs, trace_verbs

name = "matching"
_impl = _C.matching

map, sample, log_prob, enumerate = plain_verbs(  # noqa: A001  (the verbs' public names)
    _impl,
    map_doc="The greedy matching: n times the best entry whose row and column are free.",
    sample_doc="The greedy matching of theta + G.",
    log_prob_doc="log P(sample == x): the sum over the n! orders of x's entries (n <= 8); (*, *batch).",
    enumerate_doc="Every permutation matrix, (n!, n, n); n <= 8.")

trace, trace_log_prob, conditional_gumbel = trace_verbs(
    _impl,
    trace_doc="The greedy recursion: the matching and its trace, the n entries i * n + j in the order picked.",
    conditional_doc="theta + G = -log E given the trace (seed 002 App. B), reparameterized: theta's shape.")
