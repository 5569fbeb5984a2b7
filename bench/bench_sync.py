"""Clap sync error across audio and camera streams recorded together.

Run: ``python bench/bench_sync.py [seconds]`` (or via ``bench/run_all.py``). One `World` claps
every 0.5 s; an `EmulatedMicrophone` (+20 ppm, 20 ms bursty hand-overs), an `EmulatedCamera`
(30 fps) and, when PulseAudio is installed, a real `AudioSource` on the virtual ``vmic`` fed
with the same World run together under one `Acquisition`. Each clap is found in each stream
(first sample over 0.3; first bright frame) and compared with its true world time.

Baseline for audio: stamping every sample of a block with the block's arrival time (what a
naive callback does), measured on the same samples. Camera error is bounded below by the
frame period: a flash is first seen by the next grab, 0-33 ms after the clap.
"""

from __future__ import annotations

import shutil
import sys
import time

import numpy as np

from sensorlab.acquisition.emulated.camera import EmulatedCamera
from sensorlab.acquisition.emulated.microphone import EmulatedMicrophone
from sensorlab.acquisition.emulated.world import World
from sensorlab.acquisition.hub import Acquisition


def audio_errors(chunk, world: World, naive: bool = False) -> np.ndarray:
    """Detected minus true clap time, per clap fully inside the chunk (seconds)."""
    ts = chunk.arrival_times if naive else chunk.timestamps
    x = np.abs(chunk.data[:, 0].astype(np.float64))
    x = x / 32767 if chunk.data.dtype == np.int16 else x
    out = []
    for tc in world.clap_times(chunk.timestamps[0] + 0.05, chunk.timestamps[-1] - 0.1):
        near = (chunk.timestamps > tc - 0.1) & (chunk.timestamps < tc + 0.1)
        out.append(ts[near][np.argmax(x[near] > 0.3)] - tc)
    return np.array(out)


def camera_errors(chunk, world: World) -> np.ndarray:
    ts = chunk.timestamps
    bright = chunk.data.reshape(len(chunk), -1).mean(axis=1) > 150
    flashes = ts[1:][bright[1:] & ~bright[:-1]]
    out = []
    for tc in world.clap_times(ts[0] + 0.05, ts[-1] - 0.1):
        after = flashes[flashes >= tc - 0.01]
        if len(after):
            out.append(after[0] - tc)
    return np.array(out)


def _ms(e: np.ndarray) -> str:
    return f"median {np.median(np.abs(e)) * 1e3:.2f} ms, max {np.abs(e).max() * 1e3:.2f} ms (n={len(e)})"


def run(seconds: float = 6.0) -> list[dict]:
    world = World(clap_interval=0.5)
    sources = [EmulatedMicrophone(world, drift_ppm=20, name="emu_mic"), EmulatedCamera(world, 320, 240, name="emu_cam")]
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
            errors = acq.errors
    finally:
        if writer is not None:
            writer.stop()
        if pulse is not None:
            pulse.stop()
    rows = []
    for name in ("emu_mic", "vmic"):
        if name not in chunks:
            rows.append({"benchmark": f"clap sync, {name}", "value": f"not run: {errors}", "goal": "< 2 ms"})
            continue
        e, naive = audio_errors(chunks[name], world), audio_errors(chunks[name], world, naive=True)
        rows.append({
            "benchmark": f"clap sync, audio {name} (sample-count clock fit)",
            "value": _ms(e),
            "baseline": f"block arrival stamps: {_ms(naive)}",
            "ratio": float(np.abs(naive).max() / max(np.abs(e).max(), 1e-6)),
            "goal": "max < 2 ms",
        })  # fmt: skip
    e = camera_errors(chunks["emu_cam"], world)
    rows.append({
        "benchmark": "clap sync, emulated camera 30 fps (stamp at grab)",
        "value": _ms(e),
        "baseline": "frame period 33.3 ms",
        "ratio": float((1 / 30) / max(np.abs(e).max(), 1e-6)),
        "goal": "0 <= error < 1 frame",
    })  # fmt: skip
    return rows


if __name__ == "__main__":
    for row in run(float(sys.argv[1]) if len(sys.argv) > 1 else 6.0):
        print(row)
