"""The core runs with no Qt binding: every module outside sensorlab/app imports, and none of
them pulls in PySide6 at run time (the import contracts check only the `import` lines).

`make test-headless` runs this in a venv where PySide6 is not installed at all; in the main venv a
finder refuses PySide6 (and pyqtgraph, which would load it) in the child process instead.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

#: Optional extras a headless install may lack (`pip install sensorlab[dask,lsl]` has no torch):
#: a module that needs one may fail to import with exactly that module missing, nothing else.
OPTIONAL = {"torch", "onnxscript", "litert_torch", "ai_edge_litert", "tflite_micro"}

_IMPORT_ALL = r"""
import importlib, json, pkgutil, sys

QT = ("PySide6", "shiboken6", "pyqtgraph", "superqt")

class RefuseQt:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in QT:
            raise ModuleNotFoundError(f"No module named {name!r} (refused: the core must run without Qt)", name=name)

sys.meta_path.insert(0, RefuseQt())
import sensorlab

failed, imported = {}, []
for mod in pkgutil.walk_packages(sensorlab.__path__, "sensorlab.", onerror=lambda name: None):
    if mod.name.startswith("sensorlab.app") or mod.name.endswith(".__main__"):
        continue  # the Qt front end; `python -m sensorlab` would run the command line
    try:
        importlib.import_module(mod.name)
        imported.append(mod.name)
    except ModuleNotFoundError as e:
        failed[mod.name] = [e.name, str(e)]
    except Exception as e:
        failed[mod.name] = [None, f"{type(e).__name__}: {e}"]
print(json.dumps({"imported": imported, "failed": failed, "qt": sorted(m for m in sys.modules if m.split(".")[0] in QT)}))
"""


def test_every_core_module_imports_without_a_qt_binding():
    proc = subprocess.run([sys.executable, "-c", _IMPORT_ALL], capture_output=True, text=True, timeout=600,
                          env={**os.environ, "PYTHONPATH": str(REPO)}, cwd=REPO)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert not result["qt"], f"a core module loaded Qt: {result['qt']}"
    not_optional = {m: why for m, (missing, why) in result["failed"].items() if missing not in OPTIONAL}
    assert not not_optional, not_optional
    # The parts a headless user drives are among what imported (a walk that found nothing passes nothing).
    for needed in ("sensorlab.cli", "sensorlab.studio.studio", "sensorlab.session.reader", "sensorlab.session.recorder",
                   "sensorlab.datasets", "sensorlab.inference", "sensorlab.acquisition.lsl", "sensorlab.labeling"):  # fmt: skip
        assert needed in result["imported"], f"{needed} did not import: {result['failed'].get(needed)}"
