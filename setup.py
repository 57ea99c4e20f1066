"""The wheel's build: CMake builds the extension structgrad._C and the library it links, and
installs both (component "python") next to the package's Python files, with _C finding the
library through RPATH $ORIGIN.

    python3 -m pip wheel --no-build-isolation --no-deps .

CMake works in STRUCTGRAD_BUILD_DIR (default: build, the Makefile's), so a wheel built after
`make build` compiles nothing again.
"""
import os
import subprocess
import sys

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

ROOT = os.path.dirname(os.path.abspath(__file__))


class CMakeExtension(Extension):
    def __init__(self, name: str):
        super().__init__(name, sources=[])


class CMakeBuild(build_ext):
    def build_extension(self, ext: Extension) -> None:
        build_dir = os.path.abspath(os.environ.get("STRUCTGRAD_BUILD_DIR", os.path.join(ROOT, "build")))
        # The directory that holds the package directory structgrad/ in the wheel.
        wheel_root = os.path.dirname(os.path.dirname(os.path.abspath(self.get_ext_fullpath(ext.name))))
        jobs = os.environ.get("STRUCTGRAD_BUILD_JOBS", str(os.cpu_count() or 1))
        subprocess.check_call(["cmake", "-S", ROOT, "-B", build_dir, "-DCMAKE_BUILD_TYPE=Release",
                               f"-DPython3_EXECUTABLE={sys.executable}"])
        subprocess.check_call(["cmake", "--build", build_dir, "--target", "_C", "-j", jobs])
        subprocess.check_call(["cmake", "--install", build_dir, "--component", "python", "--prefix", wheel_root])


setup(ext_modules=[CMakeExtension("structgrad._C")], cmdclass={"build_ext": CMakeBuild})
