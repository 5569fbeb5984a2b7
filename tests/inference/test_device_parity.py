"""Host model vs the class a device reports: divergences injected on either side are counted
exactly, live (fed in pieces, decided as the streams move on) as on a recording; the device's
lines come through a real pseudo-terminal on the serial events protocol."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from sensorlab.acquisition.emulated.classifier import ClassifierMCU
from sensorlab.acquisition.emulated.world import World
from sensorlab.acquisition.serial.events import EventLineParser
from sensorlab.acquisition.serial.port import SerialSource
from sensorlab.inference.device_parity import DeviceParity, compare_device

LABELS = ["clap", "background"]
HOP = 0.1
N = 600
T0 = 10.0


def scenario():
    """600 host windows (hop 0.1 s), a 4-window clap every 2 s; the device reports every
    window 30 ms after the host's (another grid) and 10 ms late, with injected divergences:
    a false clap (window 12), a missed clap window inside a clap (6), a clap the host missed
    entirely (45–48, 4 windows), 10 windows it says nothing about (100–109), and a class the
    model does not have (300)."""
    ends = T0 + HOP * np.arange(1, N + 1)
    truth = np.array(["clap" if i % 20 in (5, 6, 7, 8) else "background" for i in range(N)])
    host = truth.copy()
    host[45:49] = "background"
    probs = np.where((host == "clap")[:, None], [[0.9, 0.1]], [[0.2, 0.8]])
    device = truth.copy()
    device[12] = "clap"
    device[6] = "background"
    device[300] = "what?"
    keep = np.ones(N, bool)
    keep[100:110] = False
    times = ends[keep] + 0.03 + 0.01
    texts = [f'{{"label": "{c}", "score": 0.9}}' if i % 2 else str(c) for i, c in enumerate(device[keep])]
    return ends, probs, times, texts, [6, 12, 45, 46, 47, 48, 300]


def test_divergences_on_either_side_are_counted_exactly_on_a_recording():
    ends, probs, times, texts, divergent = scenario()
    r, dp = compare_device(ends - 0.4, ends, probs, LABELS, times, texts, delay=0.01)
    assert r.windows == N - 9 and r.silent == 9  # 101–109: no report within 0.1 s (100 still has 99's)
    assert r.divergent == len(divergent) and r.unknown == 1 and r.reports == N - 10
    assert [round((d.end - T0) / HOP) - 1 for d in r.kept] == divergent
    assert r.kept[0].note == "host says clap, device says background at +0.030 s"  # the missed clap window (6)
    assert r.summary().startswith(f"7 divergent of {N - 9} windows · {N - 16} agree (98.8 %) · device silent on 9")
    ends_t, pa, pb = dp.trace_arrays()
    assert len(ends_t) == N and np.isnan(pb[101:110]).all() and pb[12].tolist() == [1.0, 0.0] and pa[12].tolist() == [0.2, 0.8]


def test_live_parity_fed_in_pieces_decides_the_same_windows_as_the_recording():
    ends, probs, times, texts, divergent = scenario()
    dp = DeviceParity(LABELS, HOP, delay=0.01)
    rng = np.random.default_rng(1)
    t, h, d = T0, 0, 0
    while t < ends[-1] + 1:  # the clock moves in uneven steps; each side delivers what it has, the host up to 0.3 s late
        t += rng.uniform(0.02, 0.5)
        h2 = int(np.searchsorted(ends, t - rng.uniform(0, 0.3), "right"))
        if h2 > h:
            dp.add_predictions(ends[h:h2] - 0.4, ends[h:h2], probs[h:h2])
            h = h2
        d2 = int(np.searchsorted(times, t, "right"))
        if d2 > d:
            dp.add_reports(times[d:d2], texts[d:d2])
            d = d2
        dp.update()
    r = dp.update(final=True)
    assert (r.windows, r.divergent, r.silent, r.unknown) == (N - 9, 7, 9, 1)
    assert [round((k.end - T0) / HOP) - 1 for k in r.kept] == divergent


def test_live_parity_looks_only_at_the_newest_windows_once_its_trace_is_long(monkeypatch):
    """The parity view decides 5 times a second. Each decision used to copy and scan the whole
    trace (3,000 host windows, 12,000 device reports) holding the GIL (~1 ms a call, device
    threads waiting); it walks only the undecided tail now, with the same verdicts."""
    import sensorlab.inference.device_parity as dpm

    ends, probs, times, texts, divergent = scenario()
    clock = [T0]
    monkeypatch.setattr(dpm, "now", lambda: clock[0])  # the device is never quiet in this replay
    dp = DeviceParity(LABELS, HOP, delay=0.01)
    scanned = []
    for k in range(0, N, 2):  # two host windows and their reports at a time, as live
        dp.add_predictions(ends[k : k + 2] - 0.4, ends[k : k + 2], probs[k : k + 2])
        d = (times > ends[k] - 0.05) & (times <= ends[min(k + 1, N - 1)] + 0.05)
        dp.add_reports(times[d], [t for t, keep in zip(texts, d) if keep])
        clock[0] = ends[min(k + 1, N - 1)]
        dp.update()
        scanned.append(dp.scanned)
    r = dp.update(final=True)
    assert (r.windows, r.divergent, r.silent, r.unknown) == (N - 9, 7, 9, 1)
    assert [round((k.end - T0) / HOP) - 1 for k in r.kept] == divergent
    # 600 windows held by the end: each decision looked at a few dozen, not all of them.
    assert max(scanned[100:]) < 60, scanned[100:]


def test_the_event_line_parser_keeps_texts_and_counts_garbage():
    p = EventLineParser("mcu", max_line=25)
    p.resync()
    out = p.feed(b'ap\r\nclap\r\n  {"label": "background"}  \n\n' + b"x" * 30 + b"\n\xff\xfe\nbackgr")
    assert [s.data.tolist() for s in out] == [["clap", '{"label": "background"}']]
    assert p.counters.parse_errors == 2  # the over-long line and the one that is not UTF-8
    assert p.feed(b"ound\n")[0].data.tolist() == ["background"]


def test_an_emulated_board_reports_its_classes_through_a_pty_on_the_events_protocol():
    world = World(t0=0.0, clap_interval=1.0)
    mcu = ClassifierMCU(world=world, misreport=0.2, seed=3)
    src = SerialSource(mcu.port, mcu.baudrate, "events", name="board")
    got: list = []
    enough = threading.Event()

    def sink(_stream, chunk):
        got.append(chunk)
        if sum(len(c) for c in got) >= 40:
            enough.set()

    mcu.start()
    try:
        src.open()
        assert src.streams[0].kind.value == "events" and src.streams[0].name == "board"
        src.start(sink)
        assert enough.wait(60), f"only {sum(len(c) for c in got)} lines in 60 s"
    finally:
        src.close()
        mcu.close()
    texts = [t for c in got for t in c.data.tolist()]
    stamps = np.concatenate([c.timestamps for c in got])
    sent = list(mcu.reports)
    ends = np.array([t for t, _label, _inj in sent])
    # Each line is one report, in order: the lines are the labels sent from some window on, each
    # arriving after its window ended (and not long after; a loaded machine may hold it a while).
    k0 = int(np.searchsorted(ends, stamps[0], "right")) - 1
    starts = [k for k in range(max(k0 - 20, 0), k0 + 1)
              if [lab for _t, lab, _i in sent[k : k + len(texts)]] == texts and np.all(stamps >= ends[k : k + len(texts)] - 1e-6)]  # fmt: skip
    assert starts, f"the lines {texts[:8]}… are not the board's reports in order"
    k = starts[-1]
    assert (stamps - ends[k : k + len(texts)]).max() < 2.0 and set(texts) <= {"clap", "background"}
    assert any(inj for _t, _lab, inj in sent[k : k + len(texts)]), "no misreport injected at 20 %"
    assert src.stats["board"].parse_errors == 0


@pytest.mark.parametrize("tolerance", [0.0, -1.0, float("nan")])
def test_a_meaningless_tolerance_is_refused_in_one_line(tolerance):
    with pytest.raises(ValueError, match="tolerance must be a positive number of seconds"):
        DeviceParity(LABELS, HOP, tolerance=tolerance)


def test_windows_the_host_skipped_are_not_divergences_but_unmatched_reports():
    """A loaded host skips stale windows (or loses input): the device's reports for the missing
    windows have no host opinion to disagree with, even where the host's neighbours differ."""
    ends, probs, times, texts, _ = scenario()
    keep = np.ones(N, bool)
    keep[25:29] = False  # the host never ran the clap windows 25–28; the device reports clap there
    r, _dp = compare_device(ends[keep] - 0.4, ends[keep], probs[keep], LABELS, times, texts, delay=0.01)
    assert [round((d.end - T0) / HOP) - 1 for d in r.kept] == [6, 12, 45, 46, 47, 48, 300]
    # Unmatched: the reports next to the hole (24–29: their nearest host window may be a missing
    # one) and the last one (after the last host window).
    assert r.device_only == 6 + 1


