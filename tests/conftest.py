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

# -- several workers (pytest-xdist: `make test` runs `pytest -n 4`) ------------------------------
#: Folders whose tests all run on one worker, and why. Every other test file goes whole to
#: whichever worker is free (so its module fixtures are made once); each worker has its own
#: temporary folders, PulseAudio daemon, ptys and free ports.
ONE_WORKER = {
    "tests/lsl/": "LSL finds streams by multicast across the whole host: two workers would see each other's outlets",
    "tests/firmware/": "the host build of the sketches is made once, not once per worker",
}

#: Units of work (a test file, or a folder of ONE_WORKER) that take far longer than their number
#: of tests suggests, slowest first. xdist hands out the units with the most tests first, so a
#: long unit of one or two tests (a torchrun training, a dozen `sensorlab` processes) used to start
#: last and run alone on one worker while the other had finished. These start first; the many short
#: files then fill both workers' time up to the end.
SLOW_FIRST = (
    "tests/datasets/test_interchange_roundtrip.py",  # ~190 session files written and read back
    "tests/test_attack_cli.py",  # ~20 `sensorlab` processes
    "tests/training/test_distributed.py",  # torchrun: two training processes
    "tests/test_rig_errors_cli.py",
    "tests/firmware/",
    "tests/lsl/",
)


#: Files that assert real-time timing to the millisecond (stamps, clocks, playback, the firmware
#: end to end) and have failed on a busy machine: marked ``timing``. `make test` runs them in
#: one process after the rest, so they never share the CPU with another worker as well.
TIMING = (
    "tests/acquisition/test_audio.py",
    "tests/acquisition/test_camera.py",  # frames 33 ms apart from an MJPEG server (failed beside a hog)
    "tests/acquisition/test_emulated_av.py",
    "tests/acquisition/test_serial_garbage_clock.py",
    "tests/acquisition/test_serial_warmup_late_start.py",  # first second's stamps within 10 ms (31 ms beside three other workers at load 18)
    "tests/acquisition/test_timestamp_accuracy.py",
    "tests/app/test_playback.py",
    "tests/firmware/test_e2e.py",
    "tests/session/test_drift_estimate.py",
    "tests/studio/test_demo_parity.py",
    "tests/test_record_loaded_host.py",  # its CPU hogs and SIGSTOPs would load the tests beside it
)


def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.nodeid.split("::", 1)[0] in TIMING:
            item.add_marker(pytest.mark.timing)


@pytest.hookimpl(optionalhook=True)  # a hook of pytest-xdist, which the headless and TFLite venvs may lack
def pytest_xdist_make_scheduler(config, log):
    # xdist's own `--dist loadgroup` relies on a node attribute pytest 9 no longer has, so the
    # grouping is a scheduler: a unit of work is a folder of ONE_WORKER, else a test file.
    from xdist.scheduler import LoadScopeScheduling

    class FolderOrFile(LoadScopeScheduling):
        slow_first_placed = False

        def _split_scope(self, nodeid: str) -> str:
            return next((f for f in ONE_WORKER if nodeid.startswith(f)), None) or nodeid.split("::", 1)[0]

        def _assign_work_unit(self, node) -> None:
            if not self.slow_first_placed:  # the queue is complete by the first hand-out
                self.slow_first_placed = True
                for scope in reversed(SLOW_FIRST):
                    if scope in self.workqueue:
                        self.workqueue.move_to_end(scope, last=False)
            super()._assign_work_unit(node)

    return FolderOrFile(config, log)


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


# -- a third-party device kind, installed into a temporary folder ---------------------------------

_PLUGINS = Path(__file__).parent / "plugins"


def _install_plugin(folder: Path, dist: str, entry_points: dict[str, str], package: str | None = None) -> Path:
    """Lay out what ``pip install`` would: the package (copied from tests/plugins/) and a
    ``<dist>-0.1.dist-info`` with METADATA and entry_points.txt (``sensorlab.device_kinds``)."""
    import shutil

    if package:
        shutil.copytree(_PLUGINS / package, folder / package)
    info = folder / f"{dist.replace('-', '_')}-0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 0.1\n")
    lines = "".join(f"{name} = {target}\n" for name, target in entry_points.items())
    (info / "entry_points.txt").write_text(f"[sensorlab.device_kinds]\n{lines}")
    return folder


@pytest.fixture
def install_plugin():
    """``install_plugin(folder, dist, {table: "module:KIND"}, package=None)`` → ``folder``."""
    return _install_plugin


@pytest.fixture
def thermo_plugin(tmp_path) -> Path:
    """A folder holding the installed ``sensorlab-thermo`` distribution (a [[thermo]] kind);
    put it on PYTHONPATH of a subprocess, or use ``thermo_registered`` in this process."""
    return _install_plugin(tmp_path / "site", "sensorlab-thermo", {"thermo": "sensorlab_thermo:KIND"}, "sensorlab_thermo")


@pytest.fixture
def thermo_registered(thermo_plugin):
    """The thermo kind registered in this process (its folder on sys.path, registry re-read)."""
    import sys

    from sensorlab.acquisition import kinds

    sys.path.insert(0, str(thermo_plugin))
    kinds.refresh()
    yield thermo_plugin
    sys.path.remove(str(thermo_plugin))
    sys.modules.pop("sensorlab_thermo", None)
    kinds.refresh()
