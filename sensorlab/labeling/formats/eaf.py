"""ELAN annotation files (``.eaf``, EAF 3.0): time slots in milliseconds, tiers, annotations.

Precision, honestly: ELAN stores integer milliseconds relative to the media start, so a
plain ELAN file cannot hold a 48 kHz sample position (1 ms = 48 samples). We handle it in
two layers:

1. Export writes each edge rounded to the ms (what ELAN shows and edits), and also the
   exact float64 times in a header ``PROPERTY`` named ``sensorlab:exact_times`` (JSON,
   annotation id → [start, end]) plus the time origin in ``sensorlab:time_origin``.
   ELAN ignores properties it does not know.
2. Import uses the exact time of an edge only when its ms value is unchanged (the
   annotation was not edited in ELAN); an edited or foreign edge has ms precision. Give
   ``sample_times`` (the timestamps of the reference stream, e.g. the audio) to snap those
   edges to the nearest sample: the result is then on the sample grid, within ±0.5 ms of
   where the user put it in ELAN.

Session times are host-clock seconds (large numbers); ELAN needs non-negative ms from the
media start, so export subtracts an ``origin`` (the session start, or the earliest exported
time) and import adds it back.

Zero-length annotations (our point events) are written with both slots at the same time;
ELAN displays them but its editor cannot create them.
"""

from __future__ import annotations

import datetime as _dt
import json
import logging
import math
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np

from sensorlab.labeling.annotations import AnnotationSet, Segment, new_segment_id
from sensorlab.labeling.formats._common import check_text, parse_time, select
from sensorlab.labeling.formats._eaf_times import EafTier, resolve_slots, subdivide
from sensorlab.labeling.onsets import snap_to_samples

log = logging.getLogger(__name__)

EXACT_PROPERTY = "sensorlab:exact_times"
ORIGIN_PROPERTY = "sensorlab:time_origin"
LINGUISTIC_TYPE = "default-lt"


def _ms(t: float, origin: float, where: str = "") -> int:
    v = (t - origin) * 1000.0 + 0.5
    if not math.isfinite(v):  # e.g. 1e308 s: finite, but not in ms
        raise ValueError(f"{where or 'time'}: {t!r} s is beyond what ELAN can hold in milliseconds; "
                         "fix the time or leave it out")
    return int(math.floor(v))


def export_eaf(
    annotations: AnnotationSet,
    path: str | Path,
    *,
    tier: str | None = None,
    include_suggested: bool = False,
    origin: float | None = None,
    media_url: str | None = None,
    mime_type: str = "audio/x-wav",
) -> Path:
    """Write an ELAN file with one ELAN tier per annotation tier.

    Parameters
    ----------
    tier
        Only this tier (default: all).
    include_suggested
        Also write unreviewed suggestions.
    origin
        Session time of ELAN's 0 ms, e.g. the first sample of the media file; default the
        earliest exported time floored to a whole second.
    media_url, mime_type
        Optional linked media (``file:///…/run1.wav``) so ELAN opens it with the labels.

    Examples
    --------
    >>> export_eaf(ann, "run1.eaf", origin=session_start, media_url="file:///data/run1.wav")  # doctest: +SKIP
    """
    path = Path(path)
    segs = select(annotations, tier, include_suggested)
    if origin is None:
        origin = float(math.floor(min((s.start for s in segs), default=0.0)))
    if any(s.start < origin for s in segs):
        raise ValueError(f"origin {origin} is after the earliest segment; ELAN times cannot be negative")

    root = ET.Element("ANNOTATION_DOCUMENT", {
        "AUTHOR": "sensorlab",
        "DATE": _dt.datetime.now(_dt.UTC).astimezone().isoformat(timespec="seconds"),
        "FORMAT": "3.0",
        "VERSION": "3.0",
        "xmlns:xsi": "http://www.w3.org/2001/XMLSchema-instance",
        "xsi:noNamespaceSchemaLocation": "http://www.mpi.nl/tools/elan/EAFv3.0.xsd",
    })
    header = ET.SubElement(root, "HEADER", {"MEDIA_FILE": "", "TIME_UNITS": "milliseconds"})
    if media_url:
        ET.SubElement(header, "MEDIA_DESCRIPTOR", {"MEDIA_URL": media_url, "MIME_TYPE": mime_type})

    # One slot per distinct ms value, in time order (ELAN expects ascending slot times).
    values = sorted({_ms(t, origin) for s in segs for t in (s.start, s.end)})
    slot_of = {v: f"ts{i + 1}" for i, v in enumerate(values)}
    exact: dict[str, list[float]] = {}
    tiers: dict[str, list[tuple[str, Segment]]] = {}
    for i, s in enumerate(segs, 1):
        aid = f"a{i}"
        exact[aid] = [s.start, s.end]
        tiers.setdefault(s.tier, []).append((aid, s))

    ET.SubElement(header, "PROPERTY", {"NAME": "lastUsedAnnotationId"}).text = str(len(segs))
    ET.SubElement(header, "PROPERTY", {"NAME": ORIGIN_PROPERTY}).text = repr(origin)
    ET.SubElement(header, "PROPERTY", {"NAME": EXACT_PROPERTY}).text = json.dumps(exact, separators=(",", ":"))

    order = ET.SubElement(root, "TIME_ORDER")
    for v in values:
        ET.SubElement(order, "TIME_SLOT", {"TIME_SLOT_ID": slot_of[v], "TIME_VALUE": str(v)})
    for name, items in tiers.items():
        t_el = ET.SubElement(root, "TIER", {"LINGUISTIC_TYPE_REF": LINGUISTIC_TYPE, "TIER_ID": name})
        for aid, s in items:
            a = ET.SubElement(ET.SubElement(t_el, "ANNOTATION"), "ALIGNABLE_ANNOTATION", {
                "ANNOTATION_ID": aid,
                "TIME_SLOT_REF1": slot_of[_ms(s.start, origin)],
                "TIME_SLOT_REF2": slot_of[_ms(s.end, origin)],
            })
            ET.SubElement(a, "ANNOTATION_VALUE").text = s.label
    ET.SubElement(root, "LINGUISTIC_TYPE", {
        "GRAPHIC_REFERENCES": "false", "LINGUISTIC_TYPE_ID": LINGUISTIC_TYPE, "TIME_ALIGNABLE": "true",
    })
    tree = ET.ElementTree(root)
    ET.indent(tree)
    tree.write(path, encoding="UTF-8", xml_declaration=True)
    return path


