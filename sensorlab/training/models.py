"""Model architectures sized for microcontrollers and edge CPUs (imports torch: load lazily).

Every model takes the *prepared* window (`ModelContract.prepare`: per-channel standardized
signals, or frames scaled to [0, 1]) in the dataset's own layout, so the exported graph's
input is exactly a window as the live engine cuts it:

- ``timeseries_cnn``: ``(N, T, C)`` → small 1-D CNN (IMU, biosignals, radar).
- ``audio_dscnn``: ``(N, T, 1)`` → log-mel front end (STFT as a convolution with a fixed DFT
  basis, mel matrix, log: plain ops that ONNX and TFLite both run, so the front end is inside
  the exported graph) → depthwise-separable CNN (keyword-spotting size).
- ``image_cnn``: ``(N, F, H, W, 3)`` → frames stacked as channels → tiny CNN.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

# One definition of the mel matrix: the graph and the device reference (sensorlab.logmel) share it.
from sensorlab.logmel import mel_filterbank


def frontend_params(rate: float, n_samples: int, n_mels: int, frame_length: float, frame_hop: float, channels: int = 1) -> dict:
    """STFT size (a power of two near ``frame_length``), hop and frame count for one window;
    ``downmix`` when the windows have several channels (averaged to one first)."""
    n_fft = int(2 ** round(math.log2(max(8.0, rate * frame_length))))
    hop = max(1, int(round(rate * frame_hop)))
    if n_samples < n_fft:
        raise ValueError(f"audio windows of {n_samples} samples are shorter than one {n_fft}-sample frame; use longer windows")
    frames = 1 + (n_samples - n_fft) // hop
    return {"kind": "log_mel", "in_graph": True, "rate": rate, "n_fft": n_fft, "hop_length": hop, "window": "hann",
            "n_mels": n_mels, "f_min": 20.0, "f_max": rate / 2, "mel_scale": "htk", "power": 2.0, "log_offset": 1e-6,
            "frames": frames, "center": False, **({"downmix": int(channels)} if channels > 1 else {})}  # fmt: skip


class LogMel(nn.Module):
    """``(N, T, C)`` audio → ``(N, frames, n_mels)`` log-mel power, with plain exportable ops.

    ``downmix`` (C > 1, e.g. the demo's stereo microphone) averages the channels first, in the
    graph, so live inference feeds the same stereo windows the dataset holds; without it the
    first convolution failed with "expected … 1 channels, but got 2" after a whole build.
    """

    def __init__(self, rate: float, n_fft: int, hop_length: int, n_mels: int, log_offset: float = 1e-6, downmix: int = 1, **_):
        super().__init__()
        self.downmix = downmix > 1
        n = np.arange(n_fft)
        k = np.arange(n_fft // 2 + 1)
        win = 0.5 - 0.5 * np.cos(2 * np.pi * n / n_fft)  # periodic Hann
        ang = 2 * np.pi * np.outer(k, n) / n_fft
        basis = np.concatenate([np.cos(ang) * win, -np.sin(ang) * win]).astype(np.float32)
        self.register_buffer("basis", torch.from_numpy(basis).unsqueeze(1))
        self.register_buffer("mel", torch.from_numpy(mel_filterbank(rate, n_fft, n_mels)))
        self.hop = hop_length
        self.bins = n_fft // 2 + 1
        self.log_offset = log_offset

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.downmix:
            x = x.mean(dim=2, keepdim=True)
        spec = F.conv1d(x.transpose(1, 2), self.basis, stride=self.hop)
        re, im = spec[:, : self.bins], spec[:, self.bins :]
        power = re * re + im * im
        return torch.log(torch.matmul(power.transpose(1, 2), self.mel) + self.log_offset)


def _cbr1(cin: int, cout: int, k: int) -> list[nn.Module]:
    return [nn.Conv1d(cin, cout, k, padding=k // 2, bias=False), nn.BatchNorm1d(cout), nn.ReLU()]


class TimeSeriesCNN(nn.Module):
    # ``widths`` (one per conv) overrides the width rule: a pruned model keeps fewer channels per layer.
    def __init__(self, n_channels: int, n_classes: int, width: int = 16, widths: list[int] | None = None):
        super().__init__()
        w = widths or (width, 2 * width, 2 * width)
        self.features = nn.Sequential(*_cbr1(n_channels, w[0], 5), nn.MaxPool1d(2), *_cbr1(w[0], w[1], 5), nn.MaxPool1d(2),
                                      *_cbr1(w[1], w[2], 3))  # fmt: skip
        self.head = nn.Linear(w[2], n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x.transpose(1, 2)).mean(-1))


def _cbr2(cin: int, cout: int, k: int, stride: int = 1, groups: int = 1) -> list[nn.Module]:
    return [nn.Conv2d(cin, cout, k, stride=stride, padding=k // 2, groups=groups, bias=False), nn.BatchNorm2d(cout), nn.ReLU()]


class AudioDSCNN(nn.Module):
    def __init__(self, n_classes: int, frontend: dict, width: int = 64, blocks: int = 4, widths: list[int] | None = None):
        super().__init__()
        w = widths or [width] * (blocks + 1)  # stem, then each block's pointwise conv (its depthwise conv follows its input)
        self.frontend = LogMel(**frontend)
        # Log-mel standardization from the training windows (`set_feature_stats`), fixed in the graph:
        # an input batch norm's running statistics lag far behind on small datasets.
        self.register_buffer("feat_mean", torch.zeros(()))
        self.register_buffer("feat_std", torch.ones(()))
        layers = _cbr2(1, w[0], 3, stride=2)
        for i in range(blocks):
            layers += _cbr2(w[i], w[i], 3, groups=w[i]) + _cbr2(w[i], w[i + 1], 1)
        self.features = nn.Sequential(*layers)
        self.head = nn.Linear(w[-1], n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        m = ((self.frontend(x) - self.feat_mean) / self.feat_std).unsqueeze(1)
        return self.head(self.features(m).mean((2, 3)))


    @torch.no_grad()
    def set_feature_stats(self, x: torch.Tensor) -> None:
        m = torch.cat([self.frontend(x[i : i + 256]) for i in range(0, len(x), 256)])
        self.feat_mean.fill_(float(m.mean()))
        self.feat_std.fill_(float(m.std().clamp_min(1e-6)))


class ImageCNN(nn.Module):
    def __init__(self, n_frames: int, n_classes: int, width: int = 8, widths: list[int] | None = None):
        super().__init__()
        c = 3 * n_frames
        w = widths or (width, 2 * width, 4 * width)
        self.features = nn.Sequential(*_cbr2(c, w[0], 3, 2), *_cbr2(w[0], w[1], 3, 2), *_cbr2(w[1], w[2], 3, 2))
        self.head = nn.Linear(w[2], n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, f, h, w, c = x.shape
        x = x.permute(0, 1, 4, 2, 3).reshape(n, f * c, h, w)
        return self.head(self.features(x).mean((2, 3)))


ARCHS = {"timeseries_cnn": TimeSeriesCNN, "audio_dscnn": AudioDSCNN, "image_cnn": ImageCNN}


def build_model(arch: str, kwargs: dict) -> nn.Module:
    return ARCHS[arch](**kwargs)


def augment(task: str, x: torch.Tensor, g: torch.Generator) -> torch.Tensor:
    """Label-preserving random changes suited to the modality (training batches only)."""
    n = x.shape[0]
    if task in ("timeseries", "audio"):
        t = x.shape[1]
        shift = int(torch.randint(-(t // 10), t // 10 + 1, (1,), generator=g))
        x = torch.roll(x, shift, dims=1)  # time shift: events are not always centred
        gain = 1.0 + 0.15 * torch.randn(n, 1, 1, generator=g)
        if task == "audio":
            # No additive noise for audio: the log-mel front end compresses quiet parts, so white
            # noise at a fixed level rewrites every quiet frame (silence goes from ln(1e-6) ≈ -14
            # to about -1.5) and the model never sees at test time what it trained on (on spoken
            # digits the validation loss rose while the training accuracy rose).
            return x * gain
        return x * gain + 0.05 * torch.randn(x.shape, generator=g)
    flip = torch.rand(n, generator=g) < 0.5
    x = torch.where(flip[:, None, None, None, None], x.flip(3), x)
    bright = 0.8 + 0.4 * torch.rand(n, 1, 1, 1, 1, generator=g)
    return (x * bright).clamp(0.0, 1.0)
