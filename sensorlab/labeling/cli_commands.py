"""The work behind ``sensorlab labels export|import|suggest``, and opening a session's labels.

Each function takes typed arguments, does the whole job and returns something printable
(or the segments), so ``cli.py`` stays a thin parser. They run on the caller's thread.

Annotations of a session are its sidecar (`sensorlab.labeling.store.sidecar_path`); a
session without one starts from the live labels recorded in its ``labels`` events stream.
Do not run these on a session that is open for labeling in the GUI at the same time: both
write the sidecar and the last writer wins (each write is atomic, so nothing corrupts).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from sensorlab.labeling.annotations import AnnotationSet, Segment, annotations_from_live_events
from sensorlab.labeling.formats import detect_format, export_annotations, import_annotations
from sensorlab.labeling.store import load_sidecar, save_annotations, sidecar_path
from sensorlab.labeling.suggest import SUGGESTION_TIER
from sensorlab.labeling.suggest_stream import suggest_for_stream

log = logging.getLogger(__name__)

#: Name of the EVENTS stream the recorder writes live labels to.
LIVE_LABELS_STREAM = "labels"


def _session_start(session_path: Path) -> float | None:
    """Session start on the host clock, or None when the session cannot be read."""
    if not session_path.exists():
        return None
    from sensorlab.session.reader import Session

    with Session.open(session_path) as s:
        start = s.metadata.start_host_time
        if start is None:
            firsts = [st.first_time for st in s.streams.values() if st.count]
            start = min(firsts) if firsts else None
        return None if start is None else float(start)


def open_session_annotations(session_path: str | Path) -> AnnotationSet:
    """The annotations of a session: its sidecar, else its live labels, else empty.

    Examples
    --------
    >>> ann = open_session_annotations("run1.h5")  # doctest: +SKIP
    """
    session_path = Path(session_path)
    saved = load_sidecar(session_path)
    if saved is not None:
        return saved
    if not session_path.exists():
        return AnnotationSet()
    from sensorlab.session.reader import Session

    with Session.open(session_path) as s:
        if LIVE_LABELS_STREAM not in s.streams:
            return AnnotationSet()
        end = s.metadata.end_host_time
        return annotations_from_live_events(s.events(LIVE_LABELS_STREAM), end_time=end)


def _save(session_path: Path, ann: AnnotationSet) -> Path:
    return save_annotations(ann, sidecar_path(session_path), session=session_path.name)


def export_labels(
    session_path: str | Path,
    out_path: str | Path,
    fmt: str | None = None,
    tier: str | None = None,
    include_suggested: bool = False,
) -> str:
    """Export a session's annotations to a label file.

    Parameters
    ----------
    session_path
        The ``.h5`` session (its sidecar is read; the HDF5 file only for the live labels
        and, for ELAN, the session start used as 0 ms).
    out_path
        Output file; its extension picks the format unless ``fmt`` is given.
    fmt
        ``audacity``, ``eaf`` (``elan``), ``labelstudio``, ``csv``.
    tier
        Only this tier.
    include_suggested
        Also export unreviewed suggestions.

    Returns
    -------
    str
        One line for the terminal.

    Examples
    --------
    >>> print(export_labels("run1.h5", "run1.eaf"))  # doctest: +SKIP
    wrote 12 segments on 2 tiers to run1.eaf (eaf)
    """
    session_path, out_path = Path(session_path), Path(out_path)
    name = detect_format(out_path, fmt)
    ann = open_session_annotations(session_path)
    kwargs: dict[str, Any] = {"tier": tier, "include_suggested": include_suggested}
    if name == "eaf":
        start = _session_start(session_path)
        first = min((s.start for s in ann), default=None)
        if start is not None and (first is None or first >= start):
            kwargs["origin"] = start
    export_annotations(ann, out_path, name, **kwargs)
    segs = [s for s in ann.segments(tier) if include_suggested or not s.suggested]
    tiers = {s.tier for s in segs}
    note = " (ELAN keeps ms; exact times ride along in a header property)" if name == "eaf" else ""
    return f"wrote {len(segs)} segments on {len(tiers)} tier(s) to {out_path} ({name}){note}"


def import_labels(
    session_path: str | Path,
    in_path: str | Path,
    fmt: str | None = None,
    merge: bool = True,
    snap_stream: str | None = None,
) -> str:
    """Import a label file into a session's sidecar.

    Parameters
    ----------
    session_path
        The ``.h5`` session whose sidecar receives the labels.
    in_path
        Label file; its extension picks the format unless ``fmt`` is given.
    merge
        Add to the existing annotations, skipping exact duplicates (same tier, label,
        start, end) so re-importing is harmless. False replaces all annotations (the
        previous sidecar stays in ``.bak``).
    snap_stream
        ELAN only: snap edges known only to the millisecond to the samples of this stream.

    Returns
    -------
    str
        One line for the terminal.
    """
    session_path, in_path = Path(session_path), Path(in_path)
    name = detect_format(in_path, fmt)
    kwargs: dict[str, Any] = {}
    if snap_stream is not None:
        if name != "eaf":
            raise ValueError("snap_stream only applies to ELAN files (the other formats keep exact times)")
        from sensorlab.session.reader import Session

        with Session.open(session_path) as s:
            kwargs["sample_times"] = s.streams[snap_stream].timestamps
    imported = import_annotations(in_path, name, **kwargs)
    current = open_session_annotations(session_path) if merge else AnnotationSet()
    seen = {(s.tier, s.label, s.start, s.end) for s in current}
    added = 0
    for seg in imported:
        key = (seg.tier, seg.label, seg.start, seg.end)
        if key not in seen:
            current.add(seg)
            seen.add(key)
            added += 1
    _save(session_path, current)
    skipped = len(imported) - added
    dup = f", {skipped} duplicate(s) skipped" if skipped else ""
    return f"imported {added} segments from {in_path} ({name}){dup}; {len(current)} in {sidecar_path(session_path).name}"


def suggest_labels(
    session_path: str | Path,
    stream: str,
    method: str,
    *,
    label: str | None = None,
    tier: str = SUGGESTION_TIER,
    replace_previous: bool = True,
    **params: Any,
) -> list[Segment]:
    """Compute suggestions on one stream and store them (``suggested=True``) in the sidecar.

    Parameters
    ----------
    session_path
        The ``.h5`` session.
    stream
        Stream name (``"mic"``, ``"imu"``, ``"camera"``).
    method
        ``energy``, ``threshold`` (needs ``high=``), ``changepoint``, ``motion``.
    label, tier
        Of the suggestions.
    replace_previous
        Drop unreviewed suggestions of an earlier run of the same method on the same stream
        and tier first, so running it again with other parameters does not pile up.
    **params
        Method parameters (see `sensorlab.labeling.suggest`).

    Returns
    -------
    list of Segment
        The new suggestions.

    Examples
    --------
    >>> segs = suggest_labels("run1.h5", "mic", "energy", margin_db=15)  # doctest: +SKIP
    >>> len(segs)  # doctest: +SKIP
    7
    """
    from sensorlab.session.reader import Session

    session_path = Path(session_path)
    ann = open_session_annotations(session_path)
    with Session.open(session_path) as s:
        if stream not in s.streams:
            raise KeyError(f"no stream {stream!r} in {session_path.name}; streams: {', '.join(s.streams)}")
        segs = suggest_for_stream(s.streams[stream], method, label=label, tier=tier, **params)
    if replace_previous and segs:
        source = segs[0].source
        for old in [o for o in ann if o.suggested and o.tier == tier and o.source == source]:
            ann.remove(old.id)
    for seg in segs:
        ann.add(seg)
    _save(session_path, ann)
    return segs


def describe_segments(segments: list[Segment]) -> str:
    """A few printable lines for a list of segments (what ``labels suggest`` prints)."""
    lines = [f"{len(segments)} suggestion(s)"]
    lines += [f"  {s.start:.3f}–{s.end:.3f}  {s.label}  [{s.tier}]" for s in segments[:50]]
    if len(segments) > 50:
        lines.append(f"  … and {len(segments) - 50} more")
    return "\n".join(lines)


__all__ = [
    "describe_segments",
    "export_labels",
    "import_labels",
    "open_session_annotations",
    "suggest_labels",
]
