"""The work behind ``sensorlab labels export|import|suggest``, and opening a session's labels.

Each function takes typed arguments, does the whole job and returns something printable
(or the segments), so ``cli.py`` stays a thin parser. They run on the caller's thread.

Annotations of a session are its sidecar (`sensorlab.labeling.store.sidecar_path`); a
session without one starts from the live labels recorded in its ``labels`` events stream.
Commands that change the sidecar hold its OS lock from reading to writing
(`sensorlab.labeling.lock`), so concurrent imports, suggestion runs and the labeling window's
autosave never drop each other's labels; one kept waiting too long fails naming the holder.
"""

from __future__ import annotations

import errno
import logging
from pathlib import Path
from typing import Any

from sensorlab.labeling.annotations import AnnotationSet, Segment
from sensorlab.labeling.formats import detect_format, export_annotations, import_annotations
from sensorlab.labeling.dedupe import TOLERANCE, DuplicateIndex
from sensorlab.labeling.session_labels import LABELS_STREAM, read_annotations
from sensorlab.labeling.store import SidecarError, save_annotations, sidecar_lock, sidecar_path
from sensorlab.labeling.suggest import SUGGESTION_TIER
from sensorlab.labeling.suggest_stream import suggest_for_stream, suggestion_source
from sensorlab.labeling.suggestions import store_suggestions
from sensorlab.labeling.timebase import SessionSpan, format_offset, one_line, open_session, session_span

log = logging.getLogger(__name__)

#: Name of the EVENTS stream the recorder writes live labels to (defined in session.format).
LIVE_LABELS_STREAM = LABELS_STREAM
#: Kept under its old name; the reader lives in `sensorlab.labeling.session_labels`.
open_session_annotations = read_annotations


def _save(session_path: Path, ann: AnnotationSet) -> Path:
    return save_annotations(ann, sidecar_path(session_path), session=session_path.name)


TIME_BASE_RELATIVE = "times in seconds from the session start"
TIME_BASE_ABSOLUTE = "times in host-clock seconds"


def _span_for_relative(session_path: Path, label_file: Path, verb: str) -> SessionSpan:
    """The session's span, needed to convert relative times; a clear error if it cannot be read."""
    if not session_path.exists():
        raise ValueError(f"{session_path}: no such session file, so its start time is unknown and the times of "
                         f"{label_file.name} cannot be {verb} relative to it; give the session, or use --absolute "
                         "(absolute=True) for host-clock times")
    return session_span(session_path)


def export_labels(
    session_path: str | Path,
    out_path: str | Path,
    fmt: str | None = None,
    tier: str | None = None,
    include_suggested: bool = False,
    absolute: bool = False,
) -> str:
    """Export a session's annotations to a label file.

    Parameters
    ----------
    session_path
        The ``.h5`` session (its sidecar is read; the HDF5 file for the session start and,
        without a sidecar, the live labels).
    out_path
        Output file; its extension picks the format unless ``fmt`` is given.
    fmt
        ``audacity``, ``eaf`` (``elan``), ``labelstudio``, ``csv``.
    tier
        Only this tier.
    include_suggested
        Also export unreviewed suggestions.
    absolute
        Write host-clock seconds (the sidecar's times) instead of seconds from the session
        start (`sensorlab.labeling.timebase`). For ELAN, 0 ms is then host time 0.

    Returns
    -------
    str
        One line for the terminal.

    Examples
    --------
    >>> print(export_labels("run1.h5", "run1.eaf"))  # doctest: +SKIP
    wrote 12 segments on 2 tier(s) to run1.eaf (eaf, times in seconds from the session start)
    """
    session_path, out_path = Path(session_path), Path(out_path)
    name = detect_format(out_path, fmt)
    ann = open_session_annotations(session_path)
    origin = 0.0 if absolute else _span_for_relative(session_path, out_path, "written").origin
    segs = [s for s in ann.segments(tier) if include_suggested or not s.suggested]
    if name == "eaf" and segs and min(s.start for s in segs) < origin:
        first = min(s.start for s in segs)
        raise ValueError(f"{out_path}: a segment starts at {format_offset(first - origin)}, before the session "
                         "start, and ELAN cannot hold negative times; export with --absolute (absolute=True), or "
                         "to .csv/.txt/.json which can")
    export_annotations(ann, out_path, name, tier=tier, include_suggested=include_suggested, origin=origin)
    tiers = {s.tier for s in segs}
    base = TIME_BASE_ABSOLUTE if absolute else TIME_BASE_RELATIVE
    note = "; ELAN keeps ms, exact times ride along in a header property" if name == "eaf" else ""
    return f"wrote {len(segs)} segments on {len(tiers)} tier(s) to {out_path} ({name}, {base}{note})"


