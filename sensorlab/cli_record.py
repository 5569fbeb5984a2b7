"""``sensorlab record``: a recording from the terminal, with a progress line and one line per problem.

The command parses its options and calls `sensorlab.studio.headless.record`; what it prints
while recording (progress, devices left out, warnings the core logs) is here too.
`sensorlab.cli` registers it.
"""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path
from typing import Annotated, Optional

import typer

from sensorlab.cli_support import fail, key_value, progress_line

#: ``sensorlab record`` exit status when the file was written but a device was lost on the way
#: (unplugged, came back or not): 1 means nothing usable was recorded, 2 bad options.
EXIT_DEVICE_LOST = 3


def _sources(rig: Path | None, demo: bool):
    import sensorlab.inference  # noqa: F401 - registers rig files' [[processor]] kind = "model"
    from sensorlab.acquisition.rig import RigError, load_rig

    if demo == (rig is not None):
        fail("give either --rig RIG.toml or --demo")
    if demo:
        from sensorlab.studio.demo import demo_rig  # the emulated devices and the demo model

        config = demo_rig()
    else:
        try:
            config = load_rig(rig)
        except RigError as e:
            fail(str(e), 2)
        for note in config.notes():  # valid, probably not meant: said once, the recording goes on
            typer.secho(f"note: {note}", fg="yellow", err=True)
    return config, config.build_sources()


#: True while the last thing on stderr is a progress line without its newline (a terminal's "\r" line).
_progress_open = False


def _end_progress_line() -> None:
    global _progress_open
    if _progress_open:
        typer.echo("", err=True)
        _progress_open = False


class _CoreLog(logging.Handler):
    """While `record` runs: what the core logs (warning and up) as ``warning: …`` / ``error: …`` on
    stderr, on a line of its own, instead of Python's bare last-resort print.

    The recorder logs why a recording stopped by itself (disk almost full) and `record` raises
    the same line, which the command reports as its error: `errors` remembers what was printed,
    so that line shows once.
    """

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.errors: set[str] = set()

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = record.getMessage()
            error = record.levelno >= logging.ERROR
            if error:
                self.errors.add(text)
            if record.exc_info:
                text += "\n" + self.formatException(record.exc_info)
            _end_progress_line()
            typer.secho(f"{'error' if error else 'warning'}: {text}", fg="red" if error else "yellow", err=True)
        except Exception:  # noqa: BLE001 - a failing display must not stop a recording
            self.handleError(record)


def _print_progress(p) -> None:
    parts = []
    for name, st in p.stats.items():
        nominal = p.nominal_rates.get(name, 0.0)
        rate = f"{p.rate(name):.0f}" + (f"/{nominal:.0f}" if nominal else "")
        flag = f" drop {st.dropped}" if st.dropped else ""
        flag += f" err {st.parse_errors}" if st.parse_errors else ""
        flag += " STOPPED" if st.error else ""
        parts.append(f"{name} {rate} Hz{flag}")
    total = f"/{p.duration:.0f}" if p.duration else ""
    line = f"{p.elapsed:6.1f}{total} s | " + " | ".join(parts) + f" | {p.bytes_written / 1e6:.1f} MB"
    global _progress_open
    if progress_line(line):
        _progress_open = True


def _print_missing(errors: dict[str, str]) -> None:
    """With --allow-missing: name the devices left out; the reasons follow once, in the summary."""
    typer.secho(
        f"warning: recording without {len(errors)} device(s) that could not be opened (--allow-missing): "
        + "; ".join(errors) + " (why: see 'not recorded' in the summary)",
        fg="yellow", err=True,
    )  # fmt: skip


