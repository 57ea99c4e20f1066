"""Continuous relaxations, and the Gibbs distributions over structures, as torch.distributions."""
from typing import Any, NamedTuple, Optional

import torch
from torch.distributions import Distribution, constraints
from torch.distributions.kl import register_kl

from . import _C
from ._family import as_family


class _RelaxedCategorical(Distribution):
    """What ExpConcrete and Concrete share: logits, a temperature, and two C++ kernels."""

    arg_constraints = {"logits": constraints.real_vector}
    has_rsample = True

    def __init__(self, temperature: float, logits: torch.Tensor, validate_args=None):
        self.temperature = float(temperature)
        self.logits = logits
        super().__init__(logits.shape[:-1], logits.shape[-1:], validate_args=validate_args)

    def rsample(self, sample_shape=torch.Size(), generator: Optional[torch.Generator] = None):
        return self._rsample_kernel(self.logits, self.temperature, list(sample_shape), generator)

    def sample(self, sample_shape=torch.Size(), generator: Optional[torch.Generator] = None):
        with torch.no_grad():
            return self.rsample(sample_shape, generator)

    def log_prob(self, value):
        return self._log_prob_kernel(self.logits, self.temperature, value)


class ExpConcrete(_RelaxedCategorical):
    """The Concrete distribution in log space (Maddison et al. 2017): y = log_softmax((logits + G) / tau).

    ``log_prob`` is computed without leaving log space, so it stays finite at temperatures where
    the Concrete density of exp(y) underflows. Its base measure is Maddison et al.'s, the same as
    ``torch.distributions.ExpRelaxedCategorical``.
    """

    support = constraints.real_vector
    _rsample_kernel = staticmethod(_C.distributions.exp_concrete_rsample)
    _log_prob_kernel = staticmethod(_C.distributions.exp_concrete_log_prob)


class Concrete(_RelaxedCategorical):
    """The Concrete / Gumbel-softmax distribution on the simplex: x = softmax((logits + G) / tau)."""

    support = constraints.simplex
    _rsample_kernel = staticmethod(_C.distributions.concrete_rsample)
    _log_prob_kernel = staticmethod(_C.distributions.concrete_log_prob)


