"""Instructions of the live panels' per-sample work: 1 s of the demo rig's dense streams at 20 fps.

Each counted frame pulls what arrived since the last one from the stream's `ChunkRing` (the
microphone's stereo int16 in 480-sample chunks, EEG 16 × 1 kHz and IMU 6 × 1 kHz in chunks of
10, each chunk with device and arrival times as a source hands them over) and adds it to the
panel's min/max envelope (`PeakEnvelope.add`, blocks as on a ~1,000-px plot). No Qt: this is
the part of a frame that grows with the samples, not with the pixels (issue 14 §4)::

    valgrind --tool=callgrind --collect-atstart=no --toggle-collect=_operator_call \
        python bench/callgrind_live_pull.py

The totals ÷ 20 are the instructions of a 20 fps frame's pulls. Code without `pull_since`
(before the seventeenth round) is measured through `ChunkRing.since`, as it pulled then.
"""

import operator

import numpy as np

from sensorlab.acquisition.buffers import ChunkRing
from sensorlab.acquisition.source import Chunk
from sensorlab.app.live.buffers import PeakEnvelope

try:
    from sensorlab.app.live.buffers import pull_since
except ImportError:
    pull_since = None
rng = np.random.default_rng(0)
streams = [("mic", 48000, 2, 512, 480, np.int16), ("eeg", 1000, 16, 8, 10, np.float32), ("imu", 1000, 6, 8, 10, np.float32)]
for name, rate, ch, block, hop, dt in streams:
    ring = ChunkRing(12.0)
    env = PeakEnvelope(block, int(rate * 10.5) + 16, ch)
    k = 0
    newest = [-1.0]

    def frame(ring=ring, env=env, newest=newest):
        if pull_since is None:
            c = ring.since(newest[0])
            t, raw = c.timestamps, np.asarray(c.data)
        else:
            t, raw = pull_since(ring, newest[0])
        v = raw.reshape(len(t), -1).astype(np.float32)
        env.add(t, v)
        newest[0] = float(t[-1])

    for f in range(40):  # 2 s at 20 fps; the second second counted
        for _ in range(rate // 20 // hop):
            t = (k + np.arange(hop)) / rate
            d = (rng.normal(0, 1000, (hop, ch))).astype(dt)
            ring.append(Chunk(d, t, device_times=t.copy(), arrival_times=np.full(hop, t[-1])))
            k += hop
        if f >= 20:
            operator.call(frame)
        else:
            frame()
print("done: 20 frames of mic + eeg + imu counted")
