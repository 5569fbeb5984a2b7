"""Emulated boards in a process of their own, as independent of sensorlab's load as hardware.

Why: an emulated microcontroller that runs as a thread of the recording process shares its
GIL and its CPU share. When the recording process stalls (the recorder, the camera, the GUI, a
CPU hog beside it), the "device" stalls too: it then sends late, bursts, refuses packets its
TX buffer cannot hold, and answers a description request seconds late, none of which a real
MCU does. So the demo rig's boards run in one child process shared by all of them (a fresh
interpreter, ``python -m`` this module: a spawn, never a fork of a threaded process), each on
its own thread there, at real-time priority where the user may (SCHED_FIFO `RT_PRIORITY`, as
the serial reader process; else normal priority). The pty, the pacing and the sensor values are
exactly those of the in-process emulators (`emulated/mcu.py`); the child samples the same
`World` (its parameters are passed, and the host clock is system-wide).

Protocol: one JSON line per request on the child's stdin, one JSON line per answer on its
stdout, one request at a time (a lock). The child exits when its stdin closes (the parent
stopping or dying), closing every pty.

`RemoteBoard` is the parent's handle: ``port``, ``baudrate``, `start`, `close`, and the board's
own counts (``sent_packets``, ``link.dropped_packets``, ``link.dropped_bytes``, …) read from
the child on access. For benchmarks it also hands back what only the board knows:
``link.record_timing()`` / ``link.timing`` (when each packet really went into the pty,
`PtyLink.timing`) and `RemoteBoard.true_host_times` (when each sample was really taken), so
a bench can measure timestamps against the truth with the emulator out of its process
(bench/bench_sync.py). ``realtime`` tells whether the child got real-time priority.
"""

from __future__ import annotations

import atexit
import json
import os
import subprocess
import sys
import threading
from dataclasses import asdict
from pathlib import Path

#: Real-time priority of the board host (SCHED_FIFO, when allowed): hardware does not slow
#: down with the host. Its threads sleep between bursts, so it cannot hog a core.
RT_PRIORITY = 5
#: Seconds to wait for the child's answer (it imports numpy first: slow on a loaded machine).
ANSWER_TIMEOUT = 120.0

_host: BoardHost | None = None
_host_lock = threading.Lock()


class BoardHostError(RuntimeError):
    """The board host process failed (could not start, died, or refused a request)."""