class _InvertibleGaussian(Distribution):
    """Invertible Gaussian reparameterization (seed 004 §4): z = g(loc + scale * eps, temperature).

    ``loc`` and ``scale`` are (*batch, D); samples are points of the simplex with K = D + 1
    entries, (*sample_shape, *batch, K). ``log_prob`` is the density of z by change of variables
    (Lebesgue measure on its first K - 1 entries), -inf outside the open simplex;
    ``log_prob_log_space`` takes log z and stays finite where z rounds to a vertex.
    ``rsample_with_log_prob`` returns the draw with z, log_z, log_prob, num_categories and the
    Gaussian ``latent``.

    ``mean``, ``variance`` and ``entropy`` raise NotImplementedError: none has a closed form (the
    mean is a logistic-normal integral, the entropy needs E[log |det J_g|]), and a silent Monte
    Carlo value would hide its error. ``mean_estimate(num_samples, generator)`` returns the Monte
    Carlo mean with its standard error.
    """

    arg_constraints = {"loc": constraints.real_vector, "scale": constraints.independent(constraints.positive, 1)}
    support = constraints.simplex
    has_rsample = True

    def __init__(self, core, loc: torch.Tensor, scale: torch.Tensor, temperature: float, delta: float,
                 validate_args=None):
        self._core = core
        self.loc, self.scale = loc, scale
        self.temperature, self.delta = float(temperature), float(delta)
        super().__init__(loc.shape[:-1], torch.Size([loc.shape[-1] + 1]), validate_args=validate_args)

    def _settings(self) -> str:
        """The constructor's scalar arguments, for the repr."""
        return f"temperature: {self.temperature:g}, delta: {self.delta:g}"

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(loc: {tuple(self.loc.shape)}, scale: {tuple(self.scale.shape)}, "
                f"{self._settings()})")

    def _rebuild(self, loc: torch.Tensor, scale: torch.Tensor, batch_shape: torch.Size):
        """The same distribution with loc and scale of batch shape ``batch_shape``."""
        raise NotImplementedError

    def expand(self, batch_shape, _instance=None):
        """The distribution with its parameters broadcast to ``batch_shape`` (a view, no copy)."""
        batch_shape = torch.Size(batch_shape)
        event = self.loc.shape[-1:]
        try:
            loc, scale = self.loc.expand(batch_shape + event), self.scale.expand(batch_shape + event)
        except RuntimeError as error:
            raise ValueError(f"{type(self).__name__}.expand: batch_shape {tuple(batch_shape)} does not extend "
                             f"the batch shape {tuple(self.batch_shape)}") from error
        return self._rebuild(loc, scale, batch_shape)

    def rsample(self, sample_shape=torch.Size(), generator: Optional[torch.Generator] = None, hard: bool = False):
        """z, or with ``hard`` its one-hot argmax forward and z's gradient backward (straight-through)."""
        return self._core.rsample(list(sample_shape), generator, hard)

    def sample(self, sample_shape=torch.Size(), generator: Optional[torch.Generator] = None, hard: bool = False):
        with torch.no_grad():
            return self.rsample(sample_shape, generator, hard)

    def rsample_with_log_prob(self, sample_shape=torch.Size(), generator: Optional[torch.Generator] = None):
        return self._core.rsample_with_log_prob(list(sample_shape), generator)

    def mean_estimate(self, num_samples: int, generator: Optional[torch.Generator] = None):
        """(estimate, standard_error) of E[z] from num_samples >= 2 draws, each (*batch, K).

        For IGRStickBreaking K is the largest number of categories among the draws, entries past a
        draw's own K counting as 0. Differentiable in loc and scale.
        """
        return self._core.mean_estimate(num_samples, generator)

    def _no_closed_form(self, quantity: str):
        return NotImplementedError(
            f"{type(self).__name__}.{quantity}: IGR has no closed-form {quantity} (z is a Gaussian pushed through "
            "an invertible map onto the simplex); use mean_estimate(num_samples, generator) for a Monte Carlo "
            "mean with its standard error")

    @property
    def mean(self):
        raise self._no_closed_form("mean")

    @property
    def variance(self):
        raise self._no_closed_form("variance")

    def entropy(self):
        raise self._no_closed_form("entropy")

    def transform(self, y: torch.Tensor):
        """Pushes Gaussian points y (*, D) through g: the same record as ``rsample_with_log_prob``."""
        return self._core.transform(y)

    def log_prob(self, value, num_categories: Optional[torch.Tensor] = None):
        return self._core.log_prob(value, num_categories)

    def log_prob_log_space(self, log_value, num_categories: Optional[torch.Tensor] = None):
        return self._core.log_prob_log_space(log_value, num_categories)


class IGR(_InvertibleGaussian):
    """IGR with softmax++ (Eq. 21): z = softmax++((loc + scale * eps) / temperature; delta)."""

    def __init__(self, temperature: float, loc: torch.Tensor, scale: torch.Tensor, delta: float = 0.1,
                 validate_args=None):
        super().__init__(_C.distributions.IGR(loc, scale, float(temperature), float(delta)), loc, scale,
                         temperature, delta, validate_args)

    def _rebuild(self, loc, scale, batch_shape):
        return IGR(self.temperature, loc, scale, self.delta, self._validate_args)


