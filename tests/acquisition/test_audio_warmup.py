"""The audio warm-up hold on a host that was busy at start: no samples stamped late, then squeezed."""

from __future__ import annotations

import time

import numpy as np
import pytest

from sensorlab.acquisition import audio
from sensorlab.acquisition.audio import AudioSource

RATE, BLOCK, HANDOVER = 48000, 480, 0.02


class ScriptedCard(AudioSource):
    """An `AudioSource` whose card is the test: blocks and their arrival times are put in by hand."""

    def _open_device(self) -> str:
        return "scripted card"

    def _start_device(self) -> None:
        pass

    def _stop_device(self) -> None:
        pass

    def hand_over(self, t0: float, seconds: float, late_until: float, late_by: float, draining: bool = False) -> np.ndarray:
        """Hand over ``seconds`` of audio captured from host time ``t0`` in 20 ms bursts, each
        burst once the worker has counted the one before (one burst a hand-over, as a card
        delivers them); bursts due before ``t0 + late_until`` arrive ``late_by`` late (the host
        starved its threads; ``draining``: less late with every burst, down to on time at
        ``late_until``, as a starved thread catching up). Returns the true capture time of
        every sample."""
        per_burst = int(HANDOVER * RATE)
        bursts = int(seconds / HANDOVER)
        for k in range(1, bursts + 1):
            due = t0 + k * HANDOVER
            late = late_by * (1 - k * HANDOVER / late_until if draining else 1)
            delay = late if k * HANDOVER < late_until else 0.0005
            for first in range((k - 1) * per_burst, k * per_burst, BLOCK):
                self._queue.put((due + delay, np.full((BLOCK, 1), k, np.int16), False))
            deadline = time.monotonic() + 10
            while self.clock.count < k * per_burst:
                assert time.monotonic() < deadline, "the audio worker stopped taking blocks"
                time.sleep(0.0005)
        return t0 + np.arange(bursts * per_burst) / RATE


def record(card: ScriptedCard, **script) -> tuple[np.ndarray, np.ndarray]:
    chunks = []
    card.open()
    card.start(lambda stream, chunk: chunks.append(chunk))
    truth = card.hand_over(1000.0, **script)
    card.stop()
    stamps = np.concatenate([c.timestamps for c in chunks])
    assert len(stamps) == len(truth), "every sample handed over is delivered"
    return stamps, truth


def test_busy_start_holds_until_the_fit_settles():
    """A host busy at start: the bursts of the first 0.6 s arrive late, 0.28 s at first and
    less with every burst (a starved thread catching up). The old fixed 0.25 s hold stamped
    the first quarter second with the fit of then (~0.16 s late) and squeezed 7,000 samples
    1 µs apart when it caught up. Every sample must be stamped at its capture time, at the
    sample period."""
    stamps, truth = record(ScriptedCard(samplerate=RATE, blocksize=BLOCK), seconds=3.0, late_until=0.6, late_by=0.28, draining=True)
    dt = np.diff(stamps)
    assert (dt > 0.5 / RATE).all(), f"{np.sum(dt <= 0.5 / RATE)} samples squeezed"
    assert np.abs(stamps - truth).max() < 0.002


def test_a_host_late_by_the_same_amount_is_squeezed_once_it_catches_up():
    """The limit of any live stamp: bursts all late by the same 0.28 s for 0.6 s look like an
    on-time card, so the hold ends; when the host catches up, the fit steps back and the
    samples stamped too late are squeezed (time stays sorted). Everything after is exact."""
    stamps, truth = record(ScriptedCard(samplerate=RATE, blocksize=BLOCK), seconds=3.0, late_until=0.6, late_by=0.28)
    assert (np.diff(stamps) > 0).all()
    assert np.abs(stamps - truth)[int(1.0 * RATE):].max() < 0.002


def test_quiet_start_releases_after_the_warmup():
    """On a quiet host the hold ends about `warmup` seconds in, not at `MAX_WARMUP`."""
    card = ScriptedCard(samplerate=RATE, blocksize=BLOCK)
    released_at = []
    card.open()
    card.start(lambda stream, chunk: released_at.append(card.clock.count) if not released_at else None)
    card.hand_over(1000.0, seconds=3.0, late_until=0.0, late_by=0.0)
    card.stop()
    assert released_at and released_at[0] / RATE < 2 * card.warmup + 0.05


def test_a_host_that_never_settles_gets_its_audio_after_max_warmup(monkeypatch):
    """Late by a different amount every burst for longer than `MAX_WARMUP`: the audio still
    comes, stamped in order."""
    monkeypatch.setattr(audio, "MAX_WARMUP", 0.5)
    stamps, truth = record(ScriptedCard(samplerate=RATE, blocksize=BLOCK), seconds=3.0, late_until=2.5, late_by=0.28)
    assert (np.diff(stamps) > 0).all()
    assert stamps[-1] == pytest.approx(truth[-1], abs=0.002)
