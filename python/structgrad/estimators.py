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

The estimators, their defaults and their documentation are the C++ bindings' (python/src/module.cpp,
with the defaults of structgrad/estimators/estimators.h): each function here is the binding with its
signature and doc, taking the family by name, module or value.
"""
import ast
import inspect
from typing import Any, Callable, Dict, List

import torch

from . import _C
from ._family import as_family

EpsSchedule = _C.estimators.EpsSchedule

# Everything the bindings define that takes a family (and direct_pairwise_binary, which does not).
_ESTIMATORS = ["exact", "exact_traces", "exact_gibbs", "straight_through", "relaxed", "reinforce", "gibbs_reinforce",
               "e_reinforce", "e_reinforce_plus", "t_reinforce", "t_reinforce_plus", "relax", "rebar", "gumbel_rao", "direct",
               "direct_pairwise_binary", "arm", "check"]


def _arguments(header: str) -> List[str]:
    """The arguments of pybind11's signature line name(a: T, b: U = 1) -> R, split at the commas
    outside brackets (a type may be C++'s, like at::Tensor or c10::optional<...>)."""
    inside = header[header.index("(") + 1:header.rindex(")")]
    arguments, depth, current = [], 0, ""
    for character in inside:
        depth += character in "([<{"
        depth -= character in ")]>}"
        if character == "," and depth == 0:
            arguments.append(current.strip())
            current = ""
        else:
            current += character
    return [a for a in [*arguments, current.strip()] if a]


def _default(text: str) -> Any:
    # pybind11 writes a default as its Python repr; float("inf") comes out as inf.
    return float(text) if text in ("inf", "nan") else ast.literal_eval(text)


def _signature(binding: Callable) -> inspect.Signature:
    """The signature pybind11 writes as the first line of a binding's doc."""
    parameters = []
    for argument in _arguments(binding.__doc__.split("\n", 1)[0]):
        name, _, default = argument.partition(" = ")
        parameters.append(inspect.Parameter(name.split(":")[0].strip(), inspect.Parameter.POSITIONAL_OR_KEYWORD,
                                            default=_default(default) if default else inspect.Parameter.empty))
    return inspect.Signature(parameters)


def _doc(binding: Callable) -> str:
    return binding.__doc__.split("\n", 1)[1].strip()


def _checked_loss(estimator: str, f: Callable) -> Callable:
    """f, with a clear error where it returns something other than a tensor."""
    if not callable(f):
        raise TypeError(f"estimators.{estimator}: f must be callable, got {type(f).__name__}")

    def loss(structures):
        value = f(structures)
        if not isinstance(value, torch.Tensor):
            raise TypeError(f"estimators.{estimator}: f must return a tensor of losses (S, *batch), "
                            f"got {type(value).__name__}")
        return value

    return loss


def _wrap(name: str) -> Callable:
    binding = getattr(_C.estimators, name)
    signature = _signature(binding)
    names: List[str] = list(signature.parameters)

    if "family" in names:
        position = names.index("family")
        loss_position = names.index("f")

        def estimator(*args: Any, **kwargs: Any) -> Any:
            # Keywords the binding does not know are the family's parameters (k=3, root=0).
            params: Dict[str, int] = {key: kwargs.pop(key) for key in list(kwargs) if key not in signature.parameters}
            args = list(args)
            for index, key, wrap in ((position, "family", lambda family: as_family(family, params)),
                                     (loss_position, "f", lambda f: _checked_loss(name, f))):
                if index < len(args):
                    args[index] = wrap(args[index])
                elif key in kwargs:
                    kwargs[key] = wrap(kwargs[key])
            return binding(*args, **kwargs)

        parameters = [*signature.parameters.values(),
                      inspect.Parameter("params", inspect.Parameter.VAR_KEYWORD, annotation=int)]
        estimator.__signature__ = signature.replace(parameters=parameters)
    else:
        def estimator(*args: Any, **kwargs: Any) -> Any:
            return binding(*args, **kwargs)

        estimator.__signature__ = signature
    estimator.__name__ = estimator.__qualname__ = name
    estimator.__module__ = __name__
    estimator.__doc__ = _doc(binding)
    return estimator


for _name in _ESTIMATORS:
    globals()[_name] = _wrap(_name)


def available():
    """Every estimator with whether it is unbiased and a one-line description."""
    return _C.estimators.list()


__all__ = [*_ESTIMATORS, "EpsSchedule", "available"]
