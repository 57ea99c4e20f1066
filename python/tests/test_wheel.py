"""The pip wheel: built offline from the checkout, installed into a fresh virtual environment
(with the system's torch), imported from outside the checkout."""
import glob
import os
import subprocess
import sys

from conftest import ROOT


def test_wheel_builds_offline_and_imports_in_a_venv(tmp_path):
    wheels = tmp_path / "wheels"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["STRUCTGRAD_BUILD_DIR"] = os.environ.get("STRUCTGRAD_BUILD_DIR", os.path.join(ROOT, "build"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-build-isolation", "--no-deps", "--no-index",
                    "-w", str(wheels), ROOT], check=True, env=env, capture_output=True)
    wheel, = glob.glob(str(wheels / "structgrad-*.whl"))
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], check=True)
    python = str(venv / "bin" / "python")
    subprocess.run([python, "-m", "pip", "install", "--no-deps", "--no-index", wheel], check=True, env=env,
                   capture_output=True)
    script = ("import structgrad, torch\n"
              "theta = torch.randn(2, 4, 4, dtype=torch.float64)\n"
              "theta = (theta + theta.transpose(-1, -2)) / 2\n"
              "m = torch.ops.structgrad.spanning_tree_marginals(theta)\n"
              "assert torch.equal(m, structgrad.spanning_tree.marginals(theta))\n"
              "print(structgrad.__file__)\n")
    out = subprocess.run([python, "-c", script], check=True, env=env, cwd=str(tmp_path), capture_output=True,
                         text=True)
    assert out.stdout.strip().startswith(str(venv)), out.stdout