class IGRPlanar(_InvertibleGaussian):
    """IGR with planar flow layers y + u_l tanh(w_l . y + b_l) before softmax++.

    u, w: (L, D) or (L, *batch, D); b: (L,) or (L, *batch). u is reparameterized so that every
    layer is invertible; ``log_prob`` inverts the flow numerically and stays differentiable.
    """

    def __init__(self, temperature: float, loc: torch.Tensor, scale: torch.Tensor, u: torch.Tensor, w: torch.Tensor,
                 b: torch.Tensor, delta: float = 0.1, validate_args=None):
        self.u, self.w, self.b = u, w, b
        super().__init__(_C.distributions.IGRPlanar(loc, scale, u, w, b, float(temperature), float(delta)), loc,
                         scale, temperature, delta, validate_args)

    def _settings(self) -> str:
        return f"layers: {self.u.shape[0]}, " + super()._settings()

    def _rebuild(self, loc, scale, batch_shape):
        layers, dim = self.u.shape[0], self.u.shape[-1]
        # Per-instance flows (L, *batch, D) follow the batch; shared ones (L, D) stay shared.
        u, w, b = self.u, self.w, self.b
        if u.dim() > 2:
            # New batch dimensions go on the left of the old ones, behind the layer dimension.
            ones = (1,) * (len(batch_shape) - (u.dim() - 2))
            u = u.reshape((layers,) + ones + u.shape[1:]).expand((layers,) + batch_shape + (dim,))
            w = w.reshape((layers,) + ones + w.shape[1:]).expand((layers,) + batch_shape + (dim,))
            b = b.reshape((layers,) + ones + b.shape[1:]).expand((layers,) + batch_shape)
        return IGRPlanar(self.temperature, loc, scale, u, w, b, self.delta, self._validate_args)


class IGRStickBreaking(_InvertibleGaussian):
    """IGR-SB (Eq. 24): softmax++ of the stick-breaking of sigmoid(y), truncated per draw.

    A draw uses the fewest sticks K - 1 (at most D) whose leftover is below 1 - rho, so K follows
    the data: samples are (*, W) with W the largest K of the draw, zero after each row's K, and
    ``rsample_with_log_prob(...).num_categories`` gives each K. Pass it to ``log_prob`` for such
    padded values. ``kl_divergence`` gives the KL of the untruncated D-stick relaxation, an upper
    bound for the truncated one; ``monte_carlo_kl`` of two IGR-SB scores the Gaussians at the
    latent draw, the truncated KL's unbiased estimate.

    ``log_prob`` inverts z to y stick by stick; where a stick's sigmoid is within 1e4 machine
    epsilons of 1 (y beyond about 27 in float64, 7 in float32) z no longer determines y, and it
    answers -inf there rather than a finite wrong value. The log-probability that
    ``rsample_with_log_prob`` returns with each draw is computed from y and stays exact.

    The pathwise gradient of ``rsample`` is biased: K is a step function of loc and scale (a draw
    stops at the first stick whose leftover falls below 1 - rho), and differentiating z leaves
    out the jump of f(z) where K changes. Measured for d E[sum_k k z_k] / d loc_0 with loc = 0,
    scale = 1, D = 6, rho = 0.9: -0.095 pathwise against -0.35 +- 0.05 by finite differences on
    the same noise at temperature 1, -0.437 against -0.455 +- 0.006 at 0.1, and equal at 0.01
    (test_igr.py tests the first and the last). Use low temperatures, as seed 004 does, or a
    score-function term for K where the bias matters.
    """

    def __init__(self, temperature: float, loc: torch.Tensor, scale: torch.Tensor, delta: float = 0.1,
                 rho: float = 0.99, validate_args=None):
        self.rho = float(rho)
        super().__init__(_C.distributions.IGRStickBreaking(loc, scale, float(temperature), float(delta), self.rho),
                         loc, scale, temperature, delta, validate_args)

    def _settings(self) -> str:
        return super()._settings() + f", rho: {self.rho:g}"

    def _rebuild(self, loc, scale, batch_shape):
        return IGRStickBreaking(self.temperature, loc, scale, self.delta, self.rho, self._validate_args)


def hard(z: torch.Tensor) -> torch.Tensor:
    """The one-hot argmax of z forward, z's gradient backward (straight-through)."""
    if z.dim() == 0 or z.shape[-1] == 0:
        raise ValueError(f"hard: z must have at least one category in its last dimension, got shape {tuple(z.shape)}")
    return _C.distributions.hard(z)


