"""Sessions that share a file name, or are the same file twice, never leak across splits."""

from __future__ import annotations

import shutil
import tomllib

import pytest

from sensorlab.datasets.build import BuildError, build_dataset
from sensorlab.datasets.dataset import Dataset
from sensorlab.datasets.preview import count_preview
from sensorlab.datasets.spec import spec_from_dict

from .conftest import label_session, small_session, spec_text

SUBJECTS = ("s01", "s02", "s03", "s04")


@pytest.fixture(scope="module")
def per_subject_folders(tmp_path_factory):
    """The layout many labs use: one folder per subject, the same take names in each."""
    root = tmp_path_factory.mktemp("subjects")
    for subject in SUBJECTS:
        for take in ("take1", "take2"):
            label_session(small_session(root / subject / f"{take}.h5", subject=subject))
    return root


def spec_over(root, pattern):
    return spec_from_dict(tomllib.loads(spec_text(root).replace(f'["{root}/*.h5"]', f'["{pattern}"]')))


def test_same_file_names_in_subject_folders_keep_their_own_subject_and_split(per_subject_folders, tmp_path):
    out = tmp_path / "ds.h5"
    build_dataset(spec_over(per_subject_folders, f"{per_subject_folders}/*/*.h5"), out)
    with Dataset.open(out) as ds:
        names = [i["name"] for i in ds.inputs]
        assert sorted(names) == sorted(f"{s}/{t}.h5" for s in SUBJECTS for t in ("take1", "take2"))
        for i in ds.inputs:  # each input keeps the subject of its own folder (keyed by file name, all took s04's)
            assert i["tags"]["subject"] == i["group"] == i["name"].split("/")[0]
        assignment = ds.split["assignment"]
        split_of_session = ds.column("split")
        session = ds.column("session")
        # every window of a subject is in that subject's one split: no subject on two sides
        for subject in SUBJECTS:
            idx = [k for k, i in enumerate(ds.inputs) if i["group"] == subject]
            splits = {int(x) for x in split_of_session[[s in idx for s in session]]}
            assert len(splits) == 1, f"{subject}'s windows are in splits {splits}"
            assert ds.split_names[splits.pop()] == assignment[subject]
    preview = count_preview(spec_over(per_subject_folders, f"{per_subject_folders}/*/*.h5"))
    assert sorted(preview["per_session"]) == sorted(names)


def test_a_copy_of_a_session_stops_the_build_naming_both(per_subject_folders, tmp_path):
    folder = tmp_path / "sessions"
    shutil.copytree(per_subject_folders / "s01", folder)
    shutil.copytree(per_subject_folders / "s02", folder / "more")
    shutil.copy2(folder / "take1.h5", folder / "more" / "take1-backup.h5")  # the same recording under two names
    shutil.copy2(folder / "take1.labels.json", folder / "more" / "take1-backup.labels.json")
    out = tmp_path / "ds.h5"
    spec = spec_over(folder, f"{folder}/**/*.h5").model_copy(update={"split": spec_over(folder, "x").split.model_copy(update={"by": "session"})})
    with pytest.raises(BuildError, match=r"are the same recording .*keep one copy") as e:
        build_dataset(spec, out)
    assert "take1-backup.h5 and take1.h5 are" in str(e.value)  # both named: the copy, and the first one (not s02's take1)
    assert not out.exists() and not list(tmp_path.glob(".ds.h5*"))


def test_a_spec_path_that_finds_no_session_stops_the_build(per_subject_folders, tmp_path):
    """A typo in one of the spec's paths silently built the dataset without that session."""
    paths = [str(per_subject_folders / "s01" / "take1.h5"), str(per_subject_folders / "s02" / "tkae1.h5"), f"{per_subject_folders}/s03/*.h5"]
    spec = spec_over(per_subject_folders, "x").model_copy(update={"sessions": spec_over(per_subject_folders, "x").sessions.model_copy(update={"paths": paths})})
    out = tmp_path / "ds.h5"
    with pytest.raises(BuildError, match=r"sessions\.paths: '.*s02/tkae1\.h5' finds no session file .*correct or remove it"):
        build_dataset(spec, out)
    assert not out.exists()


def test_a_session_file_name_with_glob_characters_is_that_file(per_subject_folders, tmp_path):
    folder = tmp_path / "sessions [2026]"
    folder.mkdir()
    for subject, name in (("s01", "take[1].h5"), ("s02", "take[2].h5"), ("s03", "take 3 é.h5"), ("s04", "take4.h5")):
        shutil.copy2(per_subject_folders / subject / "take1.h5", folder / name)
        shutil.copy2(per_subject_folders / subject / "take1.labels.json", folder / name.replace(".h5", ".labels.json"))
    paths = [str(folder / n) for n in ("take[1].h5", "take[2].h5", "take 3 é.h5", "take4.h5")]
    spec = spec_over(folder, "x").model_copy(update={"sessions": spec_over(folder, "x").sessions.model_copy(update={"paths": paths})})
    out = tmp_path / "ds.h5"
    build_dataset(spec, out)  # "take[1].h5" as a glob matched "take1.h5" (not there): the session was left out
    with Dataset.open(out) as ds:
        assert sorted(i["name"] for i in ds.inputs) == ["take 3 é.h5", "take4.h5", "take[1].h5", "take[2].h5"]
