"""Gradient estimators for E_{x ~ p_theta}[f(x)], generic over structure families.

Every estimator is ``estimator(family, theta, f, **params) -> (surrogate, loss)``:

* ``family`` is a family module (``structgrad.categorical``), its name, or the value
  ``structgrad.family("topk", k=3)``; a family's parameters may also come as keywords
  (``k=`` for ``structgrad.topk``, ``root=`` for ``structgrad.arborescence``);
* ``f`` maps structures of shape (S, *batch, *event) to losses (S, *batch);
* ``surrogate.backward()`` leaves in ``theta.grad[b]`` the estimate of the gradient of
  E[f(x_b)] (the surrogate sums over the batch; divide by the batch size for a mean), and
  gives whatever f closes over its gradient too;
* ``loss`` is the per-instance loss estimate (*batch), detached.
"""
import types
from typing import Callable, Dict, Optional, Tuple, Union

import torch

from . import _C

Loss = Callable[[torch.Tensor], torch.Tensor]
Family = Union[str, types.ModuleType, _C.Family]


def _family(family: Family, params: Dict[str, int]) -> _C.Family:
    """The C++ family value of a name, a family module or a value, with keyword parameters."""
    if isinstance(family, _C.Family):
        if params:
            return _C.family(family.name, {**family.params, **params})
        return family
    name = family if isinstance(family, str) else family.name
    return _C.family(name, params)


def exact(family: Family, theta: torch.Tensor, f: Loss, **params: int) -> Tuple[torch.Tensor, torch.Tensor]:
    """The exact gradient by enumerating every structure (seed 003, Eq. 2)."""
    return _C.estimators.exact(_family(family, params), theta, f)


def exact_traces(family: Family, theta: torch.Tensor, f: Loss, **params: int) -> Tuple[torch.Tensor, torch.Tensor]:
    """The exact gradient under the law of ``family.trace`` by enumerating every trace (small instances):
    the reference for the trace estimators, and the only exact one for arborescence traces."""
    return _C.estimators.exact_traces(_family(family, params), theta, f)


def straight_through(family: Family, theta: torch.Tensor, f: Loss,
                     generator: Optional[torch.Generator] = None, **params: int) -> Tuple[torch.Tensor, torch.Tensor]:
    """The exact sample forward, the gradient of the family's mean (its marginals) backward. Biased."""
    return _C.estimators.straight_through(_family(family, params), theta, f, generator)


def relaxed(family: Family, theta: torch.Tensor, f: Loss, tau: float = 1.0, hard: bool = False,
            regularizer: str = "", generator: Optional[torch.Generator] = None,
            backward: str = "", **params: int) -> Tuple[torch.Tensor, torch.Tensor]:
    """The stochastic softmax trick: f evaluated on ``family.relax(theta, tau, ...)`` (the family's
    default regularizer and backward unless given). Biased."""
    return _C.estimators.relaxed(_family(family, params), theta, f, tau, hard, regularizer, generator,
                                 backward)


def reinforce(family: Family, theta: torch.Tensor, f: Loss, num_samples: int = 8,
              generator: Optional[torch.Generator] = None, **params: int) -> Tuple[torch.Tensor, torch.Tensor]:
    """REINFORCE with ``num_samples`` >= 2 samples and the leave-one-out baseline. Unbiased."""
    return _C.estimators.reinforce(_family(family, params), theta, f, num_samples, generator)


def e_reinforce(family: Family, theta: torch.Tensor, f: Loss, num_samples: int = 1,
                generator: Optional[torch.Generator] = None, **params: int) -> Tuple[torch.Tensor, torch.Tensor]:
    """E-REINFORCE (seed 002 Eq. 1): the score of the exponential perturbation E behind each
    recursive Gumbel-Max sample, averaged over ``num_samples``. Unbiased; the highest variance."""
    return _C.estimators.e_reinforce(_family(family, params), theta, f, num_samples, generator)


