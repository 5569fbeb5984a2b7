"""`ProcessSource`: a camera or microphone run in a process of its own, its chunks piped back.

Why: a camera's grab thread and a sound card's callback thread in the studio process wait for
the GIL as well as for a core. On a busy machine the GUI, the recorder, the serial parsers and
the garbage collector hold that GIL for tens to hundreds of milliseconds (docs/performance/
recording-and-loss.md: camera grab and sound card hand-over up to 1.7-1.8 s late at load 28,
about half of it the GIL). In a child the device's threads share an interpreter with one
writer thread only, and run at real-time priority where the OS allows it (`RT_PRIORITY`,
below the serial readers'), so the grab and the hand-over happen on time; a stall of the
studio then delays when it *receives* the chunks (they wait in the child, see
`device_child.MAX_PENDING`), never when they are taken from the device or how they are
stamped (the child stamps them with `clock.now`, CLOCK_MONOTONIC, the same clock system-wide).

The child (`device_child.py`) runs the very same source class (`EmulatedCamera`,
`CameraSource`, `EmulatedMicrophone`, `AudioSource`), so frames, samples and timestamps are
those the in-process source makes; records are framed by `device_records.py`.

A child that dies (killed, crashed) is reported as the device lost: its streams fail with a
message saying so, and the recording keeps the other devices.

Thread-safety: `open`, `start`, `stop`, `close` from one controlling thread (as any source);
the reader thread (``device process NAME``) emits chunks and fires ``failed``/``stopped``.
"""

from __future__ import annotations

import json
import logging
import os
import select
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from sensorlab.acquisition.device_records import (
    CHUNK,
    ERROR,
    HEADER,
    READY,
    RELEASED,
    STATS,
    STOPPED,
    parse_chunk,
    parse_json,
)
from sensorlab.acquisition.source import Chunk, SourceBase, SourceError, StreamInfo

log = logging.getLogger(__name__)

#: Real-time priority of a device process (SCHED_FIFO): below the serial reader processes'
#: (5), which only copy bytes, so a camera decoding a frame never delays them.
RT_PRIORITY = 4
#: Seconds `ProcessSource.open` waits for the child to open its device (a loaded machine
#: starts an interpreter slowly; a stream URL may take its own timeout on top).
START_TIMEOUT = 30.0
#: Seconds `stop` waits for the child to hand over its last chunks.
STOP_TIMEOUT = 5.0

_priority_reported = threading.Event()  # the fallback to normal priority is said once


