"""Sidecar persistence: exact round trip, versioning, backup fallback, and SIGKILL safety."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from sensorlab.labeling.annotations import AnnotationSet, Segment
from sensorlab.labeling.commands import AddSegment, UndoStack
from sensorlab.labeling.store import (
    SCHEMA_VERSION,
    SidecarError,
    autosaver,
    backup_path,
    load_annotations,
    load_sidecar,
    save_annotations,
    sidecar_path,
)


def sample_set(n: int = 3) -> AnnotationSet:
    t0 = 81234.567890123  # host-clock seconds are large: precision must survive
    return AnnotationSet(
        Segment(f"s{i}", "activity" if i % 2 else "speaker", f"l{i}", t0 + i / 48000, t0 + (i + 7) / 48000)
        for i in range(n)
    )


def test_sidecar_path():
    assert sidecar_path("/data/run1.h5") == Path("/data/run1.labels.json")


def test_round_trip_is_bit_exact_and_versioned(tmp_path):
    ann = sample_set(50)
    path = save_annotations(ann, sidecar_path(tmp_path / "run.h5"), session="run.h5")
    doc = json.loads(path.read_text())
    assert doc["schema_version"] == SCHEMA_VERSION and doc["session"] == "run.h5"
    back = load_annotations(path)
    assert sorted(back, key=lambda s: s.id) == sorted(ann, key=lambda s: s.id)
    assert back.tier_names == ann.tier_names
    assert not list(tmp_path.glob(".*.tmp"))  # no temporaries left behind


def test_newer_major_is_refused_and_minor_is_read(tmp_path):
    path = tmp_path / "x.labels.json"
    doc = {"schema_version": "2.0", "segments": []}
    path.write_text(json.dumps(doc))
    with pytest.raises(SidecarError, match="newer"):
        load_annotations(path)
    doc = {"schema_version": "1.9", "segments": [{"id": "a", "tier": "t", "label": "x", "start": 1, "end": 2, "future_field": 3}]}
    path.write_text(json.dumps(doc))
    assert load_annotations(path)["a"].end == 2.0


def test_backup_kept_and_used_when_main_is_broken(tmp_path):
    path = sidecar_path(tmp_path / "run.h5")
    save_annotations(sample_set(1), path)
    save_annotations(sample_set(2), path)
    assert len(load_annotations(backup_path(path))) == 1
    path.write_text('{"schema_version": "1.0", "segm')  # e.g. a broken hand edit
    assert len(load_annotations(path)) == 1
    with pytest.raises(SidecarError):
        load_annotations(path, use_backup=False)
    save_annotations(sample_set(3), path)  # a broken file never replaces a good backup
    assert len(load_annotations(backup_path(path))) == 1


def test_load_sidecar_missing_is_none(tmp_path):
    assert load_sidecar(tmp_path / "nothing.h5") is None


def test_autosave_hook_writes_every_edit(tmp_path):
    path = sidecar_path(tmp_path / "run.h5")
    stack = UndoStack(AnnotationSet(), autosave=autosaver(path))
    stack.push(AddSegment(Segment("a", "t", "x", 1.0, 2.0)))
    assert len(load_annotations(path)) == 1 and stack.is_clean
    stack.undo()
    assert len(load_annotations(path)) == 0


_SAVER = textwrap.dedent(
    """
    import sys
    from sensorlab.labeling.annotations import AnnotationSet, Segment
    from sensorlab.labeling.store import save_annotations
    path = sys.argv[1]
    i = 0
    print("ready", flush=True)
    while True:
        i += 1
        # Sizes vary so a torn write would show up as truncated JSON.
        n = 1 + (i * 37) % 400
        save_annotations(AnnotationSet(Segment(f"s{k}", "t", f"gen{i}", k, k + 0.5) for k in range(n)), path)
        print(i, flush=True)  # generation i is saved
    """
)


def test_sigkill_during_save_loop_never_corrupts(tmp_path):
    """Kill a process in a tight save loop at random moments; the sidecar always loads."""
    path = sidecar_path(tmp_path / "run.h5")
    save_annotations(AnnotationSet([Segment("s0", "t", "gen0", 0, 1)]), path)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    for delay in (0.05, 0.11, 0.17, 0.23, 0.31, 0.07, 0.13, 0.29):
        proc = subprocess.Popen([sys.executable, "-c", _SAVER, str(path)], stdout=subprocess.PIPE, env=env)
        assert proc.stdout.readline().strip() == b"ready"
        assert proc.stdout.readline().strip() == b"1"  # the loop is saving (however loaded the machine)
        time.sleep(delay)  # then kill it at some moment of its loop
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        saved = int(([b"1"] + proc.stdout.read().split())[-1])  # the last generation it finished
        proc.stdout.close()
        ann = load_annotations(path, use_backup=False)  # the main file itself must be whole
        labels = {s.label for s in ann}
        assert len(labels) == 1  # one complete generation, never a mix
        # The newest finished save, or the one in flight if its rename landed before the kill.
        assert labels <= {f"gen{saved}", f"gen{saved + 1}"}, (labels, saved)
        assert len(load_annotations(backup_path(path), use_backup=False)) >= 1


HAND_EDITS = {  # what a text editor (or a script) can leave in a sidecar, and the word the error names
    "suggested as text": ('"suggested": false', '"suggested": "false"', "suggested must be true or false"),
    "label null": ('"label": "l0"', '"label": null', "label must be text"),
    "400-digit time": ('"start": 81234.567890123', '"start": 1' + "0" * 400, "start must be a number"),
    "schema_version text": ('"schema_version": "1.1"', '"schema_version": "one"', "schema_version must read like"),
    "segments an object": ('"segments": [', '"segments": {"x": [', "segments must be a list"),
    "not UTF-8": (None, None, "not UTF-8"),
}


@pytest.mark.parametrize("edit", HAND_EDITS)
def test_a_hand_edited_sidecar_is_refused_naming_itself_and_the_field(tmp_path, edit):
    """Such edits raised OverflowError / ValueError tracebacks, or were taken as they were:
    ``"suggested": "false"`` turned a label into an unreviewed suggestion (left out of exports
    and datasets). The error names the sidecar, not the session or the file being imported."""
    from sensorlab.labeling.cli_commands import error_line

    path = save_annotations(sample_set(1), sidecar_path(tmp_path / "run.h5"))
    old, new, words = HAND_EDITS[edit]
    if old is None:
        path.write_bytes(b"\xff\xfe" + path.read_bytes())
    else:
        text = path.read_text()
        assert old in text
        edited = text.replace(old, new, 1)
        path.write_text(edited.replace("]\n}", "]}\n}") if edit == "segments an object" else edited)
    with pytest.raises(SidecarError) as e:
        load_annotations(path)
    assert str(e.value).startswith(f"{path}: ") and words in str(e.value), str(e.value)
    line = error_line(e.value, tmp_path / "import_me.txt", tmp_path / "run.h5")
    assert line.startswith(str(path)) and "import_me.txt" not in line and "move it aside" in line
