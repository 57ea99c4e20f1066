"""Property tests (hypothesis, derandomized so that a run is deterministic) of the family verbs:
a batch gives what its instances give one by one, and extra leading dimensions give what the
flattened batch gives, samplers included (their noise is drawn in theta's element order)."""
import inspect

import torch
from hypothesis import given, settings, strategies as st

import structgrad

PARAMS = {"topk": {"k": 2}, "correlated_topk": {"k": 2}, "arborescence": {"root": 0}}
MATRIX = ("permutation", "matching", "spanning_tree", "arborescence")
FAMILIES = [entry["name"] for entry in structgrad.families()]
DETERMINISTIC = ("map", "marginals", "log_partition", "entropy")
SAMPLERS = ("sample", "relax", "gibbs_sample")
SETTINGS = settings(max_examples=15, deadline=None, derandomize=True)


@st.composite
def instances(draw, name, batch):
    """theta (batch, *event) for the family `name`: logits in [-20, 20], symmetric where it must be."""
    n = draw(st.integers(3 if name in ("topk", "correlated_topk") else 1, 6))
    event = (2 * n - 1,) if name == "correlated_topk" else (n, n) if name in MATRIX else (n,)
    size = batch * int(torch.tensor(event).prod())
    values = draw(st.lists(st.floats(-20, 20, allow_nan=False, width=64), min_size=size, max_size=size))
    theta = torch.tensor(values, dtype=torch.float64).view((batch,) + event)
    if name in ("matching", "spanning_tree"):
        theta = (theta + theta.transpose(-1, -2)) / 2
    return theta


def call(name, verb, theta, seed=None):
    function = getattr(getattr(structgrad, name), verb)
    accepted = inspect.signature(function).parameters
    kwargs = {k: v for k, v in PARAMS.get(name, {}).items() if k in accepted}
    if "tau" in accepted:
        kwargs["tau"] = 0.5
    if seed is not None:
        kwargs["generator"] = torch.Generator().manual_seed(seed)
    out = function(theta, **kwargs)
    return list(out) if isinstance(out, tuple) else [out]


def verbs(name, among):
    return [v for v in among if v in getattr(structgrad, name).__all__]


def check_family(name, theta_batch, theta_grid):
    for verb in verbs(name, DETERMINISTIC):
        whole = call(name, verb, theta_batch)
        for i in range(theta_batch.shape[0]):
            one = call(name, verb, theta_batch[i:i + 1])
            for a, b in zip(whole, one):
                torch.testing.assert_close(a[i:i + 1], b, rtol=1e-12, atol=1e-12, msg=f"{name}.{verb} instance {i}")
    flat = theta_grid.reshape((-1,) + theta_grid.shape[2:])
    for verb in verbs(name, DETERMINISTIC) + verbs(name, SAMPLERS):
        seed = None if verb in DETERMINISTIC else 5
        grid, flattened = call(name, verb, theta_grid, seed), call(name, verb, flat, seed)
        for a, b in zip(grid, flattened):
            assert a.shape[:2] == theta_grid.shape[:2], (name, verb)
            torch.testing.assert_close(a.reshape(b.shape), b, rtol=0, atol=0, msg=f"{name}.{verb} leading dimensions")


def make_test(name):
    @SETTINGS
    @given(st.data())
    def test(data):
        theta_batch = data.draw(instances(name, 3))
        grid = data.draw(instances(name, 6))  # its own instance size
        check_family(name, theta_batch, grid.reshape((2, 3) + grid.shape[1:]))
    test.__name__ = f"test_batch_properties_{name}"
    return test


for _name in FAMILIES:
    globals()[f"test_batch_properties_{_name}"] = make_test(_name)
