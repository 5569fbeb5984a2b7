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
from sensorlab.labeling.formats._common import parse_time, select
from sensorlab.labeling.onsets import snap_to_samples

log = logging.getLogger(__name__)

EXACT_PROPERTY = "sensorlab:exact_times"
ORIGIN_PROPERTY = "sensorlab:time_origin"
LINGUISTIC_TYPE = "default-lt"


def _ms(t: float, origin: float) -> int:
    return int(math.floor((t - origin) * 1000.0 + 0.5))


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
        One tier per ELAN tier. Annotations whose slots have no time are skipped (logged).
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
    exact: dict[str, list[float]] = {}
    if use_exact and props.get(EXACT_PROPERTY):
        try:
            exact = json.loads(props[EXACT_PROPERTY])
            if not isinstance(exact, dict):
                raise ValueError("not an object")
        except ValueError:
            log.warning("%s: ignoring the unreadable %s property; using ELAN's millisecond times", path, EXACT_PROPERTY)
            exact = {}
    slots: dict[str | None, int] = {}
    for ts in root.iterfind("TIME_ORDER/TIME_SLOT"):
        value = ts.get("TIME_VALUE")
        if value is None:
            continue
        try:
            slots[ts.get("TIME_SLOT_ID")] = int(value)
        except ValueError:
            raise ValueError(f"{path}: TIME_SLOT {ts.get('TIME_SLOT_ID')!r} has TIME_VALUE {value!r}, not whole "
                             "milliseconds; fix it in ELAN or in the file") from None

    def edge(ms: int, aid: str, k: int) -> float:
        ex = exact.get(aid)
        if isinstance(ex, list) and len(ex) == 2 and all(isinstance(x, (int, float)) for x in ex) and _ms(ex[k], origin) == ms:
            return float(ex[k])
        t = origin + ms / 1000.0
        return float(snap_to_samples(t, sample_times)) if sample_times is not None and len(sample_times) else t

    out = AnnotationSet()
    times_of: dict[str, tuple[float, float]] = {}
    refs: list[tuple[str, str, str, str]] = []  # (tier, id, ref id, value)
    skipped = 0
    for tier_el in root.iterfind("TIER"):
        tier = tier_el.get("TIER_ID") or "default"
        for ann in tier_el.iterfind("ANNOTATION/ALIGNABLE_ANNOTATION"):
            aid = ann.get("ANNOTATION_ID") or ""
            r1, r2 = slots.get(ann.get("TIME_SLOT_REF1")), slots.get(ann.get("TIME_SLOT_REF2"))
            if r1 is None or r2 is None:
                skipped += 1
                continue
            start, end = edge(r1, aid, 0), edge(r2, aid, 1)
            times_of[aid] = (start, end)
            value = ann.findtext("ANNOTATION_VALUE") or ""
            out.add(Segment(new_segment_id(), tier, value, start, max(start, end), source="import:eaf"))
        for ann in tier_el.iterfind("ANNOTATION/REF_ANNOTATION"):
            refs.append((tier, ann.get("ANNOTATION_ID") or "", ann.get("ANNOTATION_REF") or "",
                         ann.findtext("ANNOTATION_VALUE") or ""))
    # Referring annotations take their parent's span; chains resolve in a few passes.
    for _ in range(len(refs)):
        pending = []
        for tier, aid, ref, value in refs:
            if ref in times_of:
                times_of[aid] = times_of[ref]
                out.add(Segment(new_segment_id(), tier, value, *times_of[ref], source="import:eaf"))
            else:
                pending.append((tier, aid, ref, value))
        if len(pending) == len(refs):
            break
        refs = pending
    skipped += len(refs)  # whatever is left refers to nothing with a time
    if skipped:
        log.warning("%s: skipped %d annotation(s) without time values", path, skipped)
    return out


__all__ = ["export_eaf", "import_eaf"]
