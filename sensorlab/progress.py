"""Running the core's long jobs to their end.

Long one-off jobs (building a dataset or the overview cache, suggestions over a stream) are
generators that yield progress and return their result (docs/ARCHITECTURE.md, "Conventions"):
the GUI runs them on a worker thread and shows the progress; everything else runs them here,
on the caller's thread. It imports nothing of sensorlab (an import-linter contract keeps it
so), so every layer may use it.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import Any, TypeVar

P = TypeVar("P")
R = TypeVar("R")


def run_to_end(job: Generator[P, Any, R], on_progress: Callable[[P], object] | None = None) -> R:
    """Run ``job`` to its end and return what it returns; ``on_progress`` sees each value it
    yields (nothing does when it is None)."""
    while True:
        try:
            p = next(job)
        except StopIteration as stop:
            return stop.value
        if on_progress is not None:
            on_progress(p)
