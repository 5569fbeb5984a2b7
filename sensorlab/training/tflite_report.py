"""The self-check report of a TFLite export, kept beside the file: ``model.int8.tflite.check.json``.

``sensorlab export --format tflite`` checks what it wrote against PyTorch on the test windows
(size, argmax agreement, max logit difference, the int8 input scale and zero point). Printed
only, the figures were gone with the terminal (and the studio kept them for its session only),
while ``export-c`` wrote ``NAME.export-c.json``. So the report is written beside the model, with
the file's SHA-256: a report whose file was rebuilt since (by another export, by hand) is not
shown as that file's check. Light on imports: the Training tab reads it without the converter.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

#: Appended to the model file's name: ``model.tflite`` → ``model.tflite.check.json``.
REPORT_SUFFIX = ".check.json"


def report_path(tflite: str | Path) -> Path:
    p = Path(tflite)
    return p.with_name(p.name + REPORT_SUFFIX)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write_export_report(tflite: str | Path, report: dict) -> Path:
    """Write ``report`` (the ``--json`` object of the export) beside ``tflite``, atomically."""
    tflite = Path(tflite)
    out = report_path(tflite)
    text = json.dumps({**report, "sha256": _sha256(tflite)}, indent=2) + "\n"
    tmp = out.with_name(f".{out.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, out)
    return out


def read_export_report(tflite: str | Path) -> dict | None:
    """The report written with ``tflite``; None when there is none, it is unreadable, or the
    file changed since (its SHA-256 differs)."""
    tflite = Path(tflite)
    try:
        report = json.loads(report_path(tflite).read_text(encoding="utf-8"))
        if not isinstance(report, dict) or report.get("sha256") != _sha256(tflite):
            return None
    except (OSError, ValueError):
        return None
    return report


__all__ = ["REPORT_SUFFIX", "read_export_report", "report_path", "write_export_report"]
