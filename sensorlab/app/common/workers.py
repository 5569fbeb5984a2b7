"""Blocking work (opening devices, starting and closing a recording) off the GUI thread.

Each task is a plain generator that yields progress messages and returns a result; superqt's
`create_worker` runs it on a worker thread and hands ``yielded`` / ``returned`` / ``errored``
back to the GUI thread (the core stays Qt-free). `TaskRunner` keeps the workers alive, tells the
window what is in progress (so it can show a busy bar) and turns exceptions into one-line
messages for the window instead of tracebacks in a terminal.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import Any

from PySide6.QtCore import QObject, QThreadPool, Signal
from shiboken6 import isValid
from superqt.utils import WorkerBase, create_worker

Task = Callable[..., Generator[str, None, Any]]


class TaskRunner(QObject):
    """Run generator tasks on worker threads, one progress line at a time.

    Signals
    -------
    progress(message)
        A running task said what it is doing ("" when nothing runs any more).
    failed(title, message)
        A task raised; ``message`` is one line for the window.
    """

    progress = Signal(str)
    failed = Signal(str, str)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._workers: list[WorkerBase] = []

    @property
    def busy(self) -> bool:
        return bool(self._workers)

    def run(
        self,
        title: str,
        task: Task,
        *args: Any,
        on_done: Callable[[Any], None] | None = None,
        on_error: Callable[[str], None] | None = None,
    ) -> WorkerBase:
        """Start ``task(*args)`` on a worker thread.

        ``on_done(result)`` and ``on_error(message)`` are called on the GUI thread.
        """
        # _ignore_errors: without it superqt also re-raises the exception in the GUI thread's
        # event loop (a traceback on the terminal, a failed pytest-qt test) after `errored`.
        worker = create_worker(_reporting_runtime_errors, task, *args, _start_thread=False, _ignore_errors=True)
        self._workers.append(worker)
        self.progress.emit(f"{title}…")
        # The worker can outlive its window (a dialog closed while it scans): once this runner,
        # and with it the widgets the callbacks touch, is deleted, its results are dropped.
        alive = lambda: isValid(self)  # noqa: E731
        worker.yielded.connect(lambda msg: alive() and self.progress.emit(f"{title}: {msg}"))

        def done(result: Any) -> None:
            if on_done is not None and alive():
                on_done(result)

        def error(exc: Exception) -> None:
            if not alive():
                return
            message = str(exc) or type(exc).__name__
            self.failed.emit(title, message)
            if on_error is not None:
                on_error(message)

        def finished() -> None:
            if not alive():
                return
            if worker in self._workers:
                self._workers.remove(worker)
            if not self._workers:
                self.progress.emit("")

        worker.returned.connect(done)
        worker.errored.connect(error)
        worker.finished.connect(finished)
        worker.start()
        return worker

    def wait(self, msecs: int = 30_000) -> bool:
        """Block until every task has finished (used when the window closes)."""
        return QThreadPool.globalInstance().waitForDone(msecs)


class TaskFailed(Exception):
    """A task's RuntimeError (e.g. `SourceError`: a serial port that is busy), carried past superqt."""


def _reporting_runtime_errors(task: Task, *args: Any) -> Generator[str, None, Any]:
    """Run ``task`` so that its RuntimeErrors are reported like any other error.

    superqt's generator worker takes a RuntimeError from the generator for "the worker was
    deleted" and ends without emitting ``errored`` or ``finished``: a task failing with one
    (a device that cannot be opened raises `SourceError`, a RuntimeError) would stay
    "in progress" forever, its message never shown.
    """
    try:
        return (yield from task(*args))
    except RuntimeError as e:
        raise TaskFailed(str(e) or type(e).__name__) from e


# -- the tasks (plain generators; they run on a worker thread) -----------------------------


def open_rig(studio: Any, sources: list) -> Generator[str, None, tuple[Any, dict[str, str]]]:
    """Close the studio's devices and open and start ``sources`` (worker thread).

    Returns ``(acquisition, errors)``: the acquisition tells the window whether this rig is
    still the current one when the result arrives."""
    yield f"opening {len(sources)} device(s)"
    errors = studio.open(sources)
    return studio.acquisition, errors


def close_rig(studio: Any) -> Generator[str, None, bool]:
    """Close the studio's devices, freeing their ports (worker thread). Returns whether a rig was open."""
    yield "closing the devices"
    return studio.close_rig()


def start_recording(studio: Any, path: Any, metadata: Any) -> Generator[str, None, str]:
    """Create the session file and start writing (worker thread). Returns the path."""
    yield f"creating {path}"
    return str(studio.start_recording(path, metadata))


def stop_recording(studio: Any) -> Generator[str, None, str]:
    """Flush and close the session file, save its live labels (worker thread). Returns the path."""
    yield "flushing and closing the file"
    return str(studio.stop_recording())
