"""``sensorlab dataset build|info``: a typer sub-app registered by ``cli.py``.

Each command parses its options and calls one core function (`build.iter_build`,
`report.dataset_report`); errors are one line with exit status 1 (2 for bad usage).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Optional

import typer

from sensorlab.cli_support import fail, json_line, progress_line
from sensorlab.progress import run_to_end

dataset_app = typer.Typer(
    short_help="Build windowed, split datasets from labeled sessions; print their report.",
    help="Build windowed, leak-free train/val/test datasets from labeled sessions (docs/DATASETS.md).\n\n"
    "Example: sensorlab dataset build imu.toml -o imu.h5 --workers 2",
)


def _progress_json(p) -> None:
    json_line({"event": "progress", "done": p.done, "total": p.total, "windows": p.windows, "session": p.session, "skipped": p.skipped})


def _progress(p) -> None:
    skipped = f" | skipped {p.session}: {p.skipped}" if p.skipped else ""
    progress_line(f"{p.done}/{p.total} sessions | {p.windows} windows{skipped}", overwrite=not p.skipped)  # a skip stays on screen


@dataset_app.command("build", short_help="Build a dataset file from a spec (TOML).")
def build(
    spec_path: Annotated[Path, typer.Argument(metavar="SPEC.toml", help="Dataset spec: sessions, streams, labels, window, split.")],
    output: Annotated[Path, typer.Option("-o", "--output", metavar="DATASET.h5", help="Dataset file to write.")],
    workers: Annotated[int, typer.Option(min=1, metavar="N", help="Sessions processed in parallel by worker processes.")] = 1,
    scheduler: Annotated[Optional[str], typer.Option(metavar="ADDRESS", help="Run the per-session tasks on this Dask scheduler (tcp://host:8786); the session files must be at the same paths there.")] = None,
    strict: Annotated[bool, typer.Option("--strict", help="Stop at a session that cannot be used (default: skip it and name it).")] = False,
    force: Annotated[bool, typer.Option("--force", help="Replace DATASET.h5 if it exists.")] = False,
    plots: Annotated[Optional[Path], typer.Option(metavar="DIR", help="Also write the report's PNG plots into DIR.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Progress as JSON lines on stdout instead of the report (for the GUI).")] = False,
) -> None:
    """Build a dataset (windows, labels, split) from the sessions a spec names, then print its report.

    A session that cannot be read is named and skipped (--strict stops instead); the dataset
    file lists what it skipped.

    labels.min_coverage (default 0.5, as in the studio's Datasets tab): a window takes a label
    only when that label covers at least this fraction of it; a window brushed by a shorter
    piece is unlabeled (dropped, or background). Point labels are exempt. For short events
    (claps) in long windows, lower it or shorten the windows.

    Example: sensorlab dataset build imu.toml -o imu.h5 --workers 2
    """
    from sensorlab.datasets.build import BuildError, iter_build
    from sensorlab.datasets.spec import SpecError, load_spec
    from sensorlab.datasets.split import SplitError

    if output.exists() and not force:
        fail(f"{output} already exists; pass --force to replace it, or choose another name", 2)
    try:
        spec = load_spec(spec_path)
    except SpecError as e:
        fail(str(e), 2)
    _check_plots_folder(plots)
    gen = None
    try:
        gen = iter_build(spec, output, workers=workers, scheduler=scheduler, strict=strict)
        result = run_to_end(gen, _progress_json if as_json else _progress)
    except (BuildError, SplitError, OSError) as e:
        fail(str(e))
    except KeyboardInterrupt:
        # Close the generator here, not at garbage collection: its cleanup removes the
        # temporary file, and must run before the process exits (a GUI's Cancel sends SIGINT).
        if gen is not None:
            gen.close()
        fail("interrupted; no dataset written", 130)
    if as_json:
        json_line({"event": "done", "path": str(result.path), "windows": result.windows, "sessions": result.sessions,
                    "skipped": result.skipped, "warnings": result.warnings, "content_hash": result.content_hash})  # fmt: skip
        if plots is not None:
            from sensorlab.datasets.report import write_plots

            write_plots(result.path, plots)
        return
    typer.echo("", err=True)
    _print_report(result.path, plots)


def _check_plots_folder(plots: Path | None) -> None:
    """Create ``--plots DIR`` up front: a folder that cannot be written fails in one line, before any work."""
    if plots is None:
        return
    try:
        plots.mkdir(parents=True, exist_ok=True)
        if not os.access(plots, os.W_OK):
            raise PermissionError(13, "Permission denied")
    except OSError as e:
        fail(f"--plots {plots}: cannot write plots there ({e.strerror or e}); give a folder you can write to "
             "(it is created if missing), e.g. --plots report/", 2)


def _print_report(path: Path, plots: Path | None) -> None:
    from sensorlab.datasets.report import dataset_report, format_report, write_plots

    typer.echo(format_report(dataset_report(path)))
    if plots is not None:
        for p in write_plots(path, plots):
            typer.echo(f"wrote {p}")


@dataset_app.command("info", short_help="Print a dataset's report (classes per split, sessions, warnings).")
def info(
    path: Annotated[Path, typer.Argument(metavar="DATASET.h5", help="Dataset file.")],
    plots: Annotated[Optional[Path], typer.Option(metavar="DIR", help="Also write PNG plots (class balance, example windows) into DIR.")] = None,
) -> None:
    """Print a dataset's report: classes per split, windows per group and session, rate and gap warnings.

    Example: sensorlab dataset info imu.h5 --plots imu-report/
    """
    from sensorlab.datasets.dataset import DatasetError

    _check_plots_folder(plots)
    try:
        _print_report(path, plots)
    except (DatasetError, OSError, KeyError) as e:
        fail(str(e))