def import_eaf(
    path: str | Path,
    *,
    origin: float | None = None,
    sample_times: np.ndarray | None = None,
    use_exact: bool = True,
) -> AnnotationSet:
    """Read an ELAN file: every tier with time-aligned (or referring) annotations.

    Parameters
    ----------
    origin
        Session time of ELAN's 0 ms; default the ``sensorlab:time_origin`` property, else 0.
    sample_times
        Sorted timestamps of a reference stream; edges known only to the ms are snapped to
        the nearest of these.
    use_exact
        Use the exact times stored by `export_eaf` for edges not edited in ELAN.

    Returns
    -------
    AnnotationSet
        One tier per ELAN tier, every annotation at the time ELAN shows it: unaligned time
        slots between their aligned neighbours, symbolic subdivisions dividing their parent's
        span evenly (`sensorlab.labeling.formats._eaf_times`). Only annotations ELAN cannot
        place either are skipped (logged with their ids).

    Raises
    ------
    ValueError
        One line naming the file and the element: not XML, not ELAN, a TIME_VALUE that is not
        whole milliseconds or beyond any recording, a non-finite exact time.
    """
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as e:
        line, col = getattr(e, "position", (0, 0))
        raise ValueError(f"{path}:{line}: not a readable ELAN file (XML error at column {col}: "
                         f"{str(e).split(':')[0]}); open and save it again in ELAN, or fix the XML there") from None
    if root.tag != "ANNOTATION_DOCUMENT":
        raise ValueError(f"{path}: not an ELAN file (root element <{root.tag}>, expected <ANNOTATION_DOCUMENT>); "
                         "save it from ELAN as .eaf")
    props = {p.get("NAME"): (p.text or "") for p in root.iterfind("HEADER/PROPERTY")}
    if origin is None:
        origin = parse_time(props.get(ORIGIN_PROPERTY) or 0.0, f"{path}: HEADER PROPERTY {ORIGIN_PROPERTY}", "origin")
    exact = _exact_times(props, path, use_exact)
    order: list[str] = []
    aligned_ms: dict[str, float] = {}
    for ts in root.iterfind("TIME_ORDER/TIME_SLOT"):
        sid = ts.get("TIME_SLOT_ID") or ""
        order.append(sid)
        if ts.get("TIME_VALUE") is not None:
            aligned_ms[sid] = _slot_ms(ts.get("TIME_VALUE") or "", sid, path)
    tiers = [_read_tier(el, path) for el in root.iterfind("TIER")]
    slot_ms = resolve_slots(order, aligned_ms, tiers)

    def edge(slot: str, aid: str, k: int) -> float:
        ms = slot_ms[slot]
        ex = exact.get(aid)
        if slot in aligned_ms and ex is not None and _ms(ex[k], origin, f"{path}: annotation {aid!r}") == ms:
            return ex[k]  # not edited in ELAN since export: the exact time
        t = origin + ms / 1000.0
        return float(snap_to_samples(t, sample_times)) if sample_times is not None and len(sample_times) else t

    out = AnnotationSet()
    times_of: dict[str, tuple[float, float]] = {}
    unplaced: list[str] = []
    for tier in tiers:
        for aid, r1, r2, value in tier.aligned:
            if r1 not in slot_ms or r2 not in slot_ms:
                unplaced.append(aid)
                continue
            start, end = edge(r1, aid, 0), edge(r2, aid, 1)
            times_of[aid] = (start, max(start, end))
            out.add(Segment(new_segment_id(), tier.name, value, *times_of[aid], source="import:eaf"))
    # Referring annotations: a part of their parent's span; chains resolve in a few passes.
    tier_of = {aid: t.name for t in tiers for aid, *_ in t.refs}
    pending = subdivide([r for t in tiers for r in t.refs])
    for _ in range(len(pending) + 1):
        waiting = []
        for aid, parent, i, n, value in pending:
            if parent not in times_of:
                waiting.append((aid, parent, i, n, value))
                continue
            a, b = times_of[parent]
            times_of[aid] = (a, b) if n == 1 else (a + i * (b - a) / n, b if i == n - 1 else a + (i + 1) * (b - a) / n)
            out.add(Segment(new_segment_id(), tier_of[aid], value, *times_of[aid], source="import:eaf"))
        if len(waiting) == len(pending):
            break
        pending = waiting
    unplaced += [aid for aid, *_ in pending]  # whatever is left refers to nothing with a time
    if unplaced:
        shown = ", ".join(unplaced[:5]) + (", …" if len(unplaced) > 5 else "")
        log.warning("%s: skipped %d annotation(s) that ELAN cannot place in time either (an unaligned time slot "
                    "with no aligned slot after it on its tier, or a reference to nothing): %s", path, len(unplaced), shown)
    return out


