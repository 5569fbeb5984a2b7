"""What the command line prints: help a user can read, and `info` columns that never run together."""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

from sensorlab.acquisition.emulated.signal import SignalSource
from sensorlab.cli import app
from tests.cli_commands import command_paths

runner = CliRunner()


ALL = command_paths()


@pytest.mark.parametrize("path", ALL, ids=lambda p: " ".join(p))
def test_help_names_what_each_option_takes_not_python_types(path):
    text = runner.invoke(app, [*path, "--help"]).output
    # Python type placeholders mean nothing to a user; flags take no value at all.
    assert not re.search(r"<(bool|str|int|float|list\[[a-z]+\])[^>]*>", text), text
    for flag in ("--demo", "--allow-missing", "--absolute", "--help"):
        assert not re.search(rf"{flag}\s+<", text), text


def test_record_help_shows_what_each_value_looks_like():
    text = runner.invoke(app, ["record", "--help"]).output
    for option, metavar in (("--tag", "KEY=VALUE"), ("--duration", "SECONDS"), ("--output", "FILE.h5"), ("--rig", "RIG.toml"), ("--video", "jpeg|raw")):
        assert re.search(rf"{option} {re.escape(metavar)}\s", text), (option, text)
    assert "--param NAME=VALUE" in runner.invoke(app, ["labels", "suggest", "--help"]).output


@pytest.mark.parametrize("path", ALL, ids=lambda p: " ".join(p))
def test_help_paragraphs_break_only_where_the_next_word_does_not_fit(path):
    text = runner.invoke(app, [*path, "--help"]).output
    description = re.split(r"\n(?:Arguments|Options|Commands):\n", text)[0].split("\n", 1)[1]
    lines = [line.rstrip() for line in description.splitlines()]
    width = max(len(line) for line in lines)
    for line, nxt in zip(lines, lines[1:]):
        if line.strip() and nxt.strip():  # two lines of one paragraph
            assert len(line) + 1 + len(nxt.split()[0]) > width, f"stray line break after {line!r}\n{text}"


def test_a_label_file_of_unknown_type_is_explained_without_python_details(tmp_path):
    from sensorlab.labeling.formats import detect_format

    with pytest.raises(ValueError) as err:
        detect_format(tmp_path / "labels.dat", None)
    assert "--format" in str(err.value) and "fmt=" not in str(err.value) and "Python" not in str(err.value)


def test_info_columns_never_run_together(make_session):
    # A real gap (a 0.5 s stall with sequence numbers) next to a parse-error count of 0: the
    # two used to print as "01 (0.51s)".
    path = make_session(SignalSource("x", shape=(2,), rate=100, realtime=False, max_samples=200, stall_after=50, stall_for=0.5))
    result = runner.invoke(app, ["info", str(path)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    head_i = next(i for i, line in enumerate(lines) if line.split()[:2] == ["stream", "kind"])
    heads = re.split(r"\s{2,}", lines[head_i].strip())
    assert heads == ["stream", "kind", "rate", "measured", "duration", "samples", "dropped", "ovfl", "parse", "gaps", "drift"]
    row = next(line for line in lines[head_i + 2 :] if line.split()[:1] == ["x"])
    cells = dict(zip(heads, re.split(r"\s{2,}", row.strip())))
    assert len(re.split(r"\s{2,}", row.strip())) == len(heads), (heads, row)
    assert (cells["samples"], cells["dropped"], cells["parse"]) == ("150", "50", "0"), row
    assert re.fullmatch(r"1 \(0\.5\ds\)", cells["gaps"]), row
    # Right-aligned numbers end under their heading.
    assert row.rindex(cells["samples"]) + len(cells["samples"]) == lines[head_i].index("samples") + len("samples")


def test_a_reader_that_stops_reading_ends_the_command_quietly_not_with_a_false_file_error(tmp_path):
    # `sensorlab info S | head`: head stops reading. The command used to report its *session*
    # as unreadable ("cannot read this session ([Errno 32] Broken pipe)") and exit 1.
    import subprocess
    import sys

    from sensorlab.session.synthetic import write_synthetic_session

    path = tmp_path / "s.h5"
    write_synthetic_session(path, seconds=2.0, predictions=False)
    p = subprocess.Popen([sys.executable, "-m", "sensorlab.cli", "info", str(path)], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    p.stdout.close()  # the reader is gone before the first line is printed
    err = p.stderr.read().decode()
    assert p.wait(timeout=120) != 0
    assert err == "", err
