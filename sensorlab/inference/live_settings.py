"""A running model's settings, changed while it runs: its name, smoothing and events.

`ModelSettings` holds what a rig file's ``[[processor]]`` sets beside the model's path and
input (``name``, ``smooth``, ``event_label``, ``threshold``, ``release``); `LiveSettings`, a
mixin of `InferenceProcessor`, reads and applies them on a running engine without stopping it:

- smoothing: a new moving average takes over from the next window, seeded with the windows the
  old one held (so the trace does not start over from one window);
- events: the detector's threshold, release and class change from the next window; a span left
  open by the change (events turned off, another class) gets its ``stop`` there; a model that
  had no events stream declares ``<name>_events`` then (announced before its first event);
- the name: renamed in place by `Acquisition.rename_streams`, which keeps the stream's rings; a
  window the engine's thread sends under the old name while the names change is sent under the
  new one.

The engine's thread reads ``smoother`` and ``detector`` once per run, so replacing them (one
attribute store each, from another thread) takes effect between two windows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from sensorlab.acquisition.source import IRREGULAR, SourceError, StreamInfo, StreamKind, StreamStats
from sensorlab.inference.smoothing import EventDetector

#: Most windows a moving average may span (as a rig file's ``smooth`` allows).
MAX_SMOOTH = 1000


@dataclass(frozen=True)
class ModelSettings:
    """What a user tunes on a running model (the rig file's keys of the same names).

    ``smooth``: moving average over this many windows (0 or 1: none). Events (``event_label``
    not empty): ``start`` when that class's probability rises above ``threshold``, ``stop``
    when it falls below ``release`` (None: ``threshold``; lower: hysteresis)."""

    name: str
    smooth: int = 0
    event_label: str = ""
    threshold: float | None = None
    release: float | None = None

    def problem(self, labels: list[str] | tuple[str, ...]) -> str:
        """Why these settings cannot run on a model with classes ``labels`` ("" when they can)."""
        if not self.name.strip() or "/" in self.name:
            return f"name {self.name!r}: give a name without '/' (it names the stream in recordings)"
        if not 0 <= self.smooth <= MAX_SMOOTH:
            return f"smoothing over {self.smooth} windows: give 0 (none) to {MAX_SMOOTH}"
        if not self.event_label:
            return ""
        if self.event_label not in labels:
            return f"no class {self.event_label!r} for events (classes: {', '.join(labels)}); pick one of them"
        if self.threshold is None or not 0 <= self.threshold <= 1:
            return f"events on {self.event_label}: give a threshold from 0 to 1"
        if self.release is not None and not 0 <= self.release <= self.threshold:
            return (f"events on {self.event_label}: the release ({self.release:g}, stop below) must be from 0 to the threshold "
                    f"({self.threshold:g}, start above); lower it")  # fmt: skip
        return ""


def events_info(name: str, label: str, threshold: float) -> StreamInfo:
    """The events stream ``<name>_events`` of predictions ``name``."""
    return StreamInfo(f"{name}_events", StreamKind.EVENTS, IRREGULAR, dtype="str", device=f"{label} > {threshold:g} from {name}")


class LiveSettings:
    """`ModelSettings` of a running `InferenceProcessor` (a mixin: it provides ``name``,
    ``events_name``, ``smoother``, ``detector``, ``event_label``, ``threshold``, ``release``,
    ``model``, ``streams``, ``stats`` and ``_close_span``)."""

    def settings(self) -> ModelSettings:
        return ModelSettings(self.name, self.smoother.n, self.event_label, self.threshold, self.release)  # type: ignore[attr-defined]

    def apply_settings(self, new: ModelSettings, announce: Callable[[StreamInfo], None]) -> None:
        """Smoothing and events from the next window (not the name: see `rename`).
        ``announce(info)`` is called for an events stream declared now, before its first event.

        Raises SourceError (nothing changed) when the settings do not fit the model."""
        labels = list(self.model.labels)  # type: ignore[attr-defined]
        why = new.problem(labels)
        if why:
            raise SourceError(f"{self.name}: {why}")  # type: ignore[attr-defined]
        if new.smooth != self.smoother.n:  # type: ignore[attr-defined]
            self.smoother = self.smoother.resized(new.smooth)  # type: ignore[attr-defined]
        old = self.detector  # type: ignore[attr-defined]
        detector = None
        if new.event_label:
            if self.events_name not in self.stats:  # type: ignore[attr-defined]
                info = replace(events_info(self.name, new.event_label, new.threshold), derived_from=self.inputs)  # type: ignore[attr-defined]
                self.stats[info.name] = StreamStats()  # type: ignore[attr-defined]
                self.streams = (*self.streams, info)  # type: ignore[attr-defined]
                announce(info)
            detector = EventDetector(new.event_label, labels.index(new.event_label), new.threshold, new.release)  # type: ignore[arg-type]
            detector.high = old is not None and old.high and old.label == new.event_label
        if old is not None and old.high and not (detector is not None and detector.high):
            self._close_span = (old.label, old.column)  # its stop goes out with the next window
        self.event_label, self.threshold, self.release = new.event_label, new.threshold, new.release
        self.detector = detector

    def rename(self, name: str) -> dict[str, str]:
        """The streams a rename to ``name`` renames (old → new); for `Acquisition.rename_streams`."""
        renames = {self.name: name}  # type: ignore[attr-defined]
        if self.events_name in self.stats:  # type: ignore[attr-defined]
            renames[self.events_name] = f"{name}_events"  # type: ignore[attr-defined]
        return renames

    def apply_rename(self, name: str) -> None:
        """Rename the predictions (and events) stream (inside `Acquisition.rename_streams`).

        The stats are kept under both names while the names change: the engine's thread
        may still be counting a window under the old one."""
        renames = self.rename(name)
        both = dict(self.stats)  # type: ignore[attr-defined]
        for old, new in renames.items():
            both[new] = both[old]
        self.stats = both
        self.streams = tuple(replace(s, name=renames.get(s.name, s.name), device=s.device.replace(f"from {self.name}", f"from {name}"))  # type: ignore[attr-defined]
                             for s in self.streams)  # type: ignore[attr-defined]  # fmt: skip
        self.name, self.events_name = name, f"{name}_events"
        self._renamed = {**getattr(self, "_renamed", {}), **renames}
        self.stats = {n: st for n, st in both.items() if n not in renames}

    def _emit(self, stream: str, chunk, arrival: float) -> None:
        """`SourceBase._emit`, for a name read just before a rename: counted and sent under the new one."""
        if stream not in self.stats:  # type: ignore[attr-defined]
            stream = self._renamed.get(stream, stream)
        super()._emit(stream, chunk, arrival)  # type: ignore[misc]


__all__ = ["MAX_SMOOTH", "LiveSettings", "ModelSettings", "events_info"]