class ProcessSource(SourceBase):
    """A source built and run by a child process (see the module docstring).

    Parameters
    ----------
    factory
        ``"module:Class"`` of the source to run there (its module is imported by the child).
    kwargs
        JSON-able arguments for it.
    description
        This source's description until the child names its device.
    world
        An emulator's `World` (its fields are sent, so the child's emulator sees the same claps).
    """

    def __init__(self, factory: str, kwargs: dict, description: str, world=None):
        super().__init__(description)
        self.spec = {"factory": factory, "kwargs": kwargs}
        if world is not None:
            self.spec["world"] = {"t0": world.t0, "clap_interval": world.clap_interval, "seed": world.seed,
                                  "clap_width": world.clap_width}  # fmt: skip
        #: The child's facts: pid, real-time or not, and after `close` what a bench asked it to time.
        self.process_info: dict = {}
        self._proc: subprocess.Popen | None = None
        self._data = None  # buffered reader of the data pipe
        self._ctl = -1
        self._reader: threading.Thread | None = None
        self._released = threading.Event()
        self._stopped = threading.Event()
        self._lateness = threading.Event()  # a bench's timings came (`bench_lateness`)

    # -- SourceBase --------------------------------------------------------------------------
    def _open(self) -> None:
        self._launch()
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._data], [], [], left)[0]:
                self._end_child()
                raise SourceError(f"{self.description}: its device process did not start within {START_TIMEOUT:g} s (machine overloaded?)")
            record = self._read_record()
            if record is None:
                code = self._end_child()
                raise SourceError(f"{self.description}: its device process exited while opening the device ({_exit_text(code)})")
            kind, payload = record
            if kind == ERROR:
                self._end_child()
                raise SourceError(parse_json(payload)["message"])
            if kind == READY:
                break
        ready = parse_json(payload)
        self.process_info = {"pid": ready["pid"], "realtime": ready["realtime"]}
        self.description = ready.get("description") or self.description
        self.streams = tuple(StreamInfo.from_dict(s) for s in ready["streams"])
        if not ready["realtime"] and not _priority_reported.is_set():
            _priority_reported.set()
            log.warning("camera and audio device processes run at normal priority: this user may not use real-time "
                        "scheduling; allow it (CAP_SYS_NICE, or an rtprio limit in /etc/security/limits.conf) for "
                        "steadier frame and sample timing on a busy machine")  # fmt: skip

    def _start(self) -> None:
        self._stopped.clear()
        self._command(b"S")
        self._reader = threading.Thread(target=self._read_loop, daemon=True, name=f"device process {self.description}")
        self._reader.start()

    def _stop(self) -> None:
        self._command(b"P")
        t = self._reader
        if t is not None and t is not threading.current_thread():
            t.join(STOP_TIMEOUT)
        self._reader = None

    def _close(self) -> None:
        if self._proc is None:
            return
        self._command(b"")  # end of file: the child stops, closes its device and exits
        proc = self._proc
        killer = threading.Timer(STOP_TIMEOUT, proc.kill)  # a child that hangs is not waited for
        killer.start()
        try:
            while (record := self._read_record()) is not None:  # its last counts, a bench's timings
                if record[0] == STATS:
                    self._apply_stats(parse_json(record[1]))
        finally:
            killer.cancel()
        self._end_child()

    def release_held(self, timeout: float = 5.0) -> bool:
        """End a warm-up hold now (`AudioSource.release_held`, in the child); False if the
        child did not answer within ``timeout``."""
        if not self.running or self._reader is None:
            return True
        self._released.clear()
        self._command(b"R")
        return self._released.wait(timeout)

    def bench_lateness(self, restart: bool = False, timeout: float = 10.0) -> dict:
        """A bench's deadline timers in the child (``SENSORLAB_BENCH_TIMERS``, bench/acq_lateness.py):
        ``restart`` starts them afresh and returns {}; otherwise their summary so far ({} if
        the child does not time, or did not answer within ``timeout``)."""
        if restart:
            self._command(b"Z")
            return {}
        self._lateness.clear()
        self._command(b"T")
        self._lateness.wait(timeout)
        return dict(self.process_info.get("lateness", {}))

    # -- the reader thread -----------------------------------------------------------------------
    def _read_loop(self) -> None:
        streams = self.streams
        names = [s.name for s in streams]
        try:
            while True:
                record = self._read_record()
                if record is None:
                    self._child_gone()
                    return
                kind, payload = record
                if kind == CHUNK:
                    i, (data, ts, dev, arr) = parse_chunk(payload, streams)
                    arrival = float(arr[-1]) if arr is not None else float(ts[-1])
                    self._emit(names[i], Chunk(data, ts, dev, arr), arrival)
                elif kind == STATS:
                    self._apply_stats(parse_json(payload))
                elif kind == ERROR:
                    msg = parse_json(payload)
                    self._fail(msg["message"], msg["stream"] or None)
                elif kind == RELEASED:
                    self._released.set()
                elif kind == STOPPED:
                    if parse_json(payload).get("ended") and self._running.is_set():
                        self._running.clear()  # a video file that does not loop reached its end
                        self.stopped.emit()
                    self._stopped.set()
                    return
        except Exception as e:  # a bug here must still reach the user, not end the stream silently
            log.exception("device process reader for %s", self.description)
            self._fail(f"{self.description}: internal error taking its device process's data: {type(e).__name__}: {e}")

    def _child_gone(self) -> None:
        if not self._running.is_set():
            return
        proc = self._proc
        code = None
        if proc is not None:
            try:
                code = proc.wait(1.0)
            except subprocess.TimeoutExpired:
                pass
        self._fail(f"{self.description} lost: its device process ended unexpectedly ({_exit_text(code)}); "
                   "its streams stopped here, the other devices keep recording; reopen the rig to restart it")  # fmt: skip

    def _apply_stats(self, msg: dict) -> None:
        if "lateness" in msg:
            self.process_info["lateness"] = msg["lateness"]
            self._lateness.set()
        st = self.stats.get(msg.get("stream", ""))
        if st is not None:
            for key in ("dropped", "dropped_in_transit", "overflows"):
                if key in msg:
                    setattr(st, key, int(msg[key]))

    # -- the child -----------------------------------------------------------------------------
    def _launch(self) -> None:
        data_r, data_w = os.pipe()
        ctl_r, ctl_w = os.pipe()
        try:  # a bigger pipe: fewer wake-ups of the child's writer for a frame of ~1 MB (Linux)
            import fcntl

            fcntl.fcntl(data_w, getattr(fcntl, "F_SETPIPE_SZ", 1031), 1 << 20)
        except OSError:
            pass
        env = dict(os.environ)
        root = str(Path(__file__).resolve().parents[2])  # the child imports this very sensorlab
        env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
        argv = [sys.executable, "-m", "sensorlab.acquisition.device_child", json.dumps(self.spec), str(data_w), str(ctl_r),
                str(RT_PRIORITY)]  # fmt: skip
        try:
            self._proc = subprocess.Popen(argv, pass_fds=(data_w, ctl_r), stdin=subprocess.DEVNULL, env=env, close_fds=True)
        except (OSError, ValueError) as e:
            for fd in (data_r, data_w, ctl_r, ctl_w):
                os.close(fd)
            raise SourceError(f"{self.description}: could not start its device process: {type(e).__name__}: {e}") from None
        finally:
            if self._proc is not None:
                os.close(data_w)  # the child holds them now; our copies would hide its end of file
                os.close(ctl_r)
        self._data = os.fdopen(data_r, "rb", buffering=1 << 20)
        self._ctl = ctl_w

    def _read_record(self) -> tuple[int, memoryview] | None:
        """The next record (blocking), None at end of file (the child exited)."""
        data = self._data
        if data is None:
            return None
        head = data.read(HEADER.size)
        if len(head) < HEADER.size:
            return None
        kind, n = HEADER.unpack(head)
        payload = data.read(n)
        if len(payload) < n:
            return None
        return kind, memoryview(payload)

    def _command(self, c: bytes) -> None:
        if self._ctl < 0:
            return
        try:
            if c:
                os.write(self._ctl, c)
            else:
                os.close(self._ctl)
                self._ctl = -1
        except OSError:
            pass  # the child is gone: its reader reports it

    def _end_child(self) -> int | None:
        self._command(b"")
        proc, self._proc = self._proc, None
        code = None
        if proc is not None:
            try:
                code = proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                proc.kill()
                code = proc.wait(STOP_TIMEOUT)
        if self._data is not None and (self._reader is None or not self._reader.is_alive()):
            self._data.close()
            self._data = None
        return code


#: How a camera or microphone is run: ``"auto"`` (a device process where one can be started:
#: POSIX), ``"process"``, or ``"thread"`` (threads of the recording process, as before).
READERS = ("auto", "thread", "process")


def wants_device_process(reader: str) -> bool:
    """Whether a real camera or microphone configured with ``reader`` runs in a device process."""
    if reader not in READERS:
        raise ValueError(f"reader must be one of {', '.join(READERS)}, not {reader!r}")
    return reader == "process" or (reader == "auto" and os.name == "posix")


def _exit_text(code: int | None) -> str:
    if code is None:
        return "still running but not answering"
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit code {code}"


__all__ = ["READERS", "RT_PRIORITY", "ProcessSource", "wants_device_process"]
