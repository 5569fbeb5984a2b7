"""Header lines of the text protocol: the first names the columns; a repeat (the board
rebooted) is skipped; one naming other columns, followed by data that fits it, means the board
prints other columns now (restarted with other firmware), and stops the parser (``changed``).
"""

from __future__ import annotations

import re

_NAME = re.compile(rb"[A-Za-z_][A-Za-z0-9_.\[\]()/-]*\Z")


class HeaderLines:
    """Mixin for `TextLineParser`: uses its ``time_column``, ``channel_names``, ``_ncols``,
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

