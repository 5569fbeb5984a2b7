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
