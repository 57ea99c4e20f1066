"""The binary-tree family (seed 002 §2.3, §5.4): a binary tree whose in-order traversal is 0..n-1,
as a (*batch, n, n) matrix with x[p, c] = 1 when p is the parent of c. theta is (*batch, n) node
scores: the best node of a segment becomes its root, the nodes left and right of it its subtrees.
"""
import torch

from . import _C
from ._family import plain_verbs, trace_verbs

name = "binary_tree"
_impl = _C.binary_tree

map, sample, log_prob, enumerate = plain_verbs(  # noqa: A001  (the verbs' public names)
    _impl,
    map_doc="The tree of theta.",
    sample_doc="The tree of theta + G.",
    log_prob_doc="log P(sample == x): a tree fixes its trace, so this is the trace's log-probability; (*, *batch).",
    enumerate_doc="Every binary tree on n ordered nodes (Catalan many), (C_n, n, n); n <= 10.")

trace, trace_log_prob, conditional_gumbel = trace_verbs(
    _impl,
    trace_doc="The recursion's trace: every level's subtree roots, left to right, (*batch, n).",
    conditional_doc="theta + G = -log E given the trace (seed 002 App. B), reparameterized: theta's shape.")
