"""Energy suggestions on real speech with digital silence: how many spoken digits are found.

Builds one recording from 60 takes of the Free Spoken Digit Dataset (Z. Jackson et al.,
CC BY-SA 4.0; 8 kHz mono WAV files named ``{digit}_{speaker}_{take}.wav``): each take over a
quiet room-noise floor (-66 dB RMS) with 0.4–1.0 s between takes, and 10 % exact-zero digital
silence before and after (what a virtual or file-based source, or a recording started before
the sound, produces). Runs ``energy_segments`` with its defaults and counts the takes matched
by a suggestion with IoU ≥ 0.5 (the truth is each take's span).

Baseline, in the same run: the former noise floor (10th percentile of every frame's energy,
digital silence included), which gave one suggestion spanning the whole recording.

The data set is not part of the project. Point the bench at its recordings folder:
``python bench/bench_suggest_digits.py PATH`` or ``SENSORLAB_FSDD=PATH``; ``run()`` (used by
bench/run_all.py) returns no rows when it is not set.
"""

from __future__ import annotations

import os
import sys
import wave
from pathlib import Path

import numpy as np

from sensorlab.labeling.suggest import energy_segments, frame_energy_db, noise_floor

N_TAKES = 60


def load_take(path: Path) -> tuple[np.ndarray, int]:
    with wave.open(str(path)) as w:
        assert w.getsampwidth() == 2 and w.getnchannels() == 1, path
        x = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.float32) / 32768.0
        return x, w.getframerate()


def build(folder: Path, seed: int = 0) -> tuple[np.ndarray, np.ndarray, list[tuple[float, float]]]:
    rng = np.random.default_rng(seed)
    files = sorted(folder.glob("*.wav"))
    picks = [files[i] for i in rng.choice(len(files), N_TAKES, replace=False)]
    rate = load_take(picks[0])[1]
    pieces, truth, n = [], [], 0
    takes = [load_take(p)[0] for p in picks]
    body = sum(len(x) for x in takes) + int(0.7 * rate) * N_TAKES
    lead = int(0.1 * body)
    pieces.append(np.zeros(lead, np.float32))
    n += lead
    for x in takes:
        gap = int(rng.uniform(0.4, 1.0) * rate)
        pieces.append((0.0005 * rng.standard_normal(gap)).astype(np.float32))
        n += gap
        pieces.append(x + (0.0005 * rng.standard_normal(len(x))).astype(np.float32))
        truth.append((n / rate, (n + len(x)) / rate))
        n += len(x)
    pieces.append(np.zeros(lead, np.float32))
    audio = np.concatenate(pieces)
    return audio, np.arange(audio.size) / rate, truth


def matched(segs, truth) -> int:
    def iou(a, b):
        inter = max(0.0, min(a[1], b[1]) - max(a[0], b[0]))
        return inter / (max(a[1], b[1]) - min(a[0], b[0]))

    return sum(any(iou((s.start, s.end), t) >= 0.5 for s in segs) for t in truth)


def measure(folder: Path) -> dict:
    audio, times, truth = build(folder)
    segs = energy_segments(audio, times)
    # The former floor: the 10th percentile over every frame, digital silence included.
    db, _, _ = frame_energy_db(audio, times, frame=240, hop=80)
    old_floor = float(np.percentile(db, 10))
    old = energy_segments(audio, times, high_db=old_floor + 12.0, low_db=old_floor + 6.0)
    return {"takes": len(truth), "found": len(segs), "matched": matched(segs, truth),
            "floor_db": noise_floor(db), "old_found": len(old), "old_matched": matched(old, truth),
            "old_floor_db": old_floor}


def run() -> list[dict]:
    folder = os.environ.get("SENSORLAB_FSDD")
    if not folder or not Path(folder).is_dir():
        print("   skipped: set SENSORLAB_FSDD to the Free Spoken Digit Dataset's recordings folder")
        return []
    r = measure(Path(folder))
    return [{"benchmark": f"energy suggestions on {r['takes']} spoken digits with 10 % digital silence (matched, IoU ≥ 0.5)",
             "value": f"{r['matched']} of {r['takes']} ({r['found']} suggestions)",
             "baseline": f"{r['old_matched']} ({r['old_found']} suggestion(s), floor {r['old_floor_db']:.0f} dB)",
             "ratio": "", "goal": "every take"}]


if __name__ == "__main__":
    if len(sys.argv) > 1:
        os.environ["SENSORLAB_FSDD"] = sys.argv[1]
    for row in run():
        print(row)
