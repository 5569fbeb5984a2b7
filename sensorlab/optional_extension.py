"""An optional C extension of the package: the built module when there is one, else why not.

setup.py builds three (`sensorlab.inference._hop`, `sensorlab.inference._ort`, `sensorlab.plotting._raster`); both are
optional, so an install without a C compiler still works and the same work runs in Python or
NumPy. Each user loads its extension here and says which code runs (`sensorlab --version`).

It imports nothing of sensorlab (an import-linter contract keeps it so): the plotting and
inference packages both use it.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from types import ModuleType

# How to build the extensions, for the message when one is missing.
_HOW_TO_BUILD = ("`pip install -e .` with a C compiler and Python's headers builds it; a source tree used from "
                 "PYTHONPATH: `python setup.py build_ext --inplace`")  # fmt: skip


@dataclass(frozen=True)
class OptionalExtension:
    """A compiled module (``module``, None when it is not built) and the words for which runs."""

    module: ModuleType | None
    what: str  # what it does, e.g. "live inference hop"
    source: str  # its C file, e.g. "sensorlab/inference/_hop.c"
    fallback: str  # what runs without it, e.g. "pure Python"
    why_not: str = ""  # the ImportError's message when it is not built

    def not_built(self) -> str:
        """Why the compiled code does not run, and how to build it ("" when it is built)."""
        return "" if self.module is not None else f"the C extension {self.source} is not built: {self.why_not}; {_HOW_TO_BUILD}"

    def which_runs(self) -> str:
        """One line: the compiled code runs, or the fallback and why (and how to build it)."""
        if self.module is not None:
            return f"{self.what}: compiled ({self.source})"
        return f"{self.what}: {self.fallback} ({self.not_built()})"


def load_optional_extension(name: str, what: str, fallback: str) -> OptionalExtension:
    """Import the extension module ``name`` (e.g. ``"sensorlab.plotting._raster"``, built next
    to its C file of the same name) if it is built."""
    source = name.replace(".", "/") + ".c"
    try:
        return OptionalExtension(importlib.import_module(name), what, source, fallback)
    except ImportError as e:  # not built (no compiler, or a source checkout never installed)
        return OptionalExtension(None, what, source, fallback, str(e))


__all__ = ["OptionalExtension", "load_optional_extension"]
