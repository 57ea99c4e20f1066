"""Continuous relaxations as torch.distributions."""
from typing import Optional

import torch
from torch.distributions import Distribution, constraints

from . import _C


class ExpConcrete(Distribution):
    """The Concrete distribution in log space (Maddison et al. 2017): y = log_softmax((logits + G) / tau).

    ``log_prob`` is computed without leaving log space, so it stays finite at temperatures where
    the Concrete density of exp(y) underflows. Its base measure is Maddison et al.'s, the same as
    ``torch.distributions.ExpRelaxedCategorical``.
    """

    arg_constraints = {"logits": constraints.real_vector}
    support = constraints.real_vector
    has_rsample = True

    def __init__(self, temperature: float, logits: torch.Tensor, validate_args=None):
        self.temperature = float(temperature)
        self.logits = logits
        super().__init__(logits.shape[:-1], logits.shape[-1:], validate_args=validate_args)

    def rsample(self, sample_shape=torch.Size(), generator: Optional[torch.Generator] = None):
        return _C.distributions.exp_concrete_rsample(self.logits, self.temperature, list(sample_shape), generator)

    def sample(self, sample_shape=torch.Size(), generator: Optional[torch.Generator] = None):
        with torch.no_grad():
            return self.rsample(sample_shape, generator)

    def log_prob(self, value):
        return _C.distributions.exp_concrete_log_prob(self.logits, self.temperature, value)


class Concrete(Distribution):
    """The Concrete / Gumbel-softmax distribution on the simplex: x = softmax((logits + G) / tau)."""

    arg_constraints = {"logits": constraints.real_vector}
    support = constraints.simplex
    has_rsample = True

    def __init__(self, temperature: float, logits: torch.Tensor, validate_args=None):
        self.temperature = float(temperature)
        self.logits = logits
        super().__init__(logits.shape[:-1], logits.shape[-1:], validate_args=validate_args)

    def rsample(self, sample_shape=torch.Size(), generator: Optional[torch.Generator] = None):
        return _C.distributions.concrete_rsample(self.logits, self.temperature, list(sample_shape), generator)

    def sample(self, sample_shape=torch.Size(), generator: Optional[torch.Generator] = None):
        with torch.no_grad():
            return self.rsample(sample_shape, generator)

    def log_prob(self, value):
        return _C.distributions.concrete_log_prob(self.logits, self.temperature, value)


__all__ = ["ExpConcrete", "Concrete"]
