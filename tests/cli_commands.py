"""Every command of the ``sensorlab`` command line, as the words typed (``("labels", "export")``),
for the tests that check each command."""

from __future__ import annotations

from typer.main import get_command

from sensorlab.cli import app


def command_paths(group=None, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Each command and sub-command below ``group`` (default: the whole CLI), groups included."""
    group = get_command(app) if group is None else group
    paths = []
    for name, cmd in group.commands.items():
        paths.append((*prefix, name))
        if hasattr(cmd, "commands"):
            paths += command_paths(cmd, (*prefix, name))
    return paths
