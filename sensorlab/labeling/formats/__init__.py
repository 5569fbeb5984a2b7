"""Label file formats: Audacity label tracks, ELAN, Label Studio time series, CSV.

Each module has ``export_<fmt>(annotations, path, ...)`` and ``import_<fmt>(path, ...) ->
AnnotationSet``. `export_annotations` / `import_annotations` pick the module from ``fmt``
or the file extension.

Precision: CSV, Audacity and Label Studio store times as the shortest decimal that reads
back to the same float64 (Python ``repr``), so round trips are exact to the bit. ELAN
stores integer milliseconds; see `sensorlab.labeling.formats.eaf` for how exact times are
kept alongside and how imports snap to a sample grid.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from sensorlab.labeling.annotations import AnnotationSet
from sensorlab.labeling.formats import audacity, csvtable, eaf, labelstudio
from sensorlab.labeling.formats._common import select

#: name -> (export function, import function, file extensions)
FORMATS: dict[str, tuple[Callable[..., Path], Callable[..., AnnotationSet], tuple[str, ...]]] = {
    "audacity": (audacity.export_audacity, audacity.import_audacity, (".txt",)),
    "eaf": (eaf.export_eaf, eaf.import_eaf, (".eaf",)),
    "labelstudio": (labelstudio.export_labelstudio, labelstudio.import_labelstudio, (".json",)),
    "csv": (csvtable.export_csv, csvtable.import_csv, (".csv",)),
}
ALIASES = {"elan": "eaf", "label-studio": "labelstudio", "ls": "labelstudio", "txt": "audacity"}


def detect_format(path: str | Path, fmt: str | None = None) -> str:
    """Format name from an explicit ``fmt`` or the file extension.

    Examples
    --------
    >>> detect_format("take1.eaf"), detect_format("x.dat", "elan")
    ('eaf', 'eaf')
    """
    if fmt:
        name = ALIASES.get(fmt.lower(), fmt.lower())
        if name not in FORMATS:
            raise ValueError(f"unknown label format {fmt!r}; --format takes one of {', '.join(FORMATS)}")
        return name
    ext = Path(path).suffix.lower()
    for name, (_, _, exts) in FORMATS.items():
        if ext in exts:
            return name
    known = ", ".join(f"{exts[0]} ({name})" for name, (_, _, exts) in FORMATS.items())
    raise ValueError(f"{path}: cannot tell the label format from the extension {ext or '(none)'!r}; "
                     f"use {known}, or name the format with --format: {', '.join(FORMATS)}")


def export_annotations(annotations: AnnotationSet, path: str | Path, fmt: str | None = None, **kwargs: Any) -> Path:
    """Write ``annotations`` in ``fmt`` (default: from the extension); kwargs go to the writer."""
    return FORMATS[detect_format(path, fmt)][0](annotations, path, **kwargs)


def import_annotations(path: str | Path, fmt: str | None = None, **kwargs: Any) -> AnnotationSet:
    """Read a label file in ``fmt`` (default: from the extension); kwargs go to the reader.

    Every problem with the file's content is a one-line ``ValueError`` naming the file (and
    the line or element where the reader can tell).
    """
    name = detect_format(path, fmt)
    try:
        return FORMATS[name][1](path, **kwargs)
    except UnicodeDecodeError as e:
        raise ValueError(f"{path}: not UTF-8 text (byte {e.start}); is it really a {name} label file? "
                         "Save it as UTF-8, or name the format with --format") from None


__all__ = ["ALIASES", "FORMATS", "detect_format", "export_annotations", "import_annotations", "select"]
