"""Instructions per engine wake-up, counted by callgrind: the per-window comparison a busy machine cannot blur.

The engine replays a stream as `bench_inference.py` does (`_replay`: 10 ms chunks handed over
once a window can be complete) with the model's run stubbed out (the window still goes to the
call, which writes nothing), so what is counted is the engine's own work per wake-up: the hop
(joining the chunks into the held buffers, the gap check, the window's position), the
predictions chunk, the stats and the emit. Only the wake-ups are collected: each is called
through ``operator.call``, and callgrind collects inside that C function only
(``--toggle-collect=_operator_call``). Instruction counts do not depend on the load; glibc's
``memcpy`` is reported apart (callgrind counts each byte ``rep movsb`` moves as an instruction).

Run (the script starts valgrind itself; ~1–3 minutes, most of it importing under valgrind)::

    python bench/callgrind_wakeups.py [--rate 16000] [--python-hop] [--call] [--windows 40] [--real DIR] [--keep FILE]

``--python-hop`` forces the pure-Python hop where the C one (`sensorlab/inference/_hop.c`) is built;
``--whole engine`` counts whole wake-ups as they run live, onnxruntime's run included, and
``--whole bare`` one ``session.run(None, {name: x})`` of the model per window on the same windows'
model inputs: their quotient is the engine ÷ bare ratio in instructions (``--kind imu|clap|clap8`` for
the sensor-size models, ``clap8`` the demo clap detector's int8 build; ``SENSORLAB_ORT_NATIVE=0`` for the run through onnxruntime's Python
binding instead of its C API, `sensorlab/inference/_ort.c`).
``--call`` counts the engine's model call as well (`BoundRun.__call__`: the window handed to the
fused graph — copied into its bound input, or since issue 12's twelfth round bound where the
windower holds it — and the probabilities copied out), with only onnxruntime's run replaced by a
C function that does nothing: on the Python binding's path (the C API path's run cannot be
stubbed; ``--whole`` counts it); ``--keep FILE`` keeps callgrind's output.
"""

from __future__ import annotations

import argparse
import operator
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))


def wakeups(model: Path, rate: float, windows: int, python_hop: bool, contract: bool, call: bool = False, whole: str = "",
            channels: int = 1) -> None:  # fmt: skip
    """The replay, under valgrind: warm-up wake-ups uncollected, then ``windows`` collected ones.
    ``call``: the engine's own model call runs (the window handed to the fused graph's binding,
    the probabilities copied out) with only onnxruntime's run replaced by a no-op C function.
    ``whole``: ``engine``: every wake-up as it runs live, the model's run included; ``bare``: one
    ``session.run(None, {name: x})`` of the model itself per window, on the same windows' model inputs."""
    from bench_inference import _replay

    proc, stream, chunks = _replay(model, rate, rate, channels, 8.0 + windows * 0.25 * 1.6, contract)
    if python_hop:
        proc.windower.compiled = False
    pending: list = []
    warm = 6
    if whole:
        inputs: list = []
        if whole == "bare":
            proc.taps.append(lambda s, e, x, p: inputs.extend(np.array(x[i : i + 1]) for i in range(len(x))))
        for c in chunks:
            pending.append(c)
            if c.timestamps[-1] <= proc.wake_after(stream):
                continue
            done = proc.stats[proc.name].windows
            if done >= warm + windows:
                break
            if done >= warm and whole == "engine":
                operator.call(proc.process_chunks, {stream: pending})  # collected
            else:
                proc.process_chunks({stream: pending})
            pending = []
        if whole == "bare":
            lm = proc.model
            sess, name = lm.sess, lm.window_input.name
            for a in inputs[:warm]:
                sess.run(None, {name: a})
            for a in inputs[warm : warm + windows]:
                operator.call(sess.run, None, {name: a})  # collected
            print(f"windows collected: {len(inputs[warm : warm + windows])}; bare session.run")
            return
        f = getattr(proc._one, "_fused", None)
        path = "C API" if f and getattr(f, "native", None) is not None else "Python binding"
        print(f"windows collected: {proc.stats[proc.name].windows - warm}; hop: {'C' if getattr(proc.windower, 'compiled', False) else 'Python'}; "
              f"fast hops {proc.windower.fast_hops}; model run: {path}")  # fmt: skip
        return
    for c in chunks:
        pending.append(c)
        if c.timestamps[-1] <= proc.wake_after(stream):
            continue
        if proc._one and call:
            if proc._one._fused and proc._one._fused.run is not operator.is_:
                proc._one._fused.run = operator.is_  # f.run(binding, None): a C call that does nothing
                proc._one._fused.native, proc._fast = None, False  # (the Python binding's path, whose run is the one stubbed)
        elif proc._one and not isinstance(proc._one, _Stub):
            proc._one = _Stub(proc._one)
        done = proc.stats[proc.name].windows
        if done >= warm + windows:
            break
        if done >= warm and (isinstance(proc._one, _Stub) or call and proc._one._fused.run is operator.is_):
            operator.call(proc.process_chunks, {stream: pending})  # collected
        else:
            proc.process_chunks({stream: pending})
        pending = []
    print(f"windows collected: {proc.stats[proc.name].windows - warm}; hop: {'C' if getattr(proc.windower, 'compiled', False) else 'Python'}; fast hops {proc.windower.fast_hops}")


