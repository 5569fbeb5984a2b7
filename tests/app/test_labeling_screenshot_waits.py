"""docs/make_labeling_screenshot.py shoots once the arranged view is drawn, not after a fixed time.

It waited 2.5 s after arranging the view; the spectrogram is computed on a worker once the view
settles, and on a loaded machine it came later: the documentation's picture had a blank
spectrogram band. Here the spectrogram's computation is slow (as on a busy machine) and the
script's wait must still hand over a view whose spectrogram is drawn.
"""

from __future__ import annotations

import importlib.util
import time
from pathlib import Path

import numpy as np
import pyqtgraph as pg

from sensorlab.app.labeling.spectrogram_track import SpectrogramTrack
from sensorlab.session.synthetic import T0

SCRIPT = Path(__file__).resolve().parents[2] / "docs" / "make_labeling_screenshot.py"


def _script():
    spec = importlib.util.spec_from_file_location("make_labeling_screenshot", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _spectrogram_cells(view, spec) -> list[int]:
    """Colours drawn in a grid over the spectrogram track, as the screenshot would hold them."""
    tl = view.timeline
    img = tl.grab().toImage()
    vb = spec.viewbox
    corner = tl.mapFromScene(vb.mapToScene(vb.rect().topLeft()))
    w, h = int(vb.width()), int(vb.height())
    return [img.pixel(corner.x() + x, corner.y() + y) & 0xFFFFFF
            for x in np.linspace(5, w - 5, 12).astype(int) for y in np.linspace(5, h - 5, 6).astype(int)]


def test_the_screenshot_waits_until_the_spectrogram_is_drawn(synthetic_view, qtbot, monkeypatch):
    view = synthetic_view
    spec = next(t for t in view.timeline.tracks if isinstance(t, SpectrogramTrack))
    compute = SpectrogramTrack.compute

    def slow_compute(self, t0, t1, pixels):  # a loaded machine: the FFTs take seconds
        time.sleep(3.0)
        return compute(self, t0, t1, pixels)

    monkeypatch.setattr(SpectrogramTrack, "compute", slow_compute)
    script = _script()
    seen: list = []

    def shoot(ok: bool) -> None:
        seen.append((ok, _spectrogram_cells(view, spec)))

    script.when_drawn(view, shoot, timeout_s=60.0, arrange_view=lambda v: v.timeline.set_view(T0 + 2.0, T0 + 38.0))
    qtbot.waitUntil(lambda: bool(seen), timeout=70_000)
    ok, cells = seen[0]
    assert ok, "the view was not drawn within the timeout"
    lut = pg.colormap.get("inferno").getLookupTable(nPts=256, mode="byte", alpha=False)
    inferno = {(int(r) << 16) | (int(g) << 8) | int(b) for r, g, b in lut}
    assert sum(c in inferno for c in cells) >= 0.9 * len(cells), "the spectrogram band is not drawn when the shot is taken"
    assert len(set(cells)) > 3, "the spectrogram band is one flat colour (blank) when the shot is taken"
