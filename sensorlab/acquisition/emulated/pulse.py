"""A private PulseAudio daemon with a virtual microphone, for tests, benchmarks and demos.

The daemon (how tests use it and its pitfalls: docs/TESTING.md, "Microphone") has two
virtual devices:

- ``vmic``: a pipe source. Raw s16le written to ``<root>/vmic.fifo`` appears as a microphone,
  paced by the writer (no writer → no callbacks at all, not silence). `FifoWriter` writes
  World audio, a WAV file or an array in real time.
- ``vsink``: a null sink; whatever is played into it shows up on ``vsink.monitor``.

A ``~/.asoundrc`` in the private HOME names both as ALSA PCMs, so PortAudio lists ``vmic`` and
``vmonitor`` once `VirtualPulse.activate` has pointed this process at the daemon.

Run a demo daemon from a shell (prints the env to export, feeds World claps until Ctrl-C)::

    python -m sensorlab.acquisition.emulated.pulse

Examples
--------
>>> with VirtualPulse() as pulse, pulse.feed(World()) as writer:   # doctest: +SKIP
...     with AudioSource("vmic", samplerate=48000) as mic: ...
"""

from __future__ import annotations

import os
import select
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import wave
from pathlib import Path

import numpy as np

from sensorlab.acquisition.clock import now
from sensorlab.acquisition.emulated.world import World

_DEFAULT_PA = """\
load-module module-native-protocol-unix auth-anonymous=1 socket={root}/pulse/native
load-module module-null-sink sink_name=vsink rate={rate} channels={channels}
load-module module-pipe-source source_name=vmic file={root}/vmic.fifo format=s16le rate={rate} channels={channels}
set-default-sink vsink
set-default-source vmic
"""

_ASOUNDRC = """\
pcm.vmic     { type pulse; device "vmic";          hint { show on; description "Virtual mic" } }
pcm.vmonitor { type pulse; device "vsink.monitor"; hint { show on; description "Sink monitor" } }
"""


class PulseError(RuntimeError):
    """The virtual PulseAudio daemon could not be started."""


def unavailable() -> str | None:
    """Why a virtual PulseAudio microphone cannot run here (and the fix), or None if it can."""
    for tool in ("pulseaudio", "pactl", "parec"):
        if shutil.which(tool) is None:
            return f"{tool} not installed (apt install pulseaudio pulseaudio-utils)"
    try:
        import sounddevice  # noqa: F401
    except OSError:
        return "PortAudio not installed (apt install libportaudio2)"
    return None


def rescan_portaudio() -> None:
    """Make an already imported sounddevice see the current PULSE_SERVER and ALSA config.

    PortAudio enumerates devices once, at import; re-initialising it rescans (and makes
    ALSA reload ``~/.asoundrc``). Any open stream must be closed first.
    """
    import sys

    sd = sys.modules.get("sounddevice")
    if sd is not None:
        sd._terminate()
        sd._initialize()


