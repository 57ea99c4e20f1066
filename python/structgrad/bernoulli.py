"""The Bernoulli family: n independent binary choices, z in {0,1}^n with P(z_i = 1) = sigmoid(theta_i).

theta is (*batch, n) logits. Perturb-and-MAP adds a logistic (the difference of the two values'
Gumbels) to theta; ``relax`` is the binary Concrete.
"""
from typing import Optional

import torch

from . import _C
from ._family import plain_verbs

name = "bernoulli"
_impl = _C.bernoulli


map, sample, log_prob, enumerate = plain_verbs(  # noqa: A001  (the verbs' public names)
    _impl,
    map_doc="1[theta > 0].",
    sample_doc="1[theta + L > 0], L logistic: Bernoulli(sigmoid(theta)).",
    log_prob_doc="log P(z = x) for x (*, *batch, n): (*, *batch).",
    enumerate_doc="Every z in {0,1}^n: (2^n, n); n <= 16.")


def perturb(theta: torch.Tensor, generator: Optional[torch.Generator] = None) -> torch.Tensor:
    """theta + L, the perturbation ``sample`` thresholds (the same draw for the same generator state)."""
    return _impl.perturb(theta, generator)


def relax(theta: torch.Tensor, tau: float, hard: bool = False, generator: Optional[torch.Generator] = None,
          backward: str = "custom") -> torch.Tensor:
    """The binary Concrete sigmoid((theta + L) / tau); hard=True: the exact sample forward.
    backward: "custom" or "finite_difference"."""
    return _impl.relax(theta, tau, hard, generator, backward)


def log_partition(theta: torch.Tensor) -> torch.Tensor:
    """sum_i softplus(theta_i): (*batch)."""
    return _impl.log_partition(theta)


def marginals(theta: torch.Tensor) -> torch.Tensor:
    """sigmoid(theta)."""
    return _impl.marginals(theta)
