"""`StreamChanges`, a mixin of `LiveView`: streams that end or are renamed while it runs.

A model unloaded in the studio ends its streams: their panels go, and the others keep their
history. Mapped anew under the same name, it comes back where its panels were (not below
everything), so the user finds it where they left it. A stream renamed keeps its ring
(`Acquisition.rename_streams` moved it), so its panel keeps everything it drew.
"""

from __future__ import annotations

from PySide6.QtWidgets import QSplitter

from sensorlab.app.live.panel import Panel


class StreamChanges:
    """What `LiveView` does when its streams change (a mixin: it uses the view's ``panels``,
    ``_rings``, ``_vacated``, ``_time_col``, ``_image_col``, ``_remove_panel`` and
    ``_place_time_axis``)."""

    def remove_stream(self, name: str) -> None:
        """A stream ended (its model unloaded): its panel goes (one of that name added again, a
        model mapped anew, comes back in its place); the others keep their history."""
        panel = self.panels.get(name)
        if panel is None:
            return
        at = self._column_of(panel).indexOf(panel)
        self._vacated = {n: i - (i > at) for n, i in self._vacated.items()} | {name: at}
        self._remove_panel(name)
        self._place_time_axis()

    def rename_stream(self, old: str, info) -> None:
        """A stream renamed (its ring kept): its panel, with everything it drew, under the new name."""
        panel = self.panels.get(old)
        if panel is None:
            return
        self.panels = {(info.name if n == old else n): p for n, p in self.panels.items()}  # in the same order
        self._rings[info.name] = self._rings.pop(old)
        panel.rename(info)

    def _column_of(self, panel: Panel) -> QSplitter:
        return self._time_col if panel.time_axis else self._image_col  # type: ignore[attr-defined]

    def _insert_panel(self, name: str, panel: Panel) -> None:
        """At the end of its column, or where the panel of a stream of that name was removed."""
        col = self._column_of(panel)
        at = min(self._vacated.pop(name, col.count()), col.count())  # type: ignore[attr-defined]
        col.insertWidget(at, panel)
        self._vacated = {n: i + (i >= at) for n, i in self._vacated.items()}  # type: ignore[attr-defined]
        if at < col.count() - 1:  # back in its place: the panels in column order (the time axis goes under the last)
            self.panels = dict(sorted(self.panels.items(), key=lambda kv: (not kv[1].time_axis, self._column_of(kv[1]).indexOf(kv[1]))))  # type: ignore[attr-defined]


__all__ = ["StreamChanges"]
