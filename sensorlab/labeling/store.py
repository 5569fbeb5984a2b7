"""Crash-safe persistence of annotations in a JSON sidecar next to the session file.

Why a sidecar: HDF5 is not journaled, and rewriting inside the recording while the process
dies can destroy the whole file. Annotations therefore never touch the ``.h5``; they live in
``<session>.labels.json``, which is replaced atomically on every save:

1. write the new text to a temporary file in the same directory,
2. ``fsync`` it,
3. ``os.replace`` it over the sidecar (atomic on POSIX and Windows for one volume),
4. ``fsync`` the directory so the rename itself survives a power cut (POSIX).

A reader therefore sees either the old or the new complete file, never a mix: a crash at
any moment loses at most the edit being saved. The previous version is kept as
``<session>.labels.json.bak`` (also replaced atomically), and `load_annotations` falls back
to it if the main file is ever unreadable (e.g. edited by hand and broken).

Read-modify-write (an import, a suggestion run, the labeling window's autosave) holds an OS
file lock on the sidecar (`sensorlab.labeling.lock`), so two of them never lose each other's
labels; one that waits too long is told which program holds it. Under the lock nobody else
is writing, so temporaries left by a killed writer are removed then, and on the next open.

Schema versioning follows napari's rule: bump the minor version to add a field or change a
default (older readers ignore unknown fields), bump the major version to remove or rename a
field (older readers refuse the file instead of misreading it).
"""

from __future__ import annotations

import datetime as _dt
import errno
import json
import logging
import time
from pathlib import Path
from typing import Any

from sensorlab.labeling.annotations import AnnotationSet, Segment
from sensorlab.labeling.atomic_file import atomic_write_text
from sensorlab.labeling.lock import SidecarLocked, sidecar_lock, try_sidecar_lock
from sensorlab.labeling.sidecar_merge import Merge, three_way

log = logging.getLogger(__name__)

#: Version of the sidecar layout, "major.minor" (see module docstring for the bump rules).
SCHEMA_VERSION = "1.1"  # 1.1: "labels", the label set (names, colours, hotkeys)
SIDECAR_SUFFIX = ".labels.json"
BACKUP_SUFFIX = ".bak"


class SidecarError(RuntimeError):
    """A sidecar could not be read (corrupt, or written by a newer sensorlab)."""


def sidecar_path(session_path: str | Path) -> Path:
    """Return the annotations file of a session: ``run1.h5`` → ``run1.labels.json``.

    Examples
    --------
    >>> sidecar_path("/data/run1.h5").name
    'run1.labels.json'
    """
    p = Path(session_path)
    return p.with_name(p.stem + SIDECAR_SUFFIX)


def backup_path(path: str | Path) -> Path:
    p = Path(path)
    return p.with_name(p.name + BACKUP_SUFFIX)


def _clean_stale_temps(path: Path, min_age_s: float = 60.0) -> int:
    # Call with the sidecar lock held and min_age_s=0: every writer holds it while its
    # temporary exists, so any temporary seen then was left by a killed writer. Without the
    # lock only old ones go: a young one may belong to a process saving right now.
    now, removed = time.time(), 0
    for stale in path.parent.glob(f".{path.name}.*.tmp"):  # also the .bak's: .run1.labels.json.bak.*.tmp
        try:
            if now - stale.stat().st_mtime >= min_age_s:
                stale.unlink()
                removed += 1
        except OSError:
            pass
    return removed


def clean_stray_temps(path: str | Path) -> int:
    """Remove temporaries a killed writer left next to sidecar ``path``; returns how many.

    Does nothing (returns 0) if another process holds the sidecar lock right now.
    """
    path = Path(path)
    try:
        with try_sidecar_lock(path) as locked:
            return _clean_stale_temps(path, min_age_s=0.0) if locked else 0
    except OSError as e:
        # The lock file cannot be created in a read-only folder (an archive, a share, a
        # mounted dataset): no writer can have left a temporary there, and reading the labels
        # must still work.
        if e.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
            return 0
        raise


