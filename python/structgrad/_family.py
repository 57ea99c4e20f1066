"""Shared pieces of the family modules."""
from typing import Callable, NamedTuple, Optional, Tuple

import torch


class Trace(NamedTuple):
    """A sample with its recursive Gumbel-Max trace (seed 002, Alg. 2).

    structure: the sample, 0/1 indicators of the family's structure shape.
    trace: (*batch, L) int64, the argmins of the recursion (keys into theta's flattened event),
        padded with -1.
    lengths: (*batch) int64, the real length of each trace.
    perturbed: (*batch, *event) theta + G = -log E, the perturbation the sample came from
        (differentiable in theta; -inf off the family's keys).
    """

    structure: torch.Tensor
    trace: torch.Tensor
    lengths: torch.Tensor
    perturbed: torch.Tensor


def _documented(fn: Callable, doc: str) -> Callable:
    fn.__doc__ = doc
    return fn


def plain_verbs(impl, map_doc: str, sample_doc: str, log_prob_doc: str, enumerate_doc: str) -> Tuple[Callable, ...]:
    """map, sample, log_prob and enumerate of a family that takes no parameter."""

    def map(theta: torch.Tensor) -> torch.Tensor:  # noqa: A001  (the verb's public name)
        return impl.map(theta)

    def sample(theta: torch.Tensor, generator: Optional[torch.Generator] = None) -> torch.Tensor:
        return impl.sample(theta, generator)

    def log_prob(theta: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        return impl.log_prob(theta, x)

    def enumerate(n: int, dtype: torch.dtype = torch.float64) -> torch.Tensor:  # noqa: A001
        return impl.enumerate(n).to(dtype)

    return (_documented(map, map_doc), _documented(sample, sample_doc), _documented(log_prob, log_prob_doc),
            _documented(enumerate, enumerate_doc))


def trace_verbs(impl, trace_doc: str, conditional_doc: str) -> Tuple[Callable, ...]:
    """trace, trace_log_prob and conditional_gumbel of a family that takes no parameter."""

    def trace(theta: torch.Tensor, generator: Optional[torch.Generator] = None) -> Trace:
        return Trace(*impl.trace(theta, generator))

    def trace_log_prob(theta: torch.Tensor, trace: torch.Tensor) -> torch.Tensor:
        return impl.trace_log_prob(theta, trace)

    def conditional_gumbel(theta: torch.Tensor, trace: torch.Tensor,
                           generator: Optional[torch.Generator] = None) -> torch.Tensor:
        return impl.conditional_gumbel(theta, trace, generator)

    return (_documented(trace, trace_doc),
            _documented(trace_log_prob, "log P(trace), differentiable in theta: (*batch). An invalid trace (an "
                                        "entry that is not an admissible choice, a wrong length) raises ValueError."),
            _documented(conditional_gumbel, conditional_doc))
