import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "python"))


def cli_path():
    """The built `structgrad` executable (STRUCTGRAD_CLI overrides)."""
    return os.environ.get("STRUCTGRAD_CLI", os.path.join(ROOT, "build", "structgrad"))
