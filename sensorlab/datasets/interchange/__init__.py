"""Bring recordings users already have into sensorlab, and send datasets and sessions out again.

- `pattern`: file-name patterns such as ``{label}_{subject}_{take}.wav`` → fields.
- `sessions`: the one place imported data becomes ordinary session files (session writer +
  label sidecar), so `sensorlab info`, `label` and `dataset build` apply unchanged.
- `clips`: folders of labeled clips (WAV files, Edge Impulse samples) → sessions.
- `tables`: CSV / NPZ recordings with a per-sample label column → sessions.
- `edge_impulse`: the Edge Impulse data-acquisition JSON, CSV and ``info.labels`` files.
- `export`: a dataset file or sessions → Edge Impulse JSON / CSV, WAV clips + index, NumPy ``.npz``.

Formats and the round-trip rules are described in docs/IMPORT-EXPORT.md.
"""
