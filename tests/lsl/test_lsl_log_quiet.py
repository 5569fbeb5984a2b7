"""LSL listing in a terminal: liblsl's info lines stay out of `sensorlab devices`, and a user's
own lsl_api.cfg still decides what liblsl prints."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.lsl.conftest import REPO


#: The LSL part of `sensorlab devices`, alone: liblsl's info line came first there.
LSL_LISTING = ["-c", "from sensorlab.acquisition.lsl.listing import list_lsl_streams; print('listed', list_lsl_streams(0.3))"]


def in_a_terminal(tmp_path, args: list[str], lsl_config: str | None = None) -> str:
    """Everything ``python ARGS`` writes to a real pty (liblsl logs its info lines to a terminal)."""
    env = {k: v for k, v in os.environ.items() if k != "LSLAPICFG"}
    env.update(HOME=str(tmp_path), PYTHONPATH=str(REPO))  # no ~/lsl_api/lsl_api.cfg; cwd has none
    if lsl_config is not None:
        cfg = tmp_path / "mine.cfg"
        cfg.write_text(lsl_config)
        env["LSLAPICFG"] = str(cfg)
    master, slave = os.openpty()
    try:
        proc = subprocess.Popen([sys.executable, *args], stdin=subprocess.DEVNULL, stdout=slave,
                                stderr=slave, cwd=tmp_path, env=env)  # fmt: skip
        os.close(slave)
        out = b""
        while True:
            try:
                data = os.read(master, 4096)
            except OSError:  # EIO: the child closed the terminal
                break
            if not data:
                break
            out += data
        assert proc.wait(60) == 0, out
    finally:
        os.close(master)
    return out.decode(errors="replace")


def test_lsl_listing_prints_no_liblsl_info_line(tmp_path):
    out = in_a_terminal(tmp_path, LSL_LISTING)
    assert out.startswith("listed ["), out[:300]  # before: "… api_config.cpp:126 INFO| Loaded default config"
    out = in_a_terminal(tmp_path, ["-m", "sensorlab", "devices"])
    assert out.startswith("Cameras") and "api_config.cpp" not in out and "LSL streams" in out, out[:300]


def test_a_users_own_lsl_config_keeps_its_log_level(tmp_path):
    """Someone debugging LSL with ``[log] level = 0`` still gets liblsl's info lines."""
    out = in_a_terminal(tmp_path, LSL_LISTING, "[multicast]\nResolveScope = machine\n[log]\nlevel = 0\n")
    assert "Configuration loaded from" in out and "mine.cfg" in out, out[:500]
