"""`ProcessRunner`: run one ``sensorlab`` command as a subprocess, with JSON-lines progress, a log and Cancel.

Long jobs (building a dataset, training, export, quantization) run as child processes rather
than threads of the studio: they do heavy NumPy/HDF5/PyTorch work that would hold the GIL
and stall the live plots and the devices the studio is recording from, and a crash in them
(out of memory, a native library) cannot take the window down with it.

The commands print one JSON object per line on stdout (``--json``); everything else (stderr,
non-JSON stdout) goes to the log. Cancel sends SIGINT, which the commands turn into their
normal clean-up (a dataset build removes its temporary file); a process that has not ended
after a grace period is killed.

A studio started from a shell script in the background inherits SIGINT *ignored*, and so do
its children; every child is `sensorlab.cli.main`, which restores Python's SIGINT handler
first thing, so Cancel still reaches the command.
"""

from __future__ import annotations

import json
import os
import signal
import sys

from PySide6.QtCore import QObject, QProcess, QProcessEnvironment, QTimer, Signal

#: Runs ``sensorlab.cli`` (its ``main`` makes SIGINT raise KeyboardInterrupt even when the
#: parent ignored it), named ``sensorlab`` in usage messages.
BOOTSTRAP = "import sys; from sensorlab.cli import main; sys.argv[0] = 'sensorlab'; main()"
#: Seconds a cancelled process gets to clean up before it is killed.
GRACE_S = 10.0


def sensorlab_command(*args: str, python: str | None = None) -> tuple[str, list[str]]:
    """``(program, arguments)`` that run ``sensorlab ARGS…`` with ``python`` (default: this interpreter)."""
    return python or sys.executable, ["-c", BOOTSTRAP, *map(str, args)]


class ProcessRunner(QObject):
    """One subprocess at a time; reusable.

    Signals
    -------
    started()
    event(dict)
        One JSON object printed on a stdout line.
    log(str)
        One line of stderr or of non-JSON stdout.
    finished(status, message)
        ``status`` is ``"ok"``, ``"failed"`` or ``"cancelled"``; ``message`` is one line
        (for a failure: the command's ``error: …`` line, else the last line of its log).
    """

    started = Signal()
    event = Signal(dict)
    log = Signal(str)
    finished = Signal(str, str)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.process: QProcess | None = None
        self.pid = 0  # of the last process started (to find a temp file it left after a kill)
        self.cancelled = False
        self._buffers = {"out": b"", "err": b""}
        self._last_error = ""
        self._last_line = ""
        self._program = sys.executable
        self._kill_timer = QTimer(self, singleShot=True)
        self._kill_timer.timeout.connect(self._kill)

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.state() != QProcess.ProcessState.NotRunning

    def start(self, *args: str, cwd: str | None = None, python: str | None = None, environ: dict[str, str] | None = None) -> None:
        """Run ``sensorlab ARGS…`` (with another environment's ``python`` and variables ``environ``
        if given, e.g. the TFLite converter's); raises RuntimeError if a process is still running."""
        if self.running:
            raise RuntimeError("a job is still running; cancel it or wait for it to finish")
        self.cancelled = False
        self._buffers = {"out": b"", "err": b""}
        self._last_error = self._last_line = ""
        p = QProcess(self)
        env = QProcessEnvironment.systemEnvironment()
        for key, value in (environ or {}).items():
            env.insert(key, value)
        env.insert("PYTHONUNBUFFERED", "1")  # progress lines as they happen, not at exit
        p.setProcessEnvironment(env)
        if cwd:
            p.setWorkingDirectory(cwd)
        p.readyReadStandardOutput.connect(lambda: self._read(p, "out"))
        p.readyReadStandardError.connect(lambda: self._read(p, "err"))
        p.finished.connect(lambda code, status: self._on_finished(p, code, status))
        p.errorOccurred.connect(lambda err: self._on_error(p, err))
        self.process = p
        program, arguments = sensorlab_command(*args, python=python)
        self._program = program
        self.log.emit("$ sensorlab " + " ".join(str(a) for a in args) + (f"   (with {python})" if python else ""))
        p.start(program, arguments)
        self.pid = int(p.processId() or 0)
        self.started.emit()

    def cancel(self) -> None:
        """Ask the process to stop (SIGINT; Windows: kill); kill it after `GRACE_S` seconds."""
        if not self.running:
            return
        self.cancelled = True
        self.log.emit("cancelling…")
        pid = int(self.process.processId() or 0)
        if os.name == "posix" and pid:
            try:
                os.kill(pid, signal.SIGINT)
            except ProcessLookupError:
                return
            self._kill_timer.start(int(GRACE_S * 1000))
        else:
            self.process.kill()

    def wait(self, msecs: int = 30_000) -> bool:
        """Block until the process has ended (used when the window closes)."""
        return self.process is None or self.process.state() == QProcess.ProcessState.NotRunning or self.process.waitForFinished(msecs)

    # -- internals ---------------------------------------------------------------------------
    def _kill(self) -> None:
        if self.running:
            self.log.emit(f"still running {GRACE_S:g} s after Cancel: killed")
            self.process.kill()

    def _read(self, p: QProcess, which: str) -> None:
        data = bytes(p.readAllStandardOutput() if which == "out" else p.readAllStandardError())
        buf = self._buffers[which] + data
        *lines, rest = buf.split(b"\n")
        self._buffers[which] = rest
        for raw in lines:
            self._line(raw.decode("utf-8", "replace").rstrip("\r"), which)

    def _line(self, line: str, which: str) -> None:
        if not line.strip():
            return
        if which == "out" and line.startswith("{"):
            try:
                obj = json.loads(line)
            except ValueError:
                obj = None
            if isinstance(obj, dict):
                self.event.emit(obj)
                return
        if line.startswith("error: "):
            self._last_error = line.removeprefix("error: ")
        self._last_line = line
        self.log.emit(line)

    def _flush(self, p: QProcess) -> None:
        self._read(p, "out")
        self._read(p, "err")
        for which in ("out", "err"):
            if self._buffers[which]:
                self._line(self._buffers[which].decode("utf-8", "replace"), which)
                self._buffers[which] = b""

    def _on_finished(self, p: QProcess, code: int, status: QProcess.ExitStatus) -> None:
        if p is not self.process:
            return
        self._kill_timer.stop()
        self._flush(p)
        if status == QProcess.ExitStatus.NormalExit and code == 0:
            # A job that completed before Cancel reached it did its work: say so, not "cancelled".
            self.finished.emit("ok", self._last_line)
        elif self.cancelled:
            self.finished.emit("cancelled", "cancelled")
        else:
            crashed = status != QProcess.ExitStatus.NormalExit
            why = self._last_error or self._last_line or ("the process crashed" if crashed else f"exit status {code}")
            self.finished.emit("failed", why)

    def _on_error(self, p: QProcess, err: QProcess.ProcessError) -> None:
        # Only a process that never started ends here without `finished` following.
        if p is self.process and err == QProcess.ProcessError.FailedToStart:
            self.finished.emit("failed", f"could not start {self._program}: {p.errorString()}")


def append_log(view, line: str) -> None:
    """Append to a QPlainTextEdit log, following the end unless the user scrolled up to read."""
    bar = view.verticalScrollBar()
    follow = bar.value() >= bar.maximum() - 2
    view.appendPlainText(line)
    if follow:
        bar.setValue(bar.maximum())


__all__ = ["BOOTSTRAP", "ProcessRunner", "append_log", "sensorlab_command"]