def annotations_to_json(annotations: AnnotationSet, *, session: str = "") -> str:
    """Serialise to the sidecar text. Floats use ``repr`` so every time is exact float64."""
    doc: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "kind": "sensorlab.annotations",
        "session": session,
        "saved_at": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "time_base": "session clock (host seconds)",
        **annotations.to_dict(),
    }
    # One segment per line: readable and diff-friendly, and each line goes through json's C
    # encoder (an indented dump runs in pure Python: 200 000 segments took 7 s).
    segments = doc.pop("segments")
    head = json.dumps(doc, indent=1, ensure_ascii=False)[:-2]  # drop the closing "\n}"
    rows = ",\n".join("  " + json.dumps(s, ensure_ascii=False) for s in segments)
    return f'{head},\n "segments": [\n{rows}\n ]\n}}\n' if segments else f'{head},\n "segments": []\n}}\n'


def annotations_from_json(text: str) -> AnnotationSet:
    """Parse sidecar text; raises `SidecarError` if it is invalid or from a newer major."""
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as e:
        raise SidecarError(f"not valid JSON: {e}") from e
    if not isinstance(doc, dict) or "schema_version" not in doc:
        raise SidecarError("no schema_version: not a sensorlab annotations file")
    try:
        major = int(str(doc["schema_version"]).split(".")[0])
    except ValueError:
        raise SidecarError(f"schema_version must read like {SCHEMA_VERSION!r}, not {doc['schema_version']!r:.40}") from None
    if major > int(SCHEMA_VERSION.split(".")[0]):
        raise SidecarError(
            f"annotations schema {doc['schema_version']} is newer than this sensorlab "
            f"understands ({SCHEMA_VERSION}); upgrade sensorlab to open it"
        )
    try:
        return AnnotationSet.from_dict(doc)
    except (TypeError, ValueError, KeyError, AttributeError) as e:
        raise SidecarError(f"invalid annotations: {e}") from e


def save_annotations(
    annotations: AnnotationSet, path: str | Path, *, keep_backup: bool = True, session: str = ""
) -> Path:
    """Atomically write ``annotations`` to ``path`` (a sidecar), keeping the old one as ``.bak``.

    Parameters
    ----------
    annotations
        What to save.
    path
        The sidecar, normally ``sidecar_path(session_path)``.
    keep_backup
        Copy the current sidecar to ``<path>.bak`` (atomically) before replacing it.
    session
        Session file name recorded in the sidecar for humans.

    Returns
    -------
    Path
        ``path``.

    Examples
    --------
    >>> save_annotations(ann, sidecar_path("run1.h5"))  # doctest: +SKIP
    """
    path = Path(path)
    text = annotations_to_json(annotations, session=session)
    with sidecar_lock(path):  # re-entrant: callers doing read-modify-write already hold it
        _clean_stale_temps(path, min_age_s=0.0)
        _replace_keeping_backup(path, text, keep_backup)
    return path


def _replace_keeping_backup(path: Path, text: str, keep_backup: bool) -> None:
    if keep_backup and path.exists():
        try:
            previous = path.read_text(encoding="utf-8")
            annotations_from_json(previous)  # never back up a broken file over a good backup
        except (OSError, SidecarError, UnicodeDecodeError):
            previous = None
        if previous is not None:
            atomic_write_text(backup_path(path), previous)
    atomic_write_text(path, text)


def load_annotations(path: str | Path, *, use_backup: bool = True) -> AnnotationSet:
    """Load a sidecar; if it is unreadable and a ``.bak`` exists, load that (with a warning).

    Raises
    ------
    FileNotFoundError
        Neither the file nor its backup exists.
    SidecarError
        The file (and its backup) are invalid or from a newer major schema.
    """
    path = Path(path)
    try:
        return _read(path)
    except (SidecarError, FileNotFoundError) as e:
        bak = backup_path(path)
        if not use_backup or not bak.exists():
            if isinstance(e, SidecarError):
                raise _naming(path, e) from None
            raise
        if isinstance(e, SidecarError) and "newer" in str(e):
            raise _naming(path, e) from None
        log.warning("annotations %s unreadable (%s); loading the backup %s", path, e, bak)
        try:
            return _read(bak)
        except (SidecarError, FileNotFoundError) as e2:
            raise _naming(path, e if isinstance(e, SidecarError) else e2) from None


