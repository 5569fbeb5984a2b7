"""Sample the live-view bench's phases with py-spy: where the GUI thread's time and the GIL go.

Runs ``bench_live_view.py`` and, while each phase (not recording, recording) runs, attaches two
non-blocking py-spy samplers to its measuring process: one of every thread, idle included
(``--idle --threads``), one of the thread holding the GIL (``--gil``). Writes raw (collapsed)
stacks to ``OUT/{baseline,recording}-{all,gil}.txt`` and prints, per phase, the share of GIL
samples per thread and the GUI thread's top functions.

Run: ``python bench/profile_live_view.py OUT [bench_live_view.py options]`` (py-spy must be
installed: ``pip install py-spy``; attaching needs ptrace rights, e.g. root).
"""

from __future__ import annotations

import collections
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _spy(pid: int, seconds: float, out: Path, *flags: str) -> subprocess.Popen:
    return subprocess.Popen([shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy")), "record", "--pid", str(pid),
                             "--duration", str(max(1, int(seconds))), "--rate", "200", "--nonblocking", "--threads", "-f", "raw",
                             "-o", str(out), *flags], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def summarize(path: Path, top: int = 15) -> str:
    """Samples per thread, and the main thread's heaviest leaf functions (self time)."""
    threads, leaves, total = collections.Counter(), collections.Counter(), 0
    for line in path.read_text().splitlines():
        stack, _, n = line.rpartition(" ")
        frames = stack.split(";")
        thread = next((f for f in frames if f.startswith("thread ")), "?")
        threads[thread] += int(n)
        total += int(n)
        if "MainThread" in thread:
            leaves[frames[-1]] += int(n)
    lines = [f"{path.name}: {total} samples"]
    lines += [f"  {100 * n / total:5.1f} %  {t}" for t, n in threads.most_common(12)]
    lines += ["  main thread, self:"] + [f"  {100 * n / total:5.1f} %  {f}" for f, n in leaves.most_common(top)]
    return "\n".join(lines)


def main() -> int:
    if len(sys.argv) < 2:
        print(__doc__)
        return 2
    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    args = sys.argv[2:]
    seconds = float(args[args.index("--seconds") + 1]) if "--seconds" in args else 8.0
    marks = out / "phases.txt"
    marks.unlink(missing_ok=True)
    env = dict(os.environ, BENCH_PHASE_FILE=str(marks))
    bench = subprocess.Popen([sys.executable, str(HERE / "bench_live_view.py"), *args], env=env)
    seen: set[str] = set()
    spies = []
    while bench.poll() is None:
        for line in marks.read_text().splitlines() if marks.exists() else []:
            pid, text = line.split(" ", 1)
            if text.endswith(" start") and text not in seen:
                seen.add(text)
                phase = text.split()[0]
                spies += [_spy(int(pid), seconds - 0.5, out / f"{phase}-all.txt", "--idle"),
                          _spy(int(pid), seconds - 0.5, out / f"{phase}-gil.txt", "--gil")]
        time.sleep(0.05)
    for spy in spies:
        spy.wait(30)
    for phase in ("baseline", "recording"):
        for kind in ("all", "gil"):
            path = out / f"{phase}-{kind}.txt"
            if path.exists():
                print(summarize(path))
    return bench.returncode


if __name__ == "__main__":
    sys.exit(main())
