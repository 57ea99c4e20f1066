"""structgrad: gradients through discrete and combinatorial choices.

Families (each with the same verbs: map, sample, relax, log_partition, marginals, enumerate,
trace, trace_log_prob, conditional_gumbel where the family has them):
    structgrad.categorical, structgrad.topk, structgrad.ranking, structgrad.permutation,
    structgrad.matching, structgrad.spanning_tree, structgrad.arborescence, structgrad.binary_tree,
    structgrad.bernoulli, structgrad.pairwise_binary (unaries and pairwise weights; max-flow, CBC or enumeration)
Estimators: structgrad.estimators (exact, straight_through, relaxed, reinforce, e_reinforce,
    e_reinforce_plus, t_reinforce, t_reinforce_plus, relax, gumbel_rao, check)
Distributions: structgrad.distributions (ExpConcrete, Concrete, IGR, IGRStickBreaking, IGRPlanar)
"""
import torch  # noqa: F401  (loads libtorch before the extension)

from . import _C
from . import (arborescence, bernoulli, binary_tree, categorical, distributions, estimators, matching, pairwise_binary,
               permutation, ranking, spanning_tree, topk)

__version__ = "0.1.0"


def set_threads(threads: int) -> None:
    """Set torch's intra-op threads (and pin OpenBLAS to one thread, see structgrad/ops/threads.h)."""
    _C.set_threads(threads)


__all__ = ["arborescence", "bernoulli", "binary_tree", "categorical", "distributions", "estimators", "matching", "pairwise_binary",
           "permutation",
           "ranking", "set_threads", "spanning_tree", "topk"]