def e_reinforce_plus(family: Family, theta: torch.Tensor, f: Loss, num_samples: int = 8,
                     generator: Optional[torch.Generator] = None, **params: int) -> Tuple[torch.Tensor, torch.Tensor]:
    """E-REINFORCE with ``num_samples`` >= 2 samples and the leave-one-out baseline. Unbiased."""
    return _C.estimators.e_reinforce_plus(_family(family, params), theta, f, num_samples, generator)


def t_reinforce(family: Family, theta: torch.Tensor, f: Loss, num_samples: int = 1,
                generator: Optional[torch.Generator] = None, **params: int) -> Tuple[torch.Tensor, torch.Tensor]:
    """T-REINFORCE (seed 002 Eq. 2): the score of the trace, averaged over ``num_samples``.
    Unbiased, with variance at most E-REINFORCE's (Eq. 5)."""
    return _C.estimators.t_reinforce(_family(family, params), theta, f, num_samples, generator)


def t_reinforce_plus(family: Family, theta: torch.Tensor, f: Loss, num_samples: int = 8,
                     generator: Optional[torch.Generator] = None, **params: int) -> Tuple[torch.Tensor, torch.Tensor]:
    """T-REINFORCE+ (seed 002 Eq. 7): ``num_samples`` >= 2 traces, leave-one-out baseline. Unbiased."""
    return _C.estimators.t_reinforce_plus(_family(family, params), theta, f, num_samples, generator)


def relax(family: Family, theta: torch.Tensor, f: Loss, control_variate: Optional[Callable] = None,
          tau: float = 1.0, regularizer: str = "", num_samples: int = 1,
          generator: Optional[torch.Generator] = None, **params: int) -> Tuple[torch.Tensor, torch.Tensor]:
    """RELAX (seed 002 Eq. 6): (f(x) - c(e~)) grad log P(T) - grad c(e~) + grad c(e), with e~ drawn
    from E given the trace. Unbiased.

    ``control_variate`` maps perturbations (S, *batch, *event) (theta + G) to (S, *batch). None:
    the relaxed loss f(relax_perturbed(e, tau)) of the family's SST relaxation. Given (a module),
    the surrogate also carries the variance objective sum ||g||^2, so ``surrogate.backward()`` gives
    its parameters the gradient that lowers the estimator's variance.
    """
    return _C.estimators.relax(_family(family, params), theta, f, control_variate, tau, regularizer,
                               num_samples, generator)


def gumbel_rao(family: Family, theta: torch.Tensor, f: Loss, tau: float = 1.0, regularizer: str = "",
               num_conditional: int = 8,
               generator: Optional[torch.Generator] = None, **params: int) -> Tuple[torch.Tensor, torch.Tensor]:
    """Gumbel-Rao (beyond the seeds): the exact sample forward; backward, the gradient of the SST
    relaxation at theta + G (G held fixed) averaged over ``num_conditional`` draws of G given the
    trace. The same expectation as ``relaxed(hard=True)`` (as biased), with less variance."""
    return _C.estimators.gumbel_rao(_family(family, params), theta, f, tau, regularizer, num_conditional,
                                    generator)


EpsSchedule = _C.estimators.EpsSchedule
EpsSchedule.__doc__ = """The epsilon annealing of seed 003 §5: every ``every`` steps,
eps = max(minimum, start * exp(-rate * step)). ``EpsSchedule().value(step)``."""


def direct(family: Family, theta: torch.Tensor, f: Loss, eps: Union[float, EpsSchedule] = 1.0, step: int = 0,
           argmax: str = "enumerate", costs: Optional[torch.Tensor] = None, labels: Optional[torch.Tensor] = None,
           labelled: Optional[torch.Tensor] = None,
           generator: Optional[torch.Generator] = None, **params: int) -> Tuple[torch.Tensor, torch.Tensor]:
    """Direct optimization through argmax (seed 003, Theorem 1): with one perturbation G, z* = map(theta + G)
    and the loss-augmented z*(eps) = argmax <theta + G, z> + eps f(z); the gradient estimate is
    (z*(eps) - z*) / eps. Biased for eps > 0; a negative eps is the other one-sided difference.

    ``eps``: a float, or an ``EpsSchedule`` evaluated at ``step``. ``argmax``: "enumerate" (exact: f on
    every structure, e.g. every category), "linear" (f(z) = <costs, z>, the family's own solver) or "flip"
    (seed 003 §4.1's low-dimensional approximation: costs from f with one part of z* switched on and off).
    ``labels`` (theta's shape) and ``labelled`` (*batch, bool): semi-supervision (§4.2), where the label
    replaces the loss-augmented prediction so that a descent step raises the label's score.
    """
    value = eps.value(step) if isinstance(eps, EpsSchedule) else float(eps)
    return _C.estimators.direct(_family(family, params), theta, f, value, argmax, costs, labels, labelled,
                                generator)


