"""Shared pieces of the family modules."""
from typing import NamedTuple

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
