"""Auto-suggested segments for review: pure numpy functions over arrays and their times.

Each method turns a signal into a per-frame (or per-sample) feature, then into spans with
hysteresis (enter above ``high``, leave below ``low``), bridging gaps shorter than
``min_gap`` and dropping spans shorter than ``min_duration``:

- `energy_segments` – frame RMS energy in dB on audio (voice/sound activity). Thresholds
  default to the noise floor (10th percentile of frame energy, digital silence excluded)
  plus a margin.
- `threshold_segments` – a signal (or the norm of several channels) above a level.
- `change_point_segments` – mean or variance shifts between the two halves of a rolling
  window (effect-size statistic, non-maximum suppression); segments between changes.
- `motion_segments` – mean absolute difference of consecutive downscaled grayscale video
  frames.

The results are `Segment` objects with ``suggested=True``: the GUI draws them distinctly and
the user accepts (`AcceptSuggestion`) or rejects (`RejectSuggestion`) them. Reading a stream
from a session in blocks is in `sensorlab.labeling.suggest_stream`.

One module a method (`energy`, `threshold`, `changepoint`, `motion`), and what they share
(`spans`: hysteresis, spans → segments, a stream's rate, channel reduction); this package
re-exports them all, so ``from sensorlab.labeling.suggest import energy_segments`` works.

Times are session-clock seconds; every function takes the per-sample ``times`` array so it
works on irregular streams too.
"""

from __future__ import annotations

from sensorlab.labeling.suggest.changepoint import (
    change_point_segments,
    change_points,
    change_statistic,
)
from sensorlab.labeling.suggest.energy import (
    DIGITAL_SILENCE_DB,
    auto_thresholds,
    energy_segments,
    energy_segments_from_frames,
    frame_energy_db,
    frames_view,
    noise_floor,
)
from sensorlab.labeling.suggest.motion import (
    downscaled_gray,
    motion_score,
    motion_segments,
    motion_segments_from_scores,
)
from sensorlab.labeling.suggest.spans import (
    SUGGESTION_TIER,
    estimate_rate,
    hysteresis,
    reduce_channels,
    spans_from_mask,
    to_segments,
)
from sensorlab.labeling.suggest.threshold import threshold_segments

__all__ = [
    "DIGITAL_SILENCE_DB",
    "auto_thresholds",
    "SUGGESTION_TIER",
    "change_point_segments",
    "change_points",
    "change_statistic",
    "downscaled_gray",
    "energy_segments",
    "energy_segments_from_frames",
    "estimate_rate",
    "frame_energy_db",
    "frames_view",
    "hysteresis",
    "motion_score",
    "motion_segments",
    "motion_segments_from_scores",
    "noise_floor",
    "reduce_channels",
    "spans_from_mask",
    "threshold_segments",
    "to_segments",
]
