"""``sensorlab session export SESSION OUT.xdf`` and ``sensorlab import xdf FILE.xdf``, registered by ``cli.py``.

Each command parses its options and calls one function of this package; errors are one line
with exit status 1 (2 for bad usage).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from sensorlab.cli_support import check_session, fail

session_app = typer.Typer(
    short_help="Export a session to other formats (XDF).",
    help="Export a session to other formats.\n\nExample: sensorlab session export run1.h5 run1.xdf",
)


@session_app.command("export", short_help="Write a session as an XDF file (LSL's format; readable by pyxdf, MNE, EEGLAB).")
def export(
    session: Annotated[Path, typer.Argument(metavar="SESSION", help="Session file (.h5).")],
    output: Annotated[Path, typer.Argument(metavar="OUT.xdf", help="XDF file to write.")],
    force: Annotated[bool, typer.Option("--force", help="Replace OUT.xdf if it exists.")] = False,
) -> None:
    """Write a session as XDF: LSL streams on their own clock with their clock offsets, the others on the host clock; video is left out.

    Example: sensorlab session export run1.h5 run1.xdf
    """
    from sensorlab.session.xdf.export import export_xdf

    if output.suffix.lower() != ".xdf":
        fail(f"{output}: give a file name ending in .xdf", 2)
    check_session(session)
    try:
        typer.echo(export_xdf(session, output, force=force).summary())
    except (OSError, ValueError, KeyError, RuntimeError) as e:
        fail(str(e) if isinstance(e, (FileExistsError, ValueError)) else f"{session}: cannot export ({e})")


def import_xdf(
    xdf: Annotated[Path, typer.Argument(metavar="FILE.xdf", help="XDF file (LabRecorder's, or sensorlab's own export).")],
    output: Annotated[Path | None, typer.Option("-o", "--output", metavar="SESSION.h5", help="Session file to write (default: FILE.h5 beside it).")] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace SESSION.h5 if it exists.")] = False,
) -> None:
    """Import an XDF recording as a session: each stream on the recorder's clock (time stamps plus their clock offsets), the raw stamps and offsets kept.

    Example: sensorlab import xdf lab.xdf -o lab.h5
    """
    from sensorlab.session.xdf.importer import XdfImportError
    from sensorlab.session.xdf.importer import import_xdf as run

    out = output or xdf.with_suffix(".h5")
    try:
        typer.echo(run(xdf, out, force=force).summary())
    except (XdfImportError, FileExistsError, OSError) as e:
        fail(str(e))
