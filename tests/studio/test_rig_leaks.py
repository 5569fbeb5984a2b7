"""A rig closed, replaced or refused leaves nothing running: its emulated boards are gone from
the board host process (their ptys closed), and no reader process or thread of it is left.

An emulated board exists in the board host from the rig's build on (`RemoteBoard`), so every
path that drops built sources without closing them leaves a "device" streaming into a pty no
one reads, for as long as the studio runs.
"""

from __future__ import annotations

import os
import threading

import pytest

from sensorlab.acquisition.emulated.board_host import board_host
from sensorlab.acquisition.hub import Acquisition
from sensorlab.acquisition.rig import EmulatedConfig, RigConfig, parse_rig
from sensorlab.studio import Studio

from tests.acquisition.conftest import wait_until
from tests.processes import child_pids

pytestmark = pytest.mark.skipif(os.name != "posix", reason="ptys and the board host are POSIX only")


def _rig(device: str = "imu-text") -> RigConfig:
    return RigConfig(name="leaks", emulated=[EmulatedConfig(device=device)])


def _host_boards() -> set[str]:
    """The ports of the boards alive in the board host."""
    return set(board_host().call(op="boards")["boards"].values())


def _host_ptys() -> set[str]:
    """The pty ends (``/dev/pts/N``) the board host process holds open."""
    fd_dir = f"/proc/{board_host()._proc.pid}/fd"
    out = set()
    for fd in os.listdir(fd_dir):
        try:
            target = os.readlink(f"{fd_dir}/{fd}")
        except OSError:
            continue  # closed meanwhile
        if target.startswith("/dev/pts/"):
            out.add(target)
    return out


@pytest.fixture
def baseline():
    """What runs before the test (the board host started): threads and child processes."""
    board_host()
    assert wait_until(lambda: not _host_boards(), 30.0), f"boards left by an earlier test: {_host_boards()}"
    return {t.ident for t in threading.enumerate()}, child_pids()


def _assert_nothing_left(baseline, boards: set[str] = frozenset()) -> None:
    threads, children = baseline
    assert _host_boards() == set(boards), "the board host runs boards of a rig that was closed"
    assert _host_ptys() == set(boards), "the board host holds ptys of boards that were closed"
    assert wait_until(lambda: child_pids() <= children | {board_host()._proc.pid}, 30.0), "a reader process was left running"
    assert wait_until(lambda: {t.ident for t in threading.enumerate()} <= threads, 30.0), [
        t.name for t in threading.enumerate() if t.ident not in threads
    ]


def _ports(sources) -> set[str]:
    return {src.mcu.port for src in sources}


def test_open_after_close_opens_nothing_and_leaves_no_board(baseline):
    sources = _rig().build_sources()
    acq = Acquisition(sources)
    acq.open()
    acq.start()
    assert acq.streams and _host_boards() == _ports(sources)
    acq.close()
    acq.open()  # given up while waiting to open (a rig replaced meanwhile): opens nothing
    acq.start()
    assert not acq.streams
    _assert_nothing_left(baseline)


def test_an_acquisition_closed_before_it_opened_frees_its_boards(baseline):
    # The order a rig replaced before its worker thread got to open it goes through.
    acq = Acquisition(_rig().build_sources())
    acq.close()
    acq.open()
    acq.start()
    assert not acq.streams
    _assert_nothing_left(baseline)


def test_a_rig_replaced_while_it_opens_leaves_only_the_new_rigs_boards(baseline):
    studio = Studio(preroll=0)
    first = _rig("imu-text").build_sources()
    second = _rig("imu-binary").build_sources()
    opening = threading.Thread(target=studio.open, args=(first,))
    try:
        opening.start()
        assert wait_until(lambda: studio.acquisition is not None, 30.0)
        studio.open(second)  # the user picked another rig while the first was still opening
        opening.join(120.0)
        assert not opening.is_alive()
        assert list(studio.streams) == ["imu"]
        assert _host_boards() == _ports(second)
        assert _host_ptys() == _ports(second)
        assert wait_until(lambda: studio.stats["imu"].samples > 0, 60.0), "the new rig does not stream"
    finally:
        studio.close()
        opening.join(120.0)
    _assert_nothing_left(baseline)


def test_a_rig_refused_while_recording_frees_its_boards(tmp_path, baseline):
    studio = Studio(preroll=0)
    current = _rig("imu-text").build_sources()
    try:
        studio.open(current)
        studio.start_recording(tmp_path / "a.h5")
        refused = _rig("imu-binary").build_sources()
        with pytest.raises(RuntimeError, match="stop the recording"):
            studio.open(refused)
        assert _host_boards() == _ports(current)  # the refused rig's board is gone, the recording's runs on
        assert studio.recording and studio.stats
    finally:
        studio.close()
    _assert_nothing_left(baseline)


def test_a_rig_whose_build_fails_midway_frees_the_boards_already_built(baseline, monkeypatch):
    from sensorlab.acquisition import processors

    # A rig with a model processor built where sensorlab.inference was not imported: the
    # builder refuses after the rig's board was made.
    monkeypatch.delitem(processors._BUILDERS, "model", raising=False)
    rig = parse_rig('name = "x"\n[[emulated]]\ndevice = "imu-text"\n[[processor]]\nkind = "model"\npath = "m.onnx"\ninput = "wrist"\n')
    with pytest.raises(ValueError, match="needs sensorlab.inference"):
        rig.build_sources()
    _assert_nothing_left(baseline)


def test_close_rig_frees_the_boards_refuses_while_recording_and_the_studio_opens_again(tmp_path, baseline):
    studio = Studio(preroll=0)
    try:
        assert studio.close_rig() is False  # no rig yet: nothing to close
        first = _rig("imu-text").build_sources()
        studio.open(first)
        studio.start_recording(tmp_path / "a.h5")
        with pytest.raises(RuntimeError, match="stop the recording before closing the rig"):
            studio.close_rig()
        assert studio.recording and _host_boards() == _ports(first)
        studio.stop_recording()
        assert studio.close_rig() is True
        assert studio.acquisition is None and not studio.streams and not studio.preroll.rings()
        _assert_nothing_left(baseline)
        second = _rig("imu-binary").build_sources()
        studio.open(second)  # ready for another rig
        assert wait_until(lambda: studio.stats["imu"].samples > 0, 60.0)
        assert _host_boards() == _ports(second)
    finally:
        studio.close()
    _assert_nothing_left(baseline)
