"""Start-up's objects are kept out of the garbage collector's full passes while a rig runs
(each full pass holds the GIL that the devices' threads need), and handed back when the rig
closes, so what a closed rig leaves as cyclic garbage is still freed."""

from __future__ import annotations

import gc
import os
import weakref

import pytest

from sensorlab.acquisition.emulated.signal import SignalSource
from sensorlab.acquisition.processors import MovingRMS
from sensorlab.acquisition.rig import EmulatedConfig, RigConfig
from sensorlab.studio import Studio

from tests.acquisition.conftest import wait_until

pytestmark = pytest.mark.skipif(os.name != "posix", reason="ptys and the board host are POSIX only")


class _Cycle:
    """Cyclic garbage once dropped: only the collector frees it."""

    def __init__(self):
        self.me = self


def _rig() -> RigConfig:
    return RigConfig(name="heap", emulated=[EmulatedConfig(device="imu-text", name="wrist")])


def test_a_full_collection_while_the_rig_runs_walks_only_what_was_made_since_it_opened():
    studio = Studio(preroll=0)
    try:
        assert studio.open(_rig().build_sources()) == {}
        assert gc.get_freeze_count() > 1000  # the modules, the rig's sources and threads
        wait_until(lambda: studio.stats["wrist"].samples > 20)
        gc.collect()
        # What a full pass walks now: the objects made since the rig opened, not start-up's.
        assert len(gc.get_objects()) < gc.get_freeze_count() / 4
    finally:
        studio.close()
    assert gc.get_freeze_count() == 0  # handed back with the rig


def test_garbage_a_closed_rig_leaves_is_freed():
    studio = Studio(preroll=0)
    try:
        garbage = _Cycle()
        left = weakref.ref(garbage)
        assert studio.open(_rig().build_sources()) == {}
        del garbage  # frozen with the rig's start-up while it was alive
        gc.collect()
        assert left() is not None  # frozen: a full pass does not walk it
        studio.close_rig()
        gc.collect()
        assert left() is None
    finally:
        studio.close()


def test_a_processor_taken_out_while_the_rig_runs_is_freed():
    studio = Studio(preroll=0)
    level = MovingRMS("imu", name="level")
    level.cycle = _Cycle()  # garbage only the collector frees, once the processor is gone
    left = weakref.ref(level.cycle)
    try:
        assert studio.open([SignalSource("imu", rate=200, shape=(3,), chunk_size=10), level]) == {}
        assert gc.get_freeze_count() > 0
        wait_until(lambda: studio.stats["level"].samples > 10)
        studio.acquisition.remove_processor(level)
        del level
        gc.collect()
        assert left() is None  # freed while the rig still runs
        assert studio.stats["imu"].samples > 0
    finally:
        studio.close()
