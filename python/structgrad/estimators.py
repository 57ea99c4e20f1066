"""Gradient estimators for E_{x ~ p_theta}[f(x)], generic over structure families.

Every estimator is ``estimator(family, theta, f, **params) -> (surrogate, loss)``:

* ``family`` is a family module (``structgrad.categorical``) or its name; families with a
  parameter take it as a keyword (``k=`` for ``structgrad.topk``, ``root=`` for
  ``structgrad.arborescence``);
* ``f`` maps structures of shape (S, *batch, *event) to losses (S, *batch);
* ``surrogate.backward()`` leaves in ``theta.grad[b]`` the estimate of the gradient of
  E[f(x_b)] (the surrogate sums over the batch; divide by the batch size for a mean), and
  gives whatever f closes over its gradient too;
* ``loss`` is the per-instance loss estimate (*batch), detached.
"""
from typing import Callable, Optional, Tuple, Union

import torch

from . import _C

Loss = Callable[[torch.Tensor], torch.Tensor]
Family = Union[str, object]


def _family_name(family: Family) -> str:
    return family if isinstance(family, str) else family.name


def exact(family: Family, theta: torch.Tensor, f: Loss, k: int = -1,
          root: int = 0) -> Tuple[torch.Tensor, torch.Tensor]:
    """The exact gradient by enumerating every structure (seed 003, Eq. 2)."""
    return _C.estimators.exact(_family_name(family), k, root, theta, f)


def straight_through(family: Family, theta: torch.Tensor, f: Loss, k: int = -1, root: int = 0,
                     generator: Optional[torch.Generator] = None) -> Tuple[torch.Tensor, torch.Tensor]:
    """The exact sample forward, the gradient of the family's mean (its marginals) backward. Biased."""
    return _C.estimators.straight_through(_family_name(family), k, root, theta, f, generator)


def relaxed(family: Family, theta: torch.Tensor, f: Loss, tau: float = 1.0, hard: bool = False,
            regularizer: str = "", k: int = -1, root: int = 0, generator: Optional[torch.Generator] = None,
            backward: str = "") -> Tuple[torch.Tensor, torch.Tensor]:
    """The stochastic softmax trick: f evaluated on ``family.relax(theta, tau, ...)`` (the family's
    default regularizer and backward unless given). Biased."""
    return _C.estimators.relaxed(_family_name(family), k, root, theta, f, tau, hard, regularizer, generator,
                                 backward)


def reinforce(family: Family, theta: torch.Tensor, f: Loss, num_samples: int = 8, k: int = -1, root: int = 0,
              generator: Optional[torch.Generator] = None) -> Tuple[torch.Tensor, torch.Tensor]:
    """REINFORCE with ``num_samples`` >= 2 samples and the leave-one-out baseline. Unbiased."""
    return _C.estimators.reinforce(_family_name(family), k, root, theta, f, num_samples, generator)


def available():
    """Every estimator with whether it is unbiased and a one-line description."""
    return _C.estimators.list()


def check(estimator: str, family: Family, theta: torch.Tensor, f: Loss, draws: int = 20000,
          seed: int = 0, tau: float = 1.0, hard: bool = False, regularizer: str = "",
          num_samples: int = 8, alpha: float = 1e-3, k: int = -1, root: int = 0) -> dict:
    """Compare ``draws`` independent draws of an estimator with the exact gradient by enumeration.

    theta is one instance (no batch dimension). Returns the exact gradient, the draws' mean,
    standard error, bias, max |z|, the critical z (Bonferroni at level alpha), the relative
    bias, a verdict and ``passed`` (False only when an unbiased estimator showed bias).
    """
    return _C.estimators.check(estimator, _family_name(family), k, root, theta, f, draws, seed, tau, hard,
                               regularizer, num_samples, alpha)
