"""LSL tests run on the loopback only, in a private LSL session.

liblsl reads its configuration once, when it is first used, from the file named by the
``LSLAPICFG`` environment variable. We point it, before pylsl is imported, at a file that
keeps discovery on this machine (``ResolveScope = machine``, ``KnownPeers = {127.0.0.1}``:
works where multicast is filtered) and sets a ``SessionID`` unique to this test run, so
streams of other processes on the machine (other test runs) are invisible to ours and
ours to them. Publisher subprocesses get the same environment (`lsl_env`).
"""

from __future__ import annotations

import atexit
import os
import shutil
import sys
import tempfile
import uuid
from pathlib import Path

import pytest

_dir = Path(tempfile.mkdtemp(prefix="sensorlab-lsl-"))
atexit.register(shutil.rmtree, _dir, True)
_cfg = _dir / "lsl_api.cfg"
_cfg.write_text(
    "[ports]\nIPv6 = disable\n"
    "[multicast]\nResolveScope = machine\nKnownPeers = {127.0.0.1}\n"
    f"[lab]\nSessionID = sensorlab-test-{uuid.uuid4().hex[:12]}\n"
    "[log]\nlevel = -2\n"
)
os.environ["LSLAPICFG"] = str(_cfg)

pylsl = pytest.importorskip("pylsl", reason="the LSL bridge needs the lsl extra: pip install -e '.[lsl]'")

REPO = Path(__file__).resolve().parents[2]
PUBLISHER = Path(__file__).with_name("publisher.py")


def lsl_env() -> dict[str, str]:
    return {**os.environ, "LSLAPICFG": str(_cfg), "PYTHONPATH": str(REPO)}


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def publisher(tmp_path):
    """``start(name)`` runs ``publisher.py`` in a subprocess → (process, push log, stop file); killed at teardown."""
    import subprocess

    procs: list[subprocess.Popen] = []

    def start(name: str, seconds: float = 60.0, rate: float = 200.0, channels: int = 4) -> tuple[subprocess.Popen, Path]:
        log = tmp_path / f"{name}.pushes.npy"
        stop = tmp_path / f"{name}.stop"
        p = subprocess.Popen(
            [sys.executable, str(PUBLISHER), name, str(log), str(stop), str(seconds), str(rate), str(channels)],
            env=lsl_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        procs.append(p)
        line = p.stdout.readline()  # "ready" once the outlet exists
        assert line.strip() == "ready", f"publisher did not start: {line!r} {p.stderr.read() if p.poll() is not None else ''}"
        return p, log, stop

    yield start
    for p in procs:
        if p.poll() is None:
            p.kill()
        p.wait(10)
