"""Planning a dataset build: which sessions, stream layouts, classes and split, no samples read.

The first step of `sensorlab.datasets.build` (and all of the build preview's): find the
session files, read their metadata and annotations, apply the spec's filters, fix each
stream's layout (rate, channels), the class list and the split (`split.assign_splits`). A
session that cannot be used is skipped with the reason (or stops a ``strict`` build); the notes
found on the way (labels too short for the windows, only unreviewed suggestions, a split left
empty) are said the same way by the preview and the build.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from sensorlab.datasets.session_task import SessionTask, StreamLayout
from sensorlab.datasets.sources import (
    SIGNAL_KINDS,
    SessionUnreadable,
    one_line,
    open_session,
    read_annotations,
    session_fields,
    spans_sha256,
    tier_spans,
)
from sensorlab.datasets.spec import DatasetSpec
from sensorlab.datasets.split import SplitPlan, assign_splits
from sensorlab.datasets.windows import Span, n_samples, points_note


class BuildError(RuntimeError):
    """The build cannot go on (nothing to build, a damaged session with ``strict``): one line."""


@dataclass
class _Plan:
    tasks: list[SessionTask]
    layouts: tuple[StreamLayout, ...]
    classes: list[str]
    split: SplitPlan
    groups: dict[str, str]  # session name (`session_names`) → group
    tags: dict[str, dict]
    labels_sha: dict[str, str]
    skipped: list[dict]
    notes: list[str]
    # Per stream, the distinct nominal rates the sessions recorded it at (first seen first):
    # more than one when streams.rate resamples them alike.
    source_rates: dict[str, list[float]]


def _layout(spec_stream, info) -> StreamLayout:
    kind = info.kind.value
    rate = float(spec_stream.rate or info.nominal_rate)
    if not info.nominal_rate or info.nominal_rate <= 0:
        raise ValueError(f"stream {info.name!r} has no regular rate (kind {kind}); only sampled streams can be windowed")
    if info.kind in SIGNAL_KINDS:
        names = list(info.channel_names) or [f"ch{i}" for i in range(int(np.prod(info.sample_shape or (1,))))]
        want = spec_stream.channels or names
        missing = [c for c in want if c not in names]
        if missing:
            raise ValueError(f"stream {info.name!r} has no channel {missing[0]!r} (it has {', '.join(names)})")
        return StreamLayout(info.name, kind, float(info.nominal_rate), rate, tuple(want), tuple(names.index(c) for c in want), (), "float32", 0)
    if kind not in ("video", "frames"):
        raise ValueError(f"stream {info.name!r} is an {kind} stream; windows need audio, timeseries, video or frames")
    return StreamLayout(info.name, kind, float(info.nominal_rate), rate, (), (), tuple(info.sample_shape), info.dtype if kind == "frames" else "uint8", 0)


def _with_n(lay: StreamLayout, length: float) -> StreamLayout:
    return replace(lay, n_samples=n_samples(length, lay.rate))


def session_names(files: list[Path]) -> dict[Path, str]:
    """A name per session file that no other file of the build shares: its file name, or, when
    two folders hold the same file name (``alice/take1.h5``, ``bob/take1.h5``), its path from
    the folder they have in common.

    Everything the build keeps per session (split group, tags, labels hash, the dataset's
    ``inputs``) is keyed by this name. Keyed by the bare file name, one subject's ``take1.h5``
    took the other's tags and split group: its windows went into the other subject's split,
    a leak between train and test that nothing reported.
    """
    files = [Path(f) for f in files]
    counts: dict[str, int] = {}
    for f in files:
        counts[f.name] = counts.get(f.name, 0) + 1
    clashing = [f.resolve() for f in files if counts[f.name] > 1]
    common = Path(os.path.commonpath(clashing)) if clashing else None
    return {f: f.resolve().relative_to(common).as_posix() if counts[f.name] > 1 else f.name for f in files}


def plan_build(spec: DatasetSpec, strict: bool = False) -> _Plan:
    """Select sessions, fix stream layouts, classes and the split (no samples are read)."""
    files = spec.session_files()
    if not files:
        raise BuildError(f"no session files match sessions.paths {spec.sessions.paths} (relative to {spec.base_dir})")
    unmatched = spec.unmatched_paths()
    if unmatched:  # built without it, the dataset silently lacked a session the spec names
        raise BuildError(f"sessions.paths: {', '.join(repr(u) for u in unmatched)} finds no session file (relative to {spec.base_dir}); "
                         "correct or remove it")  # fmt: skip
    names = session_names(files)
    skipped: list[dict] = []

    def skip(path: Path, reason: str) -> None:
        if strict:
            raise BuildError(f"{names[path]}: {reason} (strict build stopped; drop --strict to skip it)")
        skipped.append({"session": names[path], "reason": reason})

    chosen: list[tuple[Path, dict, list[Span]]] = []
    tags: dict[str, dict] = {}
    notes: list[str] = []  # warnings found while planning
    layouts: dict[str, StreamLayout] = {}
    session_layouts: dict[Path, tuple[StreamLayout, ...]] = {}  # each session's own source rates
    for path in files:
        try:
            with open_session(path) as s:
                fields = session_fields(s, path)
                tags[names[path]] = dict(s.metadata.tags)
                if not spec.sessions.accepts(fields):
                    continue
                own: list[StreamLayout] = []
                for st in spec.streams:
                    if st.name not in s.streams:
                        raise ValueError(f"no stream {st.name!r} (it has {', '.join(sorted(s.streams))})")
                    lay = _with_n(_layout(st, s.streams[st.name].info), spec.window.length)
                    first = layouts.setdefault(st.name, lay)
                    if (lay.channels, lay.sample_shape, lay.kind) != (first.channels, first.sample_shape, first.kind):
                        raise ValueError(f"stream {st.name!r} differs from the other sessions' ({lay.channels or lay.sample_shape} vs {first.channels or first.sample_shape})")
                    if st.rate is None and lay.source_rate != first.source_rate:
                        raise ValueError(f"stream {st.name!r} runs at {lay.source_rate:g} Hz, other sessions at {first.source_rate:g} Hz; set streams.rate to resample them alike")
                    own.append(lay)
                session_layouts[path] = tuple(own)
            ann = read_annotations(path)
            spans = tier_spans(ann, spec.labels.tier, spec.labels.include)
            if not spans:
                pending = len(ann.segments(spec.labels.tier, suggested=True))
                if pending:  # suggestions are not labels until reviewed: say so, not "no labels"
                    notes.append(f"{names[path]}: tier {spec.labels.tier!r} holds only {pending} unreviewed suggestion(s); "
                                 "accept them in `sensorlab label` (A) to use them as labels")
                elif spec.labels.include and tier_spans(ann, spec.labels.tier, None):
                    # The tier has labels, only not the ones asked for: "no labels" would send
                    # the user looking at the wrong thing (a typo in include is the usual cause).
                    found = sorted({sp.label for sp in tier_spans(ann, spec.labels.tier, None)})
                    notes.append(f"{names[path]}: none of labels.include {list(spec.labels.include)} on tier {spec.labels.tier!r} "
                                 f"(its labels: {', '.join(found)})")  # fmt: skip
                else:
                    notes.append(f"{names[path]}: no labels on tier {spec.labels.tier!r} (its tiers: {', '.join(ann.tier_names) or 'none'})")
        except (SessionUnreadable, OSError, RuntimeError, ValueError, KeyError) as e:
            skip(path, one_line(e))
            continue
        if spec.split.by != "session" and spec.split.by not in fields:
            skip(path, f"no tag {spec.split.by!r} to split by (add it with the session form, or split by another key)")
            continue
        notes += [n for n in (too_short_note(names[path], spans, spec), points_note(names[path], spans, spec.labels.rule, spec.labels.tier)) if n]
        chosen.append((path, fields, spans))
    if not chosen:
        why = "; ".join(f"{s['session']}: {s['reason']}" for s in skipped[:3])
        raise BuildError("no usable sessions: none match the spec's filters" + (f" ({why})" if why else ""))
    lab = spec.labels
    point_ok = lab.rule == "any_overlap"
    classes = sorted({sp.label for _, _, spans in chosen for sp in spans if sp.end > sp.start or point_ok})
    if lab.unlabeled == "background":
        classes = [c for c in classes if c != lab.background_label] + [lab.background_label]
    groups_dur: dict[str, dict[str, float]] = {}
    groups: dict[str, str] = {}
    for path, fields, spans in chosen:
        g = str(fields[spec.split.by])
        groups[names[path]] = g
        d = groups_dur.setdefault(g, {})
        for sp in spans:
            d[sp.label] = d.get(sp.label, 0.0) + (sp.end - sp.start)
    split = assign_splits(groups_dur, spec.split)
    lay_t = tuple(layouts[st.name] for st in spec.streams)
    # Each session is cut at its own source rate: with streams.rate set, a 100 Hz board and a
    # 1000 Hz one resample to the same target, and reading the 100 Hz samples as 1000 Hz ones
    # made every sample interval a gap, so all of that session's windows were dropped.
    tasks = [SessionTask(str(path), spec, session_layouts[path], tuple(spans), names[path]) for path, _, spans in chosen]
    source_rates = {lay.name: list(dict.fromkeys(session_layouts[path][i].source_rate for path, _, _ in chosen))
                    for i, lay in enumerate(lay_t)}  # fmt: skip
    labels_sha = {names[path]: spans_sha256(spans) for path, _, spans in chosen}
    return _Plan(tasks, lay_t, classes, split, groups, tags, labels_sha, skipped, notes, source_rates)


def too_short_note(name: str, spans: list[Span], spec: DatasetSpec) -> str:
    """A line when every labeled span of a session is too short to label any window.

    A window takes a label only if the label covers ``min_coverage`` of it, so 40 ms claps in
    0.5 s windows at 0.3 label nothing; the build then reported only "gets 0 windows … labels
    outside the streams' time, or every window on a gap", which sent a user looking at gaps.
    """
    lab, length = spec.labels, spec.window.length
    need = lab.min_coverage * length
    if lab.rule == "any_overlap" and any(sp.end == sp.start for sp in spans):
        return ""  # a point labels the window it falls in, whatever the coverage
    spans_ = [sp for sp in spans if sp.end > sp.start]
    if not spans_ or need <= 0:
        return ""
    longest = max(sp.end - sp.start for sp in spans_)
    if longest >= need - 1e-9:
        return ""
    return (f"{name}: every labeled span on tier {lab.tier!r} is shorter ({longest:.3g} s at most) than labels.min_coverage × "
            f"window.length ({lab.min_coverage:g} × {length:g} s = {need:.3g} s), so none labels a window; for short events "
            f"use shorter windows or a lower min_coverage (e.g. {max(0.01, 0.5 * longest / length):.2g})")


def empty_split_notes(split: SplitPlan, groups: dict[str, str], per_session: dict[str, int], notes: list[str] = ()) -> list[str]:
    """One line per split that was given sessions but ends up with 0 windows.

    The split is assigned from labeled time (before any samples are read), so a session whose
    labels do not overlap its streams, or whose windows all fall on gaps, can land in a split
    and give it nothing. The preview and the build both call this with their own window counts
    per session, so they say the same thing about the same split.

    ``notes`` are the plan's lines about single sessions (no labels on the tier, none of
    ``labels.include``, spans too short): when they explain every member, the line points at
    them instead of guessing "labels outside the streams' time, or every window on a gap",
    which sent a user whose spec named a label no session has looking at gaps.
    """
    out = []
    for name in split.names:
        members = sorted(s for s, g in groups.items() if split.assignment.get(g) == name)
        if members and not sum(per_session.get(s, 0) for s in members):
            if all(any(n.startswith(f"{s}: ") for n in notes) for s in members):
                why = "(see the line about each above); change the spec or those sessions' labels, or change split.seed / split.by"
            else:
                why = ("(labels outside the streams' time, or every window on a gap); "
                       "check those sessions' labels and streams, or change split.seed / split.by")  # fmt: skip
            out.append(f"split {name!r} gets 0 windows: its session(s) {', '.join(members)} give none {why}")
    return out


def preview_counts(spec: DatasetSpec) -> dict[str, dict[str, int]]:
    """Windows each session would give, per class, before building (no samples are read).

    For a spec editor's live preview: labels and background caps are applied; windows that a
    gap would drop are not known until the samples are read, so counts are an upper bound.
    """
    from sensorlab.datasets.session_task import choose_windows
    from sensorlab.datasets.windows import window_starts

    plan = plan_build(spec)
    out: dict[str, dict[str, int]] = {}
    for task in plan.tasks:
        with open_session(task.path) as s:
            firsts = [s.streams[lay.name].first_time for lay in task.streams]
            lasts = [s.streams[lay.name].last_time + 1.0 / lay.source_rate for lay in task.streams]
        starts = window_starts(max(firsts), min(lasts), spec.window.length, spec.window.hop)
        _, names, _, _ = choose_windows(spec, list(task.spans), starts)
        counts: dict[str, int] = {c: 0 for c in plan.classes}
        for n in names:
            counts[n] += 1
        out[task.name] = counts
    return out


__all__ = ["BuildError", "empty_split_notes", "plan_build", "preview_counts", "session_names", "too_short_note"]
