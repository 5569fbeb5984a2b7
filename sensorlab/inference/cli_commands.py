"""``sensorlab predict MODEL SESSION`` and ``sensorlab parity SESSION``: registered on the main app by ``cli.py``.

Parses options and calls `sensorlab.inference.offline.iter_predict`; a progress bar on stderr
(a terminal) or progress lines; errors are one line with exit status 1 (2 for bad usage).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from sensorlab.cli_support import fail as _fail


def _bar(fraction: float, windows: int) -> None:
    width = 30
    done = int(round(fraction * width))
    line = f"[{'#' * done}{'.' * (width - done)}] {100 * fraction:5.1f} % | {windows} windows"
    try:
        if sys.stderr.isatty():
            typer.echo("\r" + line, nl=False, err=True)
        else:
            typer.echo(line, err=True)
    except OSError:
        pass


def predict(
    model: Annotated[Path, typer.Argument(metavar="MODEL", help="ONNX or TFLite model: a sensorlab export, or any model with a MODEL.mapping.json beside it; `demo`: the bundled demo clap model (as in a rig file).")],
    session: Annotated[Path, typer.Argument(metavar="SESSION", help="Recorded session (.h5); it is only read.")],
    stream: Annotated[str, typer.Option(metavar="STREAM", help="Stream to run on (default: the one the model's contract or mapping names).")] = "",
    out: Annotated[Optional[Path], typer.Option("-o", "--out", metavar="FILE.h5", help="Predictions file (default SESSION.predictions.h5 beside it).")] = None,
    mapping: Annotated[Optional[Path], typer.Option(metavar="MAPPING.json", help="Use this mapping instead of the contract / saved one.")] = None,
    suggest: Annotated[bool, typer.Option("--suggest", help="Also add suggested segments (tier 'suggestions') to the session's labels sidecar.")] = False,
    threshold: Annotated[float, typer.Option(min=0.0, max=1.0, metavar="0-1", help="Suggest windows whose top class has at least this probability.")] = 0.5,
    min_duration: Annotated[float, typer.Option(min=0.0, metavar="SECONDS", help="Drop suggested segments shorter than this (s).")] = 0.0,
) -> None:
    """Run a model over a recorded session; predictions go beside it (never into it).

    Example: sensorlab predict runs/imu/model.onnx run1.h5 --suggest
    """
    from sensorlab.inference.mapping import MappingError, ModelMapping
    from sensorlab.inference.model import ModelError
    from sensorlab.inference.offline import PredictProgress, iter_predict
    from sensorlab.inference.rig_kind import DEMO_MODEL
    from sensorlab.labeling.suggest import SUGGESTION_TIER
    from sensorlab.session.recovery import SessionError

    if not session.is_file():
        _fail(f"{session}: no such session file", 2)
    if str(model) == "demo" and not model.exists():
        model = DEMO_MODEL  # the name a rig file uses for it, so it works from any folder
    try:
        m = ModelMapping.parse(mapping.read_text(encoding="utf-8", errors="replace"), source=mapping.name) if mapping else None
        result = None
        for item in iter_predict(model, session, out=out, stream=stream, mapping=m, suggest=suggest, threshold=threshold, min_duration=min_duration):
            if isinstance(item, PredictProgress):
                _bar(item.fraction, item.windows)
            else:
                result = item
    except (ModelError, MappingError, SessionError, FileExistsError, OSError) as e:  # SessionError: not a readable session
        _fail(str(e).splitlines()[0])
    try:
        if sys.stderr.isatty():
            typer.echo("", err=True)
    except OSError:
        pass
    assert result is not None
    counts = ", ".join(f"{k} {v}" for k, v in result.counts.items())
    typer.echo(f"{result.windows} windows → {result.path} (stream {result.stream}; top class: {counts})")
    if result.replaced:  # one sidecar per session: another model's predictions were there
        typer.echo(f"(it replaced the predictions of {result.replaced} in that file; pass -o FILE.h5 to keep each model's in its own)")
    if suggest and result.segments:
        tier = result.segments[0].tier
        # 0.8 keeps the confident ones; when none is that sure (a weak model, a low --threshold),
        # 0.8 would accept nothing: the threshold given, which all of them passed, instead.
        best = max((s.score for s in result.segments if s.score == s.score), default=1.0)  # NaN: no score
        min_score = 0.8 if best >= 0.8 else threshold
        typer.echo(f"{len(result.segments)} suggested segment(s) added to the labels sidecar (tier '{tier}'); review them in "
                   f"`sensorlab label {session}`, or accept them with `sensorlab labels accept {session} --source {model.name} --min-score {min_score:g}`")
    elif suggest:  # nothing to review: say what the threshold missed and how to see it
        if result.strongest is None:
            why = "every window's top class is background"
        elif result.strongest[1] < threshold:
            label, p = result.strongest
            why = f"no window of a label reached --threshold {threshold:g} (the most probable: {label} at {p:.2f}); lower --threshold to see weaker ones"
        else:
            why = f"every run of windows above --threshold {threshold:g} is shorter than --min-duration {min_duration:g} s; lower --min-duration"
        typer.echo(f"0 suggested segments (tier '{SUGGESTION_TIER}'): {why}")


def parity(
    session: Annotated[Path, typer.Argument(metavar="SESSION", help="Recorded session (.h5) holding the device's events stream; it is only read.")],
    device: Annotated[str, typer.Option(metavar="STREAM", help="The device's events stream (default: the only one that is not live labels or a model's events).")] = "",
    predictions: Annotated[str, typer.Option(metavar="STREAM", help="The host model's predictions stream, in SESSION or SESSION.predictions.h5 (default: the only one).")] = "",
    tolerance: Annotated[Optional[float], typer.Option(min=0.001, metavar="SECONDS", help="Windows whose ends are this close are the same window (default: one hop).")] = None,
    delay: Annotated[float, typer.Option(min=0.0, metavar="SECONDS", help="How long after its window the device's line arrives.")] = 0.0,
    show: Annotated[int, typer.Option(min=0, metavar="N", help="List at most N divergent windows.")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="Print the counts and every divergent window as JSON.")] = False,
) -> None:
    """The host model vs the class a device reported: agreements, divergences, divergent windows.

    Example: sensorlab parity demo.h5 --device clap_mcu
    """
    import json

    from sensorlab.inference.session_parity import session_parity
    from sensorlab.labeling.timebase import format_offset

    if not session.is_file():
        _fail(f"{session}: no such session file", 2)
    try:
        res = session_parity(session, device, predictions, tolerance, delay)
    except (ValueError, OSError, KeyError) as e:
        _fail(str(e).splitlines()[0])
    r = res.report
    rows = [{"start": d.start - res.origin, "end": d.end - res.origin, "what": d.note} for d in r.kept]
    if as_json:
        counts = {k: getattr(r, k) for k in ("windows", "divergent", "silent", "reports", "device_only", "unknown")}
        typer.echo(json.dumps({"predictions": res.predictions, "device": res.device, "tolerance": res.parity.tolerance, **counts, "divergent_windows": rows}))
        return
    typer.echo(f"{res.predictions} (host) vs {res.device} (device), same window within {res.parity.tolerance:g} s:")
    typer.echo(f"  {r.summary()}")
    if rows:
        typer.echo("  divergent windows (from the session start):")
        for row in rows[:show]:
            typer.echo(f"    {format_offset(row['start'])} – {format_offset(row['end'])}   {row['what']}")
        if len(rows) > show:
            typer.echo(f"    … {len(rows) - show} more (--show {len(rows)} or --json)")


def register(app: typer.Typer) -> None:
    app.command(short_help="Run a model over a recorded session; predictions beside it.")(predict)
    app.command(short_help="Host model vs the class a device reported, on a recorded session.")(parity)
