"""Three-way merge of a labeling window's segments with a sidecar another program changed.

A labeling window keeps a session's segments in memory and saves them after every edit. When
another program (`labels import --replace`, a second labeling window, a script) changes the
sidecar meanwhile, neither copy alone is right: a plain save brings back segments the other
program deleted, and reading the file alone loses the window's edits. So the window compares
three versions per segment id: **base** (the file as the window last read or wrote it),
**mine** (the window's set now) and **theirs** (the file now):

- a segment only they added is added to the window (unless the window has the same one);
- a segment they deleted or changed, that the window did not touch since base, is deleted or
  changed in the window too;
- a segment the window deleted stays deleted, whatever they did to it;
- a segment the window changed keeps the window's version, also when they deleted or changed
  it: a conflict, listed in ``kept`` so the window says so.

Qt-free; `store._Autosaver` runs it at each save and at each check of the file.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field

from sensorlab.labeling.annotations import AnnotationSet, Segment
from sensorlab.labeling.dedupe import DuplicateIndex


def _key(s: Segment) -> tuple:
    # Segment equality would never match a segment with itself when its score is NaN.
    return (s.tier, s.label, s.start, s.end, s.suggested, s.source, None if math.isnan(s.score) else s.score)


def same(a: Segment, b: Segment) -> bool:
    """Whether two versions of a segment are equal in every field."""
    return _key(a) == _key(b)


@dataclass
class Merge:
    """What another program's version of the file changes in the window's set.

    ``added``, ``removed``, ``changed``: segments to add to, delete from and replace in the
    window's set (`apply`); ``kept``: the window's own edits of segments the other program
    deleted or changed, which stay as the window has them.
    """

    added: list[Segment] = field(default_factory=list)
    removed: list[Segment] = field(default_factory=list)
    changed: list[Segment] = field(default_factory=list)
    kept: list[Segment] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.added or self.removed or self.changed or self.kept)

    def apply(self, annotations: AnnotationSet) -> None:
        """Bring ``annotations`` (the window's set) in line with the other program's edits."""
        for s in self.removed:
            annotations.remove(s.id)
        for s in self.changed:
            annotations.replace(s)
        for s in self.added:
            annotations.add(s)

    def extend(self, other: Merge) -> None:
        self.added += other.added
        self.removed += other.removed
        self.changed += other.changed
        self.kept += other.kept

    def message(self) -> str:
        """One status line, e.g. ``2 label(s) added by another program (e.g. labels import): 2 on 'words'``."""
        parts = []
        if self.added:
            tiers = ", ".join(f"{n} on '{t}'" for t, n in Counter(s.tier for s in self.added).items())
            parts.append(f"{len(self.added)} label(s) added by another program (e.g. labels import): {tiers}")
        if self.removed:
            parts.append(f"{len(self.removed)} label(s) deleted by another program")
        if self.changed:
            parts.append(f"{len(self.changed)} label(s) changed by another program")
        if self.kept:
            names = ", ".join(sorted({s.label for s in self.kept}))
            parts.append(
                f"kept this window's edit of {len(self.kept)} label(s) ({names}) that another program "
                "deleted or changed meanwhile"
            )
        return "; ".join(parts)


def three_way(base: dict[str, Segment], mine: AnnotationSet, theirs: AnnotationSet) -> Merge:
    """The merge of the window's set ``mine`` with the file's ``theirs``, both descended from
    ``base`` (segments by id, as the window last read or wrote the file)."""
    out = Merge()
    window = None  # built only when they added something: live labels read twice get other ids
    for t in theirs:
        b, m = base.get(t.id), mine.get(t.id)
        if b is None:
            if m is None:
                window = window if window is not None else DuplicateIndex(mine)
                if t not in window:
                    out.added.append(t)
            elif not same(m, t):
                out.kept.append(m)
        elif m is None:
            continue  # deleted in the window: stays deleted
        elif same(m, b):
            if not same(t, b):
                out.changed.append(t)
        elif not same(t, b) and not same(t, m):
            out.kept.append(m)  # both changed it: the window's edit wins
    for b in base.values():
        if b.id in theirs:
            continue
        m = mine.get(b.id)
        if m is None:
            continue  # deleted on both sides
        if same(m, b):
            out.removed.append(m)
        else:
            out.kept.append(m)
    return out


__all__ = ["Merge", "same", "three_way"]
