"""Which Python runs the TFLite commands, and their command lines (no Qt: the GUI and CLI share it).

The PyTorch → TFLite converter (litert-torch, ~2 GB with jax) pins older pydantic and
typing_extensions than the rest of sensorlab, so it lives in its own virtual environment,
built by ``make tflite-env`` as ``.venv-tflite`` in the project checkout. The studio keeps
running in the main environment and starts ``sensorlab export --format tflite`` and
``sensorlab export-c`` with that environment's interpreter, found in this order:

1. ``SENSORLAB_TFLITE_PYTHON``: a Python the user points at (it must exist);
2. ``.venv-tflite/bin/python`` (Windows: ``Scripts/python.exe``) beside the project checkout;
3. the running interpreter, if it can import ``litert_torch``.

The child runs the sensorlab code of *this* checkout (its folder goes first on PYTHONPATH),
whatever the other environment has installed: the GUI and the command stay the same version.
"""

from __future__ import annotations

import importlib.util
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path

ENV_VAR = "SENSORLAB_TFLITE_PYTHON"
VENV_DIR = ".venv-tflite"
MAKE_TARGET = "make tflite-env"
INT8_FILE = "model.int8.tflite"
FP32_FILE = "model.tflite"


def source_root() -> Path:
    """The folder holding the running ``sensorlab`` package (the project checkout for an editable install)."""
    return Path(__file__).resolve().parents[2]


def _venv_python(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


@dataclass(frozen=True)
class TfliteEnvironment:
    """``python`` runs the TFLite commands (None: no environment found, ``problem`` says why and the fix);
    ``source`` says where it was found, for the GUI to show."""

    python: Path | None
    source: str
    problem: str = ""

    @property
    def found(self) -> bool:
        return self.python is not None


def find_tflite_python(environ: dict[str, str] | None = None, project: Path | None = None) -> TfliteEnvironment:
    """The TFLite environment's interpreter, looked up in the documented order (module docstring)."""
    environ = os.environ if environ is None else environ
    project = source_root() if project is None else Path(project)
    chosen = environ.get(ENV_VAR, "").strip()
    if chosen:
        path = Path(chosen).expanduser()
        if path.is_file() and os.access(path, os.X_OK):
            return TfliteEnvironment(path, ENV_VAR)
        return TfliteEnvironment(None, ENV_VAR, f"{ENV_VAR}={chosen} is not an executable file: point it at the python of an "
                                                f"environment with litert-torch, or unset it and run `{MAKE_TARGET}` in {project}")  # fmt: skip
    venv_python = _venv_python(project / VENV_DIR)
    if venv_python.is_file():
        return TfliteEnvironment(venv_python, VENV_DIR)
    if importlib.util.find_spec("litert_torch") is not None:
        return TfliteEnvironment(Path(sys.executable), "this interpreter")
    return TfliteEnvironment(None, "", missing_message(project))


def missing_message(project: Path | None = None) -> str:
    """What to do when no TFLite environment is found (the converter is not installed anywhere we look)."""
    project = source_root() if project is None else Path(project)
    return (f"the TFLite converter (litert-torch, ~2 GB) lives in its own environment, not installed yet: run `{MAKE_TARGET}` "
            f"in {project} (a few minutes, once), or set {ENV_VAR} to the python of an environment that has it")  # fmt: skip


def child_environment(environ: dict[str, str] | None = None) -> dict[str, str]:
    """Variables for the TFLite child: this checkout first on PYTHONPATH (see the module docstring)."""
    env = dict(os.environ if environ is None else environ)
    paths = [str(source_root())] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    env["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(paths))
    return env


def tflite_export_args(run: str | Path, int8: bool) -> list[str]:
    """``sensorlab`` arguments exporting a run folder to ``model.int8.tflite`` (or fp32 ``model.tflite``)."""
    return ["export", str(run), "--format", "tflite", *(["--int8"] if int8 else []), "--json"]


def c_name(run: str | Path) -> str:
    """C identifier for a run's TFLite Micro array: the run folder's name (``imu-timeseries`` → ``imu_timeseries_model``)."""
    s = re.sub(r"\W", "_", Path(run).name).strip("_").lower() or "sensorlab"
    return ("m_" + s if s[0].isdigit() else s) + "_model"


def export_c_args(tflite: str | Path, name: str) -> list[str]:
    """``sensorlab`` arguments writing ``NAME.h`` / ``NAME.c`` / ``NAME.export-c.json`` beside the .tflite file."""
    return ["export-c", str(tflite), "--name", name, "--json"]


__all__ = ["ENV_VAR", "FP32_FILE", "INT8_FILE", "MAKE_TARGET", "VENV_DIR", "TfliteEnvironment", "c_name", "child_environment",
           "export_c_args", "find_tflite_python", "missing_message", "source_root", "tflite_export_args"]  # fmt: skip