def direct_pairwise_binary(h: torch.Tensor, a: torch.Tensor, f: Loss, eps: Union[float, EpsSchedule] = 1.0,
                           step: int = 0, argmax: str = "enumerate", costs: Optional[torch.Tensor] = None,
                           labels: Optional[torch.Tensor] = None, labelled: Optional[torch.Tensor] = None,
                           pairwise_noise: bool = True, solver: str = "auto", time_limit: float = float("inf"),
                           generator: Optional[torch.Generator] = None) -> Tuple[torch.Tensor, torch.Tensor]:
    """Direct optimization for the structured encoder of seed 003 §4.1 (``structgrad.pairwise_binary``):
    score(z) = <h, z> + sum_{i<j} a_ij z_i z_j, perturbed as ``pairwise_binary.sample`` perturbs it, with
    z* and z*(eps) from ``pairwise_binary.map`` (``solver``, ``time_limit``). The surrogate gives h the
    estimate (z*(eps) - z*) / eps and a's upper triangle (z*(eps) z*(eps)^T - z* z*^T) / eps.

    ``argmax``: "enumerate" (exact, f on all 2^n states, n <= 16), "linear" (``costs`` (*batch, n)) or
    "flip" (the low-dimensional approximation f(z*_1, ..., z_i, ..., z*_n)). Augmenting moves only the
    unaries, so with ``pairwise_noise=False`` a supermodular a keeps max-flow usable. ``labels`` (*batch, n)
    and ``labelled`` (*batch) as in ``direct``.
    """
    value = eps.value(step) if isinstance(eps, EpsSchedule) else float(eps)
    return _C.estimators.direct_pairwise_binary(h, a, f, value, argmax, costs, labels, labelled, pairwise_noise,
                                                solver, time_limit, generator)


def arm(family: Family, theta: torch.Tensor, f: Loss, num_samples: int = 1,
        generator: Optional[torch.Generator] = None, **params: int) -> Tuple[torch.Tensor, torch.Tensor]:
    """ARM (augment-REINFORCE-merge, beyond the seeds) for ``structgrad.bernoulli``: two antithetic
    evaluations of f per sample, (f(1[u > sigmoid(-theta)]) - f(1[u < sigmoid(theta)])) (u - 1/2). Unbiased."""
    return _C.estimators.arm(_family(family, params), theta, f, num_samples, generator)


def available():
    """Every estimator with whether it is unbiased and a one-line description."""
    return _C.estimators.list()


def check(estimator: str, family: Family, theta: torch.Tensor, f: Loss, draws: int = 20000,
          seed: int = 0, tau: float = 1.0, hard: bool = False, regularizer: str = "",
          num_samples: int = 8, num_conditional: int = 8, eps: float = 1.0, argmax: str = "enumerate",
          alpha: float = 1e-3, **params: int) -> dict:
    """Compare ``draws`` independent draws of an estimator with the exact gradient by enumeration.

    theta is one instance (no batch dimension). Returns the exact gradient, the draws' mean,
    standard error, bias, max |z|, the critical z (Bonferroni at level alpha), the relative
    bias, a verdict and ``passed`` (False only when an unbiased estimator showed bias).
    """
    return _C.estimators.check(estimator, _family(family, params), theta, f, draws, seed, tau, hard,
                               regularizer, num_samples, num_conditional, eps, argmax, alpha)
