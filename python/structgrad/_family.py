"""The structgrad.<family> modules, made from the C++ registry and the family operators.

Every verb of every family is a torch operator, ``torch.ops.structgrad.<family>_<verb>``, registered
by the C++ library with its schema and documentation (structgrad/structures/operators.h). The module
``structgrad.topk`` holds one function per operator of the topk family, with the operator's signature,
defaults and doc, so that a family's Python front end is written once, here, for all of them.
"""
import inspect
import sys
import types
from typing import Any, Callable, Dict, List, NamedTuple, Optional

import torch

from . import _C


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


# Schema types as torch prints them.
_PYTHON_TYPES = {"Tensor": torch.Tensor, "int": int, "float": float, "str": str, "bool": bool,
                 "Optional[Generator]": Optional[torch.Generator], "Optional[ScalarType]": Optional[torch.dtype]}


def _signature(schema) -> inspect.Signature:
    parameters = []
    for argument in schema.arguments:
        annotation = _PYTHON_TYPES.get(str(argument.type), inspect.Parameter.empty)
        default = argument.default_value if argument.has_default_value() else inspect.Parameter.empty
        parameters.append(inspect.Parameter(argument.name, inspect.Parameter.POSITIONAL_OR_KEYWORD,
                                            default=default, annotation=annotation))
    return inspect.Signature(parameters)


def _verb(family: str, verb: str, doc: str) -> Callable:
    qualified = f"structgrad::{family}_{verb}"
    op = getattr(torch.ops.structgrad, f"{family}_{verb}")
    schema, = torch._C._jit_get_schemas_for_operator(qualified)
    if verb == "trace":
        def function(*args: Any, **kwargs: Any) -> Trace:
            return Trace(*op(*args, **kwargs))
    else:
        def function(*args: Any, **kwargs: Any) -> Any:
            return op(*args, **kwargs)
    function.__name__ = function.__qualname__ = verb
    function.__module__ = f"structgrad.{family}"
    function.__doc__ = doc + f"\n\nThe torch operator torch.ops.structgrad.{family}_{verb}."
    function.__signature__ = _signature(schema)
    return function


def make_family_modules(package: str) -> Dict[str, types.ModuleType]:
    """One module per registered family, ``<package>.<family>``, registered in sys.modules."""
    verbs: Dict[str, List[dict]] = {}
    for operator in _C.operators():
        verbs.setdefault(operator["family"], []).append(operator)
    modules = {}
    # The registry's families, then those with operators but no Family value (pairwise_binary).
    entries = [*_C.families(), *[{"name": name, "doc": doc, "parameters": []}
                                  for name, doc in _C.operator_families().items()]]
    for entry in entries:
        name = entry["name"]
        module = types.ModuleType(f"{package}.{name}", entry["doc"] + _parameters_doc(entry["parameters"]))
        module.name = name
        module.parameters = {p["name"]: p["default"] for p in entry["parameters"]}
        module.__all__ = ["name"]
        for operator in verbs.get(name, []):
            setattr(module, operator["verb"], _verb(name, operator["verb"], operator["doc"]))
            module.__all__.append(operator["verb"])
        sys.modules[module.__name__] = module
        modules[name] = module
    return modules


def _parameters_doc(parameters: List[dict]) -> str:
    if not parameters:
        return ""
    lines = [f"    {p['name']}: {p['doc']}" + ("" if p["default"] is None else f" (default {p['default']})")
             for p in parameters]
    return "\n\nParameters, given to every verb:\n" + "\n".join(lines)


def as_family(family: Any, params: Dict[str, int]) -> "_C.Family":
    """The C++ family value of a name, a family module or a value, with keyword parameters."""
    if isinstance(family, _C.Family):
        if params:
            return _C.family(family.name, {**family.params, **params})
        return family
    if isinstance(family, str):
        return _C.family(family, params)
    if isinstance(family, types.ModuleType) and hasattr(family, "name"):
        return _C.family(family.name, params)
    raise TypeError(f"family must be a family name, a structgrad family module or structgrad.family(...), "
                    f"got {type(family).__name__}")


def family(name: str, **params: int) -> "_C.Family":
    """The family ``name`` with its parameters, as the estimators take it: ``family("topk", k=3)``."""
    return _C.family(name, params)
