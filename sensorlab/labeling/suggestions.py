"""Suggestions after they are made: a run replaces its previous run's, a review accepts or rejects them.

One place for what the labeling window, ``sensorlab labels suggest|accept|reject`` and
``sensorlab predict --suggest`` do with suggested segments, so they cannot drift apart:

- `ReplaceSuggestions`: the unreviewed suggestions of one source (``model:clap.onnx``,
  ``suggest:energy:mic``) on one tier give way to a new run's, as one undoable command. The
  window pushes it on its undo stack; `store_suggestions` applies it to a session's sidecar.
- `accept_suggestions` / `reject_suggestions`: the bulk form of the window's A / R keys, built
  from the same `AcceptSuggestion` / `RejectSuggestion` commands, with filters (source, tier,
  label, minimum score).

Sidecar writes hold its OS lock from reading to writing (`sensorlab.labeling.lock`), so they
never drop a concurrent import's labels.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path

from sensorlab.labeling.annotations import DEFAULT_TIER, LIVE_TIER, AnnotationSet, Segment
from sensorlab.labeling.commands import AcceptSuggestion, AddSegment, Command, CompoundCommand, DeleteSegment, RejectSuggestion
from sensorlab.labeling.session_labels import read_annotations
from sensorlab.labeling.store import save_annotations, sidecar_lock, sidecar_path
from sensorlab.labeling.suggest import SUGGESTION_TIER


class ReplaceSuggestions(Command):
    """Replace the unreviewed suggestions of ``source`` on ``tier`` by ``segments`` (one undo step).

    Which suggestions are stale is decided when the command is done (so redo after other edits
    stays right); `replaced` then says how many went. Reviewed segments of that source are
    never touched. All or nothing, like `CompoundCommand`.

    Examples
    --------
    >>> ann = AnnotationSet()
    >>> ann.add(Segment.create(SUGGESTION_TIER, "clap", 1.0, 1.2, suggested=True, source="model:m.onnx"))
    >>> step = ReplaceSuggestions("model:m.onnx", [Segment.create(SUGGESTION_TIER, "clap", 5.0, 5.2, suggested=True, source="model:m.onnx")])
    >>> step.do(ann); [s.start for s in ann], step.replaced_note
    ([5.0], ', replacing 1 from the previous run')
    """

    def __init__(self, source: str, segments: Sequence[Segment], text: str = "", tier: str = SUGGESTION_TIER):
        self.source, self.segments, self.tier = source, list(segments), tier
        self.text = text or f"Suggest {len(self.segments)} ({source})"
        self.replaced = 0
        self._done: CompoundCommand | None = None

    def stale(self, ann: AnnotationSet) -> list[Segment]:
        """The suggestions this command would remove from ``ann`` now."""
        return [s for s in ann if s.suggested and s.tier == self.tier and s.source == self.source]

    def changes(self, ann: AnnotationSet) -> bool:
        """False when there is nothing to remove or add (no empty step on an undo stack)."""
        return bool(self.segments) or bool(self.stale(ann))

    def do(self, ann: AnnotationSet) -> None:
        stale = [s.id for s in self.stale(ann)]
        step = CompoundCommand([*(DeleteSegment(i) for i in stale), *(AddSegment(s) for s in self.segments)], self.text)
        step.do(ann)
        self._done, self.replaced = step, len(stale)

    def undo(self, ann: AnnotationSet) -> None:
        assert self._done is not None, "undo before do"
        self._done.undo(ann)

    @property
    def replaced_note(self) -> str:
        """``", replacing N from the previous run"`` once done, or ``""`` (for a status line)."""
        return f", replacing {self.replaced} from the previous run" if self.replaced else ""


def store_suggestions(session_path: str | Path, source: str, segments: Sequence[Segment], tier: str = SUGGESTION_TIER) -> ReplaceSuggestions:
    """Apply `ReplaceSuggestions` to a session's sidecar (locked read-modify-write); returns it, done.

    Also with no ``segments``: a run that found nothing still clears its previous run's.
    """
    session_path = Path(session_path)
    step = ReplaceSuggestions(source, segments, tier=tier)
    with sidecar_lock(sidecar_path(session_path)):
        ann = read_annotations(session_path)
        step.do(ann)
        save_annotations(ann, sidecar_path(session_path), session=session_path.name)
    return step


def source_matches(source: str, wanted: str) -> bool:
    """Does a suggestion's ``source`` match what a user typed?

    Accepted: the source itself (``model:clap.onnx``, ``suggest:energy:mic``), a model file's
    name or path (``clap.onnx``, ``models/clap.onnx``) or a method, alone or with its stream
    (``energy``, ``energy:mic``).
    """
    return source in (wanted, f"model:{Path(wanted).name}", f"suggest:{wanted}") or source.startswith(f"suggest:{wanted}:")


def matching_suggestions(ann: AnnotationSet, *, source: str | None = None, tier: str | None = None,
                         labels: Iterable[str] = (), min_score: float | None = None) -> list[Segment]:  # fmt: skip
    """Unreviewed suggestions passing every filter given, sorted by start.

    ``min_score``: a model's suggestion scores its mean probability (0–1), an energy
    suggestion its peak level (dB); a suggestion without a score never passes it.
    """
    labels = set(labels)
    return [s for s in ann.segments(tier, suggested=True)
            if (source is None or source_matches(s.source, source)) and (not labels or s.label in labels)
            and (min_score is None or (not math.isnan(s.score) and s.score >= min_score))]  # fmt: skip


def labels_tier(ann: AnnotationSet) -> str:
    """The tier accepted suggestions go to: the session's first tier of labels (not an old file's ``live``
    markers nor ``suggestions``), else ``default``. The labeling window opens on the same tier."""
    return next((t for t in ann.tier_names if t not in (LIVE_TIER, SUGGESTION_TIER)), DEFAULT_TIER)


def _check_source(ann: AnnotationSet, session_path: Path, source: str | None) -> None:
    if source is None:
        return
    if any(source_matches(s.source, source) for s in ann):  # reviewed ones count: "all accepted" is no typo
        return
    sources = Counter(s.source for s in ann.segments(suggested=True))
    if not sources:
        raise ValueError(f"{session_path}: no suggestions from {source!r}, nor any other; make some with "
                         f"`sensorlab predict MODEL {session_path} --suggest` or `sensorlab labels suggest`")
    have = ", ".join(f"{s} ({n})" for s, n in sources.most_common())
    raise ValueError(f"{session_path}: no suggestions from {source!r}; the session's unreviewed suggestions by source: {have}")


def _check_min_score(candidates: Sequence[Segment], min_score: float | None) -> None:
    """Refuse a threshold no model score can meet: a model's scores are probabilities (0–1), so
    ``--min-score 2`` would silently pass nothing (energy suggestions score dB, any value)."""
    if min_score is None or not candidates or not all(s.source.startswith("model:") for s in candidates):
        return
    if not 0.0 <= min_score <= 1.0:
        raise ValueError(f"--min-score {min_score:g} is outside 0–1, the range of a model's scores (its mean probability); "
                         "give e.g. --min-score 0.8")


def _counts(segs: Sequence[Segment]) -> str:
    return ", ".join(f"{k} {n}" for k, n in Counter(s.label for s in segs).items())


def _review(session_path: str | Path, accept: bool, *, source: str | None, tier: str | None, labels: Sequence[str],
            min_score: float | None, as_label: str | None, dry_run: bool, to_tier: str | None = None) -> tuple[list[Segment], list[Segment], str]:  # fmt: skip
    """Accept or reject the matching suggestions in the sidecar; ``(done, still unreviewed of that source/tier, labels tier)``."""
    session_path = Path(session_path)
    with sidecar_lock(sidecar_path(session_path)):
        ann = read_annotations(session_path)
        _check_source(ann, session_path, source)
        to_tier = to_tier or labels_tier(ann)
        _check_min_score(matching_suggestions(ann, source=source, tier=tier, labels=labels), min_score)
        segs = matching_suggestions(ann, source=source, tier=tier, labels=labels, min_score=min_score)
        if segs and not dry_run:
            verb = "Accept" if accept else "Reject"
            CompoundCommand([AcceptSuggestion(s.id, as_label, to_tier) if accept else RejectSuggestion(s.id) for s in segs],
                            f"{verb} {len(segs)} suggestions").do(ann)  # fmt: skip
            save_annotations(ann, sidecar_path(session_path), session=session_path.name)
        done = {s.id for s in segs}
        left = [s for s in matching_suggestions(ann, source=source, tier=tier) if s.id not in done]
    return segs, left, to_tier


def _filters(source: str | None, labels: Sequence[str], min_score: float | None) -> str:
    """The filters given, as `` from X labelled Y with score ≥ Z`` (each part led by a space), or ``""``."""
    parts = [f"from {source}" if source else "", f"labelled {', '.join(labels)}" if labels else "",
             f"with score ≥ {min_score:g}" if min_score is not None else ""]  # fmt: skip
    return "".join(f" {p}" for p in parts if p)


def accept_suggestions(session_path: str | Path, *, source: str | None = None, tier: str | None = None, labels: Sequence[str] = (),
                       min_score: float | None = None, as_label: str | None = None, dry_run: bool = False, to_tier: str | None = None) -> str:  # fmt: skip
    """Accept the unreviewed suggestions that pass the filters (the labeling window's A key, in bulk).

    Accepted segments keep their times, source and score and lose the suggested flag; those on
    the ``suggestions`` tier move to ``to_tier`` (default `labels_tier`: the tier the labeling
    window opens on), like the window's A key. ``as_label`` relabels them (the window's 1–9).
    With ``dry_run`` nothing is saved.

    Returns
    -------
    str
        One line for the terminal: what was accepted, and how many suggestions are left.

    Raises
    ------
    ValueError
        ``source`` matches no suggestion of the session (the line lists the sources there are).

    Examples
    --------
    >>> print(accept_suggestions("run1.h5", source="clap.onnx", min_score=0.8))  # doctest: +SKIP
    accepted 7 suggestion(s) (clap 7) from clap.onnx with score ≥ 0.8 into tier 'default' of run1.labels.json; 2 left to review ...
    """
    segs, left, to_tier = _review(session_path, True, source=source, tier=tier, labels=labels, min_score=min_score, as_label=as_label,
                                  dry_run=dry_run, to_tier=to_tier)  # fmt: skip
    verb = "would accept" if dry_run else "accepted"
    what = f"{verb} {len(segs)} suggestion(s)" + (f" ({_counts(segs)})" if segs else "")
    what += f" as {as_label!r}" if as_label and segs else ""
    moved = any(s.tier == SUGGESTION_TIER for s in segs)
    line = what + _filters(source, labels, min_score) + (f" into tier {to_tier!r}" if moved else "")
    line += "" if dry_run else f" {'of' if moved else 'in'} {sidecar_path(session_path).name}"
    if left:
        scores = [s.score for s in left if not math.isnan(s.score)]
        rng = f", scores {min(scores):.2f}–{max(scores):.2f}" if scores else ""
        again = f" --source {source}" if source else ""
        line += (f"; {len(left)} left to review ({_counts(left)}{rng}): review them in `sensorlab label {session_path}`"
                 f" or drop them with `sensorlab labels reject {session_path}{again}`")
    return line


def reject_suggestions(session_path: str | Path, *, source: str | None = None, tier: str | None = None, labels: Sequence[str] = (),
                       dry_run: bool = False) -> str:  # fmt: skip
    """Drop the unreviewed suggestions that pass the filters (the window's R key, in bulk); reviewed
    segments are never touched. Returns one line for the terminal; raises like `accept_suggestions`."""
    segs, left, _ = _review(session_path, False, source=source, tier=tier, labels=labels, min_score=None, as_label=None, dry_run=dry_run)
    verb = "would reject" if dry_run else "rejected"
    line = f"{verb} {len(segs)} suggestion(s)" + (f" ({_counts(segs)})" if segs else "") + _filters(source, labels, None)
    line += "" if dry_run else f" in {sidecar_path(session_path).name}"
    return line + (f"; {len(left)} left to review" if left else "")


__all__ = [
    "ReplaceSuggestions",
    "accept_suggestions",
    "labels_tier",
    "matching_suggestions",
    "reject_suggestions",
    "source_matches",
    "store_suggestions",
]