class _Stub:
    """The bound one-window call without the model run (nothing written)."""

    def __init__(self, one):
        self.classes = one.classes

    def __call__(self, window, out, *address):
        return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rate", type=float, default=16000.0, help="input rate of the KWS-size model (Hz; no resampling)")
    ap.add_argument("--windows", type=int, default=40)
    ap.add_argument("--python-hop", action="store_true", help="the pure-Python hop even where the C one is built")
    ap.add_argument("--real", type=Path, help="bench/real_training.py's work folder: the FSDD keyword model (8 kHz) instead")
    ap.add_argument("--call", action="store_true", help="count the engine's model call too (only onnxruntime's run replaced by a no-op)")
    ap.add_argument("--whole", choices=["engine", "bare"], help="count whole wake-ups, the model's run included (engine), or the bare session.run of the same windows (bare)")
    ap.add_argument("--kind", choices=["kws", "imu", "clap", "clap8"], default="kws",
                    help="the model: KWS-size CNN (--rate), the IMU small CNN (100 Hz × 6), the demo clap detector fp32 (clap) or int8 (clap8)")
    ap.add_argument("--keep", type=Path, help="keep callgrind's output file here (for callgrind_annotate)")
    ap.add_argument("--inside", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--model", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    contract = args.real is not None or args.kind.startswith("clap")
    channels = {"kws": 1, "imu": 6, "clap": 3, "clap8": 3}[args.kind]
    if args.inside:
        wakeups(args.model, args.rate, args.windows, args.python_hop, contract=contract, call=args.call, whole=args.whole or "", channels=channels)
        return
    from bench_inference import DEMO_MODELS, cnn_model

    with tempfile.TemporaryDirectory() as d:
        if args.real:
            model, rate = args.real / "runs" / "fsdd-official-long" / "model.onnx", 8000.0
        elif args.kind == "imu":
            model, rate = cnn_model(Path(d) / "imu.onnx", 6), 100.0
        elif args.kind.startswith("clap"):
            model, rate = DEMO_MODELS / ("demo_clap.onnx" if args.kind == "clap" else "demo_clap.int8.onnx"), 1000.0
        else:
            model, rate = cnn_model(Path(d) / "kws.onnx", 1, kws=True), args.rate
        out = Path(d) / "cg.out"
        cmd = ["valgrind", "--tool=callgrind", "--collect-atstart=no", "--toggle-collect=_operator_call", f"--callgrind-out-file={out}",
               sys.executable, __file__, "--inside", "--model", str(model), "--rate", str(rate), "--windows", str(args.windows), "--kind", args.kind]  # fmt: skip
        cmd += ["--python-hop"] if args.python_hop else []
        cmd += ["--call"] if args.call else []
        cmd += ["--whole", args.whole] if args.whole else []
        cmd += ["--real", str(args.real)] if args.real else []
        run = subprocess.run(cmd, capture_output=True, text=True)
        said = [line for line in run.stdout.splitlines() if line.startswith("windows collected")]
        if run.returncode or not said:
            sys.exit(f"valgrind failed ({run.returncode}):\n{run.stderr[-2000:]}")
        n = int(said[0].split(":")[1].split(";")[0])
        ann = subprocess.run(["callgrind_annotate", "--inclusive=no", "--threshold=100", str(out)], capture_output=True, text=True).stdout
        total = int(re.search(r"([\d,]+) \(100.0%\)\s+PROGRAM TOTALS", ann).group(1).replace(",", ""))
        mem = sum(int(m.group(1).replace(",", "")) for m in re.finditer(r"^\s*([\d,]+) \([^)]*\)\s+\S*(?:memcpy|memmove)\S*", ann, re.M))
        print(f"{said[0]}")
        print(f"instructions per wake-up: {total / n / 1000:.1f} K (memcpy/memmove {mem / n / 1000:.1f} K, the rest {(total - mem) / n / 1000:.1f} K)")
        top = [line for line in ann.splitlines() if re.match(r"^\s*[\d,]+ \(", line)][1:13]
        print("\n".join(top))
        if args.keep:
            args.keep.write_bytes(out.read_bytes())


if __name__ == "__main__":
    main()
