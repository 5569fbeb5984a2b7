"""`sensorlab predict MODEL SESSION`: a model over a recorded session, beside it, never into it.

The session is read block by block (`sensorlab.session.blocks.iter_blocks`) and fed to the
same `InferenceProcessor` the live view runs — its `Windower`, features and model — with
nothing skipped. The predictions go to a sidecar session file ``run1.predictions.h5`` (the
session format, one predictions stream per model, so the labeling timeline and
``sensorlab info`` read it like a recording): the recording itself is read-only.

With ``suggest``, runs of windows whose top class is a label (not ``background``) with a
probability of at least ``threshold`` become suggested segments in the session's labels
sidecar (tier ``suggested``, source ``model:<model file>``), to review in the labeling view:
model-assisted labeling. Running again replaces that model's unreviewed suggestions.
With ``save_suggestions=False`` the segments are only returned (`PredictResult.segments`):
the labeling window adds them through its undo stack instead, since it holds the sidecar open.

Long job convention: `iter_predict` is a generator yielding `PredictProgress` and finally a
`PredictResult`; the CLI draws a progress bar, the GUI runs it on a worker thread.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from sensorlab.acquisition.source import Chunk
from sensorlab.inference.engine import InferenceProcessor
from sensorlab.inference.mapping import ModelMapping
from sensorlab.inference.model import LoadedModel, ModelError
from sensorlab.labeling.annotations import Segment
from sensorlab.labeling.suggest import SUGGESTION_TIER, spans_from_mask, to_segments
from sensorlab.labeling.suggestions import store_suggestions
from sensorlab.session.blocks import iter_blocks
from sensorlab.session.metadata import SessionMetadata
from sensorlab.session.reader import Session
from sensorlab.session.writer import SessionWriter

#: Seconds of the input stream read per block.
BLOCK_S = 30.0
#: Labels never suggested as segments (the "nothing happening" class).
BACKGROUND = ("background", "idle", "none", "quiet", "silence", "_background_noise_")


def predictions_path(session_path: str | Path) -> Path:
    """``run1.h5`` → ``run1.predictions.h5``."""
    p = Path(session_path)
    return p.with_name(p.stem + ".predictions.h5")


@dataclass
class PredictProgress:
    fraction: float
    windows: int


@dataclass
class PredictResult:
    path: Path  # the predictions sidecar
    stream: str
    windows: int
    labels: list[str]
    counts: dict[str, int]  # windows per top class
    segments: list[Segment] = field(default_factory=list)
    #: The most probable window whose top class is a label (not background): (label, P), or None
    #: when every window's top class is background: what a threshold that suggested nothing missed.
    strongest: tuple[str, float] | None = None
    #: The model whose predictions the sidecar held before and this run replaced, when another.
    replaced: str = ""


def iter_predict(model: str | Path, session_path: str | Path, *, out: str | Path | None = None, stream: str = "", mapping: ModelMapping | None = None,
                 suggest: bool = False, threshold: float = 0.5, min_duration: float = 0.0, tier: str = SUGGESTION_TIER,
                 block_s: float = BLOCK_S, save_suggestions: bool = True) -> Iterator[PredictProgress | PredictResult]:  # fmt: skip
    """Run ``model`` over a stream of ``session_path``; see the module docstring.

    Raises
    ------
    ModelError
        The model cannot be used on this session (message names the input and the fix).
    FileExistsError
        ``out`` exists and is not a predictions file of this session.
    """
    session_path = Path(session_path)
    out = Path(out) if out is not None else predictions_path(session_path)
    lm = LoadedModel(model, mapping)
    proc = InferenceProcessor(lm, input=stream)
    with Session.open(session_path) as s:
        infos = {n: r.info for n, r in s.streams.items()}
        if proc.input not in infos:
            raise ModelError(f"{session_path.name} has no stream {proc.input!r} for {lm.path.name} (streams: {', '.join(sorted(infos))}); "
                             f"pass --stream NAME")  # fmt: skip
        try:
            proc.open(infos)
        except Exception as e:  # SourceError: the same checks as live, same messages
            raise ModelError(str(e)) from None
        if out.exists():
            if out.resolve() == session_path.resolve() or not out.name.endswith(".predictions.h5"):
                raise FileExistsError(f"{out} exists and is not a predictions sidecar; give another --out")
            replaced = _model_of(out)
            out.unlink()  # an earlier run of predict: replaced
        else:
            replaced = ""
        info = next(i for i in proc.streams if i.name == proc.name)
        writer = SessionWriter(out)
        t_start = s.metadata.start_host_time if s.metadata.start_host_time is not None else float(s.streams[proc.input].first_time)
        meta = SessionMetadata(name=f"predictions of {session_path.name}", notes=f"model {lm.path.name}").stamped_start(t_start)
        writer.on_start({info.name: info}, meta, attrs={"predictions_of": session_path.name, "model": lm.path.name})
        probs: list[np.ndarray] = []
        starts: list[np.ndarray] = []

        def sink(name: str, chunk: Chunk) -> None:
            if name == proc.name:
                writer.on_chunk(name, chunk)
                probs.append(np.asarray(chunk.data))
                starts.append(np.asarray(chunk.device_times))

        proc._sink = sink  # offline: no thread, the chunks come straight here
        n = 0
        try:
            overlap = proc.windower.length + proc.windower.margin + 1.0
            for block in iter_blocks(s.streams[proc.input], block_s=max(block_s, overlap), overlap_s=0.0):
                for ready in proc.windower.push(block.timestamps, block.data):
                    proc.run_windows(ready.starts, ready.data, ready.after_gap, live=False)
                n = sum(len(p) for p in probs)
                yield PredictProgress(block.progress, n)
        finally:
            writer.on_stop({proc.name: {"count": n}}, {"complete": True, "stop_reason": "predict finished"})
    labels = lm.labels
    p = np.concatenate(probs) if probs else np.empty((0, len(labels)), np.float32)
    st_arr = np.concatenate(starts) if starts else np.empty(0)
    top = p.argmax(axis=1) if len(p) else np.empty(0, np.int64)
    counts = {lab: int((top == i).sum()) for i, lab in enumerate(labels)}
    segs: list[Segment] = []
    if suggest and len(p):
        segs = _suggest(p, st_arr, st_arr + lm.mapping.window, labels, threshold, min_duration, tier, model_source(lm.path))
    if suggest and len(p) and save_suggestions:  # also when none: the earlier run's are replaced
        store_suggestions(session_path, model_source(lm.path), segs, tier)
    yield PredictResult(out, proc.name, len(p), labels, counts, segs, _strongest(p, labels), "" if replaced == lm.path.name else replaced)


def _model_of(predictions: Path) -> str:
    """The model file name an earlier predictions sidecar was made with ("" if unreadable)."""
    import h5py

    try:
        with h5py.File(predictions, "r") as f:
            return str(f.attrs.get("model", ""))
    except OSError:
        return ""


def _strongest(p: np.ndarray, labels: list[str]) -> tuple[str, float] | None:
    """The label and probability of the most probable window whose top class is not background."""
    if not len(p):
        return None
    top = p.argmax(axis=1)
    p_top = p[np.arange(len(p)), top]
    candidate = np.array([labels[i].lower() not in BACKGROUND for i in top])
    if not candidate.any():
        return None
    best = int(np.flatnonzero(candidate)[np.argmax(p_top[candidate])])
    return labels[int(top[best])], float(p_top[best])


def model_source(model: str | Path) -> str:
    """The ``source`` of a model's suggested segments (``model:<file name>``): what a re-run replaces."""
    return f"model:{Path(model).name}"


def _suggest(p: np.ndarray, t_lo: np.ndarray, t_hi: np.ndarray, labels: list[str], threshold: float, min_duration: float, tier: str,
             source: str) -> list[Segment]:  # fmt: skip
    top = p.argmax(axis=1)
    segs: list[Segment] = []
    for i, lab in enumerate(labels):
        if lab.lower() in BACKGROUND:
            continue
        mask = (top == i) & (p[:, i] >= threshold)
        spans = spans_from_mask(mask, t_lo, t_hi, min_duration=min_duration)
        scores = [float(p[(t_lo >= a - 1e-9) & (t_hi <= b + 1e-9), i].mean()) for a, b in spans]
        segs += to_segments(spans, lab, tier=tier, source=source, scores=scores)
    return sorted(segs, key=lambda s: s.start)


def predict(model: str | Path, session_path: str | Path, **kwargs) -> PredictResult:
    """`iter_predict` run to the end."""
    result = None
    for item in iter_predict(model, session_path, **kwargs):
        result = item
    assert isinstance(result, PredictResult)
    return result


__all__ = ["PredictProgress", "PredictResult", "iter_predict", "model_source", "predict", "predictions_path"]
