"""What every ``sensorlab`` command module shares: the one-line error, progress lines on
stderr, JSON lines on stdout, ``key=value`` options and the "no such session file" check.

It imports nothing of sensorlab (an import-linter contract keeps it so), so the command
modules of every layer (``session/xdf``, ``labeling``, ``datasets``, ``training``,
``inference``, ``cli.py``) can use it without breaking the layering, and no Qt.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import NoReturn

import typer


def fail(message: str, code: int = 1) -> NoReturn:
    """End the command with ``error: MESSAGE`` on stderr and exit status ``code``
    (1: the job failed; 2: bad usage; 130: interrupted)."""
    typer.secho(f"error: {message}", fg="red", err=True)
    raise typer.Exit(code)


def check_session(path: Path) -> None:
    """Fail with one line when the session file a command was given does not exist."""
    if not path.exists():
        fail(f"{path}: no such session file")


def key_value(item: str, option: str, form: str, example: str) -> tuple[str, str]:
    """``"k=v"`` → ``("k", "v")`` (split at the first ``=``), or fail naming the option and
    the form, e.g. ``key_value(t, "--tag", "key=value", "subject=s01")``."""
    if "=" not in item:
        fail(f"{option} {item!r}: write it as {form}, e.g. {option} {example}", 2)
    k, v = item.split("=", 1)
    return k, v


def progress_line(line: str, overwrite: bool = True) -> bool:
    """Show a progress line on stderr: on a terminal (and with ``overwrite``) it replaces the
    previous one (``\\r``, no newline, at most 200 characters); otherwise one line each.

    Returns whether the line was left open (the caller ends it with a newline before printing
    anything else). A terminal that went away (SIGHUP) is ignored: the job matters, not the
    display.
    """
    try:
        if overwrite and sys.stderr.isatty():
            typer.echo("\r" + line[:200], nl=False, err=True)
            return True
        typer.echo(line, err=True)
    except OSError:
        pass
    return False


def json_line(obj: dict) -> None:
    """One JSON object on a line of stdout, flushed at once (the studio reads these as they come)."""
    sys.stdout.write(json.dumps(obj, sort_keys=True) + "\n")
    sys.stdout.flush()