@register_kl(IGR, IGR)
@register_kl(IGRPlanar, IGRPlanar)
@register_kl(IGRStickBreaking, IGRStickBreaking)
def _kl_invertible_gaussian(p, q):
    # Eq. 19: a shared invertible map leaves the Gaussian KL unchanged.
    return _C.distributions.igr_kl_divergence(p._core, q._core)


def monte_carlo_kl(p: Distribution, q: Distribution, num_samples: int, generator: Optional[torch.Generator] = None):
    """(estimate, standard_error) of KL(p || q) from num_samples draws of p, in log space.

    For two ExpConcrete or two Concrete (scored on the log-simplex, the same KL), or two IGR
    variants with the same latent dimension.
    """
    if isinstance(p, (ExpConcrete, Concrete)) and type(p) is type(q):
        if p.temperature != q.temperature:
            raise ValueError("monte_carlo_kl: p and q must have the same temperature")
        return _C.distributions.exp_concrete_monte_carlo_kl(p.logits, q.logits, p.temperature, num_samples, generator)
    if isinstance(p, _InvertibleGaussian) and isinstance(q, _InvertibleGaussian):
        return _C.distributions.igr_monte_carlo_kl(p._core, q._core, num_samples, generator)
    raise ValueError(f"monte_carlo_kl: unsupported pair {type(p).__name__}, {type(q).__name__}")


class PriorFit(NamedTuple):
    loc: torch.Tensor
    scale: Optional[torch.Tensor]
    probabilities: torch.Tensor
    total_variation: float
    argmax_total_variation: float
    initial_total_variation: float


def _target_pmf(target, num_categories: Optional[int]) -> torch.Tensor:
    if isinstance(target, torch.Tensor):
        return target.to(torch.float64)
    if isinstance(target, Distribution):
        pmf = lambda k: target.log_prob(k).exp()  # noqa: E731
    elif callable(target):
        pmf = target
    else:
        raise ValueError("fit_prior: target must be a tensor, a callable k -> pmf(k) or a torch distribution")
    if num_categories is not None:
        return torch.as_tensor(pmf(torch.arange(num_categories, dtype=torch.float64)), dtype=torch.float64)
    # Countably infinite support: evaluate until all but 1e-6 of the mass is covered.
    values, length = [], 0
    while length < 100_000:
        values.append(torch.as_tensor(pmf(torch.arange(length, length + 256, dtype=torch.float64)), dtype=torch.float64))
        length += 256
        cumulative = torch.cat(values).cumsum(0)
        covered = (cumulative >= 1 - 1e-6).nonzero()
        if len(covered):
            return torch.cat(values)[: int(covered[0]) + 1]
    raise ValueError("fit_prior: the target's first 100000 values hold less than 1 - 1e-6 of its mass")


def fit_prior(target, family: str = "igr_sb", num_categories: Optional[int] = None, temperature: float = 0.01,
              delta: float = 0.1, rho: float = 0.99, hard: bool = False, steps: int = 1000, num_samples: int = 512,
              learning_rate: float = 0.05, init_scale: float = 3.0, eval_samples: int = 50000,
              seed: int = 0) -> PriorFit:
    """Fits the parameters of an IGR ("igr", "igr_sb") or Gumbel-softmax ("concrete") to a pmf (Eq. 20).

    target: a pmf over 0, 1, ... as a tensor, a callable k -> pmf(k) (k a float64 tensor), or a
    discrete torch distribution; for the last two, num_categories values are used, or as many as
    hold all but 1e-6 of the mass. The induced pmf is the mean of z (of its argmax with ``hard``)
    over draws; the total variation includes the target's mass beyond the modelled categories.
    Deterministic under ``seed``.
    """
    pmf = _target_pmf(target, num_categories)
    fit = _C.distributions.fit_prior(pmf, family, num_categories or 0, temperature, delta, rho, hard, steps,
                                     num_samples, learning_rate, init_scale, eval_samples, seed)
    return PriorFit(**fit)


