"""``sensorlab labels``: export, import, suggest, accept and reject a session's labels.

Each command parses its options and calls one core function (`sensorlab.labeling.cli_commands`,
`sensorlab.labeling.suggestions`), imported inside it so ``sensorlab --help`` stays quick;
`sensorlab.cli` registers the group.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Optional

import typer

from sensorlab.cli_support import check_session, fail, key_value


def _echo_or_fail(call: Callable[[], str], *paths: Path) -> None:
    """Print what ``call`` returns; a label file, sidecar or session it cannot use ends in one
    ``error:`` line naming the first of ``paths`` (unless the message already names one)."""
    from sensorlab.labeling.cli_commands import error_line

    try:
        typer.echo(call())
    except (ValueError, KeyError, OSError, RuntimeError) as e:
        fail(error_line(e, *paths))


# Options several commands share.
SessionArg = Annotated[Path, typer.Argument(metavar="SESSION", help="Session file (.h5).")]
FormatOpt = Annotated[Optional[str], typer.Option("--format", metavar="FORMAT", help="audacity | eaf | labelstudio | csv (default: from the extension).")]
SourceOpt = Annotated[Optional[str], typer.Option(metavar="SOURCE", help="Only suggestions from this source: a model file (clap.onnx), a method "
                                                                         "(energy, energy:mic) or the source itself (model:clap.onnx).")]  # fmt: skip
LabelFilter = Annotated[list[str], typer.Option(metavar="LABEL", help="Only suggestions with this label; repeatable.")]
TierFilter = Annotated[Optional[str], typer.Option(metavar="TIER", help="Only suggestions on this tier.")]
DryRun = Annotated[bool, typer.Option("--dry-run", help="Say what would change; change nothing.")]

labels_app = typer.Typer(
    short_help="Export, import, suggest, accept and reject labels of a session.",
    help="Export, import, suggest, accept and reject labels of a session (sidecar .labels.json).\n\nExample: sensorlab labels export run1.h5 run1.eaf"
)


def _param(items: list[str]) -> dict[str, float | str]:
    params: dict[str, float | str] = {}
    for item in items:
        k, v = key_value(item, "--param", "name=value", "min_duration=0.2")
        try:
            params[k] = float(v)
        except ValueError:
            params[k] = v
    return params


@labels_app.command("export", short_help="Export labels to Audacity, ELAN, Label Studio or CSV.")
def labels_export(
    session: SessionArg,
    output: Annotated[Path, typer.Argument(metavar="LABELS", help="Label file: .txt (Audacity), .eaf (ELAN), .json (Label Studio), .csv.")],
    fmt: FormatOpt = None,
    tier: Annotated[Optional[str], typer.Option(metavar="TIER", help="Only this tier.")] = None,
    suggested: Annotated[bool, typer.Option("--suggested/--no-suggested", help="Include unreviewed suggestions.")] = False,
    absolute: Annotated[bool, typer.Option("--absolute", help="Write host-clock seconds, as stored in the sidecar (default: seconds from the session start).")] = False,
) -> None:
    """Export a session's labels to Audacity, ELAN, Label Studio or CSV, in seconds from the session start.

    Example: sensorlab labels export run1.h5 run1.eaf
    """
    from sensorlab.labeling.cli_commands import export_labels

    check_session(session)
    _echo_or_fail(lambda: export_labels(session, output, fmt, tier, suggested, absolute=absolute), session, output)


@labels_app.command("import", short_help="Import labels into a session's sidecar.")
def labels_import(
    session: SessionArg,
    labels: Annotated[Path, typer.Argument(metavar="LABELS", help="Label file to import.")],
    fmt: FormatOpt = None,
    merge: Annotated[bool, typer.Option("--merge/--replace", help="Add to the existing labels, or replace them.")] = True,
    snap: Annotated[Optional[str], typer.Option(metavar="STREAM", help="ELAN: snap millisecond edges to this stream's samples.")] = None,
    absolute: Annotated[bool, typer.Option("--absolute", help="The file holds host-clock seconds (default: seconds from the session start).")] = False,
) -> None:
    """Import labels into a session (its .labels.json sidecar; the recording is never touched).

    Times count from the session start unless --absolute; a file whose every label falls
    outside the session is refused.

    Example: sensorlab labels import run1.h5 reviewed.eaf --snap mic
    """
    from sensorlab.labeling.cli_commands import import_labels

    check_session(session)
    if not labels.exists():
        fail(f"{labels}: no such label file")
    _echo_or_fail(lambda: import_labels(session, labels, fmt, merge, snap, absolute=absolute), labels, session)


@labels_app.command("suggest", short_help="Suggest segments for review (energy, threshold, ...).")
def labels_suggest(
    session: SessionArg,
    stream: Annotated[str, typer.Option(metavar="STREAM", help="Stream to analyse, e.g. mic, imu, camera.")],
    method: Annotated[str, typer.Option(metavar="METHOD", help="energy (audio) | threshold | changepoint (signals) | motion (video).")] = "energy",
    label: Annotated[Optional[str], typer.Option(metavar="LABEL", help="Label given to the suggestions.")] = None,
    param: Annotated[list[str], typer.Option(metavar="NAME=VALUE", help="Method parameter name=value; repeatable.")] = [],
) -> None:
    """Suggest segments for review (stored as suggestions, replacing the previous run's; accept or reject them in the labeling view, or with `sensorlab labels accept|reject`).

    Example: sensorlab labels suggest run1.h5 --stream mic --method energy --label speech
    """
    from sensorlab.labeling.cli_commands import describe_segments, error_line, suggest_labels
    from sensorlab.labeling.timebase import session_span

    check_session(session)
    params = _param(param)
    try:
        segments = suggest_labels(session, stream, method, label=label, **params)
        origin = session_span(session).origin
    except KeyError as e:
        if "no stream" in str(e):
            fail(f"{session}: no stream {stream!r}; see `sensorlab info {session}`")
        fail(error_line(e, session))
    except (ValueError, KeyError, OSError, RuntimeError) as e:  # label file or damaged session: one line
        fail(error_line(e, session))
    typer.echo(describe_segments(segments, origin, method=method, params=params))


@labels_app.command("accept", short_help="Accept suggestions (e.g. a model's, above a score) as labels.")
def labels_accept(
    session: SessionArg,
    source: SourceOpt = None,
    min_score: Annotated[Optional[float], typer.Option(metavar="SCORE", help="Only suggestions scoring at least this: a model's mean probability (0-1), an energy suggestion's peak dB.")] = None,
    label: LabelFilter = [],
    tier: TierFilter = None,
    as_label: Annotated[Optional[str], typer.Option("--as", metavar="LABEL", help="Relabel the accepted segments.")] = None,
    dry_run: DryRun = False,
    to_tier: Annotated[Optional[str], typer.Option("--to-tier", metavar="TIER", help="Tier the accepted labels go to (default: the session's labels tier, as in the labeling window).")] = None,
) -> None:
    """Accept unreviewed suggestions as labels (the labeling window's A key, in bulk; one sidecar write).

    Suggestions come from `sensorlab predict MODEL SESSION --suggest` or `sensorlab labels suggest`;
    those not accepted stay for review (`sensorlab labels reject` drops them).

    Example: sensorlab labels accept run1.h5 --source clap.onnx --min-score 0.8
    """
    from sensorlab.labeling.suggestions import accept_suggestions

    check_session(session)
    _echo_or_fail(lambda: accept_suggestions(session, source=source, tier=tier, labels=label, min_score=min_score, as_label=as_label,
                                             dry_run=dry_run, to_tier=to_tier), session)  # fmt: skip


@labels_app.command("reject", short_help="Drop unreviewed suggestions (reviewed labels are kept).")
def labels_reject(
    session: SessionArg,
    source: SourceOpt = None,
    label: LabelFilter = [],
    tier: TierFilter = None,
    dry_run: DryRun = False,
) -> None:
    """Drop unreviewed suggestions (the labeling window's R key, in bulk); accepted labels are never touched.

    Example: sensorlab labels reject run1.h5 --source clap.onnx
    """
    from sensorlab.labeling.suggestions import reject_suggestions

    check_session(session)
    _echo_or_fail(lambda: reject_suggestions(session, source=source, tier=tier, labels=label, dry_run=dry_run), session)