def _read(path: Path) -> AnnotationSet:
    try:
        return annotations_from_json(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as e:
        raise SidecarError(f"not UTF-8 text ({e.reason} at byte {e.start})") from None


def _naming(path: Path, e: SidecarError) -> SidecarError:
    """The error with the sidecar's path and the fix: an import or export used to report it
    as a fault of the session or of the file being imported."""
    if "newer" in str(e):
        return SidecarError(f"{path}: {e}")
    return SidecarError(f"{path}: {e}. Correct it in a text editor, or move it aside to start the session's labels afresh")


def load_sidecar(session_path: str | Path) -> AnnotationSet | None:
    """The saved annotations of a session, or None when it has none yet."""
    p = sidecar_path(session_path)
    clean_stray_temps(p)  # left by a writer killed mid-save
    if not p.exists() and not backup_path(p).exists():
        return None
    return load_annotations(p)


def _signature(path: Path) -> tuple[int, int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_ino, st.st_mtime_ns, st.st_size


class _Autosaver:
    """Saves the window's annotations after each edit, merged with what others changed.

    The labeling window holds its annotations in memory for as long as it is open. If a
    ``sensorlab labels import`` (or a script, or another window) changes the sidecar
    meanwhile, a plain save would overwrite that, and bring back segments it deleted. So each
    save takes the sidecar lock, and if the file changed since this window last read or wrote
    it, the window's set is merged three ways with it (`sidecar_merge.three_way`: what the
    window loaded, what it changed, what the file has now), applied to the window's set, and
    saved. `take_changes` does the same without saving, for the window's once-a-second check.
    """

    def __init__(self, path: Path, session: str):
        self.path, self.session = path, session
        self._signature = _signature(path)
        self._base: dict[str, Segment] = self._on_disk_by_id()
        self._merged_on_save = Merge()  # merges done while saving, for `take_changes` to report

    def _read(self) -> AnnotationSet | None:
        try:
            return load_annotations(self.path)
        except (OSError, SidecarError, UnicodeDecodeError):
            return None

    def _on_disk_by_id(self) -> dict[str, Segment]:
        on_disk = self._read()
        return {s.id: s for s in on_disk} if on_disk is not None else {}

    def __call__(self, annotations: AnnotationSet) -> None:
        with sidecar_lock(self.path):
            if _signature(self.path) != self._signature:
                merge = self._merge(annotations)
                if merge:
                    log.warning("%s changed on disk (another program): %s", self.path.name, merge.message())
                    merge.apply(annotations)
                    self._merged_on_save.extend(merge)
            save_annotations(annotations, self.path, session=self.session)
            self._signature = _signature(self.path)
            self._base = {s.id: s for s in annotations}

    def take_changes(self, annotations: AnnotationSet) -> Merge:
        """Apply to ``annotations`` what another program changed in the file since this window
        last read or wrote it, and return it (with what saves merged since the last call).

        Cheap when nothing changed (one ``stat``). Added segments count as seen from then on, as
        if this window had saved them.
        """
        merge, self._merged_on_save = self._merged_on_save, Merge()
        signature = _signature(self.path)  # before reading: a write after it is found next time
        if signature == self._signature:
            return merge
        theirs = self._read()
        if theirs is None:
            return merge
        fresh = three_way(self._base, annotations, theirs)
        fresh.apply(annotations)
        merge.extend(fresh)
        self._signature = signature
        self._base = {s.id: s for s in theirs}
        return merge

    def take_foreign(self, annotations: AnnotationSet) -> list[Segment]:
        """`take_changes`, as the segments it added (kept for scripts written against it)."""
        return self.take_changes(annotations).added

    def _merge(self, annotations: AnnotationSet) -> Merge:
        theirs = self._read()
        return three_way(self._base, annotations, theirs) if theirs is not None else Merge()


def autosaver(path: str | Path, *, session: str = "") -> _Autosaver:
    """Return an autosave hook for `UndoStack`: saves atomically after every edit.

    Create it when the annotations are loaded: each save holds the sidecar lock and merges
    what another program changed in the file since then (see `_Autosaver`); its
    ``take_changes(annotations)`` applies those changes to the window's set and returns them
    (a `sidecar_merge.Merge`), for a window to show them.

    Examples
    --------
    >>> stack = UndoStack(ann, autosave=autosaver(sidecar_path("run1.h5")))  # doctest: +SKIP
    """
    return _Autosaver(Path(path), session)


__all__ = [
    "SCHEMA_VERSION",
    "SidecarError",
    "SidecarLocked",
    "clean_stray_temps",
    "sidecar_lock",
    "annotations_from_json",
    "annotations_to_json",
    "atomic_write_text",
    "autosaver",
    "backup_path",
    "load_annotations",
    "load_sidecar",
    "save_annotations",
    "sidecar_path",
]
