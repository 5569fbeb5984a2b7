"""Shared fixtures: acquisitions and recorded sessions built from `SignalSource`, always torn down.

- ``make_acquisition(*sources)`` → an opened (not started) `Acquisition`.
- ``make_recorder(*sources, **recorder_kwargs)`` → a started `(Recorder, Acquisition)` pair on
  ``tmp_path`` (sources started too unless ``start_sources=False``, e.g. to connect signals
  first); stop it yourself or let teardown do it.
- ``make_session(*sources, **recorder_kwargs)`` → the ``Path`` of a finished session: records
  finite sources (``max_samples``, usually ``realtime=False``) to the end and stops.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from sensorlab.acquisition.hub import Acquisition
from sensorlab.acquisition.source import SourceBase

_counter = itertools.count()


@pytest.fixture
def make_acquisition():
    created: list[Acquisition] = []

    def factory(*sources: SourceBase) -> Acquisition:
        acq = Acquisition(sources)
        acq.open()
        created.append(acq)
        return acq

    yield factory
    for acq in created:
        acq.close()


@pytest.fixture
def make_recorder(tmp_path, make_acquisition):
    from sensorlab.session.recorder import Recorder

    recorders = []

    def factory(*sources: SourceBase, path: Path | None = None, start_sources: bool = True, **kwargs):
        acq = make_acquisition(*sources)
        rec = Recorder(acq, path or tmp_path / f"session{next(_counter)}.h5", **kwargs)
        recorders.append(rec)
        rec.start()  # subscribe before the sources start, so nothing is missed
        if start_sources:
            acq.start()
        return rec, acq

    yield factory
    for rec in recorders:
        if rec._state in ("recording", "stopping"):
            rec.stop()


@pytest.fixture
def make_session(make_recorder):
    def factory(*sources: SourceBase, timeout: float = 20.0, **kwargs) -> Path:
        rec, acq = make_recorder(*sources, **kwargs)
        for src in sources:
            assert src.wait(timeout), f"{src.description} did not finish in {timeout} s"
        return rec.stop()

    return factory