#: Imported times this close to an existing segment's (same tier and label) count as the same.
DUPLICATE_TOLERANCE = TOLERANCE


def import_labels(
    session_path: str | Path,
    in_path: str | Path,
    fmt: str | None = None,
    merge: bool = True,
    snap_stream: str | None = None,
    absolute: bool = False,
) -> str:
    """Import a label file into a session's sidecar.

    Parameters
    ----------
    session_path
        The ``.h5`` session whose sidecar receives the labels.
    in_path
        Label file; its extension picks the format unless ``fmt`` is given.
    merge
        Add to the existing annotations, skipping those already there (same tier and label,
        times within `DUPLICATE_TOLERANCE`) so re-importing is harmless; annotations of the
        file itself are never merged with each other. False replaces all
        annotations (the previous sidecar stays in ``.bak``).
    snap_stream
        ELAN only: snap edges known only to the millisecond to the samples of this stream.
    absolute
        The file holds host-clock seconds (exported with ``absolute=True``); default: seconds
        from the session start, as Audacity, ELAN and most tools measure from the media start.

    Returns
    -------
    str
        One line for the terminal.

    Raises
    ------
    ValueError
        One line naming the file: unreadable content (with line/element), or every imported
        segment outside the session's time span (the other time base is suggested).
    """
    session_path, in_path = Path(session_path), Path(in_path)
    name = detect_format(in_path, fmt)
    if snap_stream is not None and name != "eaf":
        raise ValueError("snap_stream (--snap) only applies to ELAN files (the other formats keep exact times)")
    span = None
    if not absolute:
        span = _span_for_relative(session_path, in_path, "read")
    elif session_path.exists():
        span = session_span(session_path)
    kwargs: dict[str, Any] = {"origin": 0.0 if absolute else span.origin}  # type: ignore[union-attr]
    if snap_stream is not None:
        with open_session(session_path) as s:
            if snap_stream not in s.streams:
                raise KeyError(f"{session_path}: no stream {snap_stream!r} to snap to; streams: {', '.join(s.streams)}")
            kwargs["sample_times"] = s.streams[snap_stream].timestamps
    imported = import_annotations(in_path, name, **kwargs)
    if span is not None and len(imported) and not span.any_inside(imported):
        raise ValueError(_mismatch(in_path, list(imported), span, absolute))
    with sidecar_lock(sidecar_path(session_path)):  # read-modify-write: a concurrent import waits
        current = open_session_annotations(session_path) if merge else AnnotationSet()
        index = DuplicateIndex(current)
        added = 0
        # Compared only with what was there before: two annotations of one file are two, even
        # with equal label and times (e.g. a word repeated in an ELAN subdivision).
        for seg in imported:
            if seg not in index:
                current.add(seg)
                added += 1
        _save(session_path, current)
    with open_session(session_path) as s:  # labels are kept, but the user must know the recording's times are broken
        warnings = "".join(f"\nwarning: {w}" for w in s.time_problems())
    skipped = len(imported) - added
    dup = f", {skipped} duplicate(s) skipped" if skipped else ""
    base = TIME_BASE_ABSOLUTE if absolute else TIME_BASE_RELATIVE
    return (f"imported {added} segments from {in_path} ({name}, {base}){dup}; "
            f"{len(current)} in {sidecar_path(session_path).name}{warnings}")


