"""Helpers shared by the format modules."""

from __future__ import annotations

import json
import math

from sensorlab.labeling.annotations import AnnotationSet, Segment


def select(annotations: AnnotationSet, tier: str | None, include_suggested: bool) -> list[Segment]:
    """Segments to export: one tier or all, reviewed only unless asked, sorted by start."""
    if tier is not None and tier not in annotations.tier_names:
        raise KeyError(f"no tier {tier!r}; tiers: {', '.join(annotations.tier_names) or '(none)'}")
    return [s for s in annotations.segments(tier) if include_suggested or not s.suggested]


def parse_time(value: object, where: str, what: str = "time") -> float:
    """A time value read from a label file, or ``ValueError`` naming ``where`` (``file:line``) and the fix."""
    text = value.strip() if isinstance(value, str) else value
    try:
        t = float(text)  # type: ignore[arg-type]
    except OverflowError:  # an integer of hundreds of digits (JSON allows it)
        raise ValueError(f"{where}: {what} of {len(str(text))} digits is beyond any recording; write times in "
                         "seconds, e.g. 12.5") from None
    except (TypeError, ValueError):
        shown = text[:40] if isinstance(text, str) else text
        raise ValueError(f"{where}: {what} {shown!r} is not a number; write times in seconds, e.g. 12.5") from None
    if not math.isfinite(t):
        raise ValueError(f"{where}: {what} {text!r} is not a finite time; write times in seconds, e.g. 12.5")
    return t


def check_text(value: object, where: str, what: str = "label") -> str:
    """A label or tier name read from a file: a string without NUL characters, or a one-line
    ``ValueError`` naming ``where``.

    Non-strings are not turned into text ("{'a': 2}" is nobody's label), and a NUL would end
    the name early in C tools and HDF5 attributes downstream.

    Examples
    --------
    >>> check_text("wave", "x.json: result 1")
    'wave'
    >>> check_text({"a": 2}, "x.json: result 1")
    Traceback (most recent call last):
    ValueError: x.json: result 1: label {"a": 2} is a JSON object, not text; write each label as a string, e.g. "wave"
    """
    if not isinstance(value, str):
        kind = {dict: "a JSON object", list: "a JSON list", bool: "true/false", type(None): "null"}.get(type(value), "a number")
        raise ValueError(f"{where}: {what} {json.dumps(value, default=str)[:40]} is {kind}, not text; write each {what} as a string, "
                         'e.g. "wave"')
    if "\0" in value:
        raise ValueError(f"{where}: {what} {value[:40]!r} contains a NUL character; remove it from the file")
    return value


def check_order(start: float, end: float, where: str) -> None:
    """``ValueError`` naming ``where`` when a segment ends before it starts."""
    if end < start:
        raise ValueError(f"{where}: end ({end!r}) is before start ({start!r}); swap them")