class VirtualPulse:
    """Start and stop a private PulseAudio daemon with ``vmic`` and ``vsink``.

    Parameters
    ----------
    root
        Directory for the socket, config, FIFO and log. Default: a new temp dir, removed
        on `stop`.
    rate, channels
        Format of ``vmic`` and ``vsink`` (s16le).
    activate
        On `start`, point this process at the daemon (see `activate`).

    Attributes
    ----------
    env
        Environment entries for child processes (``PULSE_SERVER``, ``HOME``, ...).
    fifo
        Path of the ``vmic`` FIFO.
    """

    def __init__(self, root: str | Path | None = None, rate: int = 48000, channels: int = 1, activate: bool = True):
        self._own_root = root is None
        self.root = Path(root) if root is not None else None
        self.rate, self.channels = rate, channels
        self._activate_on_start = activate
        self._daemon: subprocess.Popen | None = None
        self._parec: subprocess.Popen | None = None
        self._saved_env: dict[str, str | None] | None = None

    @property
    def server(self) -> str:
        return f"unix:{self.root}/pulse/native"

    @property
    def fifo(self) -> Path:
        return self.root / "vmic.fifo"

    @property
    def env(self) -> dict[str, str]:
        return {"PULSE_SERVER": self.server, "HOME": str(self.root), "XDG_RUNTIME_DIR": str(self.root / "pulse")}

    # -- life cycle ---------------------------------------------------------------
    def start(self, timeout: float = 10.0) -> VirtualPulse:
        """Start the daemon and wait until it captures (about 2 s; blocking)."""
        for tool in ("pulseaudio", "pactl", "parec"):
            if shutil.which(tool) is None:
                raise PulseError(f"{tool} not found: install it with `sudo apt install pulseaudio pulseaudio-utils`")
        if self.root is None:
            self.root = Path(tempfile.mkdtemp(prefix="sensorlab-pulse-"))
        (self.root / "pulse").mkdir(parents=True, exist_ok=True)
        os.chmod(self.root / "pulse", 0o700)
        (self.root / "default.pa").write_text(_DEFAULT_PA.format(root=self.root, rate=self.rate, channels=self.channels))
        (self.root / ".asoundrc").write_text(_ASOUNDRC)
        env = {**os.environ, **self.env}
        self._daemon = subprocess.Popen(
            ["pulseaudio", "-n", "-F", str(self.root / "default.pa"), "--daemonize=no", "--exit-idle-time=-1",
             "--use-pid-file=no", "--disallow-exit", f"--log-target=file:{self.root / 'pulse.log'}"],
            env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + timeout
        while subprocess.run(["pactl", "info"], env=env, capture_output=True).returncode != 0:
            if self._daemon.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise PulseError(f"pulseaudio did not start; see {self.root / 'pulse.log'}")
            time.sleep(0.05)
        # The first capture stream after start-up waits ~2 s for the idle null sink; one
        # long-lived reader absorbs that stall so later streams start in 20 ms.
        self._parec = subprocess.Popen(
            ["parec", "-d", "vsink.monitor", "--latency-msec=10", "--raw"], env=env, stdout=subprocess.PIPE
        )
        if not select.select([self._parec.stdout], [], [], max(0.1, deadline - time.monotonic()))[0]:
            self.stop()
            raise PulseError("parec got no data from vsink.monitor")
        threading.Thread(target=_drain, args=(self._parec.stdout,), daemon=True, name="parec-drain").start()
        if self._activate_on_start:
            self.activate()
        return self

    def activate(self) -> None:
        """Point this process's sounddevice at the daemon (sets PULSE_SERVER, rescans).

        HOME is switched to the private root only while PortAudio rescans, so ALSA loads the
        ``.asoundrc`` naming ``vmic``; the rest of the process keeps its HOME.
        """
        if self._saved_env is None:
            self._saved_env = {k: os.environ.get(k) for k in ("PULSE_SERVER",)}
        os.environ["PULSE_SERVER"] = self.server
        home = os.environ.get("HOME")
        os.environ["HOME"] = str(self.root)
        try:
            import sounddevice  # noqa: F401  (first import scans with the env set above)

            rescan_portaudio()
        except OSError:
            pass  # no PortAudio: AudioSource will say so
        finally:
            if home is None:
                os.environ.pop("HOME", None)
            else:
                os.environ["HOME"] = home

    def deactivate(self) -> None:
        if self._saved_env is not None:
            for k, v in self._saved_env.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
            self._saved_env = None

    def kill(self) -> None:
        """SIGKILL the daemon, as if the sound server crashed (for device-lost tests)."""
        if self._daemon is not None and self._daemon.poll() is None:
            self._daemon.send_signal(signal.SIGKILL)
            self._daemon.wait(5)

    def stop(self) -> None:
        self.deactivate()
        for p in (self._parec, self._daemon):
            if p is not None and p.poll() is None:
                p.terminate()
                try:
                    p.wait(3)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait(3)
        self._parec = self._daemon = None
        if self._own_root and self.root is not None:
            shutil.rmtree(self.root, ignore_errors=True)
            self.root = None

    @property
    def alive(self) -> bool:
        return self._daemon is not None and self._daemon.poll() is None

    def __enter__(self) -> VirtualPulse:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def feed(self, audio: World | str | Path | np.ndarray, block_seconds: float = 0.01, loop: bool = True) -> FifoWriter:
        """A started `FifoWriter` feeding ``audio`` into ``vmic`` (use as a context manager)."""
        return FifoWriter(self.fifo, audio, self.rate, self.channels, block_seconds, loop).start()


def _drain(stream) -> None:
    try:
        while stream.read(65536):
            pass
    except (OSError, ValueError):
        pass


class FifoWriter:
    """Write audio into the ``vmic`` FIFO in real time, one block per ``block_seconds``.

    A block is written once its last sample's host time has passed, as a sound card would
    deliver it. For a `World`, sample ``i`` is the world at host time ``t_start + i / rate``,
    so a clap recorded from ``vmic`` should be stamped at the clap's world time.

    Parameters
    ----------
    fifo
        The pipe source's FIFO.
    audio
        A `World`, a WAV path (s16, same rate) or a float array ``(n,)``/``(n, channels)``
        in [-1, 1].
    loop
        Repeat a WAV/array at its end (else stop writing, and vmic goes quiet).

    Attributes
    ----------
    t_start
        Host time of sample 0 (set by `start`).
    samples_written
        Written so far (writer thread; read from anywhere).
    """

    def __init__(self, fifo, audio, rate: int = 48000, channels: int = 1, block_seconds: float = 0.01, loop: bool = True):
        self.fifo, self.audio, self.rate, self.channels = Path(fifo), audio, rate, channels
        self.block = max(1, int(round(block_seconds * rate)))
        self.loop = loop
        self.t_start = float("nan")
        self.samples_written = 0  # NB: only the writer thread writes it
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._fd: int | None = None
        self._array = None if isinstance(audio, World) else self._load(audio)

    def _load(self, audio) -> np.ndarray:
        if isinstance(audio, (str, Path)):
            with wave.open(str(audio)) as w:
                if w.getsampwidth() != 2 or w.getframerate() != self.rate:
                    raise ValueError(f"{audio}: need 16-bit PCM at {self.rate} Hz")
                x = np.frombuffer(w.readframes(w.getnframes()), "<i2").reshape(-1, w.getnchannels())
        else:
            x = np.clip(np.asarray(audio, dtype=np.float64), -1, 1)
            x = np.round(x.reshape(len(x), -1) * 32767).astype("<i2")
        if x.shape[1] != self.channels:
            x = np.repeat(x[:, :1], self.channels, axis=1)
        return np.ascontiguousarray(x)

    def _samples(self, i0: int, n: int) -> np.ndarray | None:
        if self._array is None:
            t = self.t_start + (i0 + np.arange(n)) / self.rate
            return np.round(np.clip(self.audio.audio(t, self.channels), -1, 1) * 32767).astype("<i2")
        total = len(self._array)
        if not self.loop and i0 >= total:
            return None
        idx = (i0 + np.arange(n)) % total if self.loop else np.arange(i0, min(total, i0 + n))
        return self._array[idx]

    def start(self) -> FifoWriter:
        # Non-blocking O_WRONLY: fails at once if no daemon holds the read end, and a write
        # to a dead daemon raises EPIPE instead of blocking forever on a full pipe.
        try:
            self._fd = os.open(self.fifo, os.O_WRONLY | os.O_NONBLOCK)
        except OSError as e:
            raise PulseError(f"cannot write {self.fifo}: is the virtual PulseAudio daemon running? ({e})") from e
        self.t_start = now()
        self._thread = threading.Thread(target=self._run, daemon=True, name="vmic-writer")
        self._thread.start()
        return self

    def _run(self) -> None:
        """Writer thread: sleep until each block is 'recorded', then write it."""
        i = 0
        while not self._stop.is_set():
            due = self.t_start + (i + self.block) / self.rate
            delay = due - now()
            if delay > 0 and self._stop.wait(delay):
                break
            x = self._samples(i, self.block)
            if x is None or len(x) == 0:
                break
            try:
                os.write(self._fd, x.tobytes())
            except BlockingIOError:
                pass  # nobody is reading fast enough: drop the block, like a sound card
            except OSError:
                break  # EPIPE: the daemon is gone
            i += len(x)
            self.samples_written = i

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(2)
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> FifoWriter:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


if __name__ == "__main__":
    from sensorlab.acquisition.emulated.world import shared_world

    with VirtualPulse(activate=False) as pulse, pulse.feed(shared_world()):
        for k, v in pulse.env.items():
            print(f"export {k}={v}" if k == "PULSE_SERVER" else f"# {k}={v}")
        print("# feeding World claps into vmic; Ctrl-C to stop", flush=True)
        try:
            signal.pause()
        except KeyboardInterrupt:
            pass
