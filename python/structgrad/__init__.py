"""structgrad: gradients through discrete and combinatorial choices.

Families: one module structgrad.<family> per family of the C++ registry (``structgrad.families()``
lists them with their parameters), each with the same verbs: map, sample, relax, log_partition,
marginals, enumerate, trace, trace_log_prob, conditional_gumbel, and the Gibbs verbs gibbs_sample,
gibbs_log_prob, entropy, kl_divergence, where the family has them. Every
verb is also the torch operator torch.ops.structgrad.<family>_<verb>, callable from TorchScript.
structgrad.pairwise_binary: unaries and pairwise weights (max-flow, CBC or enumeration).
``structgrad.family("topk", k=3)``: a family with its parameters, as the estimators take it.
Estimators: structgrad.estimators (exact, exact_traces, exact_gibbs, straight_through, relaxed, reinforce,
    gibbs_reinforce, e_reinforce, e_reinforce_plus, t_reinforce, t_reinforce_plus, relax, gumbel_rao, direct, arm,
    check)
Distributions: structgrad.distributions (Gibbs, ExpConcrete, Concrete, IGR, IGRStickBreaking, IGRPlanar)
"""
import torch  # noqa: F401  (loads libtorch before the extension)

from . import _C
from ._family import Trace, family, make_family_modules

_families = make_family_modules(__name__)
globals().update(_families)

from . import distributions, estimators  # noqa: E402  (they use the family modules)

__version__ = "0.1.0"


def set_threads(threads: int) -> None:
    """Set torch's intra-op threads (and pin OpenBLAS to one thread, see structgrad/core/threads.h)."""
    _C.set_threads(threads)


def families():
    """Every family with its documentation and parameters."""
    return _C.families()


__all__ = sorted([*_families, "Trace", "distributions", "estimators", "families", "family", "set_threads"])
