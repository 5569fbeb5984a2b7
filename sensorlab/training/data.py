"""Dataset file → prepared arrays for training and evaluation, and the contract it implies.

Windows are read with `sensorlab.datasets.dataset.Dataset` and prepared with
`ModelContract.prepare` (which standardizes with the dataset's own
`ChannelStats.apply`): the same call live inference makes on a window cut from a ring.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sensorlab.contract import ModelContract
from sensorlab.datasets.dataset import Dataset

#: Stream kinds each task trains on (first match wins when the config names no stream).
TASK_KINDS = {"audio": ("audio",), "timeseries": ("timeseries", "audio"), "image": ("video", "frames")}


class DataError(ValueError):
    """The dataset cannot serve this task: one line naming the problem and the fix."""


def choose_stream(ds: Dataset, task: str, stream: str | None) -> str:
    streams = ds.streams
    if stream is not None:
        if stream not in streams:
            raise DataError(f"{ds.path.name}: no stream {stream!r}; it has {', '.join(streams)}")
        return stream
    for kind in TASK_KINDS[task]:
        for name, s in streams.items():
            if s["kind"] == kind:
                return name
    have = ", ".join(f"{n} ({s['kind']})" for n, s in streams.items())
    raise DataError(f"{ds.path.name}: no stream suits --task {task} (it has {have}); pick another task or set `stream` in the config")


def base_contract(ds: Dataset, task: str, stream: str) -> ModelContract:
    """The contract of any model trained on ``stream`` of this dataset (features filled in by the model)."""
    s = ds.streams[stream]
    shape = list(ds.windows(stream, slice(0, 1)).shape[1:]) if len(ds) else [s["n_samples"], len(s["channels"])]
    if s["kind"] in ("video", "frames"):
        norm = {"kind": "scale", "scale": 1.0 / 255.0}
    else:
        st = ds.normalization(stream)
        norm = {"kind": "standardize", "mean": [float(v) for v in st.mean], "std": [float(v) for v in st.std]}
    window = json.loads(ds.attrs.get("window") or "{}")
    attrs = ds.attrs
    return ModelContract(
        task=task,
        input={"name": "x", "stream": stream, "rate": float(s["rate"]), "channels": list(s.get("channels", [])), "shape": shape,
               "dtype": "float32", "layout": "NTC" if len(shape) == 2 else "NFHWC", "normalization": norm, "quantization": None},
        window={"length": float(window.get("length", 0.0)), "hop": float(window.get("hop", 0.0))},
        features={"kind": "none", "in_graph": False},
        labels=list(ds.classes),
        dataset={"file": ds.path.name, "content_hash": attrs.get("content_hash"), "spec_hash": attrs.get("spec_hash"),
                 "sessions": [i.get("session_sha256") for i in ds.inputs]},
    )  # fmt: skip


@dataclass
class Splits:
    x: dict[str, np.ndarray]  # "train", "val", "test" → prepared windows
    y: dict[str, np.ndarray]
    val_source: str
    test_split: str


def load_splits(ds: Dataset, stream: str, contract: ModelContract, test_split: str, val_fraction: float, seed: int) -> Splits:
    names = ds.split_names
    split = ds.column("split")
    labels = ds.column("label").astype(np.int64)
    idx = {n: np.flatnonzero(split == names.index(n)) if n in names else np.empty(0, int) for n in ("train", "val")}
    if test_split in names:
        test = np.flatnonzero(split == names.index(test_split))
    else:
        raise DataError(f"{ds.path.name}: no split {test_split!r} to test on; it has {', '.join(names)} (set test_split in the config)")
    if not len(idx["train"]):  # k-fold or leave-one-out files: train on every other side
        idx["train"] = np.flatnonzero((split != names.index(test_split)) & ~np.isin(np.arange(len(split)), idx["val"]))
    val_source = "split 'val'"
    if not len(idx["val"]):
        rng = np.random.default_rng(seed)
        tr = rng.permutation(idx["train"])
        k = int(round(len(tr) * val_fraction))
        idx["val"], idx["train"] = np.sort(tr[:k]), np.sort(tr[k:])
        val_source = f"{val_fraction:.0%} of train, seed {seed}"
    if not len(split):  # "build it with a train split" sent users after the wrong cause
        raise DataError(f"{ds.path.name}: the dataset has no windows at all, nothing to train on; `sensorlab dataset info "
                        f"{ds.path.name}` lists the build's warnings (e.g. labels shorter than labels.min_coverage × window.length): "
                        "change the spec and build it again")  # fmt: skip
    if not len(idx["train"]):
        raise DataError(f"{ds.path.name}: no training windows; build the dataset with a train split")
    if len(ds.classes) < 2:  # found only after training, by the model contract
        raise DataError(f"{ds.path.name}: one class ({', '.join(map(repr, ds.classes))}), a classifier needs two or more; "
                        "label another class, or build with labels.unlabeled = \"background\" (Unlabeled time: background)")  # fmt: skip
    x, y = {}, {}
    allx = None
    for name, ii in (*idx.items(), ("test", test)):
        if allx is None:
            allx = ds.windows(stream, slice(None))  # small datasets: one read beats many fancy-index reads
        x[name] = contract.prepare(allx[ii]) if len(ii) else np.empty((0, *contract.input["shape"]), np.float32)
        y[name] = labels[ii]
    return Splits(x, y, val_source, test_split)


def eval_windows(dataset: Path, contract: ModelContract, split: str | None) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Prepared windows and labels (in the *model's* label indices) of one split of a dataset."""
    with Dataset.open(dataset) as ds:
        stream = contract.input["stream"]
        if stream not in ds.streams:
            raise DataError(f"{dataset}: no stream {stream!r}, which the model reads; build the dataset with that stream")
        missing = [c for c in ds.classes if c not in contract.labels]
        if missing:
            raise DataError(f"{dataset}: classes {', '.join(missing)} are not among the model's labels ({', '.join(contract.labels)})")
        try:
            raw, y = ds.arrays(stream, split)
        except KeyError as e:
            raise DataError(f"{dataset}: {e.args[0]}") from None
        remap = np.array([contract.labels.index(c) for c in ds.classes], dtype=np.int64)
        return contract.prepare(raw), remap[y.astype(np.int64)] if len(y) else y.astype(np.int64), ds.classes
