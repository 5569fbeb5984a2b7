"""Header lines of the text protocol: the first names the columns; a repeat (the board
rebooted) is skipped; one naming other columns, followed by data that fits it, means the board
prints other columns now (restarted with other firmware), and stops the parser (``changed``).
Lines that keep having another number of values than the rig's ``channels`` are explained
(``misfit``): all of them are thrown away, so the stream records nothing until the rig is fixed.
"""

from __future__ import annotations

import re

#: Consecutive lines of one other width, none fitting between them, before ``misfit`` explains.
MISFIT_LINES = 10

_NAME = re.compile(rb"[A-Za-z_][A-Za-z0-9_.\[\]()/-]*\Z")


class HeaderLines:
    """Mixin for `TextLineParser`: uses its ``time_column``, ``channel_names``, ``_ncols``, ``_rig_columns``,
    ``_candidate``, ``counters``, ``stream``, ``_printed``, ``_new_header``, ``changed``,
    ``_halted`` and ``_break``."""

    def _header(self, tokens: list[bytes]) -> bool:
        """Handle a non-numeric line of names; True when it was a (possibly repeated) header."""
        if not tokens or not all(_NAME.match(t) for t in tokens):
            return False
        names = tuple(t.decode("ascii") for t in tokens)
        if self.time_column is not None:
            names = names[1:]
        if not names:
            return False
        if self._ncols is None:
            if self._candidate is not None:  # a fragment before the header
                self._candidate = None
                self.counters.error(self.stream)
            self.channel_names, self._ncols, self._printed = names, len(names), names
            self.counters.units += 1
            return True
        self._new_header = None
        if self._rig_columns and self._printed is None and len(names) != self._ncols:
            # The rig names the columns: a header of another width is the board disagreeing with
            # the rig (reopening would not help, fixing `channels` does), not new firmware.
            self._misfit_header = names
            self.counters.skipped += 1
            return True
        if names != (self._printed or names) or len(names) != self._ncols:
            self._new_header = names  # other columns, or a boot message: the next data line decides
            return True
        self._printed = names  # repeated after a reboot (or naming the configured columns)
        self.counters.skipped += 1
        self._break()
        return True

    def _columns_changed(self, values: list[float]) -> bool:
        """A header naming other columns, then data that fits it: the device prints other columns
        now (restarted with other firmware); parsed under the old names, values would be stored
        under the wrong channels. Data that does not fit it: it was a message, not a header."""
        names, self._new_header = self._new_header, None
        if len(values) != len(names):
            self.counters.error(self.stream)
            return False
        self.changed[self.stream] = f"columns {', '.join(self._printed or self.channel_names)} → {', '.join(names)}"
        self._halted = True  # nothing more is parsed; `SerialSource` fails the stream
        return True


    # -- lines of another width than the configured columns ------------------------------------
    _misfit_width: int | None = None
    _misfit_run = 0
    _misfit_header: tuple[str, ...] | None = None

    def _note_width(self, width: int) -> None:
        """Count a data line of ``width`` values (after any time column) against ``_ncols``."""
        if width == self._ncols:
            self._misfit_run = 0
        elif width == self._misfit_width:
            self._misfit_run += 1
        else:
            self._misfit_width, self._misfit_run = width, 1

    @property
    def misfit(self) -> str | None:
        """Why every line is thrown away, with the fix, while lines keep having another width
        than the configured channels (a rig whose `channels` do not match the firmware)."""
        if self._misfit_run < MISFIT_LINES or not self._rig_columns or not self.channel_names:
            return None
        after = " after the time column" if self.time_column is not None else ""
        header = f" (its header names {', '.join(self._misfit_header)})" if self._misfit_header else ""
        return (f"the board sends lines of {self._misfit_width} values{after}{header}, the rig's `channels` name "
                f"{len(self.channel_names)} ({', '.join(self.channel_names)}): every line is thrown away; set `channels` "
                "to the board's columns, or remove it to take them from the board's header")