def _mismatch(in_path: Path, segs: list[Segment], span: SessionSpan, absolute: bool) -> str:
    lo, hi = min(s.start for s in segs), max(s.end for s in segs)
    n = f"all {len(segs)} segments lie" if len(segs) > 1 else "its only segment lies"
    if absolute:
        return (f"{in_path}: {n} outside the session: read as host-clock seconds (--absolute) the file spans "
                f"{lo:.3f}–{hi:.3f} s, the session {span.begin:.3f}–{span.end:.3f} s; if the file counts "
                "seconds from the session start, import it without --absolute")
    return (f"{in_path}: {n} outside the session: read as seconds from the session start the file spans "
            f"{format_offset(lo - span.origin)}–{format_offset(hi - span.origin)}, the session "
            f"{span.describe()}; if the file holds host-clock times (exported with --absolute), import it with --absolute")


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
        Drop the unreviewed suggestions of an earlier run of the same method on the same
        stream and tier first (also when this run finds none), so running it again with
        other parameters leaves only this run's results.
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
    session_path = Path(session_path)
    with open_session(session_path) as s:
        if stream not in s.streams:
            raise KeyError(f"no stream {stream!r} in {session_path.name}; streams: {', '.join(s.streams)}")
        try:
            segs = suggest_for_stream(s.streams[stream], method, label=label, tier=tier, **params)
        except TypeError as e:  # an unknown --param name
            raise ValueError(f"{method}: {one_line(e).split('() ')[-1]}; see the parameters in docs/LABELING.md") from None
        source = suggestion_source(method, s.streams[stream].info.name)
    if replace_previous:  # locked only around read-modify-write, not the (possibly long) computation above
        store_suggestions(session_path, source, segs, tier)
    else:
        with sidecar_lock(sidecar_path(session_path)):
            ann = open_session_annotations(session_path)
            for seg in segs:
                ann.add(seg)
            _save(session_path, ann)
    return segs


#: Parameters worth trying when a method found nothing: method -> [(param, value, what for)].
EMPTY_HINTS: dict[str, list[tuple[str, str, str]]] = {
    "energy": [("min_duration", "0.005", "very short clicks (default 0.02 s)"),
               ("margin_db", "6", "quiet sounds (default 12 dB over the noise floor)")],
    "threshold": [("high", "<lower value>", "a lower level")],
    "changepoint": [("threshold", "1.0", "smaller shifts (default 1.5)"), ("window_s", "0.5", "shorter segments")],
    "motion": [("min_duration", "0.05", "brief movements (default 0.2 s)"), ("threshold", "<lower value>", "small motion")],
}


def describe_segments(
    segments: list[Segment], origin: float = 0.0, *, method: str | None = None, params: dict[str, Any] | None = None
) -> str:
    """A few printable lines for a list of suggestions (what ``labels suggest`` prints).

    Times are shown as ``mm:ss.mmm`` from ``origin`` (the session start, as in the labeling
    window). With nothing found and ``method`` given, the line says which parameters to try.

    Examples
    --------
    >>> print(describe_segments([Segment.create("suggestions", "clap", 1074.2, 1074.5)], origin=1000.0))
    1 suggestion(s) (times from the session start)
      01:14.200–01:14.500  clap  [suggestions]
    >>> print(describe_segments([], method="energy"))
    0 suggestions (try --param min_duration=0.005 for very short clicks (default 0.02 s), or --param margin_db=6 for quiet sounds (default 12 dB over the noise floor))
    """
    if not segments:
        given = params or {}
        tips = [f"--param {k}={v} for {why}" for k, v, why in EMPTY_HINTS.get(method or "", []) if k not in given]
        return "0 suggestions" + (f" (try {', or '.join(tips)})" if tips else "")
    lines = [f"{len(segments)} suggestion(s) (times from the session start)"]
    lines += [f"  {format_offset(s.start - origin)}–{format_offset(s.end - origin)}  {s.label}  [{s.tier}]"
              for s in segments[:50]]
    if len(segments) > 50:
        lines.append(f"  … and {len(segments) - 50} more")
    return "\n".join(lines)


#: errno values of a folder or file that cannot be written (read-only mount, permissions).
_NOT_WRITABLE = (errno.EROFS, errno.EACCES, errno.EPERM)


def error_line(e: BaseException, *paths: str | Path) -> str:
    """One line for the terminal from an exception, prefixed with the first of ``paths`` unless
    the message already names one of them."""
    if isinstance(e, OSError) and e.errno in _NOT_WRITABLE and e.filename:
        # The labels sidecar (or its lock) sits beside the session: a read-only folder is the
        # session's problem, not the labels file's, and the fix is to move the session.
        where = Path(e.filename).parent
        if ".labels.json" in Path(e.filename).name:
            return f"cannot write in {where} ({e.strerror}): the labels are saved beside the session; copy the session to a folder you can write to and run this there"
        return f"cannot write in {where} ({e.strerror}): write the output to a folder you can write to"
    msg = one_line(e)
    if isinstance(e, SidecarError):
        return msg  # names the session's .labels.json itself: not the file given on the command line
    names = [Path(p).name for p in paths]
    if paths and not any(n and n in msg for n in names):
        msg = f"{paths[0]}: {msg}"
    return msg


__all__ = [
    "describe_segments",
    "error_line",
    "export_labels",
    "import_labels",
    "open_session_annotations",
    "suggest_labels",
]