__all__ = ["ExpConcrete", "Concrete", "IGR", "IGRPlanar", "IGRStickBreaking", "hard", "monte_carlo_kl", "PriorFit",
           "fit_prior"]


class _Structures(constraints.Constraint):
    """0/1 indicator tensors with the family's event dimensions (their combinatorial validity is the
    family's to know: gibbs_log_prob gives -inf to a structure on an absent part)."""

    is_discrete = True

    def __init__(self, event_dim: int):
        self.event_dim = event_dim
        super().__init__()

    def check(self, value):
        indicator = (value == 0) | (value == 1)
        return indicator.flatten(-self.event_dim).all(-1)


class Gibbs(Distribution):
    """The Gibbs distribution p(x) ∝ exp(<theta, x>) over a family's structures (seed 000, "Latent
    Spanning Trees", "Latent Arborescence"; an undirected edge scores once).

    ``Gibbs("spanning_tree", theta)``, ``Gibbs(structgrad.topk, theta, k=3)``,
    ``Gibbs(structgrad.family("arborescence", root=2), theta)``. Families: spanning_tree,
    arborescence, topk, correlated_topk, bernoulli, categorical. ``sample`` is exact (Wilson's
    algorithm or the sequential matrix-tree sampler for trees, backward sampling for k-subsets);
    ``log_prob``, ``entropy``, ``mean`` (the marginals) and ``torch.distributions.kl_divergence``
    between two ``Gibbs`` of one family are differentiable in theta. ``mode`` is the family's map.
    """

    arg_constraints = {"theta": constraints.real}  # -inf: an absent part
    has_rsample = False

    def __init__(self, family: Any, theta: torch.Tensor, validate_args=None, **params: int):
        self.family = as_family(family, params)
        self.theta = theta
        self._params = dict(self.family.params)
        dims = self.family.event_dim
        if theta.dim() < dims:
            raise ValueError(f"Gibbs: theta must have at least {dims} dimension(s) for {self.family.name}, "
                             f"got shape {tuple(theta.shape)}")
        super().__init__(theta.shape[:theta.dim() - dims], theta.shape[theta.dim() - dims:],
                         validate_args=validate_args)

    def _verb(self, verb: str):
        try:
            return getattr(torch.ops.structgrad, f"{self.family.name}_{verb}")
        except (AttributeError, RuntimeError):
            raise ValueError(f"Gibbs: the family {self.family.name} has no Gibbs distribution "
                             f"(no {verb})") from None

    @property
    def support(self):
        return _Structures(self.family.event_dim)

    def sample(self, sample_shape=torch.Size(), generator: Optional[torch.Generator] = None):
        theta = self.theta.detach().expand(torch.Size(sample_shape) + self.theta.shape)
        return self._verb("gibbs_sample")(theta, generator=generator, **self._params)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return self._verb("gibbs_log_prob")(self.theta, value, **self._params)

    def entropy(self):
        return self._verb("entropy")(self.theta, **self._params)

    @property
    def mean(self):
        return self._verb("marginals")(self.theta, **self._params)

    @property
    def mode(self):
        return self._verb("map")(self.theta, **self._params)

    def expand(self, batch_shape, _instance=None):
        theta = self.theta.expand(torch.Size(batch_shape) + self.event_shape)
        return Gibbs(self.family, theta, validate_args=self._validate_args)


@register_kl(Gibbs, Gibbs)
def _kl_gibbs(p: Gibbs, q: Gibbs):
    if p.family.name != q.family.name or p.family.params != q.family.params:
        raise ValueError(f"kl_divergence: both Gibbs distributions must be of one family with one set of parameters, "
                         f"got {p.family!r} and {q.family!r}")
    theta_p, theta_q = torch.broadcast_tensors(p.theta, q.theta)
    return p._verb("kl_divergence")(theta_p, theta_q, **p._params)
