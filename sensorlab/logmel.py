"""The log-mel front end in NumPy: what a device computes when the model file does not.

The audio model (`sensorlab.training.models.LogMel`) computes its log-mel features inside the
graph for fp32 ONNX and TFLite. A fully-int8 TFLite model for TensorFlow Lite Micro cannot:
LOG has no int8 kernel there, and int8 power spectra lose the quiet bands. Its contract then
says ``features.in_graph = false`` and names every parameter, and this module is the reference
for that contract (the host uses it to feed such a model, and it is the spec a device port
follows), step by step, for one standardized window ``x`` (``T`` samples, one channel):

0. a window of several channels (a stereo microphone; ``downmix = C`` in the contract) is
   first averaged over its ``C`` standardized channels to one;
1. frames ``t = 0 … frames-1``: ``s_t[n] = x[t·hop + n] · w[n]``, ``n < n_fft``, no padding
   (``center = false``), ``w[n] = 0.5 − 0.5·cos(2πn / n_fft)`` (periodic Hann);
2. power spectrum: ``P_t[k] = |Σ_n s_t[n]·e^(−2πi·kn/n_fft)|²`` for ``k = 0 … n_fft/2``;
3. mel energies: ``E_t[m] = Σ_k P_t[k]·M[k, m]`` with `mel_filterbank` (HTK mel scale,
   triangles with peak 1, no area normalization, ``f_min`` … ``f_max``);
4. ``L_t[m] = ln(E_t[m] + log_offset)`` (natural log);
5. standardized with the training features' scalar mean and std: ``(L − mean) / std``.

The result, ``(frames, n_mels)``, is the model input (int8 models quantize it with the
input scale and zero point). Only NumPy is used: the live view and ``evaluate`` run it too.
"""

from __future__ import annotations

import numpy as np


def mel_filterbank(rate: float, n_fft: int, n_mels: int, f_min: float = 20.0, f_max: float | None = None) -> np.ndarray:
    """HTK-mel triangular filters, ``(n_fft // 2 + 1, n_mels)``, each filter's peak 1."""
    f_max = f_max or rate / 2

    def mel(f):
        return 2595.0 * np.log10(1.0 + np.asarray(f) / 700.0)

    def hz(m):
        return 700.0 * (10.0 ** (np.asarray(m) / 2595.0) - 1.0)

    freqs = np.linspace(0, rate / 2, n_fft // 2 + 1)
    edges = hz(np.linspace(mel(f_min), mel(f_max), n_mels + 2))
    lo, mid, hi = edges[:-2], edges[1:-1], edges[2:]
    up = (freqs[:, None] - lo) / np.maximum(mid - lo, 1e-9)
    down = (hi - freqs[:, None]) / np.maximum(hi - mid, 1e-9)
    return np.clip(np.minimum(up, down), 0.0, None).astype(np.float32)


def hann_periodic(n: int) -> np.ndarray:
    return 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n) / n)


def log_mel(x: np.ndarray, p: dict) -> np.ndarray:
    """Standardized audio ``(N, T, C)`` → log-mel ``(N, frames, n_mels)`` float32 (steps 1–4 above).

    Computed in float64 (the graph computes in float32: they agree to ~1e-5 on real audio).
    """
    x = np.asarray(x, np.float64).mean(axis=-1)  # step 0 (one channel: itself)
    n_fft, hop = int(p["n_fft"]), int(p["hop_length"])
    frames = 1 + (x.shape[1] - n_fft) // hop
    idx = np.arange(frames)[:, None] * hop + np.arange(n_fft)[None, :]
    spec = np.fft.rfft(x[:, idx] * hann_periodic(n_fft), axis=-1)
    power = spec.real**2 + spec.imag**2
    mel = mel_filterbank(p["rate"], n_fft, int(p["n_mels"]), p.get("f_min", 20.0), p.get("f_max")).astype(np.float64)
    return np.log(power @ mel + float(p["log_offset"])).astype(np.float32)


def features(x: np.ndarray, p: dict) -> np.ndarray:
    """Standardized audio → the model input of a front-end-outside model (steps 1–5)."""
    return ((log_mel(x, p) - np.float32(p["mean"])) / np.float32(p["std"])).astype(np.float32)