#: Largest |TIME_VALUE| accepted (ms): 2**53 ms is 285,000 years, and every smaller integer is
#: exact in a float; a larger value can only be a damaged file.
MAX_MS = 2**53


def _slot_ms(value: str, sid: str, path: str | Path) -> float:
    """A TIME_VALUE in whole ms, or a one-line ``ValueError`` naming the slot."""
    try:
        ms = int(value)
    except ValueError:
        raise ValueError(f"{path}: TIME_SLOT {sid!r} has TIME_VALUE {value[:40]!r}, not whole "
                         "milliseconds; fix it in ELAN or in the file") from None
    if abs(ms) > MAX_MS:
        digits = len(value.strip().lstrip("+-"))
        raise ValueError(f"{path}: TIME_SLOT {sid!r} has a TIME_VALUE of {digits} digits ({value.strip()[:12]}…), beyond "
                         "any recording; fix the slot in ELAN or in the file")
    return float(ms)


def _exact_times(props: dict, path: str | Path, use_exact: bool) -> dict[str, tuple[float, float]]:
    """The ``sensorlab:exact_times`` property: annotation id → (start, end), checked finite."""
    if not use_exact or not props.get(EXACT_PROPERTY):
        return {}
    try:
        raw = json.loads(props[EXACT_PROPERTY])
        if not isinstance(raw, dict):
            raise ValueError("not an object")
    except ValueError:
        log.warning("%s: ignoring the unreadable %s property; using ELAN's millisecond times", path, EXACT_PROPERTY)
        return {}
    exact: dict[str, tuple[float, float]] = {}
    for aid, ex in raw.items():
        if not (isinstance(ex, list) and len(ex) == 2 and all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in ex)):
            continue  # not ours: ELAN's millisecond times apply
        where = f"{path}: HEADER PROPERTY {EXACT_PROPERTY}, annotation {aid!r}"
        exact[aid] = (parse_time(ex[0], where, "start"), parse_time(ex[1], where, "end"))
    return exact


def _read_tier(el: ET.Element, path: str | Path) -> EafTier:
    name = check_text(el.get("TIER_ID") or "default", f"{path}: TIER", "tier name")
    tier = EafTier(name, el.get("PARENT_REF"))
    for ann in el.iterfind("ANNOTATION/ALIGNABLE_ANNOTATION"):
        aid = ann.get("ANNOTATION_ID") or ""
        tier.aligned.append((aid, ann.get("TIME_SLOT_REF1") or "", ann.get("TIME_SLOT_REF2") or "",
                             check_text(ann.findtext("ANNOTATION_VALUE") or "", f"{path}: annotation {aid!r}")))
    for ann in el.iterfind("ANNOTATION/REF_ANNOTATION"):
        aid = ann.get("ANNOTATION_ID") or ""
        tier.refs.append((aid, ann.get("ANNOTATION_REF") or "", ann.get("PREVIOUS_ANNOTATION") or "",
                          check_text(ann.findtext("ANNOTATION_VALUE") or "", f"{path}: annotation {aid!r}")))
    return tier


__all__ = ["export_eaf", "import_eaf"]
