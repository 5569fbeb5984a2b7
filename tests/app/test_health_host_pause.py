"""Stream health on a busy machine: a pause of the whole process (a suspended or overloaded
machine, a VM whose host ran something else) is not a stalled device.

During such a pause no thread of the process runs, the device threads included, so right
after it every stream has been silent for as long as the pause; the data waited meanwhile (in
the sound server, the kernel, a reader process) and nothing was lost. The view now counts a
silence without the pauses it saw itself (`HostPauses`).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from sensorlab.app.live.health_rates import HostPauses, silence
from sensorlab.app.live.health_view import HealthView

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGSTOP"), reason="needs SIGSTOP/SIGCONT (POSIX)")


def test_a_pause_seen_by_the_view_is_not_counted_as_a_streams_silence():
    pauses = HostPauses(period=0.5)
    for t in (10.0, 10.5, 11.0):
        pauses.note(t)
    pauses.note(13.5)  # 2.5 s since the last refresh: a 2 s pause ended at 13.5
    assert silence(13.5, 10.9, pauses) == pytest.approx(0.6)  # 2.6 s silent, 2 s of it the pause
    # Silence that began inside the pause counts the pause only from then.
    assert silence(13.5, 12.5, pauses) == pytest.approx(0.0)
    # A device that stays silent after the pause is a stall again, refresh by refresh.
    for t in (14.0, 14.5, 15.0):
        pauses.note(t)
    assert silence(15.0, 10.9, pauses) == pytest.approx(2.1)
    # On-time refreshes are no pause; pauses older than `keep` are forgotten.
    assert HostPauses(period=0.5).since(0.0) == 0.0
    pauses.note(200.0)
    assert pauses.since(10.9) == pytest.approx(200.0 - 15.0 - 0.5)


def test_the_process_stopped_for_longer_than_the_stall_limit_leaves_every_stream_ok(qtbot, fake_acquisition):
    hv = HealthView(fake_acquisition)
    qtbot.addWidget(hv)
    streams = ("imu", "mic", "cam")  # stalled after 1 s, 1 s and 1.3 s without data
    qtbot.waitUntil(lambda: all(hv.status_text(n) == "ok" for n in streams), timeout=20_000)
    # The whole process is stopped for 1.8 s (every thread, as on a suspended machine), then
    # resumed. This thread keeps the GIL meanwhile (no blocking call, no forced switch), so the
    # refresh right after the pause judges the streams before their device threads have run:
    # every one has been silent for longer than its stall limit.
    switch = sys.getswitchinterval()
    sys.setswitchinterval(100.0)
    try:
        pauser = subprocess.Popen(["sh", "-c", f"sleep 0.2; kill -STOP {os.getpid()}; sleep 1.8; kill -CONT {os.getpid()}"])
        last = give_up = time.monotonic()
        while last - give_up < 60:  # until the jump of the stop (a monotonic clock counts it)
            t = time.monotonic()
            if t - last > 1.0:
                break
            last = t
        silent = {n: t - fake_acquisition.stats[n].last_arrival for n in streams}
        hv.update_now()
        verdicts = {n: hv.status_text(n) for n in streams}
    finally:
        sys.setswitchinterval(switch)
    pauser.wait(10)
    assert all(s > 1.5 for s in silent.values()), silent  # the pause did silence them all
    assert all(v == "ok" for v in verdicts.values()), verdicts
    # And the view still tells a device that stops from a pause: one stream stalled for real.
    fake_acquisition.source_of("imu").stall(3.0)
    qtbot.waitUntil(lambda: hv.status_text("imu").startswith("stalled"), timeout=20_000)
    assert hv.status_text("mic") == "ok"
