"""A stand-alone LSL publisher for the tests (run as a subprocess, like a lab device's program).

``publisher.py NAME LOG STOPFILE SECONDS RATE CHANNELS``: publishes NAME (type "EEG", float32,
CHANNELS channels) at RATE Hz; sample k holds k + 0.25·channel. Each sample is stamped with
``local_clock()`` read at its push (passed explicitly, so a publisher descheduled between
reading the clock and pushing cannot make the log disagree with the stamp), and when STOPFILE
appears or SECONDS pass, (k, push time) rows are saved to LOG (.npy).
"""

import sys
import time
from pathlib import Path

import numpy as np
import pylsl

name, log, stop, seconds, rate, channels = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5]), int(sys.argv[6])
info = pylsl.StreamInfo(name, "EEG", channels, rate, "float32", f"{name}-src")
chans = info.desc().append_child("channels")
for i in range(channels):
    ch = chans.append_child("channel")
    ch.append_child_value("label", f"C{i + 1}")
    ch.append_child_value("unit", "microvolts")
outlet = pylsl.StreamOutlet(info)
print("ready", flush=True)
rows = []
t_end = time.monotonic() + seconds
k = 0
next_t = time.monotonic()
offsets = np.arange(channels, dtype=np.float32) * 0.25
while time.monotonic() < t_end and not stop.exists():
    t = pylsl.local_clock()
    outlet.push_sample((k + offsets).tolist(), t)
    rows.append((k, t))
    k += 1
    next_t += 1.0 / rate
    time.sleep(max(0.0, next_t - time.monotonic()))
np.save(log, np.array(rows, dtype=np.float64))
print("done", k, flush=True)
