"""The ``sensorlab`` command line. Each command parses its options and calls one core function.

``sensorlab`` with no arguments opens the studio on the built-in demo rig.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from sensorlab import __version__
from sensorlab.cli_support import check_session, fail

app = typer.Typer(
    name="sensorlab",
    help="Record camera, microphone and microcontroller sensors on one clock; label; build edge-ML datasets.",
    no_args_is_help=False,
    add_completion=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        from sensorlab.inference.hop_ext import hop_path  # (imports the inference package: only here)
        from sensorlab.inference.ort_ext import ort_path
        from sensorlab.plotting.raster import raster_path

        typer.echo(f"sensorlab {__version__}")
        typer.echo(hop_path())
        typer.echo(ort_path())
        typer.echo(raster_path())
        raise typer.Exit()


@app.callback(invoke_without_command=True)
def _main(
    ctx: typer.Context,
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")] = False,
) -> None:
    """Run without a command to open the studio on the demo rig."""
    if ctx.invoked_subcommand is None:
        gui(rig=None, demo=True)


@app.command()
def gui(
    rig: Annotated[Optional[Path], typer.Option("--rig", metavar="RIG.toml", help="Rig file (TOML) to open.")] = None,
    demo: Annotated[bool, typer.Option("--demo/--no-demo", help="Use the built-in emulated devices.")] = True,
) -> None:
    """Open the recording studio window.

    Example: sensorlab gui --rig bench.toml
    """
    gui_main = _gui_entry("sensorlab.app.main")

    argv = ["--rig", str(rig)] if rig else (["--demo"] if demo else [])
    raise typer.Exit(gui_main(argv))


@app.command()
def devices(
    rig: Annotated[Optional[Path], typer.Option("--rig", metavar="RIG.toml", help="Rig file being set up: its hints only.")] = None,
) -> None:
    """List cameras, audio inputs, serial ports and LSL streams.

    With --rig, the notes fit that rig (no "no camera found at index 0-3" when its camera
    is a stream URL or a video file).

    Example: sensorlab devices --rig rig.toml
    """
    from sensorlab.acquisition.devices import list_devices

    configs = None
    if rig is not None:
        import sensorlab.inference  # noqa: F401 - registers rig files' [[processor]] kind = "model"
        from sensorlab.acquisition.rig import RigError, load_rig

        try:
            configs = list(load_rig(rig).devices())
        except RigError as e:
            fail(str(e), 2)
    for line in list_devices(rig=configs).describe():
        typer.echo(line)


from sensorlab.cli_record import EXIT_DEVICE_LOST, record  # noqa: E402, F401 - EXIT_DEVICE_LOST re-exported

app.command()(record)


@app.command(short_help="Print a session's streams, rates, drops, gaps and sync quality.")
def info(path: Annotated[Path, typer.Argument(metavar="SESSION", help="Session file (.h5).")]) -> None:
    """Print a session's streams, rates, durations, sample counts, drops, gaps and sync quality,
    and its labels sidecar: labels per tier, and labels outside every stream's samples.

    Example: sensorlab info demo.h5
    """
    from sensorlab.labeling.sidecar_summary import sidecar_lines
    from sensorlab.session.reader import SessionError
    from sensorlab.session.summary import format_summary

    if not path.exists():
        fail(f"{path}: no such file")
    try:
        typer.echo(format_summary(path))
        for line in sidecar_lines(path):  # labels per tier; labels outside every stream's samples
            typer.echo(line)
    except SessionError as e:  # names the file, the problem and what to do
        fail(str(e))
    except (OSError, ValueError, RuntimeError, KeyError) as e:
        fail(f"{path}: cannot read this session ({e})")


@app.command(short_help="Clap-to-sync: measure, apply or undo stream offsets; print a sync report.")
def sync(
    path: Annotated[Path, typer.Argument(metavar="SESSION", help="Session file (.h5) with a few claps seen by every stream.")],
    apply: Annotated[bool, typer.Option("--apply", help="Store the measured offsets without asking.")] = False,
    undo: Annotated[bool, typer.Option("--undo", help="Go back to the offsets before the last --apply.")] = False,
    report: Annotated[bool, typer.Option("--report", help="Print drift, latency jitter and alignment per pair, and write a plot.")] = False,
    plot: Annotated[Optional[Path], typer.Option("--plot", metavar="OUT.png", help="Where --report writes its plot (default SESSION.sync.png).")] = None,
    reference: Annotated[Optional[str], typer.Option("--reference", metavar="STREAM", help="Stream the others are aligned to (default: the finest one).")] = None,
) -> None:
    """Measure each stream's time offset from claps, confirm and store it (raw times are kept).

    Offsets go into SESSION.sync.json beside the file (the recording is never rewritten);
    readers apply them. `--undo` goes back one step; `--report` judges the result.

    Example: sensorlab sync run1.h5 --apply
    """
    from sensorlab.session import sync_offsets
    from sensorlab.session.calibration import calibrate_session
    from sensorlab.session.sync_report import format_report, plot as plot_report, report as make_report

    check_session(path)
    try:
        if undo:
            back = sync_offsets.undo(path)
            typer.echo("nothing to undo: no offsets are stored" if back is None else
                       "offsets now: " + (", ".join(f"{k} {v * 1e3:+.1f} ms" for k, v in back.items()) or "none (raw times)"))  # fmt: skip
        elif report:
            d = make_report(path)
            typer.echo(format_report(d).replace("`sensorlab sync --undo`", f"`sensorlab sync {path} --undo`"))
            out = plot_report(d, plot or path.with_name(path.stem + ".sync.png"))
            typer.echo(f"\nplot: {out}")
        else:
            cal = calibrate_session(path, reference)
            for line in cal.lines():
                typer.echo(line)
            if not cal.offsets:
                fail("no offsets measured: clap a few times, a second or more apart, where every sensor sees it")
            if apply or (sys.stdin.isatty() and typer.confirm("apply these offsets (raw times are kept)?", default=False)):
                where = sync_offsets.apply(path, cal.as_dict(), cal.reference, f"clap onsets ({len(cal.onsets[cal.reference])} claps)", cal.details())
                typer.echo(f"applied: stored in {where}; `sensorlab sync {path} --undo` reverts")
            else:
                typer.echo(f"not applied; run `sensorlab sync {path} --apply` to store them")
    except (OSError, ValueError, RuntimeError, KeyError) as e:
        fail(f"{path}: {e}")


@app.command()
def repair(
    path: Annotated[Path, typer.Argument(help="Session file (.h5) left flagged open by a crashed recorder.")],
    out: Annotated[Path | None, typer.Option("-o", "--output", help="Where to write the copy (default: NAME.recovered.h5 beside it).")] = None,
) -> None:
    """Write a readable copy of a session a crashed recorder left flagged open (never modifies it).

    Example: sensorlab repair run1.h5
    """
    from sensorlab.session.recovery import repair as repair_file

    if not path.exists():
        fail(f"{path}: no such file")
    try:
        typer.echo(repair_file(path, out))
    except (OSError, ValueError) as e:
        fail(str(e))


from sensorlab.labeling.labels_app import labels_app  # noqa: E402 - the group's commands live beside the labeling core

app.add_typer(labels_app, name="labels")


@app.command(short_help="Open a session in the labeling window.")
def label(
    session: Annotated[Path, typer.Argument(metavar="SESSION", help="Session file (.h5) to annotate.")],
    labels: Annotated[Optional[Path], typer.Option(metavar="LABELS.toml", help="Label set (labels.toml) shared across a project's sessions.")] = None,
    mute: Annotated[bool, typer.Option("--mute/--sound", help="Play back without audio output.")] = False,
) -> None:
    """Open a session in the labeling window (video, audio and signals on one timeline).

    Needs a display; without one, use `sensorlab labels export|import|suggest` or `xvfb-run sensorlab label FILE`.

    Example: sensorlab label run1.h5 --labels project/labels.toml
    """
    check_session(session)
    from sensorlab.app.common.display import LABEL_NO_DISPLAY, has_display

    if not has_display():  # checked before Qt is even imported: it may not be installed
        fail(LABEL_NO_DISPLAY, 2)
    labeling_main = _gui_entry("sensorlab.app.labeling.main")

    argv = [str(session), *(["--labels", str(labels)] if labels else []), *(["--mute"] if mute else [])]
    raise typer.Exit(labeling_main(argv))


from sensorlab.datasets.cli_commands import dataset_app  # noqa: E402 - registered beside the other sub-apps

app.add_typer(dataset_app, name="dataset")

from sensorlab.training.cli_commands import register as _register_training  # noqa: E402 - torch loads only inside the commands

_register_training(app)

from sensorlab.inference.cli_commands import register as _register_inference  # noqa: E402 - onnxruntime loads only inside the command

_register_inference(app)

from sensorlab.datasets.interchange.cli_commands import export as _dataset_export, import_app  # noqa: E402

dataset_app.command("export", short_help="Export a dataset or sessions: Edge Impulse JSON/CSV, WAV clips + index, NumPy .npz.")(_dataset_export)
from sensorlab.session.xdf.cli_commands import import_xdf as _import_xdf, session_app  # noqa: E402

import_app.command("xdf", short_help="An XDF file (LabRecorder, LSL) → a session.")(_import_xdf)
app.add_typer(session_app, name="session")
app.add_typer(import_app, name="import")


rig_app = typer.Typer(
    short_help="Rig files: start one from the commented example.",
    help="Rig files (TOML) name the devices to record; every key is described in docs/RIG.md.\n\n"
    "Example: sensorlab rig example > my_rig.toml",
)
app.add_typer(rig_app, name="rig")


@rig_app.command("example", short_help="Print the commented example rig to copy and edit.")
def rig_example() -> None:
    """Print the commented example rig (a camera, a microphone, a serial IMU) to copy and edit.

    Example: sensorlab rig example > my_rig.toml
    """
    from importlib.resources import files

    typer.echo(files("sensorlab.resources").joinpath("example_rig.toml").read_text(encoding="utf-8"), nl=False)


@rig_app.command("check", short_help="Read a rig file: its errors, and notes on settings that may not be meant.")
def rig_check(rig: Annotated[Path, typer.Argument(metavar="RIG.toml", help="The rig file to check.")]) -> None:
    """Read a rig file as `record` would, without opening a device: one `error:` line (exit 1)
    if it cannot be used, else its devices and a `note:` for each setting that is valid but
    probably not meant (a text stream kept in float32: ~7 significant digits).

    Example: sensorlab rig check my_rig.toml
    """
    from sensorlab.acquisition.kinds import kind_of
    from sensorlab.acquisition.rig import RigError, load_rig

    try:
        config = load_rig(rig)
    except RigError as e:
        fail(str(e))
    devices = config.devices()
    typer.echo(f"{rig}: rig {config.name!r}, {len(devices)} device(s), {len(config.processor)} processor(s)")
    for d in devices:
        typer.echo(f"  [[{kind_of(d).table}]] {d.name}")
    for note in config.notes():
        typer.secho(f"note: {note}", fg="yellow", err=True)


def _gui_entry(module: str):
    """The ``main`` of a GUI module, or one line saying how to install Qt."""
    import importlib

    try:
        return importlib.import_module(module).main
    except ImportError as e:
        fail(f"the window needs Qt, which is not installed ({e}); install it with `pip install 'sensorlab[gui]'`, "
              "or work headless with `sensorlab record` and `sensorlab labels`", 2)  # fmt: skip


def main() -> None:
    _let_sigint_cancel()
    _quit_quietly_on_a_closed_pipe()
    app()


#: Commands that must outlive their standard output: a recording goes on when the terminal or
#: the pipe it printed to goes away (the file matters, not the display).
_OUTLIVE_STDOUT = ("record", "gui", "label")


def _quit_quietly_on_a_closed_pipe() -> None:
    """``sensorlab info S | head`` ends like any Unix tool when ``head`` stops reading.

    Python ignores SIGPIPE, so the next print raised BrokenPipeError, an OSError that the
    commands report as a problem with their input file ("cannot read this session ([Errno 32]
    Broken pipe)"). With the default action the process simply ends. Not for commands that
    must outlive their output (`_OUTLIVE_STDOUT`), nor where there is no SIGPIPE (Windows).
    """
    import signal

    command = next((a for a in sys.argv[1:] if not a.startswith("-")), "")
    if hasattr(signal, "SIGPIPE") and command not in _OUTLIVE_STDOUT:
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)


def _let_sigint_cancel() -> None:
    """The studio's Cancel (like Ctrl+C) stops a command with SIGINT, which each long command
    turns into a clean stop that leaves no partial file. Two ways it was lost:

    - A process started from a background shell job inherits SIGINT *ignored*, and Python then
      keeps ignoring it: Cancel did nothing and a dataset build ran to its end. Restore Python's
      handler.
    - The KeyboardInterrupt is raised wherever the main thread is. When that is a finalizer or a
      weakref callback (h5py's object registry runs many), Python prints "Exception ignored"
      and drops it. Raise it again 10 ms later, from a timer signal (raised from the hook
      itself, it would be dropped the same way); where it lands in another callback, again.
    """
    import signal

    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    previous = sys.unraisablehook

    def redeliver_interrupt(unraisable) -> None:
        if unraisable.exc_type is not KeyboardInterrupt or not hasattr(signal, "setitimer"):  # Windows: no timer signal
            previous(unraisable)
            return
        signal.signal(signal.SIGALRM, interrupt_again)
        signal.setitimer(signal.ITIMER_REAL, 0.01)

    def interrupt_again(signum, frame) -> None:
        if frame is not None and frame.f_code is redeliver_interrupt.__code__:
            signal.setitimer(signal.ITIMER_REAL, 0.01)  # still in the hook: a little later
            return
        raise KeyboardInterrupt

    sys.unraisablehook = redeliver_interrupt


if __name__ == "__main__":
    main()