class BoardHost:
    """The child process holding emulated boards; one per recording process (`board_host`)."""

    def __init__(self):
        root = str(Path(__file__).resolve().parents[3])  # this sensorlab, also in the child
        env = dict(os.environ, PYTHONPATH=os.pathsep.join([root, os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep))
        try:
            self._proc = subprocess.Popen(
                [sys.executable, "-m", "sensorlab.acquisition.emulated.board_host", str(RT_PRIORITY)],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env, close_fds=True,
            )  # fmt: skip
        except OSError as e:
            raise BoardHostError(f"could not start the emulated boards' process: {e}") from None
        self._lock = threading.Lock()

    def call(self, **request) -> dict:
        with self._lock:
            proc = self._proc
            if proc.poll() is not None:
                raise BoardHostError(f"the emulated boards' process has exited (code {proc.returncode})")
            try:
                proc.stdin.write(json.dumps(request) + "\n")
                proc.stdin.flush()
                line = proc.stdout.readline()
            except (OSError, ValueError) as e:
                raise BoardHostError(f"the emulated boards' process is gone: {e}") from None
        if not line:
            raise BoardHostError("the emulated boards' process exited")
        answer = json.loads(line)
        if "error" in answer:
            raise BoardHostError(answer["error"])
        return answer

    def close(self) -> None:
        try:
            self._proc.stdin.close()
            self._proc.wait(5.0)
        except (OSError, ValueError, subprocess.TimeoutExpired):
            self._proc.kill()


def board_host() -> BoardHost:
    """The process-wide board host, started on first use, stopped at exit."""
    global _host
    with _host_lock:
        if _host is None or _host._proc.poll() is not None:
            _host = BoardHost()
            atexit.register(_host.close)
        return _host


class _LinkCounts:
    def __init__(self, board: RemoteBoard):
        self._board = board

    def record_timing(self) -> None:
        """Log every packet's ``(ready, due, written, start)`` in the child from now on."""
        board_host().call(op="record_timing", id=self._board._id)

    @property
    def timing(self) -> list[tuple[float, float, float, float]] | None:
        """The packets logged since `record_timing` (see `PtyLink.timing`), read from the child."""
        if self._board._id is None:
            return self._board._final_timing
        return board_host().call(op="timing", id=self._board._id)["timing"]

    def __getattr__(self, name: str):
        counts = self._board._counts()["link"]
        if name in counts:
            return counts[name]
        raise AttributeError(name)


class RemoteBoard:
    """An emulated board (``config``: an `EmulatedConfig` of a serial kind) in the board host:
    built there now (its pty open, ``port`` known), started by `start`, as an in-process one."""

    def __init__(self, config, world):
        self.config = config
        answer = board_host().call(op="create", config=config.model_dump(), world=asdict(world))
        self._id: int | None = answer["id"]
        self.port: str = answer["port"]
        self.baudrate: int = answer["baudrate"]
        self.link = _LinkCounts(self)
        self._truth: dict | None = None
        self._final_timing = None

    @property
    def realtime(self) -> bool:
        """Whether the board host runs at real-time priority (else at normal priority)."""
        return bool(board_host().call(op="info")["realtime"])

    @property
    def closed(self) -> bool:
        """Closed (`close`): its pty is gone, and its port path may now be another program's."""
        return self._id is None

    def start(self) -> RemoteBoard:
        if self._id is not None:
            board_host().call(op="start", id=self._id)
            try:  # its sample grid starts now; kept, so the truth outlives the board
                self._truth = board_host().call(op="truth", id=self._id)["truth"]
            except BoardHostError:
                self._truth = None  # a text board has no sample grid to hand over
        return self

    def true_host_times(self, device_times, stream: int = 0):
        """When the samples whose decoded device times are ``device_times`` were really taken
        (host clock), as `BinaryMCU.true_host_times` (binary boards, once started)."""
        from sensorlab.acquisition.emulated.mcu import true_sample_times

        if self._truth is None:
            raise BoardHostError(f"the emulated {self.config.device} has no sample clock to hand over (binary boards only, once started)")
        return true_sample_times(self._truth, device_times, stream)

    def close(self) -> None:
        if self._id is None:
            return
        try:
            self._final = self._counts()  # still readable after close, as an in-process board's
            self._final_timing = self.link.timing
            board_host().call(op="close", id=self._id)
        except BoardHostError:
            pass  # the host is gone: so is the board
        self._id = None

    stop = close

    def _counts(self) -> dict:
        if self._id is None:
            return getattr(self, "_final", {"link": {}})
        return board_host().call(op="counts", id=self._id)

    def __getattr__(self, name: str):  # sent_packets, describe_requests, …: the board's own counts
        if name.startswith("_"):
            raise AttributeError(name)
        counts = self._counts()
        if name in counts:
            return counts[name]
        raise AttributeError(name)


# -- the child ---------------------------------------------------------------------------------
_COUNTS = ("sent_packets", "lost_packets", "corrupted_packets", "describe_requests")
_LINK_COUNTS = ("sent_bytes", "dropped_bytes", "dropped_packets")


def _serve(rt_priority: int) -> None:
    realtime = False
    if rt_priority and hasattr(os, "sched_setscheduler"):
        try:
            os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(rt_priority))  # threads inherit it
            realtime = True
        except OSError:
            pass
    from sensorlab.acquisition.emulated import world as world_module
    from sensorlab.acquisition.emulated.world import World
    from sensorlab.acquisition.kinds.emulated import EmulatedConfig, emulated_board

    boards: dict[int, object] = {}
    made = 0
    for line in sys.stdin:
        try:
            req = json.loads(line)
            op = req["op"]
            if op == "create":
                world = World(**req["world"])
                world_module._shared = world  # the parent's world: same claps, same noise
                mcu = emulated_board(EmulatedConfig(**req["config"]), world)
                made += 1
                boards[made] = mcu
                answer = {"id": made, "port": mcu.port, "baudrate": mcu.baudrate}
            elif op == "start":
                boards[req["id"]].start()
                answer = {}
            elif op == "close":
                mcu = boards.pop(req["id"], None)
                if mcu is not None:
                    mcu.close()
                answer = {}
            elif op == "record_timing":
                boards[req["id"]].link.record_timing()
                answer = {}
            elif op == "timing":
                answer = {"timing": boards[req["id"]].link.timing}
            elif op == "truth":
                answer = {"truth": boards[req["id"]].clock_truth()}
            elif op == "info":
                answer = {"realtime": realtime}
            elif op == "boards":  # the boards alive now: a rig closed or replaced leaves none behind
                answer = {"boards": {str(i): mcu.port for i, mcu in boards.items()}}
            elif op == "counts":
                mcu = boards[req["id"]]
                answer = {k: getattr(mcu, k) for k in _COUNTS if hasattr(mcu, k)}
                answer["link"] = {k: getattr(mcu.link, k) for k in _LINK_COUNTS}
            else:
                answer = {"error": f"unknown request {op!r}"}
        except Exception as e:  # answered, not fatal: the other boards go on
            answer = {"error": f"{type(e).__name__}: {e}"}
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()
    for mcu in boards.values():
        mcu.close()


if __name__ == "__main__":
    _serve(int(sys.argv[1]) if len(sys.argv) > 1 else 0)
