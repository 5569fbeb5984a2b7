"""Run every benchmark and rewrite the results table in docs/PERFORMANCE.md.

Usage: python bench/run_all.py [--only NAME ...] [--no-write]

Each bench/bench_*.py exposes ``run() -> list[dict]`` with keys ``benchmark``, ``value``,
``baseline``, ``ratio`` and ``goal``: a figure measured side by side with its baseline in the
same run, so the ratio holds on any machine.
"""

from __future__ import annotations

import argparse
import importlib.util
import platform
import sys
import time
from datetime import date
from pathlib import Path

HERE = Path(__file__).resolve().parent
DOC = HERE.parent / "docs" / "PERFORMANCE.md"
BEGIN, END = "<!-- bench:begin -->", "<!-- bench:end -->"


def load(path: Path):
    spec = importlib.util.spec_from_file_location(path.stem, path)
    mod = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(HERE))
    spec.loader.exec_module(mod)
    return mod


def table(rows: list[dict]) -> str:
    out = ["| benchmark | measured | baseline (same run) | ratio | goal |", "|---|---|---|---|---|"]
    def fmt(v) -> str:
        if isinstance(v, float):
            return f"{v:,.0f}" if abs(v) >= 100 else f"{v:.3g}"
        return str(v)

    for r in rows:
        ratio = r.get("ratio")
        ratio_s = f"{ratio:.2f}" if isinstance(ratio, (int, float)) else (ratio or "")
        out.append(f"| {r['benchmark']} | {fmt(r['value'])} | {fmt(r.get('baseline', ''))} | {ratio_s} | {r.get('goal', '')} |")
    return "\n".join(out)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", nargs="*", default=None, help="bench names, e.g. serial_parser writer")
    ap.add_argument("--no-write", action="store_true", help="print only, do not touch docs/PERFORMANCE.md")
    args = ap.parse_args()
    rows: list[dict] = []
    for path in sorted(HERE.glob("bench_*.py")):
        name = path.stem.removeprefix("bench_")
        if args.only and name not in args.only:
            continue
        t0 = time.monotonic()
        print(f"== {name}", flush=True)
        rows += load(path).run()
        print(f"   ({time.monotonic() - t0:.0f} s)", flush=True)
    text = table(rows)
    print(text)
    if not args.no_write and not args.only:
        header = f"Measured {date.today()} on {platform.machine()}, Python {platform.python_version()}, {_cpus()} cores."
        doc = DOC.read_text()
        start, end = doc.index(BEGIN) + len(BEGIN), doc.index(END)
        DOC.write_text(doc[:start] + "\n" + header + "\n\n" + text + "\n" + doc[end:])
    return 0


def _cpus() -> int:
    import os

    return len(os.sched_getaffinity(0))


if __name__ == "__main__":
    raise SystemExit(main())
