"""Model files appear whole or not at all.

`sensorlab export` and `quantize` write a model in steps (the exporter's graph, then the
contract in its metadata, then a self-check against PyTorch or fp32). Written in place, a
kill between the steps (SIGKILL, a closed laptop lid, the OOM killer) or a failed self-check
left a ``model.onnx`` that looked like a finished export: without its contract, cut short, or
not the trained model, and over the good one of an earlier export. `staged` writes beside the
target under a hidden name and renames it over the target only once every step succeeded
(a rename in one folder is atomic), so the name a user ships is always a checked model.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path


def stage_path(out: Path) -> Path:
    """The hidden name a model is written under until it is complete (same folder, same suffix)."""
    return out.with_name(f".{out.stem}.{os.getpid()}.partial{out.suffix}")


@contextlib.contextmanager
def staged(out: Path) -> Iterator[Path]:
    """Yield the path to write ``out`` under; rename it to ``out`` if the block succeeds, else delete it
    (with the ``.data`` weights file an exporter may leave beside it)."""
    out = Path(out)
    tmp = stage_path(out)
    try:
        yield tmp
        os.replace(tmp, out)
    finally:
        for leftover in (tmp, tmp.with_name(tmp.name + ".data")):
            leftover.unlink(missing_ok=True)


__all__ = ["stage_path", "staged"]
