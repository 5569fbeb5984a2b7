"""The package's one C extension; everything else is declared in pyproject.toml.

`sensorlab.inference._hop` (sensorlab/inference/_hop.c) runs the live windower's usual hop in
one call. It is optional: without a C compiler (or Python's headers) the install still
succeeds, setuptools prints a warning, and live inference runs the same hop in pure Python
(`sensorlab --version` says which one runs; docs/INFERENCE.md).
"""

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext


class _OptionalBuildExt(build_ext):
    """A failed build of the extension is a one-line note, not a failed install."""

    def build_extension(self, ext):
        try:
            super().build_extension(ext)
        except Exception as e:  # noqa: BLE001 - the compiler's error, whatever its type
            print(f"note: {ext.name} (the compiled live-inference hop) was not built ({type(e).__name__}: {e}); "
                  f"live inference uses the pure-Python hop", flush=True)  # fmt: skip


setup(
    ext_modules=[
        # -ffp-contract=off: no fused multiply-adds, so the window positions are the Python code's bits.
        Extension("sensorlab.inference._hop", ["sensorlab/inference/_hop.c"], extra_compile_args=["-O2", "-ffp-contract=off"], optional=True),
    ],
    cmdclass={"build_ext": _OptionalBuildExt},
)
