"""The package's C extensions; everything else is declared in pyproject.toml.

`sensorlab.inference._hop` (sensorlab/inference/_hop.c) runs the live windower's usual hop in
one call; `sensorlab.inference._ort` (sensorlab/inference/_ort.c) runs the live model through
onnxruntime's C API (its library is loaded at run time, not linked); `sensorlab.plotting._raster`
(sensorlab/plotting/_raster.c) fills the labeling view's signal envelopes into one image a frame. All are optional: without a C compiler (or Python's
headers) the install still succeeds, setuptools prints a warning, and the same work runs in
Python / NumPy with the same results (`sensorlab --version` says which runs; docs/INFERENCE.md,
docs/LABELING.md).
"""

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext


class _OptionalBuildExt(build_ext):
    """A failed build of the extension is a one-line note, not a failed install."""

    def build_extension(self, ext):
        try:
            super().build_extension(ext)
        except Exception as e:  # noqa: BLE001 - the compiler's error, whatever its type
            print(f"note: {ext.name} ({_WHAT[ext.name]}) was not built ({type(e).__name__}: {e}); "
                  f"the same work runs in Python", flush=True)  # fmt: skip


_WHAT = {"sensorlab.inference._hop": "the compiled live-inference hop", "sensorlab.inference._ort": "the live model run through onnxruntime's C API",
         "sensorlab.plotting._raster": "the compiled envelope raster"}

#: The live hop's C parts, compiled into both inference extensions (_hop.c's hop, _ort.c's one-call wake-up).
_HOP_PARTS = [f"sensorlab/inference/{h}" for h in ("_py_attrs.h", "_hop_core.h", "_hop_scan.h", "_hop_arrays.h")]


setup(
    ext_modules=[
        # -ffp-contract=off: no fused multiply-adds, so the window positions are the Python code's bits.
        # (_hop.c includes its parts, _hop_core.h with _hop_scan.h and _hop_arrays.h, and _py_attrs.h: one translation unit)
        Extension("sensorlab.inference._hop", ["sensorlab/inference/_hop.c"], depends=_HOP_PARTS,
                  extra_compile_args=["-O2", "-ffp-contract=off"], optional=True),
        # (the same: its row arithmetic gives the NumPy fallback's pixels)
        Extension("sensorlab.plotting._raster", ["sensorlab/plotting/_raster.c"], extra_compile_args=["-O2", "-ffp-contract=off"], optional=True),
        # No link-time dependency on onnxruntime: the extension dlopens the wheel's own library at run time.
        # (-ffp-contract=off: the wake-up's stats are the Python code's bits)
        # (_ort.c includes _ort_api.h, _ort_session.h, _ort_wake.h and the hop's parts, which its wake-up calls: one translation unit)
        Extension("sensorlab.inference._ort", ["sensorlab/inference/_ort.c"],
                  depends=[*_HOP_PARTS, "sensorlab/inference/_ort_api.h", "sensorlab/inference/_ort_session.h", "sensorlab/inference/_ort_wake.h"], extra_compile_args=["-O2", "-ffp-contract=off"], libraries=["dl"], optional=True),
    ],
    cmdclass={"build_ext": _OptionalBuildExt},
)
