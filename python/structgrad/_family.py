"""Shared pieces of the family modules."""
from typing import NamedTuple

import torch


class Trace(NamedTuple):
    """A sample with its recursive Gumbel-Max trace (seed 002, Alg. 2).

    structure: the sample, indicators of theta's shape.
    trace: (*batch, L) int64, the argmins of the recursion, padded with -1.
    lengths: (*batch) int64, the real length of each trace.
    """

    structure: torch.Tensor
    trace: torch.Tensor
    lengths: torch.Tensor
