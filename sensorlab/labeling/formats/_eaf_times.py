"""Times of ELAN annotations that ELAN itself does not store: what ELAN shows for them.

An ELAN file stores a time only for *aligned* time slots. Two kinds of annotations have none:

- **Unaligned time slots** (``<TIME_SLOT>`` without ``TIME_VALUE``), used by
  time-subdivision tiers: a parent's span is cut into a chain of child annotations whose
  inner boundaries the user never placed. ELAN shows such a slot between the nearest aligned
  slots before and after it on the same chain, spreading several unaligned slots evenly.
  `resolve_slots` does the same, tier by tier from the root down (a child chain starts and
  ends on its parent's slots, which may themselves have been unaligned), and falls back to
  the file's ``TIME_ORDER`` (slots are listed in time order) for slots on no chain.
- **Symbolic subdivisions** (``REF_ANNOTATION`` with ``PREVIOUS_ANNOTATION``): a parent's
  children in a sequence without times. ELAN divides the parent's span evenly among them in
  ``PREVIOUS_ANNOTATION`` order. A single referring child (symbolic association) takes the
  parent's whole span. `subdivide` does both.

Qt-free, pure Python over the ids and values parsed by `sensorlab.labeling.formats.eaf`.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class EafTier:
    """What the time computation needs of one ``<TIER>``."""

    name: str
    parent: str | None
    #: (annotation id, slot ref 1, slot ref 2, value) of its ALIGNABLE_ANNOTATIONs.
    aligned: list[tuple[str, str, str, str]] = field(default_factory=list)
    #: (annotation id, parent annotation id, previous annotation id or "", value) of its REF_ANNOTATIONs.
    refs: list[tuple[str, str, str, str]] = field(default_factory=list)


def root_first(tiers: list[EafTier]) -> list[EafTier]:
    """Tiers ordered so that every parent comes before its children (file order otherwise)."""
    by_name = {t.name: t for t in tiers}
    out: list[EafTier] = []
    seen: set[str] = set()

    def visit(t: EafTier, depth: int = 0) -> None:
        if t.name in seen or depth > len(tiers):  # a PARENT_REF cycle: stop, keep file order
            return
        parent = by_name.get(t.parent or "")
        if parent is not None and parent is not t:
            visit(parent, depth + 1)
        if t.name not in seen:
            seen.add(t.name)
            out.append(t)

    for t in tiers:
        visit(t)
    return out


def resolve_slots(order: list[str], values: dict[str, float], tiers: list[EafTier]) -> dict[str, float]:
    """A time (ms) for every slot that ELAN can place: aligned ones as given, unaligned ones
    spread evenly between the aligned slots that bound them on their tier's chain.

    Parameters
    ----------
    order
        Slot ids in ``TIME_ORDER`` order.
    values
        ms of the aligned slots.
    tiers
        The tiers, for their chains of alignable annotations.

    Examples
    --------
    >>> t = EafTier("words", "utt", aligned=[("a1", "s1", "u1", ""), ("a2", "u1", "u2", ""), ("a3", "u2", "s2", "")])
    >>> resolve_slots(["s1", "u1", "u2", "s2"], {"s1": 0.0, "s2": 900.0}, [t])
    {'s1': 0.0, 's2': 900.0, 'u1': 300.0, 'u2': 600.0}
    """
    times = dict(values)
    for tier in root_first(tiers):
        nxt = {r1: r2 for _, r1, r2, _ in tier.aligned}
        prv = {r2: r1 for _, r1, r2, _ in tier.aligned}
        for _, r1, r2, _ in tier.aligned:
            for slot in (r1, r2):
                if slot not in times:
                    t = _between(slot, times, nxt, prv)
                    if t is not None:
                        times[slot] = t
    # Slots on no resolvable chain: between their aligned neighbours in TIME_ORDER.
    known = [i for i, s in enumerate(order) if s in times]
    for i, slot in enumerate(order):
        if slot in times or not known:
            continue
        before = [k for k in known if k < i]
        after = [k for k in known if k > i]
        if before and after:
            a, b = before[-1], after[0]
            times[slot] = times[order[a]] + (i - a) * (times[order[b]] - times[order[a]]) / (b - a)
    return times


def _between(slot: str, times: dict[str, float], nxt: dict[str, str], prv: dict[str, str]) -> float | None:
    """Even placement of ``slot`` between the known slots before and after it on one chain."""
    seen = {slot}
    back, fwd = _walk(slot, prv, times, seen), _walk(slot, nxt, times, seen)
    if back is None or fwd is None:
        return None
    (before, steps_back), (after, steps_fwd) = back, fwd
    a, b = times[before], times[after]
    return a + steps_back * (b - a) / (steps_back + steps_fwd)


def _walk(slot: str, links: dict[str, str], times: dict[str, float], seen: set[str]) -> tuple[str, int] | None:
    """Follow ``links`` from ``slot`` to the first slot with a known time: ``(that slot, steps)``,
    or None at a dead end or a loop (``seen`` is shared by both directions, so a cycle ends)."""
    steps = 0
    while slot not in times:
        slot = links.get(slot, "")
        if not slot or slot in seen:
            return None
        seen.add(slot)
        steps += 1
    return slot, steps


def subdivide(refs: list[tuple[str, str, str, str]]) -> list[tuple[str, str, int, int, str]]:
    """Referring annotations grouped by parent, in ``PREVIOUS_ANNOTATION`` order.

    Returns ``(id, parent id, index, count, value)``: the child takes part ``index`` of
    ``count`` equal parts of its parent's span (``count`` is 1 for a symbolic association).
    Children whose previous annotation is missing keep their file order, after the chain.

    Examples
    --------
    >>> subdivide([("m2", "w1", "m1", "b"), ("m1", "w1", "", "a"), ("g1", "w2", "", "x")])
    [('m1', 'w1', 0, 2, 'a'), ('m2', 'w1', 1, 2, 'b'), ('g1', 'w2', 0, 1, 'x')]
    """
    groups: dict[str, list[tuple[str, str, str, str]]] = {}
    for r in refs:
        groups.setdefault(r[1], []).append(r)
    out: list[tuple[str, str, int, int, str]] = []
    for parent, kids in groups.items():
        ids = {k[0] for k in kids}
        after = {k[2]: k for k in kids if k[2] in ids}
        chain = [k for k in kids if k[2] not in ids][:1]  # the first: no previous (or a foreign one)
        placed = {k[0] for k in chain}
        while chain and chain[-1][0] in after and after[chain[-1][0]][0] not in placed:
            chain.append(after[chain[-1][0]])
            placed.add(chain[-1][0])
        chain += [k for k in kids if k[0] not in placed]
        out += [(k[0], parent, i, len(chain), k[3]) for i, k in enumerate(chain)]
    return out


__all__ = ["EafTier", "resolve_slots", "root_first", "subdivide"]
