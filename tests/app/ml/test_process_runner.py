"""`ProcessRunner` on real child processes: JSON events, the log, and what Cancel reports."""

from __future__ import annotations

import time
from pathlib import Path

from sensorlab.app.common.process_runner import ProcessRunner


def _state(pid: int) -> str:
    """The kernel's one-letter state of a process ('Z' once it has exited and awaits reaping)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return "gone"


def test_json_lines_become_events_and_the_rest_the_log(qtbot):
    runner = ProcessRunner()
    events, log = [], []
    runner.event.connect(events.append)
    runner.log.connect(log.append)
    with qtbot.waitSignal(runner.finished, timeout=60_000) as done:
        runner.start("--version")
    assert done.args[0] == "ok"
    assert events == []
    assert log[0] == "$ sensorlab --version" and any("sensorlab" in line for line in log[1:])


def test_a_job_that_completed_before_cancel_reached_it_reports_ok(qtbot):
    # Cancel pressed while the finished job's exit is still queued: the work was done, so the
    # window must not claim "cancelled, nothing written" (a dataset build had written its file).
    runner = ProcessRunner()
    with qtbot.waitSignal(runner.finished, timeout=60_000) as done:
        runner.start("--version")
        qtbot.waitUntil(lambda: runner.pid > 0, timeout=10_000)
        pid = runner.pid
        # Wait for the exit without running Qt's event loop, so the runner has not seen it yet.
        deadline = time.monotonic() + 60
        while _state(pid) not in ("Z", "gone") and time.monotonic() < deadline:
            time.sleep(0.005)
        assert runner.running
        runner.cancel()
    assert done.args[0] == "ok"