def test_reports_beyond_the_host_windows_are_the_devices_alone_and_leave_the_edge_windows_agreeing():
    """The board ran before the model started and after the recording's last host window (the
    stop cut the host off first): its reports more than half a hop outside the host's windows
    describe windows the host never ran, so they are unmatched and never make the first or last
    host window divergent; reports within half a hop still count."""
    ends = T0 + HOP * np.arange(1, 31)
    probs = np.tile([[0.2, 0.8]], (len(ends), 1))  # the host says background throughout
    # 2 s and 0.7 hop before the first window, on the grid, 0.4 and 0.8 hop after the last
    times = np.concatenate(([ends[0] - 2.0, ends[0] - 0.07], ends, [ends[-1] + 0.04, ends[-1] + 0.08]))
    texts = ["clap", "clap"] + ["background"] * len(ends) + ["background", "clap"]
    r, dp = compare_device(ends - 0.4, ends, probs, LABELS, times, texts, hop=HOP)
    assert (r.windows, r.divergent, r.device_only) == (30, 0, 3), r.summary()
    _e, _pa, pb = dp.trace_arrays()
    assert pb[0].tolist() == pb[-1].tolist() == [0.0, 1.0]  # the overlay shows the device's background there, not the outside clap
    # Within half a hop a report still speaks for the edge window: alone there, a clap is a divergence…
    alone = np.delete(times, [-4, -3])  # the device said nothing else within a hop of the last window
    r2, _dp = compare_device(ends - 0.4, ends, probs, LABELS, alone, ["background"] * len(ends) + ["clap", "background"], hop=HOP)
    assert [round((d.end - T0) / HOP) for d in r2.kept] == [30] and r2.kept[0].note == "host says background, device says clap"
    # … but beside the device's agreeing report for that window it may be the start of a clap in
    # the host window that never ran (as next to a skipped window): no divergence.
    r3, _dp = compare_device(ends - 0.4, ends, probs, LABELS, times, ["background"] * (len(ends) + 2) + ["clap", "background"], hop=HOP)
    assert (r3.windows, r3.divergent, r3.device_only) == (30, 0, 3), r3.summary()
    # Live, a report beyond the newest host window is not decided (nor counted) until the host moves on.
    live = DeviceParity(LABELS, HOP)
    live.add_predictions(ends[:20] - 0.4, ends[:20], probs[:20])
    live.add_reports(times[:23], texts[:23])  # up to the report for host window 21, which has not run yet
    live.update()
    assert live.report.device_only == 2 and live.report.divergent == 0  # only the two before the first window
    live.add_predictions(ends[20:] - 0.4, ends[20:], probs[20:])
    live.add_reports(times[23:], texts[23:])
    r4 = live.update(final=True)
    assert (r4.windows, r4.divergent, r4.device_only) == (30, 0, 3)


def test_the_device_trace_keeps_the_newest_windows_after_it_wrapped():
    """The overlay's arrays (host probabilities, the device's class per host window) for the last
    `trace` windows, the same rows a trace holding everything gives for them."""
    ends, probs, times, texts, _divergent = scenario()
    _r, full = compare_device(ends - 0.4, ends, probs, LABELS, times, texts, delay=0.01)
    dp = DeviceParity(LABELS, HOP, delay=0.01, trace=50)
    for k in range(0, N, 7):  # in pieces, as live
        dp.add_predictions(ends[k : k + 7] - 0.4, ends[k : k + 7], probs[k : k + 7])
        d = (times > ends[k] - 0.05) & (times <= ends[min(k + 6, N - 1)] + 0.05)
        dp.add_reports(times[d], [t for t, keep in zip(texts, d) if keep])
    _e_all, _pa_all, pb_all = full.trace_arrays()
    e, pa, pb = dp.trace_arrays()
    np.testing.assert_array_equal(e, ends[-50:])
    np.testing.assert_array_equal(pa, probs[-50:])
    np.testing.assert_array_equal(pb, pb_all[-50:])  # NaN where the device said nothing
