"""`RunningChanges`, a mixin of `Acquisition`: changing the processors of a running rig —
take one out (its streams end), rename its output streams, or let it declare a stream later.

A model loaded in the studio is a processor added while the devices run (`add_processor`); the
user may unload it, rename its predictions or give it an events stream it did not have. Each
change is announced so the consumers follow: ``stream_removed`` (a running `Recorder` ends the
stream in the file, keeping what was written), ``stream_added`` (the recorder adds it, the live
view draws it); a rename moves the stream's rings to the new name, so whatever reads them (the
live view's panel, the pre-roll) keeps its history.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from sensorlab.acquisition.processors.base import Processor
from sensorlab.acquisition.source import SourceError, StreamInfo

log = logging.getLogger(__name__)


class RunningChanges:
    """What `Acquisition` does to its running processors (a mixin: uses its ``_life``, ``_lock``,
    ``_rings``, ``_infos``, ``processors``, ``streams``, ``stream_added``, ``stream_removed``)."""

    def remove_processor(self, proc: Processor) -> None:
        """Stop ``proc`` and take it out: its streams end.

        Its thread is joined first, so every chunk it made has been handed to the consumers
        (a recorder has queued them) before ``stream_removed`` fires for each of its streams.

        Raises
        ------
        KeyError
            ``proc`` is not running here.
        SourceError
            Another processor reads one of its streams (remove that one first).
        """
        with self._life:  # type: ignore[attr-defined]
            if not any(p is proc for p in self.processors):  # type: ignore[attr-defined]
                raise KeyError(proc.description)
            names = [s.name for s in proc.streams]
            readers = [p.description for p in self.processors if p is not proc and set(p.inputs) & set(names)]  # type: ignore[attr-defined]
            if readers:
                raise SourceError(f"{', '.join(names)} feed(s) {', '.join(readers)}: remove that first")
            try:
                proc.stop()
            except Exception as e:  # noqa: BLE001 - it is going away anyway
                log.warning("stopping %s: %s", proc.description, e)
            self._release_inputs(proc)  # type: ignore[attr-defined]
            for name in names:  # while its stats are still there to read
                self.stream_removed.emit(name)  # type: ignore[attr-defined]
            self.processors = [p for p in self.processors if p is not proc]  # type: ignore[attr-defined]
            for name in names:
                self._infos.pop(name, None)  # type: ignore[attr-defined]
            try:
                proc.close()
            except Exception as e:  # noqa: BLE001
                log.warning("closing %s: %s", proc.description, e)

    def rename_streams(self, renames: dict[str, str], apply: Callable[[], None]) -> None:
        """Rename running streams (old → new); ``apply`` renames them in their processor.

        The rings of each stream are kept under both names while ``apply`` runs (a chunk the
        processor thread sends under the old name meanwhile still reaches them), then under the
        new one only: a consumer's ring keeps everything it held.

        Raises SourceError when a new name is taken by another stream."""
        with self._life, self._lock:  # type: ignore[attr-defined]
            taken = set(self.streams) - set(renames)  # type: ignore[attr-defined]
            clash = sorted(n for n in renames.values() if n in taken)
            if clash:
                raise SourceError(f"stream name(s) {', '.join(clash)} already exist; pick another name")
            both = dict(self._rings)  # type: ignore[attr-defined]
            for (name, raw), rings in self._rings.items():  # type: ignore[attr-defined]
                if name in renames:
                    both[(renames[name], raw)] = rings
            self._rings = both
            apply()
            self._rings = {key: rings for key, rings in both.items() if key[0] not in renames}
            for old in renames:
                self._infos.pop(old, None)  # type: ignore[attr-defined]

    def announce(self, info: StreamInfo) -> None:
        """A running processor declared ``info`` (already in its ``streams``): tell the
        consumers before its first chunk, as `add_processor` does for its streams."""
        self.stream_added.emit(info)  # type: ignore[attr-defined]


__all__ = ["RunningChanges"]
