"""``sensorlab import wav|table|edge-impulse`` and ``sensorlab dataset export``, registered by ``cli.py``.

Each command parses its options and calls one function of this package; errors are one
line with exit status 1 (2 for bad usage). Files that cannot be imported are named, counted
and skipped; the import fails only when nothing could be imported.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from sensorlab.cli_support import fail

import_app = typer.Typer(
    short_help="Turn recordings you already have (WAV clips, CSV/NPZ, Edge Impulse) into labeled sessions.",
    help="Turn recordings you already have into labeled sessions, so `sensorlab info`, `label` and `dataset build` apply "
    "(docs/IMPORT-EXPORT.md).\n\nExample: sensorlab import wav digits/ -o sessions/ --pattern '{label}_{subject}_{take}.wav'",
)

_Out = Annotated[Path, typer.Option("-o", "--output", metavar="DIR", help="Folder for the session files (created).")]
_Force = Annotated[bool, typer.Option("--force", help="Replace sessions of the same name in DIR.")]
_Tier = Annotated[str, typer.Option(metavar="NAME", help="Label tier the labels go to (the dataset spec's labels.tier).")]
_Per = Annotated[str | None, typer.Option("--session-per", metavar="FIELD|clip", help="One session per value of this field (default: subject, when there is one) or per clip.")]
_Gap = Annotated[float, typer.Option(metavar="SECONDS", help="Silence between clips laid into one session.")]


def _run(fn, what: str, **kw) -> None:
    from sensorlab.datasets.interchange.pattern import PatternError
    from sensorlab.datasets.interchange.sessions import InputError

    try:
        res = fn(progress=lambda name: typer.echo(f"wrote {name}.h5", err=True), **kw)
    except (InputError, PatternError, FileExistsError, OSError) as e:
        fail(str(e))
    typer.echo(res.summary(what))


@import_app.command("wav", short_help="A folder of labeled WAV clips → sessions (labels from the file name or an index CSV).")
def wav(
    folder: Annotated[Path, typer.Argument(metavar="FOLDER", help="Folder of .wav clips.")],
    output: _Out,
    pattern: Annotated[str | None, typer.Option(metavar="PATTERN", help="File-name pattern with {label} and e.g. {subject}, {take}: '{label}_{subject}_{take}.wav'.")] = None,
    index: Annotated[Path | None, typer.Option(metavar="CSV", help="Index CSV with columns file, label (and e.g. subject) instead of a pattern.")] = None,
    session_per: _Per = None,
    gap: _Gap = 0.5,
    stream: Annotated[str, typer.Option(metavar="NAME", help="Name of the audio stream.")] = "audio",
    tier: _Tier = "label",
    force: _Force = False,
) -> None:
    """Import labeled WAV clips: the clips of one subject become one session (clips end to end with --gap of silence),
    each clip one labeled segment, the subject a session tag.

    Example: sensorlab import wav fsdd/ -o sessions/ --pattern '{label}_{subject}_{take}.wav'
    """
    from sensorlab.datasets.interchange.clips import import_wav_folder

    _run(import_wav_folder, "clips", folder=folder, out_dir=output, pattern=pattern, index=index, session_per=session_per, gap=gap,
         stream=stream, tier=tier, force=force)  # fmt: skip


@import_app.command("table", short_help="CSV / NPZ recordings with a per-sample label column → sessions.")
def table(
    paths: Annotated[list[Path], typer.Argument(metavar="FILE|FOLDER...", help="CSV or NPZ files, or folders of them.")],
    output: _Out,
    rate: Annotated[float | None, typer.Option(metavar="HZ", help="Sample rate (default: from the time column or the NPZ 'rate').")] = None,
    label_column: Annotated[str, typer.Option(metavar="NAME", help="CSV column with the per-sample label.")] = "label",
    time_column: Annotated[str | None, typer.Option(metavar="NAME", help="CSV time column (default: time, timestamp or t if present).")] = None,
    time_unit: Annotated[str | None, typer.Option(metavar="s|ms|us", help="Unit of the time column (default: s, or from a _ms/_us suffix).")] = None,
    subject_column: Annotated[str | None, typer.Option(metavar="NAME", help="CSV column naming the subject: one session per subject.")] = None,
    columns: Annotated[str | None, typer.Option(metavar="A,B,C", help="CSV channel columns (default: every other column).")] = None,
    pattern: Annotated[str | None, typer.Option(metavar="PATTERN", help="Tags from file / recording names, e.g. 'u{subject}_e{experiment}_r{take}'.")] = None,
    unlabeled: Annotated[list[str] | None, typer.Option(metavar="VALUE", help="Label value meaning 'no label' (repeatable; default: empty, unlabeled, nan, none, null).")] = None,
    stream: Annotated[str, typer.Option(metavar="NAME", help="Name of the stream.")] = "signal",
    kind: Annotated[str, typer.Option(metavar="timeseries|audio", help="Stream kind.")] = "timeseries",
    tier: _Tier = "label",
    force: _Force = False,
) -> None:
    """Import sensor recordings with a label per sample: runs of equal labels become segments.

    Example: sensorlab import table hapt.npz -o imu/ --rate 50 --stream imu --pattern 'u{subject}_e{experiment}_r{take}'
    """
    from sensorlab.datasets.interchange.tables import import_tables

    if kind not in ("timeseries", "audio"):
        fail(f"--kind must be timeseries or audio (got {kind!r})", 2)
    _run(import_tables, "recordings", paths=paths, out_dir=output, label_column=label_column, time_column=time_column, time_unit=time_unit,
         subject_column=subject_column, columns=columns.split(",") if columns else None, rate=rate, pattern=pattern, unlabeled=unlabeled,
         stream=stream, kind=kind, tier=tier, force=force)  # fmt: skip


@import_app.command("edge-impulse", short_help="An Edge Impulse export (JSON / CSV samples, info.labels) → sessions.")
def edge_impulse(
    folder: Annotated[Path, typer.Argument(metavar="FOLDER", help="Folder with samples (and training/ testing/), info.labels.")],
    output: _Out,
    session_per: _Per = None,
    gap: _Gap = 0.5,
    stream: Annotated[str | None, typer.Option(metavar="NAME", help="Stream name (default: audio or signal).")] = None,
    tier: _Tier = "label",
    force: _Force = False,
) -> None:
    """Import Edge Impulse data-acquisition JSON / CSV samples with their labels (info.labels, or the name before the first dot).

    Example: sensorlab import edge-impulse ei-export/ -o sessions/ --session-per clip
    """
    from sensorlab.datasets.interchange.edge_impulse import import_edge_impulse

    _run(import_edge_impulse, "samples", folder=folder, out_dir=output, session_per=session_per, gap=gap, stream=stream, tier=tier, force=force)


def export(
    inputs: Annotated[list[Path], typer.Argument(metavar="DATASET.h5 | SESSION.h5...", help="One dataset file, or session files.")],
    output: Annotated[Path, typer.Option("-o", "--output", metavar="DIR", help="Folder to write (for npz of a dataset: DIR or FILE.npz).")],
    fmt: Annotated[str, typer.Option("--format", "-f", metavar="ei-json|ei-csv|wav|npz", help="Edge Impulse JSON or CSV, WAV clips + index.csv, NumPy .npz.")],
    stream: Annotated[str | None, typer.Option(metavar="NAME", help="Stream to export (needed when there are several).")] = None,
    tier: Annotated[str | None, typer.Option(metavar="NAME", help="Sessions: label tier (needed when there are several).")] = None,
    force: Annotated[bool, typer.Option("--force", help="Write into a folder that is not empty.")] = False,
) -> None:
    """Export a dataset's windows (one sample / clip per window, with label and split) or sessions (whole streams with their labels).

    Example: sensorlab dataset export digits.h5 -o digits-ei/ --format ei-json
    """
    from sensorlab.datasets.dataset import DatasetError
    from sensorlab.datasets.interchange.export import FORMATS
    from sensorlab.datasets.interchange.export import export as run
    from sensorlab.datasets.interchange.sessions import InputError

    if fmt not in FORMATS:
        fail(f"--format must be one of {', '.join(FORMATS)} (got {fmt!r})", 2)
    try:
        res = run(inputs, output, fmt, stream=stream, tier=tier, force=force)
    except (InputError, DatasetError, OSError, KeyError) as e:
        fail(str(e))
    typer.echo(res.summary())


__all__ = ["export", "import_app"]
