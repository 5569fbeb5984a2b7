import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import pytest  # noqa: E402


@pytest.fixture
def cli():
    """Run ``sensorlab ARGS…`` in-process; returns the click result (exit_code, output)."""
    from typer.testing import CliRunner

    from sensorlab.cli import app

    runner = CliRunner()
    return lambda *args: runner.invoke(app, list(args))
