"""The audio/video half of the benchmark rigs: an MJPEG camera over HTTP and, where PulseAudio
is installed, the virtual microphone, both fed by the same emulated world as the caller's
sources; records them all for a while and hands back each stream's ring.

Used by bench_sync.py and bench_timestamps.py (not a benchmark itself).
"""

from __future__ import annotations

import shutil
import time


def record_with_av(world, sources: list, seconds: float) -> tuple[dict, dict, dict]:
    """``(chunks, stats, errors)`` of ``sources`` + ``http_cam`` (+ ``vmic``) recorded for ``seconds``."""
    from sensorlab.acquisition.camera import CameraSource
    from sensorlab.acquisition.emulated.mjpeg_server import start_process
    from sensorlab.acquisition.hub import Acquisition

    sources = list(sources)
    server, url = start_process(world=world, fps=30)
    sources.append(CameraSource(url, fps=30, name="http_cam"))
    pulse = writer = None
    if shutil.which("pulseaudio") and shutil.which("parec"):
        from sensorlab.acquisition.audio import AudioSource
        from sensorlab.acquisition.emulated.pulse import VirtualPulse

        pulse = VirtualPulse().start()
        writer = pulse.feed(world)
        sources.append(AudioSource("vmic", name="vmic"))
    try:
        with Acquisition(sources) as acq:
            rings = {name: acq.ring(name, seconds=seconds + 5) for name in acq.streams}
            time.sleep(seconds)
            chunks = {name: ring.snapshot() for name, ring in rings.items()}
            return chunks, dict(acq.stats), dict(acq.errors)
    finally:
        if writer is not None:
            writer.stop()
        if pulse is not None:
            pulse.stop()
        server.terminate()
        server.wait(5)