def record(
    output: Annotated[Optional[Path], typer.Option("-o", "--output", metavar="FILE.h5", help="Session file to write (.h5).")] = None,
    rig: Annotated[Optional[Path], typer.Option("--rig", metavar="RIG.toml", help="Rig file naming the devices (TOML).")] = None,
    demo: Annotated[bool, typer.Option("--demo", help="Record the built-in emulated devices.")] = False,
    duration: Annotated[Optional[float], typer.Option("--duration", "-d", min=0.1, metavar="SECONDS", help="Seconds; default: until Ctrl-C.")] = None,
    name: Annotated[str, typer.Option(metavar="NAME", help="Session name (default: the output file's name).")] = "",
    notes: Annotated[str, typer.Option(metavar="TEXT", help="Free-text notes stored in the session.")] = "",
    tag: Annotated[list[str], typer.Option(metavar="KEY=VALUE", help="key=value tag (subject, location, …); repeatable.")] = [],
    video: Annotated[str, typer.Option(metavar="jpeg|raw", help="Video storage: jpeg (compact, default) or raw (lossless, ~100 GB/h at 640×480@30).")] = "jpeg",
    jpeg_quality: Annotated[int, typer.Option(min=1, max=100, metavar="1-100", help="JPEG quality of stored video frames.")] = 90,
    allow_missing: Annotated[bool, typer.Option("--allow-missing", help="Record the devices that open even if others do not (default: exit with status 1 and record nothing).")] = False,
    lsl_outlet: Annotated[list[str], typer.Option("--lsl-outlet", metavar="STREAM", help="Also publish STREAM (or 'labels') as an LSL outlet named sensorlab-STREAM; repeatable (docs/LSL.md).")] = [],
) -> None:
    """Record a session from a rig file or the demo rig. Ctrl-C, SIGTERM or SIGHUP stop cleanly.

    The exit status is 1 when a device of the rig cannot be opened, unless --allow-missing;
    3 when the file was written but a device was lost during the recording (unplugged, back
    or not: the time it was gone is a gap), sent no sample at all (the warning names its port
    and baud rate: check those and the board's firmware), or stopped sending before the end.

    Example: sensorlab record --demo --duration 10 -o demo.h5
    """
    from sensorlab.acquisition.source import SourceError
    from sensorlab.studio.headless import MissingDevices, StoppedBeforeRecording
    from sensorlab.studio.headless import record as record_session
    from sensorlab.session.metadata import SessionMetadata
    from sensorlab.session.summary import format_summary, lost_streams, summarize

    tags = {}
    for t in tag:
        k, v = key_value(t, "--tag", "key=value", "subject=s01")
        tags[k.strip()] = v.strip()
    if video not in ("jpeg", "raw"):
        fail(f"--video {video!r}: use jpeg or raw", 2)
    if output is not None and output.exists():
        fail(f"{output} already exists; choose another name (recordings are never overwritten)", 2)
    config, sources = _sources(rig, demo)
    if lsl_outlet:
        from sensorlab.acquisition.lsl.config import add_outlets

        try:
            sources += add_outlets(config, lsl_outlet)
        except ValueError as e:
            fail(f"--lsl-outlet: {e}", 2)
    from sensorlab.acquisition.names import safe_file_stem  # a name must not steer the path (../, /abs)

    output = output or Path(f"{safe_file_stem(name or config.name)}-{datetime.now():%Y%m%d-%H%M%S}.h5")
    meta = SessionMetadata(name=name or output.stem, notes=notes, tags=tags, rig=config.to_toml(defaults=True))
    core_log = _CoreLog()
    logging.getLogger("sensorlab").addHandler(core_log)
    try:
        path = record_session(sources, output, duration, meta, on_progress=_print_progress, video_encoding=video,
                              jpeg_quality=jpeg_quality, allow_missing=allow_missing, on_missing=_print_missing)  # fmt: skip
    except MissingDevices as e:
        fail(f"{e}; fix the rig, or pass --allow-missing to record the others")
    except StoppedBeforeRecording as e:
        fail(str(e), 130)  # the shell's status for Ctrl-C
    except (SourceError, OSError, RuntimeError) as e:
        if str(e) in core_log.errors:  # the recorder's log line said it (disk almost full): once is enough
            raise typer.Exit(1) from None
        _end_progress_line()
        fail(str(e))
    finally:
        logging.getLogger("sensorlab").removeHandler(core_log)
    _end_progress_line()
    summary = summarize(path)
    typer.echo(format_summary(summary))
    lost = lost_streams(summary)
    if lost:  # the file is complete, but has holes a script should not miss (see README)
        typer.secho(f"warning: a device was lost during the recording (exit status {EXIT_DEVICE_LOST}): " + "; ".join(lost), fg="yellow", err=True)
        raise typer.Exit(EXIT_DEVICE_LOST)
