"""The rig the studio holds, made to say which models run and how they are set.

A model's settings live where the studio already keeps its models: in the rig's
``[[processor]] kind = "model"`` entries (``path``, ``input``, ``name``, ``smooth``,
``event_label``, ``threshold``, ``release``). The studio's rig text is what **Devices… → Save
rig…** writes and what each recording stores, so a model loaded from the menu, tuned, renamed
or unloaded is saved, reopened and recorded as it runs. (How a model without a contract is fed
stays in its ``MODEL.mapping.json`` beside it, which the mapping dialog writes.)
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from sensorlab.acquisition.rig import ModelProcessorConfig, parse_rig
from sensorlab.inference.rig_kind import DEMO_MODEL, model_path


def rig_with_models(rig_text: str, running: Iterable, changed: set[str]) -> str:
    """``rig_text`` with one model entry per running model (``running``: `InferenceProcessor`s),
    at the place of the entry it was loaded from (matched by its predictions stream's name), the
    others appended; entries of streams in ``changed`` (unloaded or renamed away) taken out.
    Other entries (devices, other processors, a model that could not be opened) are kept.
    An empty ``rig_text`` (no rig to save) stays empty."""
    if not rig_text.strip():
        return rig_text
    rig = parse_rig(rig_text)
    by_name = {proc.name: proc for proc in running}
    entries = []
    for entry in rig.processor:
        if entry.kind != "model":
            entries.append(entry)
            continue
        name = entry.name or _default_name(entry.path)
        proc = by_name.pop(name, None)
        if proc is not None:
            entries.append(model_entry(proc, entry.path))
        elif name not in changed:
            entries.append(entry)
    entries += [model_entry(proc) for proc in by_name.values()]
    rig.processor = entries
    return rig.to_toml(defaults=True)


def model_entry(proc, path: str = "") -> ModelProcessorConfig:
    """The rig entry that runs ``proc`` (an `InferenceProcessor`) as it runs now; ``path``: the
    entry's own spelling of the model file (``"demo"``, relative to the rig) when it is that file."""
    file = Path(proc.model.path).resolve()
    if not path or model_path(path).resolve() != file:
        path = "demo" if file == DEMO_MODEL else str(file)
    s = proc.settings()
    events = dict(event_label=s.event_label, threshold=s.threshold, release=s.release) if s.event_label else {}
    return ModelProcessorConfig(kind="model", path=path, input=proc.input, name=s.name, stale_after=proc.stale_after, smooth=s.smooth, **events)


def _default_name(path: str) -> str:
    from sensorlab.acquisition.names import prediction_stream_name

    return prediction_stream_name(path)


__all__ = ["model_entry", "rig_with_models"]
