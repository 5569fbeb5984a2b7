"""ClockFit maps a drifting, jittery device clock onto the host clock."""

import numpy as np
import pytest

from sensorlab.acquisition.clock import ClockFit


def simulate(fit: ClockFit, drift_ppm: float, seconds: float, rate: float, seed: int = 0, offset: float = 1234.5):
    """Feed (device, arrival) pairs: true host = offset + device / (1 + drift); arrival adds USB-like delay
    (a constant 1 ms plus random jitter and stalls)."""
    rng = np.random.default_rng(seed)
    device = np.arange(0, seconds, 1 / rate)
    true_host = offset + device / (1 + drift_ppm * 1e-6)
    # 1-4 ms polling delay plus occasional 20-40 ms stalls (a busy host, PulseAudio hand-overs).
    delay = 0.001 + rng.exponential(0.0015, len(device)) + (rng.random(len(device)) < 0.01) * rng.uniform(0.02, 0.04, len(device))
    for d, h in zip(device, true_host + delay):
        fit.add(d, h)
    return device, true_host


@pytest.mark.parametrize("drift_ppm", [0.0, 100.0, -250.0], ids=["no-drift", "+100ppm", "-250ppm"])
def test_fit_recovers_drift_and_offset_over_ten_minutes(drift_ppm):
    fit = ClockFit(latency=0.001)  # the constant part of the simulated delay, as configured per link
    device, true_host = simulate(fit, drift_ppm, seconds=600, rate=50)
    m = fit.mapping()
    # Judge on the recent past (the fit's window): the error a sample stamped now would get.
    recent = device > 500
    err = m.to_host(device[recent]) - true_host[recent]
    assert np.abs(err).max() < 1e-3, f"max error {np.abs(err).max() * 1e3:.2f} ms"
    assert m.drift_ppm == pytest.approx(drift_ppm, abs=10)


def test_uncorrected_drift_would_exceed_a_millisecond():
    # Guard that the scenario above is meaningful: 100 ppm over 10 min is 60 ms.
    fit = ClockFit(fit_drift=False)
    device, true_host = simulate(fit, 100.0, seconds=600, rate=50)
    err = fit.mapping().to_host(device) - true_host
    assert np.abs(err).max() > 0.02


def test_mapping_is_none_before_data_and_restarts_on_device_reset():
    fit = ClockFit()
    assert fit.mapping() is None
    for k in range(100):
        fit.add(k * 0.1, 10.0 + k * 0.1)
    assert fit.mapping().offset == pytest.approx(10.0, abs=1e-6)
    # The device rebooted: its clock starts from zero again, 100 s later on the host.
    for k in range(20):
        fit.add(k * 0.1, 110.0 + k * 0.1)
    assert fit.mapping().to_host(0.5) == pytest.approx(110.5, abs=1e-6)


def test_keep_increasing_squeezes_a_backward_step_and_leaves_sorted_times_alone():
    from sensorlab.acquisition.clock import keep_increasing

    sorted_ts = np.array([1.0, 1.1, 1.2])
    assert keep_increasing(sorted_ts, 0.5) is sorted_ts
    # The fit stepped back 3 ms: the new chunk starts before the previous chunk ended.
    fixed = keep_increasing(np.array([0.997, 0.998, 0.999, 1.000, 1.001]), last=0.999)
    assert np.all(np.diff(fixed) > 0) and fixed[0] > 0.999
    assert fixed[-1] == pytest.approx(1.001, abs=1e-5)
    # Equal stamps (samples capped at their arrival time) become distinct.
    assert np.all(np.diff(keep_increasing(np.full(4, 2.0))) > 0)


def _feed(fit: ClockFit, device: np.ndarray, host: np.ndarray) -> list[float]:
    """Feed pairs; returns the error of the mapping for each pair just after adding it."""
    out = []
    for d, h in zip(device, host):
        fit.add(float(d), float(h))
        out.append(float(fit.mapping().to_host(d)) - h)
    return out


def test_a_device_clock_step_is_re_anchored_keeping_the_measured_drift():
    # A rate-clocked device, 300 ppm slow, loses 0.2 s of lines after 30 s (its line count now
    # lags real time). Without re-anchoring the fit stamps everything after it ~0.2 s early for
    # the whole memory of the fit; with it, within REANCHOR_CONFIRM, counted once, drift kept.
    rate, drift = 50.0, -300e-6
    device = np.arange(0, 60, 1 / rate)
    host = 100.0 + device / (1 + drift) + 0.0005
    host[device >= 30] += 0.2
    fit = ClockFit(reanchor=0.05)
    err = np.array(_feed(fit, device, host))
    assert fit.reanchors == 1
    assert fit.mapping().drift_ppm == pytest.approx(-300, abs=20)
    settled = device >= 30.5
    assert np.abs(err[settled]).max() < 1e-3, f"max error after the step {np.abs(err[settled]).max() * 1e3:.1f} ms"
    plain = ClockFit()
    err_plain = np.array(_feed(plain, device, host))
    assert np.abs(err_plain[settled]).max() > 0.05  # the scenario matters


def test_transport_delay_spikes_never_re_anchor():
    fit = ClockFit(reanchor=0.05)
    device, _ = simulate(fit, 100.0, seconds=120, rate=50)  # includes 20-40 ms stalls
    spikes = ClockFit(reanchor=0.05)
    d = np.arange(0, 60, 0.02)
    h = 5.0 + d + 0.001
    h[::97] += 0.3  # an occasional read 300 ms late
    _feed(spikes, d, h)
    assert fit.reanchors == 0 and spikes.reanchors == 0
    assert spikes.mapping().offset == pytest.approx(5.001, abs=1e-4)


def test_step_re_anchors_a_small_jump_on_the_least_delayed_arrival():
    fit = ClockFit(reanchor=0.05)
    d = np.arange(0, 5, 0.01)
    _feed(fit, d, 1.0 + d + 0.0005)
    # Two lines (20 ms) were lost in garbage; the first read after it was 8 ms late.
    fit.step()
    d2 = np.arange(5, 6, 0.01)
    h2 = 1.0 + d2 + 0.02 + 0.0005
    h2[0] += 0.008
    _feed(fit, d2, h2)
    assert fit.mapping().to_host(6.0) == pytest.approx(1.0 + 6.0 + 0.0205, abs=2e-4)
    assert fit.reanchors == 0  # below the tolerance: a re-alignment, not a reported re-anchor
