"""Replay the attack set of the reliability review (issue 8) against the real CLI and library.

Usage::

    python bench/attack.py                 # every attack, prints attack → held/failed
    python bench/attack.py --only garbage sigkill
    python bench/attack.py --write docs/ROBUSTNESS.md   # also rewrite the table there

Attacks: line noise into the text and binary serial protocols (through real ptys), a serial
board unplugged and replugged during ``sensorlab record``, SIGKILL ×10 / SIGTERM / SIGHUP
during ``record``, a full disk (a small tmpfs; needs root, else skipped with a note), corpora
of malformed rig files, label files and damaged session files (all generated here) into every
reader, two concurrent ``labels import`` and a 50k-label import. An attack *holds* when the
program did what the README promises: no traceback, one clear error line or correct data,
nothing written outside the sandbox, nothing lost. Takes a few minutes on two busy cores.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sensorlab.acquisition.clock import now  # noqa: E402
from sensorlab.acquisition.emulated.mcu import BinaryIMU, TextIMU  # noqa: E402
from sensorlab.acquisition.serial.port import SerialSource  # noqa: E402

BEGIN, END = "<!-- attack:begin -->", "<!-- attack:end -->"
ENV = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}", "QT_QPA_PLATFORM": "offscreen"}


@dataclass
class Result:
    attack: str
    held: bool | None  # None: skipped
    figures: str


# -- helpers ---------------------------------------------------------------------------------------
def cli(*args: str, cwd: Path | None = None, timeout: float = 60.0) -> subprocess.CompletedProcess:
    """Run ``sensorlab ARGS`` as a user would (a separate process); a timeout is exit 124."""
    try:
        return subprocess.run([sys.executable, "-m", "sensorlab.cli", *args], cwd=cwd, env=ENV, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as e:
        return subprocess.CompletedProcess(e.cmd, 124, e.stdout or "", (e.stderr or "") + f"\n(timed out after {timeout:g} s)")


def spawn(*args: str, cwd: Path | None = None) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "sensorlab.cli", *args], cwd=cwd, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def crashed(p: subprocess.CompletedProcess) -> str:
    """'' if the command ended cleanly (exit 0, or one 'error:' line), else what went wrong."""
    out = (p.stdout or "") + (p.stderr or "")
    if "Traceback (most recent call last)" in out:
        return "traceback: " + out.strip().splitlines()[-1][:90]
    if p.returncode < 0:
        return f"killed by signal {-p.returncode}"
    if p.returncode == 124:
        return "hung (timeout)"
    if p.returncode not in (0, 3) and "error:" not in p.stderr:
        return f"exit {p.returncode} without an error line"
    return ""


def wait_for(cond: Callable[[], bool], timeout: float) -> bool:
    deadline = now() + timeout
    while not cond():
        if now() > deadline:
            return False
        time.sleep(0.02)
    return True


def read_everything(path: Path) -> str:
    """Open a session with the library and read every stream; '' or the uncaught error."""
    code = (
        "import sys\nfrom sensorlab.session.reader import Session\n"
        "try:\n    s = Session.open(sys.argv[1])\nexcept ValueError as e:\n    print('refused:', e); raise SystemExit(0)\n"
        "with s:\n    for r in s.streams.values():\n        r.read(); r.stats; r.gaps\n    s.log\n"
    )
    p = subprocess.run([sys.executable, "-c", code, str(path)], env=ENV, capture_output=True, text=True, timeout=60)
    return crashed(p)


# -- 1. garbage into each serial protocol ----------------------------------------------------------
class _ClockWorld:
    """Sensor values that carry their own true host time (relative to ``t0``), so every stored
    sample can be checked against when it was really taken."""

    def __init__(self, t0: float):
        self.t0 = t0

    def imu(self, t):
        t = np.atleast_1d(np.asarray(t, dtype=np.float64)) - self.t0
        return np.repeat(t[:, None], 6, axis=1)


def _line_noise(n: int, seed: int, binary: bool) -> bytes:
    rng = np.random.default_rng(seed)
    noise = bytearray(rng.integers(0, 256, n, dtype=np.uint8).tobytes())
    if not binary:  # line noise: many short bad lines, some of them numbers with the wrong columns
        noise[::40] = b"\n" * len(noise[::40])
        noise += b"1.5,2.5\n" * 200 + b"nan,inf,1,2,3,4\n" * 50
    return bytes(noise)


def attack_garbage(tmp: Path) -> list[Result]:
    results = []
    for protocol in ("text", "binary"):
        t0 = now()
        garbage = _line_noise(200_000, 1, protocol == "binary")
        if protocol == "text":
            mcu = TextIMU(rate=500.0, world=_ClockWorld(t0), baudrate=2_000_000, drift_ppm=0.0, tx_buffer=1 << 20)
        else:
            mcu = BinaryIMU(rate=1000.0, baudrate=2_000_000, tx_buffer=1 << 20)
        produce, sent = mcu._produce, []

        def noisy(t, produce=produce, sent=sent, garbage=garbage):
            out = produce(t)
            if not sent and t - t0 > 2.0:  # two seconds in, the line picks up noise
                sent.append(t)
                out.append((t, garbage))
            return out

        mcu._produce = noisy
        with mcu:
            kw = {"name": "imu", "nominal_rate": 500.0} if protocol == "text" else {}
            src = SerialSource(mcu.port, mcu.baudrate, protocol, **kw)
            chunks = []
            with src:
                src.start(lambda s, c: chunks.append(c))
                wait_for(lambda: bool(sent) and now() - sent[0] > 3.0, 20)
                src.stop()
        ts = np.concatenate([c.timestamps for c in chunks])
        if protocol == "text":
            data = np.concatenate([c.data for c in chunks])
            true = data[:, 0].astype(np.float64) + t0
        else:
            true = mcu.true_host_times(np.concatenate([c.device_times for c in chunks]))
        # The noise occupies the wire for len / (baud / 10) s; samples taken meanwhile wait in
        # the device's TX buffer behind it. Judged: the samples taken after the noise went by.
        on_wire = len(garbage) / mcu.link.bytes_per_second
        after = true > sent[0] + on_wire + 0.1 if sent else np.zeros(len(ts), bool)
        behind = (true > sent[0]) & ~after if sent else after
        err = np.abs(ts - true)[after]
        st = src.stats["imu"]
        worst = float(err.max()) if len(err) else float("nan")
        held = bool(len(err) > 100 and worst < (0.02 if protocol == "text" else 0.003) and st.parse_errors > 0)
        refused = mcu.link.dropped_packets  # a loaded machine can leave the board's TX buffer too full for the noise
        queued = np.abs(ts - true)[behind]
        results.append(
            Result(
                f"200 kB of line noise into a {protocol} stream" + (" (rate-clocked, no time column)" if protocol == "text" else ""),
                held,
                f"{st.parse_errors} errors counted; {len(err)} samples after the noise off by median {np.median(err) * 1e3:.2f} ms, "
                f"max {worst * 1e3:.2f} ms; {len(queued)} samples queued behind its {on_wire:.1f} s on the wire off by up to "
                f"{(queued.max() if len(queued) else 0) * 1e3:.0f} ms" + (f"; packets the board's TX buffer refused: {refused}" if refused else ""),
            )
        )
    return results


# -- 2. unplug / replug during `sensorlab record` --------------------------------------------------
def attack_replug(tmp: Path) -> list[Result]:
    from sensorlab.session.reader import Session

    link = str(tmp / "ttyBOARD")
    board = BinaryIMU(rate=500.0, link_path=link).start()
    rig = tmp / "replug.toml"
    rig.write_text(f'[[serial]]\nport = "{link}"\nbaud = {board.baudrate}\nprotocol = "binary"\n\n[[emulated]]\ndevice = "imu-text"\nname = "wrist"\n')
    out = tmp / "replug.h5"
    proc = spawn("record", "--rig", str(rig), "-d", "9", "-o", str(out))
    try:
        if wait_for(out.exists, 30):
            sent = board.sent_packets
            wait_for(lambda: board.sent_packets > sent + 50, 10)
            board.vanish()
            time.sleep(1.5)  # unplugged for a while
            board.replug()
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        board.close()
    p = subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr)
    problem = crashed(p)
    if problem or not out.exists():
        return [Result("serial board unplugged and replugged during record", False, problem or "no file")]
    with Session.open(out) as s:
        imu, wrist = s.streams["imu"], s.streams["wrist"]
        dt = imu.read().device_times
        k = np.flatnonzero(np.diff(dt) < 0)
        before, after = (int(k[0]) + 1, len(dt) - int(k[0]) - 1) if len(k) else (len(dt), 0)
        gap = max((g[1] - g[0] for g in imu.gaps), default=0.0)
        reconnects, wrist_gaps = imu.stats.reconnects, len(wrist.gaps)
    held = p.returncode == 3 and reconnects == 1 and after > 500 and wrist_gaps == 0
    return [
        Result(
            "serial board unplugged and replugged during record",
            held,
            f"exit {p.returncode}; samples before/after {before}/{after}; gap {gap:.1f} s; reconnects {reconnects}; other stream gaps {wrist_gaps}",
        )
    ]


# -- 3. signals during `sensorlab record` ------------------------------------------------------------
def _record_and_signal(tmp: Path, name: str, sig: int, after: float) -> tuple[Path, float, subprocess.CompletedProcess]:
    out = tmp / f"{name}.h5"
    proc = spawn("record", "--demo", "-d", "60", "-o", str(out))
    wait_for(out.exists, 60)
    time.sleep(after)
    t_sig = now()
    proc.send_signal(sig)
    stdout, stderr = proc.communicate(timeout=60)
    return out, t_sig, subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr)


def attack_sigkill(tmp: Path, rounds: int = 10) -> list[Result]:
    from sensorlab.session.reader import Session

    losses, opened, reserves_after_kill, empty = [], 0, 0, 0
    rng = np.random.default_rng(8)
    for i in range(rounds):
        out, t_kill, _ = _record_and_signal(tmp, f"kill{i}", signal.SIGKILL, float(rng.uniform(1.0, 3.0)))
        reserves_after_kill += Path(f"{out}.reserve").exists()
        info = cli("info", str(out))  # the next open of that file
        try:
            with Session.open(out) as s:
                last = max((r.last_time for r in s.streams.values() if r.count), default=None)
            opened += not crashed(info) and info.returncode == 0
            if last is None:  # killed before the first flush held a sample (a slow start on a loaded machine)
                empty += 1
            else:
                losses.append(t_kill - last)
        except Exception as e:  # noqa: BLE001 - a file that does not open is the finding
            print(f"  kill{i}: does not open: {e}", file=sys.stderr)
    leaked = sorted(tmp.glob("kill*.h5.reserve"))
    mib = sum(p.stat().st_size for p in leaked) / 2**20
    worst = max(losses) if losses else float("nan")
    held = opened == rounds and worst <= 1.2 and not leaked
    figures = f"{opened}/{rounds} open" + (f" ({empty} killed before their first flush held a sample)" if empty else "")
    figures += f"; lost {min(losses, default=float('nan')):.2f}–{worst:.2f} s; .reserve left after kill/after next open: {reserves_after_kill}/{len(leaked)} ({mib:.0f} MiB)"
    for p in leaked:
        p.unlink()
    return [Result(f"SIGKILL ×{rounds} during record", held, figures)]


def attack_sigterm(tmp: Path) -> list[Result]:
    from sensorlab.session.reader import Session

    results = []
    for sig in (signal.SIGTERM, signal.SIGHUP):
        out, _, p = _record_and_signal(tmp, sig.name.lower(), sig, 1.5)
        try:
            with Session.open(out) as s:
                complete, reason = s.complete, s.stop_reason
        except Exception as e:  # noqa: BLE001
            complete, reason = False, f"does not open ({e})"
        results.append(Result(f"{sig.name} during record", bool(complete), f"exit {p.returncode}; footers written: {complete}; stop reason {reason!r}"))
    return results


# -- 4. disk full ------------------------------------------------------------------------------------
def attack_disk_full(tmp: Path) -> list[Result]:
    from sensorlab.session.reader import Session

    mnt = tmp / "small"
    mnt.mkdir()
    m = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=20m", "tmpfs", str(mnt)], capture_output=True, text=True)
    if m.returncode != 0:
        return [Result("disk full (20 MB tmpfs)", None, f"skipped: cannot mount a tmpfs here ({m.stderr.strip() or 'not root'})")]
    try:
        out = mnt / "full.h5"
        p = cli("record", "--demo", "-d", "60", "-o", str(out), timeout=120)
        info = cli("info", str(out))
        problems = [x for x in (crashed(p), crashed(info), read_everything(out)) if x]
        zero_frames = 0
        with Session.open(out) as s:
            complete = s.complete
            cam = s.streams.get("camera")
            if cam is not None and cam.count:
                blobs = cam.read_index(0, cam.count, decode=False).data
                zero_frames = sum(1 for b in blobs if not np.asarray(b).any())
        # Since the recorder stops while a margin is still free ("disk almost full: …"), a disk this
        # small ends that way, with its footers written; "disk full" is what a faster fill meets.
        said = "disk almost full" if "disk almost full" in p.stderr else "disk full" if "disk full" in p.stderr else ""
        held = not problems and p.returncode == 1 and bool(said) and zero_frames == 0
        figures = f"record exit {p.returncode} ({said or 'no disk-full message'}); complete={complete}; all-zero frames indexed: {zero_frames}"
        if problems:
            figures += "; " + "; ".join(problems)
        return [Result("disk full (20 MB tmpfs)", held, figures)]
    finally:
        subprocess.run(["umount", "-l", str(mnt)], capture_output=True)


# -- 5. malformed rig files ----------------------------------------------------------------------------
def _rig_corpus(box: Path, victim: Path) -> dict[str, bytes | None]:
    emu = '[[emulated]]\ndevice = "{d}"\nname = "{n}"\n{extra}\n'
    return {
        "not UTF-8": b'name = "caf\xe9"\n' + emu.format(d="imu-text", n="x", extra="").encode(),
        "a directory": None,
        "5000-deep nested array": b"x = " + b"[" * 5000 + b"]" * 5000 + b"\n",
        "rate = inf": emu.format(d="imu-text", n="x", extra="rate = inf").encode(),
        "rate = nan": emu.format(d="imu-text", n="x", extra="rate = nan").encode(),
        "rate = 1e9": emu.format(d="imu-text", n="x", extra="rate = 1e9").encode(),
        "rate = 1e-9": emu.format(d="imu-text", n="x", extra="rate = 1e-9").encode(),
        "rate = -5": emu.format(d="imu-text", n="x", extra="rate = -5").encode(),
        "drift_ppm = -2e6": emu.format(d="imu-text", n="x", extra="drift_ppm = -2e6").encode(),
        "device named '.'": emu.format(d="imu-text", n=".", extra="").encode(),
        "device named '..'": emu.format(d="imu-text", n="..", extra="").encode(),
        "device named 'labels'": emu.format(d="imu-text", n="labels", extra="").encode(),
        "device name with NUL": emu.format(d="imu-text", n="a\\u0000b", extra="").encode(),
        "device name with '/'": emu.format(d="imu-text", n="a/b", extra="").encode(),
        "rig name ../../escape (no -o)": b'name = "../../escape"\n' + emu.format(d="imu-text", n="x", extra="").encode(),
        "absolute rig name (no -o)": f'name = "{box.parent}/abs-escape"\n'.encode() + emu.format(d="imu-text", n="x", extra="").encode(),
        "spy:// URL truncating a file": f'[[serial]]\nname = "s"\nport = "spy://loop://?file={victim}"\n'.encode(),
        "unknown URL scheme": b'[[serial]]\nname = "s"\nport = "hwgrep://.*"\n',
        "port is /etc/passwd": b'[[serial]]\nname = "s"\nport = "/etc/passwd"\n',
        "unknown key": emu.format(d="imu-text", n="x", extra="colour = 3").encode(),
        "wrong type": emu.format(d="imu-text", n="x", extra='rate = "fast"').encode(),
        "no devices": b'name = "empty"\n',
        "duplicate names": emu.format(d="imu-text", n="x", extra="").encode() * 2,
        "truncated TOML": b'[[serial]\nname = "s',
        "binary junk": bytes(range(256)) * 4,
    }


def attack_rigs(tmp: Path) -> list[Result]:
    from sensorlab.session.reader import Session

    box = tmp / "rigbox" / "sessions"
    box.mkdir(parents=True)
    victim = tmp / "rigbox" / "victim.txt"
    victim.write_text("precious\n" * 100)
    outside_before = {p for p in tmp.rglob("*") if box not in p.parents}
    failures, held = [], 0
    corpus = _rig_corpus(box, victim)

    def one(item):
        i, (name, content) = item
        rig = box / f"rig{i}.toml"
        if content is None:
            rig.mkdir()
        else:
            rig.write_bytes(content)
        args = ["record", "--rig", str(rig), "-d", "1.5"]
        if "no -o" not in name:
            args += ["-o", str(box / f"out{i}.h5")]
        p = cli(*args, cwd=box, timeout=60)
        problem = crashed(p)
        if not problem and p.returncode in (0, 3):
            made = [f for f in box.glob("*.h5") if f.name == f"out{i}.h5" or "escape" in f.name]
            try:
                for f in made:
                    with Session.open(f) as s:
                        empty = [n for n, r in s.streams.items() if n != "labels" and r.count == 0]
                        if empty or not (s.duration > 0):
                            problem = f"exit 0 but {'stream ' + ', '.join(empty) + ' is empty' if empty else f'duration {s.duration:.3g} s'}"
                        if any(n in (".", "..", "") or "\0" in n for n in s.streams):
                            problem = f"stream names stored as given: {sorted(s.streams)}"
            except Exception as e:  # noqa: BLE001
                problem = f"exit 0 but the file does not open ({e})"
        return name, problem

    with ThreadPoolExecutor(2) as pool:
        for name, problem in pool.map(one, enumerate(corpus.items())):
            if problem:
                failures.append(f"{name}: {problem}")
            else:
                held += 1
    escaped = sorted(str(p.relative_to(tmp)) for p in tmp.rglob("*") if box not in p.parents and p not in outside_before and p != victim)
    if victim.stat().st_size == 0:
        failures.append("spy:// URL truncated the victim file to 0 bytes")
    if escaped:
        failures.append(f"wrote outside the sessions folder: {escaped}")
    return [Result(f"{len(corpus)} malformed / hostile rig files → record", not failures, f"{held}/{len(corpus)} clean" + ("; " + "; ".join(failures) if failures else ""))]


# -- 6. malformed label files ---------------------------------------------------------------------------
def _make_session(path: Path, seconds: float = 20.0, time_layout: str = "segments") -> Path:
    from sensorlab.session.synthetic import write_synthetic_session

    return write_synthetic_session(path, seconds, audio_rate=8000, imu_rate=200, fps=10.0, time_layout=time_layout)


def _label_corpus(box: Path) -> dict[str, tuple[str, bytes]]:
    from sensorlab.labeling.annotations import AnnotationSet, Segment
    from sensorlab.labeling.formats.eaf import export_eaf

    ok = AnnotationSet([Segment.create("activity", "wave", 1.0, 2.0), Segment.create("activity", "clap", 3.0, 3.5)])
    good_eaf = export_eaf(ok, box / "good.eaf", origin=0.0).read_text()
    slot = re.search(r'TIME_VALUE="(\d+)"', good_eaf).group(1)
    exact = re.search(r'sensorlab:exact_times">([^<]*)<', good_eaf)
    entity = '<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">]>'
    corpus = {
        "audacity: not UTF-8": (".txt", b"1.0\t2.0\tcaf\xe9\n"),
        "audacity: start after end": (".txt", b"5.0\t2.0\tbackwards\n"),
        "audacity: NaN / inf times": (".txt", b"nan\t2.0\ta\n1.0\tinf\tb\n1e308\t1e308\tc\n"),
        "audacity: NUL in label": (".txt", b"1.0\t2.0\twa\x00ve\n"),
        "audacity: empty": (".txt", b""),
        "audacity: 1 MB label": (".txt", b"1.0\t2.0\t" + b"x" * 1_000_000 + b"\n"),
        "audacity: all outside the session": (".txt", b"9000\t9001\tlate\n"),
        "csv: text in the time column": (".csv", b"tier,label,start,end\nactivity,wave,soon,later\n"),
        "csv: missing columns": (".csv", b"label\nwave\n"),
        "eaf: TIME_VALUE of 400 digits": (".eaf", good_eaf.replace(f'TIME_VALUE="{slot}"', 'TIME_VALUE="' + "9" * 400 + '"', 1).encode()),
        "eaf: exact_times Infinity": (".eaf", (good_eaf.replace(exact.group(1), "[Infinity, 1e308]") if exact else good_eaf).encode()),
        "eaf: truncated XML": (".eaf", good_eaf[: len(good_eaf) // 2].encode()),
        "eaf: billion laughs": (".eaf", (entity + "<ANNOTATION_DOCUMENT>&d;</ANNOTATION_DOCUMENT>").encode()),
        "eaf: external entity": (".eaf", b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]><ANNOTATION_DOCUMENT>&x;</ANNOTATION_DOCUMENT>'),
        "labelstudio: label is an object": (".json", json.dumps([{"annotations": [{"result": [{"from_name": "t", "type": "timeserieslabels", "value": {"start": 1, "end": 2, "timeserieslabels": [1, {"a": 2}]}}]}]}]).encode()),
        "labelstudio: not JSON": (".json", b"{not json"),
        "labelstudio: 5000-deep array": (".json", b"[" * 5000 + b"]" * 5000),
        "labelstudio: a number": (".json", b"42"),
    }
    return corpus


def attack_labels(tmp: Path) -> list[Result]:
    from sensorlab.labeling.store import load_sidecar
    from sensorlab.session.reader import Session

    box = tmp / "labelbox"
    box.mkdir()
    base = _make_session(box / "base.h5")
    with Session.open(base) as s:
        t0, t1 = s.metadata.start_host_time, s.metadata.start_host_time + s.duration
    corpus = _label_corpus(box)
    failures = []

    def one(item):
        i, (name, (ext, content)) = item
        session = box / f"s{i}.h5"
        shutil.copy(base, session)
        f = box / f"l{i}{ext}"
        f.write_bytes(content)
        p = cli("labels", "import", str(session), str(f), timeout=60)
        problem = crashed(p)
        if not problem and p.returncode == 0:
            ann = load_sidecar(session)
            segs = list(ann) if ann is not None else []
            bad = [s for s in segs if "\0" in s.label or "{" in s.label or "root:" in s.label or not (t0 - 1 <= s.start <= s.end <= t1 + 1)]
            if bad:
                problem = f"exit 0 but stored {bad[0].label[:30]!r} at {bad[0].start:.6g}–{bad[0].end:.6g}"
        return name, problem

    with ThreadPoolExecutor(2) as pool:
        for name, problem in pool.map(one, enumerate(corpus.items())):
            if problem:
                failures.append(f"{name}: {problem}")
    return [Result(f"{len(corpus)} malformed label files → labels import", not failures, f"{len(corpus) - len(failures)}/{len(corpus)} clean" + ("; " + "; ".join(failures) if failures else ""))]


# -- 7. damaged session files ---------------------------------------------------------------------------
def _damage(base: Path, box: Path) -> dict[str, Path]:
    import h5py

    raw = base.read_bytes()
    out: dict[str, Path] = {}

    def put(name: str, data: bytes) -> None:
        p = box / f"{len(out)}.h5"
        p.write_bytes(data)
        out[name] = p

    def crafted(name: str, edit: Callable) -> None:
        p = box / f"{len(out)}.h5"
        shutil.copy(base, p)
        with h5py.File(p, "r+") as f:
            edit(f)
        out[name] = p

    put("truncated to 10 bytes", raw[:10])
    put("truncated at 50 %", raw[: len(raw) // 2])
    put("truncated at 95 %", raw[: len(raw) * 95 // 100])
    put("zeroed superblock", b"\0" * 96 + raw[96:])
    for seed in (1, 2, 3):
        b = bytearray(raw)
        rng = np.random.default_rng(seed)
        for i in rng.integers(len(raw) // 4, len(raw), 64):
            b[i] ^= 0xFF
        put(f"64 flipped bytes (seed {seed})", bytes(b))
    put("a text file", b"this is not hdf5\n" * 100)
    put("empty", b"")

    def reverse(f):
        ts = f["streams/imu/timestamps"]
        ts[...] = ts[...][::-1]

    def zigzag(f):
        ts = f["streams/mic/timestamps"]
        v = ts[...]
        v[1::2] -= 0.25
        ts[...] = v

    def jpeg_out_of_range(f):
        idx = f["streams/cam/index"]
        v = idx[...]
        v[-1] = (10**12, 4096)
        idx[...] = v

    def zero_frames(f):
        data, idx = f["streams/cam/data"], f["streams/cam/index"]
        for off, size in idx[...][-5:]:
            data[int(off) : int(off + size)] = 0

    def nan_times(f):
        ts = f["streams/imu/timestamps"]
        v = ts[...]
        v[100:110] = np.nan
        ts[...] = v

    crafted("decreasing timestamps (imu)", reverse)
    crafted("zig-zag timestamps (mic)", zigzag)
    crafted("JPEG index beyond the data", jpeg_out_of_range)
    crafted("last 5 frames all-zero bytes", zero_frames)
    crafted("NaN timestamps (imu)", nan_times)
    (box / "dir.h5").mkdir()
    out["a directory"] = box / "dir.h5"
    return out


def attack_sessions(tmp: Path) -> list[Result]:
    box = tmp / "sessionbox"
    box.mkdir()
    base = _make_session(tmp / "damage-base.h5", 10.0, time_layout="samples")  # the edits below damage per-sample timestamps
    corpus = _damage(base, box)
    failures = []

    def one(item):
        name, path = item
        problems = []
        info = cli("info", str(path))
        if crashed(info):
            problems.append(f"info {crashed(info)}")
        exp = cli("labels", "export", str(path), str(box / f"{path.stem}.csv"))
        if crashed(exp):
            problems.append(f"export {crashed(exp)}")
        if path.is_file():
            lib = read_everything(path)
            if lib:
                problems.append(f"library {lib}")
        if ("decreasing" in name or "zig-zag" in name) and info.returncode == 0 and not re.search(r"monoton|not increasing|backwards|out of order", info.stdout + info.stderr, re.I):
            problems.append("info accepts it silently")
        return name, problems

    with ThreadPoolExecutor(2) as pool:
        for name, problems in pool.map(one, corpus.items()):
            if problems:
                failures.append(f"{name}: {', '.join(problems)}")
    # Recovery of a file flagged open-for-write: must not pile up copies (or follow symlinks).
    flagged = box / "flagged.h5"
    shutil.copy(base, flagged)
    code = "import h5py,os,sys\nf=h5py.File(sys.argv[1],'r+')\nf.attrs['x']=1\nf.flush()\nos._exit(0)\n"
    subprocess.run([sys.executable, "-c", code, str(flagged)], env=ENV, check=False)
    tmpdir = Path(tempfile.gettempdir())
    before = {p for p in tmpdir.rglob("*.h5")} if tmpdir.exists() else set()
    for _ in range(3):
        p = cli("info", str(flagged))
        if crashed(p):
            failures.append(f"flagged file: info {crashed(p)}")
            break
    copies = [p for p in box.glob("flagged*.h5") if p != flagged] + [p for p in tmpdir.rglob("*.h5") if p not in before and "flagged" in p.name]
    if len(copies) > 1:
        failures.append(f"flagged file: {len(copies)} recovered copies after 3 × info")
    n = len(corpus) + 1
    return [Result(f"{n} damaged session files → info, labels export, library read", not failures, f"{n - len(failures)}/{n} clean" + ("; " + "; ".join(failures) if failures else ""))]


# -- 8. labels: concurrent imports, a big import --------------------------------------------------------
def _audacity(path: Path, n: int, label: str, offset: float) -> Path:
    # One label name for all: duplicate checks compare against every label of that name.
    lines = [f"{offset + 0.001 * i!r}\t{offset + 0.001 * i + 0.0005!r}\t{label}" for i in range(n)]
    path.write_text("\n".join(lines) + "\n")
    return path


def attack_concurrent(tmp: Path, rounds: int = 4, n: int = 2000) -> list[Result]:
    from sensorlab.labeling.store import load_sidecar

    box = tmp / "concurrent"
    box.mkdir()
    base = _make_session(box / "base.h5", 10.0)
    a, b = _audacity(box / "a.txt", n, "a", 0.5), _audacity(box / "b.txt", n, "b", 4.5)
    kept, lost_rounds, problems = [], 0, []
    for r in range(rounds):
        session = box / f"r{r}.h5"
        shutil.copy(base, session)
        procs = [spawn("labels", "import", str(session), str(f)) for f in (a, b)]
        done = [subprocess.CompletedProcess(p.args, p.wait(120), *p.communicate()) for p in procs]
        problems += [crashed(d) for d in done if crashed(d)]
        ann = load_sidecar(session)
        count = len(list(ann)) if ann is not None else 0
        kept.append(count)
        if count < 2 * n and all(d.returncode == 0 for d in done):
            lost_rounds += 1
    held = lost_rounds == 0 and not problems
    return [Result(f"2 concurrent labels import × {rounds} (2×{n} labels)", held, f"labels kept per round {kept}; rounds that silently lost an import: {lost_rounds}" + (f"; {problems[0]}" if problems else ""))]


def attack_big_import(tmp: Path, n: int = 50_000) -> list[Result]:
    box = tmp / "big"
    box.mkdir()
    session = _make_session(box / "s.h5", 60.0)
    f = _audacity(box / "big.txt", n, "x", 1.0)
    t = time.perf_counter()
    p = cli("labels", "import", str(session), str(f), timeout=40)
    dt = time.perf_counter() - t
    held = p.returncode == 0 and dt < 15
    return [Result(f"import {n:,} labels", held, f"exit {p.returncode} in {dt:.1f} s (process start included)" + (f"; {crashed(p)}" if crashed(p) else ""))]


# -- 11. a board that resets with its port open --------------------------------------------------
def _reset_run(protocol: str, rate: float = 200.0, reset_at: int = 400, reboot: float = 0.3, seconds: float = 4.5) -> tuple[dict, list, SerialSource]:
    """A pty board at ``rate`` whose clock restarts (sequence/time back to ~0) after ``reset_at``
    samples, silent for ``reboot`` s; returns (sample → write time, chunks, source)."""
    import threading
    import tty

    from sensorlab.acquisition.serial.binary import encode_data, encode_description
    from sensorlab.acquisition.serial.description import DeviceDescription, StreamDescription

    desc = DeviceDescription("board", (StreamDescription(0, "imu", "timeseries", rate, "int32", (1,)),))
    uptime_us = 3_000_000_000  # 50 minutes: past half the 32-bit µs range

    def line(k: int) -> bytes:
        after = k >= reset_at
        t_us = (300_000 + (k - reset_at) * 1e6 / rate) if after else uptime_us + k * 1e6 / rate
        seq = k - reset_at if after else k
        if protocol == "binary":
            return encode_data(0, seq, int(t_us), np.array([[k]], "int32"))
        return b"%d,%d\n" % (int(t_us // 1000), k)

    master, slave = os.openpty()
    tty.setraw(master)
    tty.setraw(slave)
    sent: dict[int, float] = {}
    stop = threading.Event()

    def board() -> None:
        t0, k, paused = now(), 0, 0.0
        while not stop.is_set():
            if k == reset_at:
                time.sleep(reboot)
                paused = reboot
            while now() < t0 + paused + k / rate:
                time.sleep(0.0005)
            if protocol == "binary" and k % 40 == 0:
                for f in encode_description(desc):
                    os.write(master, f)
            os.write(master, line(k))
            sent[k] = now()
            k += 1

    th = threading.Thread(target=board, daemon=True)
    th.start()
    chunks: list = []
    kw = {"name": "imu", "channel_names": ["n"], "time_column": "ms"} if protocol == "text" else {}
    src = SerialSource(os.ttyname(slave), 921_600, protocol, reader="thread", uart=False, **kw)
    try:
        src.open()
        src.start(lambda name, c: chunks.append((now(), c)))
        time.sleep(seconds)
        stop.set()
        th.join()
        time.sleep(0.3)
        src.stop()
    finally:
        stop.set()
        src.close()
        os.close(master)
        os.close(slave)
    return sent, chunks, src


def attack_reset(tmp: Path) -> list[Result]:
    results = []
    for protocol in ("text", "binary"):
        sent, chunks, src = _reset_run(protocol)
        data = np.concatenate([c.data[:, 0] for _, c in chunks]).astype(int)
        ts = np.concatenate([c.timestamps for _, c in chunks])
        first = int(data[0])
        missing = sorted(set(range(first, max(sent) + 1)) - set(data.tolist()))
        settled = data > 400 + 200 * 1.2  # past the re-run warm-up after the reset
        # Judged on the median: the emulated board is a thread of this process, and on a loaded
        # machine its own writes come late (tens of ms), which no host-side stamping can see.
        err = np.abs(ts - np.array([sent[k] for k in data]))[settled]
        live = sum(1 for _, c in chunks if int(c.data[0, 0]) > 400 + 240)
        st = src.stats["imu"]
        held = not missing and bool(np.all(np.diff(ts) > 0)) and len(st.gaps) == 1 and live >= 20 and float(np.median(err)) < 0.005
        results.append(Result(
            f"{protocol} board reset with the port open (0.3 s reboot, clock back from 50 min)", held,
            f"missing {len(missing)} of {max(sent) - first + 1}; gaps {len(st.gaps)} ({(st.gaps[0][1] - st.gaps[0][0]) if st.gaps else 0:.2f} s); "
            f"chunks in the 2 s after the re-warm-up {live}; stamps there off by median {np.median(err) * 1e3:.2f} ms, max {err.max() * 1e3:.1f} ms"))
    return results


# -- 12. a rig rate that is not what the board sends ------------------------------------------------
def attack_rate(tmp: Path) -> list[Result]:
    import threading

    master, slave = os.openpty()
    done = threading.Event()

    def board() -> None:
        t0, k = time.monotonic(), 0
        while not done.is_set():
            due = int((time.monotonic() - t0) * 200)
            if due > k:
                os.write(master, b"".join(b"%d\n" % (i % 7) for i in range(k, due)))
                k = due
            time.sleep(0.005)

    threading.Thread(target=board, daemon=True).start()
    rig = tmp / "rate.toml"
    rig.write_text(f'[[serial]]\nname = "fast"\nport = "{os.ttyname(slave)}"\nbaud = 115200\nrate = 100\nchannels = ["a"]\n')
    out = tmp / "rate.h5"
    try:
        p = cli("record", "--rig", str(rig), "-d", "4", "-o", str(out), timeout=90)
    finally:
        done.set()
        time.sleep(0.05)
        os.close(master)
        os.close(slave)
    warn = [ln for ln in p.stderr.splitlines() if "its rate is 100 Hz" in ln]
    late = float("nan")
    if out.exists():
        from sensorlab.session.reader import Session

        with Session.open(out) as s:
            c = s.streams["fast"].read()
            late = float(np.max(c.arrival_times - c.timestamps))
    held = p.returncode == 3 and bool(warn) and not crashed(p)
    return [Result("text board at 200 lines/s into a rig's `rate = 100`", held,
                   f"exit {p.returncode}; warned: {bool(warn)}; stamps up to {late:.2f} s before arrival (the line count over the wrong rate)")]


# -- 13. hand-edited labels sidecars -----------------------------------------------------------------
def attack_sidecar(tmp: Path) -> list[Result]:
    box = tmp / "sidecar"
    box.mkdir()
    base = _make_session(box / "s.h5", 10.0)
    good = box / "a.txt"
    good.write_text("1.0\t2.0\tclap\n")
    assert cli("labels", "import", str(base), str(good)).returncode == 0
    text = base.with_name("s.labels.json").read_text()
    edits = {
        "suggested as text": text.replace('"suggested": false', '"suggested": "false"', 1),
        "label null": text.replace('"label": "clap"', '"label": null', 1),
        "400-digit time": re.sub(r'"start": [0-9.e+-]+', '"start": 1' + "0" * 400, text, count=1),
        "schema_version text": text.replace('"schema_version": "1.1"', '"schema_version": "one"', 1),
        "NaN end": re.sub(r'"end": [0-9.e+-]+', '"end": NaN', text, count=1),
        "not UTF-8": "\udcff",
        "truncated": text[: len(text) // 2],
        "segments an object": text.replace('"segments": [', '"segments": {"x": [', 1),
    }
    clean, problems = 0, []
    for name, edited in edits.items():
        d = box / re.sub(r"\W+", "_", name)
        d.mkdir()
        session = d / "s.h5"
        shutil.copy(base, session)
        side = d / "s.labels.json"
        side.write_bytes(edited.encode("utf-8", "surrogateescape"))
        before = side.read_bytes()
        ok = True
        for args in (("labels", "export", str(session), str(d / "out.csv")), ("labels", "import", str(session), str(good))):
            p = cli(*args)
            err = [ln for ln in p.stderr.splitlines() if ln.startswith("error:")]
            if crashed(p) or p.returncode != 1 or len(err) != 1 or "s.labels.json" not in err[0] or "a.txt" in err[0]:
                ok = False
                problems.append(f"{name}/{args[1]}: exit {p.returncode} {(crashed(p) or (err[0] if err else p.stderr.strip()[-80:]))[:90]}")
        if side.read_bytes() != before:
            ok = False
            problems.append(f"{name}: sidecar rewritten")
        clean += ok
    return [Result(f"{len(edits)} hand-edited .labels.json → labels export, labels import", clean == len(edits),
                   f"{clean}/{len(edits)} refused in one line naming the sidecar, left as it was" + (f"; {problems[0]}" if problems else ""))]


ATTACKS: dict[str, Callable[[Path], list[Result]]] = {
    "garbage": attack_garbage,
    "replug": attack_replug,
    "sigkill": attack_sigkill,
    "sigterm": attack_sigterm,
    "diskfull": attack_disk_full,
    "rigs": attack_rigs,
    "labels": attack_labels,
    "sessions": attack_sessions,
    "concurrent": attack_concurrent,
    "bigimport": attack_big_import,
    "reset": attack_reset,
    "rate": attack_rate,
    "sidecar": attack_sidecar,
}


def table(results: list[Result]) -> str:
    mark = {True: "held", False: "**FAILED**", None: "skipped"}
    rows = ["| attack | result | figures |", "|---|---|---|"]
    rows += [f"| {r.attack} | {mark[r.held]} | {r.figures.replace('|', '/')} |" for r in results]
    return "\n".join(rows)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", nargs="*", choices=list(ATTACKS), help="run only these attacks")
    ap.add_argument("--write", type=Path, help="rewrite the table between the attack markers of this file")
    args = ap.parse_args()
    results: list[Result] = []
    t_all = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="sensorlab-attack-") as d:
        for name in args.only or ATTACKS:
            t = time.perf_counter()
            work = Path(d) / name
            work.mkdir()
            try:
                got = ATTACKS[name](work)
            except Exception as e:  # noqa: BLE001 - an attack that breaks the harness is a finding too
                got = [Result(name, False, f"the attack itself crashed: {type(e).__name__}: {e}")]
            for r in got:
                print(f"{'held' if r.held else 'skipped' if r.held is None else 'FAILED':>8}  {r.attack}: {r.figures}", flush=True)
            print(f"          ({name}: {time.perf_counter() - t:.0f} s)", file=sys.stderr, flush=True)
            results += got
    print()
    print(table(results))
    print(f"\n{sum(r.held is True for r in results)} held, {sum(r.held is False for r in results)} failed, {sum(r.held is None for r in results)} skipped in {time.perf_counter() - t_all:.0f} s")
    if args.write:
        doc = args.write.read_text()
        stamp = f"{time.strftime('%Y-%m-%d')}, commit {subprocess.run(['git', 'rev-parse', '--short', 'HEAD'], cwd=ROOT, capture_output=True, text=True).stdout.strip()}"
        block = f"{BEGIN}\nMeasured {stamp} (`python bench/attack.py`):\n\n{table(results)}\n{END}"
        doc = re.sub(re.escape(BEGIN) + ".*?" + re.escape(END), lambda _: block, doc, flags=re.S) if BEGIN in doc else doc + "\n" + block + "\n"
        args.write.write_text(doc)
    return 0 if all(r.held is not False for r in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
