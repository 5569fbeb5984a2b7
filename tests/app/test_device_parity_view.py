"""Compare with device… in the studio window: the host model against the class a device
reports, overlaid, divergences injected on either side counted exactly, listed, flagged on
the plot, and zoomed onto on click."""

from __future__ import annotations

import sys
import threading
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("onnxruntime")
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "inference"))

from onnx_models import mean_model, write_mapping  # noqa: E402

from sensorlab.acquisition.emulated.signal import SignalSource  # noqa: E402
from sensorlab.acquisition.source import StreamKind  # noqa: E402

T0 = 70.0
HOP = 0.1
WINDOWS = 90  # 9 s of signal: within the engine's 10 s input ring, however late its thread runs
#: Injected: the device says clap in a quiet window (12) and background inside a clap (26);
#: the host misses the whole clap 45–48 the device reports.
DIVERGENT = [12, 26, 45, 46, 47, 48]


def clap(k: np.ndarray) -> np.ndarray:
    return np.isin(np.asarray(k) % 20, (5, 6, 7, 8))


def host_and_device(gate: threading.Event):
    """A 2-channel signal whose window means are the host's class probabilities (clap,
    background), and the device's events: one class per window, 30 ms after its end."""

    def signal(ts):
        gate.wait(60)
        k = np.floor((ts - T0) / HOP + 1e-6).astype(int)
        on = (clap(k) & ~np.isin(k, (45, 46, 47, 48))).astype(np.float32)
        return np.stack([on, 1 - on], axis=1)

    def device(ts):
        gate.wait(60)
        k = np.rint((ts - T0 - 0.03) / HOP).astype(int) - 1
        said = np.where(clap(k), "clap", "background").astype(object)
        said[k == 12], said[k == 26] = "clap", '{"label": "background", "score": 0.61}'
        return said

    host = SignalSource("s", rate=100, shape=(2,), pattern=signal, realtime=False, max_samples=WINDOWS * 10, chunk_size=13, t0=T0)
    board = SignalSource("board", kind=StreamKind.EVENTS, rate=1 / HOP, pattern=device, realtime=False, max_samples=WINDOWS, chunk_size=3,
                         t0=T0 + HOP + 0.03)  # fmt: skip
    return host, board


def test_host_vs_device_overlaid_with_injected_divergences_counted_listed_and_zoomed(qtbot, make_window, tmp_path):
    from sensorlab.app.models.parity_view import ParityView

    model = mean_model(tmp_path / "clap.onnx", channels=2)
    write_mapping(model, stream="s", window=HOP, hop=HOP, scores_kind="probabilities", labels=["clap", "background"])
    gate = threading.Event()  # both sources hold their samples until the comparison listens
    w = make_window(list(host_and_device(gate)))
    assert w.studio.load_model(model, stale_after=1e9) == ("clap_pred",)
    view = w.compare_device("clap_pred", "board")
    assert isinstance(view, ParityView) and w.bottom_tabs.currentWidget() is view
    gate.set()
    # Decided once both streams moved 0.8 s past a window: all but the last 8.
    try:
        qtbot.waitUntil(lambda: view.tap.report.windows == WINDOWS - 8 and view.divergences.count() == len(DIVERGENT), timeout=120_000)
    except Exception:  # say where it stood
        ends, pa, pb = view.tap.trace_arrays()
        raise AssertionError(f"{view.tap.report.summary()}; {len(ends)} host windows, {view.tap.report.reports} reports") from None
    view.refresh(force=True)
    r = view.tap.report
    assert (r.divergent, r.reports, r.silent, r.unknown) == (len(DIVERGENT), WINDOWS, 0, 0)
    assert view.summary.text().startswith("6 divergent of 82 windows · 76 agree (92.7 %)")
    starts = [T0 + HOP * k for k in DIVERGENT]
    items = [view.divergences.item(i).text() for i in range(len(DIVERGENT))]
    # In the plot's own units (seconds on its time axis), so a listed window is found on the axis.
    assert [t.split("\n")[0] for t in items] == [f"{s - view.origin:.3f} – {s + HOP - view.origin:.3f} s" for s in starts]
    assert items[0].endswith("host says background, device says clap at +0.030 s")
    assert items[1].endswith("host says clap, device says background at +0.030 s")
    # Overlaid: the host's P(clap) and the device's class (1 = clap) per window, differing exactly there.
    xa, ya = view.curve_a.getData()
    xb, yb = view.curve_b.getData()
    assert len(xa) == len(xb) == WINDOWS and np.flatnonzero(ya != yb).tolist() == DIVERGENT
    # Each divergent window is flagged above the traces.
    fx, _fy = view.flags.getData()
    assert np.allclose(fx, [s + HOP / 2 - view.origin for s in starts])
    # Clicking one zooms onto it, marks it and says what each side said.
    view.divergences.setCurrentRow(2)
    assert view.detail.text() == (f"window {starts[2] - view.origin:.3f} – {starts[2] + HOP - view.origin:.3f} s "
                                  f"(host clock {starts[2]:.3f}–{starts[2] + HOP:.3f} s): host says background, device says clap at +0.030 s")  # fmt: skip
    lo, hi = view.marker.getRegion()
    assert lo == pytest.approx(starts[2] - view.origin) and hi == pytest.approx(starts[2] + HOP - view.origin)
    x0, x1 = view.plot.getViewBox().viewRange()[0]
    assert x0 < lo < hi < x1 and x1 - x0 < 5  # zoomed in: the whole run is 9 s
    assert view.curve_a.opts["symbol"] == "o" and view.curve_b.opts["symbol"] == "x"  # each window marked when few are in view
    view.show_all.click()
    assert not view.marker.isVisible()


def test_without_a_device_events_stream_the_banner_says_what_to_add(qtbot, make_window, tmp_path):
    model = mean_model(tmp_path / "clap.onnx", channels=2)
    write_mapping(model, stream="s", window=HOP, hop=HOP, scores_kind="probabilities", labels=["clap", "background"])
    host = SignalSource("s", rate=100, shape=(2,), realtime=True)
    w = make_window([host])
    assert w.studio.load_model(model) == ("clap_pred",)
    assert w.compare_device() is None
    assert 'no device events stream in the rig: add the board (Devices…, a serial port with protocol "events")' in w.banner.text()
