"""At Stop, wait for the samples the devices took before it and the host has not read yet.

On a loaded host (a load average of 20 on two cores) a serial reader can get no CPU for a
second or more: the samples a board sent meanwhile wait in the pty and in the reader, and the
recorder stopped listening before they came. They were lost from the file, and the stream's
last stored sample lay seconds before the end, so ``sensorlab record`` warned "stopped sending
2.5 s before the end of the recording" and exited 3 for a healthy device. So the recorder
waits, before it stops listening, until every regular stream has delivered a sample taken at
the stop (by its timestamp: the device's clock where it has one), as long as the stream is
still delivering: a device that went silent costs at most `GIVE_UP_AFTER` more seconds of
Stop, and is still reported as silent; a source that says it has ended is not waited for.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

import numpy as np

from sensorlab.acquisition.clock import now
from sensorlab.acquisition.source import StreamInfo, StreamStats

#: A stream that delivered nothing new for this long while Stop waits for it is given up on
#: (a device that went silent, or one whose samples will not come): its wait ends.
GIVE_UP_AFTER = 2.0
#: The most Stop waits for late samples, whatever the streams do.
DRAIN_TIMEOUT = 8.0


def behind(info: StreamInfo, st: StreamStats | None, t_stop: float) -> bool:
    """Whether a device's stream has not yet delivered its samples up to ``t_stop`` (a regular
    stream that is running: one that stopped, failed or never sent is not waited for, nor a
    processor's, whose samples follow its inputs')."""
    if st is None or not info.regular or info.nominal_rate <= 0 or info.derived_from or st.error or st.lost or not st.samples:
        return False
    return not np.isfinite(st.last_time) or st.last_time < t_stop - 1.0 / info.nominal_rate


def ended(acquisition, stream: str) -> bool:
    """Whether the source of ``stream`` says it has sent all it will (a finite emulated source:
    its ``done`` event set) or is gone."""
    try:
        done = getattr(acquisition.source_of(stream), "done", None)
    except KeyError:
        return True
    return done is not None and done.is_set()


def wait_for_samples_up_to(t_stop: float, streams: dict[str, StreamInfo], acquisition, names: Iterable[str],
                           timeout: float = DRAIN_TIMEOUT, give_up_after: float = GIVE_UP_AFTER) -> list[str]:  # fmt: skip
    """Wait until each of ``names`` (streams of ``acquisition``) has delivered its samples up to
    ``t_stop``, or delivered nothing new for ``give_up_after`` seconds, or its source ended, or
    ``timeout`` passed. Returns the streams still behind."""
    names = [n for n in names if not ended(acquisition, n)]
    pause = threading.Event()
    start = now()
    progress: dict[str, tuple[int, float]] = {}  # stream → (samples, when they last grew)
    while True:
        t = now()
        current = acquisition.stats
        waiting = []
        for name in names:
            info, st = streams.get(name), current.get(name)
            if info is None or not behind(info, st, t_stop):
                continue
            seen, since = progress.get(name, (-1, t))
            if st.samples != seen:
                progress[name] = (st.samples, t)
            elif t - since >= give_up_after:
                continue
            waiting.append(name)
        if not waiting or t - start >= timeout:
            return waiting
        pause.wait(0.02)
