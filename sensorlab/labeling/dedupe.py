"""Finding a segment that is already there (same tier, label and times), in constant time.

Re-importing a label file must not double its labels, so each imported segment is compared
with the existing ones. Scanning them all made a 200 000-label import quadratic (minutes);
`DuplicateIndex` hashes each segment's times onto a grid of `TOLERANCE` and looks only at
the neighbouring cells, so each check costs a few dictionary lookups.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from sensorlab.labeling.annotations import Segment

#: Times this close (seconds) to an existing segment's (same tier and label) count as the same.
TOLERANCE = 1e-9


class DuplicateIndex:
    """Segments by (tier, label, start cell, end cell); ``seg in index`` is a duplicate test.

    Two times within ``tol`` of each other fall in the same or adjacent cells of width
    ``tol``, so checking the 3 × 3 neighbouring cells finds every candidate; the exact
    tolerance is then checked on those few.

    Examples
    --------
    >>> idx = DuplicateIndex([Segment("a", "t", "clap", 10.0, 10.0)])
    >>> Segment("b", "t", "clap", 10.0 + 1e-12, 10.0) in idx
    True
    >>> Segment("c", "t", "clap", 10.1, 10.1) in idx
    False
    """

    def __init__(self, segments: Iterable[Segment] = (), tol: float = TOLERANCE):
        self.tol = tol
        self._cells: dict[tuple[str, str, int, int], list[tuple[float, float]]] = {}
        for s in segments:
            self.add(s)

    def _cell(self, t: float) -> int:
        return math.floor(t / self.tol)

    def add(self, seg: Segment) -> None:
        key = (seg.tier, seg.label, self._cell(seg.start), self._cell(seg.end))
        self._cells.setdefault(key, []).append((seg.start, seg.end))

    def __contains__(self, seg: object) -> bool:
        if not isinstance(seg, Segment):
            return False
        cs, ce, tol = self._cell(seg.start), self._cell(seg.end), self.tol
        for ds in (-1, 0, 1):
            for de in (-1, 0, 1):
                for a, b in self._cells.get((seg.tier, seg.label, cs + ds, ce + de), ()):
                    if abs(a - seg.start) <= tol and abs(b - seg.end) <= tol:
                        return True
        return False


__all__ = ["TOLERANCE", "DuplicateIndex"]
