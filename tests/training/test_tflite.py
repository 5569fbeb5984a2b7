"""TFLite fp32 and full-int8 export, evaluate on .tflite, C export for TFLite Micro, bench-model.

Needs the converter stack (``make test-tflite`` builds its own venv); skipped elsewhere.
"""

from __future__ import annotations

import json
import shutil
import subprocess

import numpy as np
import pytest

from sensorlab.contract import METADATA_KEY, ModelContract

from .conftest import cli as _cli

pytest.importorskip("torch")
pytest.importorskip("litert_torch")
pytest.importorskip("ai_edge_litert")
pytest.importorskip("tflite_micro")
pytestmark = pytest.mark.tflite


@pytest.fixture(scope="module")
def run(imu_run_folder):
    return imu_run_folder


@pytest.fixture(scope="module")
def fp32(run):
    r = _cli("export", run, "--format", "tflite", "--json")
    assert r.exit_code == 0, r.output
    return json.loads(r.stdout)


@pytest.fixture(scope="module")
def int8(run):
    r = _cli("export", run, "--format", "tflite", "--int8", "--json")
    assert r.exit_code == 0, r.output
    return json.loads(r.stdout)


def test_fp32_tflite_matches_pytorch_and_carries_the_contract(run, fp32):
    from sensorlab.training.tflite_file import read_metadata

    assert fp32["ok"] and fp32["windows"] > 20 and fp32["argmax_agreement"] == 1.0 and fp32["max_abs_diff"] <= 1e-3
    model = run / "model.tflite"
    written = ModelContract.from_json((run / "contract.json").read_text())
    embedded = ModelContract.from_json(read_metadata(model.read_bytes())[METADATA_KEY])
    # read back == written: everything a device needs is the trained model's; the file adds its format
    for key in ("task", "input", "window", "features", "labels", "output", "dataset"):
        assert getattr(embedded, key) == getattr(written, key), key
    assert embedded.model["format"] == "tflite" and embedded.model["arch"] == written.model["arch"]
    assert ModelContract.from_json((run / "model.contract.json").read_text()) == embedded  # the sidecar says the same


def test_int8_tflite_is_fully_integer_smaller_and_agrees(run, fp32, int8):
    from ai_edge_litert.interpreter import Interpreter

    from sensorlab.training.tflite_file import _load, graph_facts, read_contract

    path = run / "model.int8.tflite"
    assert int8["ok"] and int8["argmax_agreement"] >= 0.95
    assert int8["size_bytes"] < 0.6 * fp32["size_bytes"]
    it = Interpreter(model_path=str(path))
    inp, out = it.get_input_details()[0], it.get_output_details()[0]
    assert inp["dtype"] == np.int8 and out["dtype"] == np.int8  # int8 in and out: nothing float left for an MCU
    assert "DEQUANTIZE" not in graph_facts(path.read_bytes())["ops"]
    schema, model = _load(path.read_bytes())
    assert not [t.name for t in model.subgraphs[0].tensors if t.type == schema.TensorType.FLOAT32]  # fully integer inside too
    c = read_contract(path)
    assert c.input["dtype"] == "int8"
    assert c.input["quantization"]["scale"] == pytest.approx(inp["quantization"][0])
    assert c.input["quantization"]["zero_point"] == inp["quantization"][1]
    assert c.input["normalization"]["kind"] == "standardize"  # standardized before quantizing: one scale fits every channel


def test_evaluate_runs_tflite_files_from_their_embedded_contract(run, fp32, int8, imu_dataset, tmp_path):
    pt = json.loads(_cli("evaluate", run, imu_dataset, "--json").stdout)
    m32 = json.loads(_cli("evaluate", run / "model.tflite", imu_dataset, "--json").stdout)
    assert m32["kind"] == "tflite" and m32["confusion"] == pt["confusion"]
    lone = tmp_path / "copy.int8.tflite"  # no sidecar beside it: the contract comes from the file itself
    shutil.copy(run / "model.int8.tflite", lone)
    r = _cli("evaluate", lone, imu_dataset, "--json")
    assert r.exit_code == 0, r.output
    m8 = json.loads(r.stdout)
    assert m8["kind"] == "tflite" and m8["accuracy"] >= 0.9 and abs(m8["accuracy"] - pt["accuracy"]) <= 0.05
    junk = tmp_path / "junk.tflite"
    junk.write_bytes(b"not a model at all")
    r = _cli("evaluate", junk, imu_dataset)
    assert r.exit_code == 1 and "not a TFLite flatbuffer" in r.output


@pytest.mark.skipif(shutil.which("gcc") is None, reason="needs gcc")
def test_export_c_compiles_and_holds_the_model_and_contract(run, int8, tmp_path):
    r = _cli("export-c", run / "model.int8.tflite", "--out", tmp_path, "--name", "imu_model", "--json")
    assert r.exit_code == 0, r.output
    rep = json.loads(r.stdout)
    assert rep["tflm_vs_litert"]["argmax_agreement"] == 1.0 and rep["tflm_vs_litert"]["windows"] > 20
    assert 1000 < rep["arena_bytes_measured"] < 200_000
    c = read_c = ModelContract.from_json((run / "model.int8.contract.json").read_text())
    main = tmp_path / "main.c"
    main.write_text("""#include <stdio.h>
#include <stdint.h>
#include "imu_model.h"
int main(int argc, char **argv) {
  FILE *f = fopen(argv[1], "wb");
  fwrite(imu_model_tflite, 1, imu_model_tflite_len, f);
  fclose(f);
  (void)argc;
  printf("%d %d %d %s %s %.6g %d %.6g %d\\n", (int)((uintptr_t)imu_model_tflite % 16), IMU_MODEL_ARENA_SIZE, IMU_MODEL_NUM_LABELS,
         imu_model_labels[1], imu_model_channels[2], (double)IMU_MODEL_INPUT_SCALE, IMU_MODEL_INPUT_ZERO_POINT,
         (double)IMU_MODEL_SAMPLE_RATE_HZ, IMU_MODEL_WINDOW_SAMPLES);
  return 0;
}
""")
    exe = tmp_path / "check"
    cc = subprocess.run(["gcc", "-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic", "-o", exe, main, tmp_path / "imu_model.c"],
                        capture_output=True, text=True)  # fmt: skip
    assert cc.returncode == 0, cc.stderr
    out = subprocess.run([exe, tmp_path / "roundtrip.tflite"], capture_output=True, text=True, check=True).stdout.split()
    assert (tmp_path / "roundtrip.tflite").read_bytes() == (run / "model.int8.tflite").read_bytes()
    q = read_c.input["quantization"]
    assert out[0] == "0" and int(out[1]) == rep["arena_size_define"] and out[2] == "2"
    assert out[3:5] == [c.labels[1], c.input["channels"][2]]
    assert float(out[5]) == pytest.approx(q["scale"], rel=1e-5) and int(out[6]) == q["zero_point"]
    assert float(out[7]) == c.input["rate"] and int(out[8]) == c.input["shape"][0]


def test_bench_model_counts_the_same_graph_in_onnx_and_tflite(run, fp32, int8):
    assert _cli("export", run, "--format", "onnx").exit_code == 0
    # TimeSeriesCNN, 3 channels × 64 samples, width 16: conv 5·3→16 over 64, pool, 5·16→32 over 32, pool, 3·32→32 over 16, linear 32→2
    macs = 64 * 16 * 3 * 5 + 32 * 32 * 16 * 5 + 16 * 32 * 32 * 3 + 2 * 32
    reports = {}
    for name in ("model.onnx", "model.tflite", "model.int8.tflite"):
        r = _cli("bench-model", run / name, "--runs", 30, "--json")
        assert r.exit_code == 0, r.output
        reports[name] = b = json.loads(r.stdout)
        assert b["macs"] == macs, name
        assert 0 < b["latency_ms"]["p50"] <= b["latency_ms"]["p99"] and b["peak_memory_bytes"] > 0
        assert b["size_bytes"] == (run / name).stat().st_size
    # weights and biases, batch norm folded into the convolutions: the same count in every build
    assert reports["model.onnx"]["params"] == reports["model.tflite"]["params"] == reports["model.int8.tflite"]["params"] > 5000
    assert reports["model.int8.tflite"]["tflm_arena_bytes"] > 0
    r = _cli("bench-model", run / "model.pt")
    assert r.exit_code == 1 and "takes an .onnx or .tflite file" in r.output
    r = _cli("export", run, "--format", "onnx", "--int8")
    assert r.exit_code == 2 and "sensorlab quantize" in r.output


@pytest.fixture(scope="module")
def audio_run(audio_run_folder):
    return audio_run_folder


def _device_log_mel(window: np.ndarray, fe: dict) -> np.ndarray:
    """The front end written from the contract's words alone (no sensorlab code): what a device port computes."""
    n_fft, hop, n_mels, rate = fe["n_fft"], fe["hop_length"], fe["n_mels"], fe["rate"]
    hann = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n_fft) / n_fft)
    to_mel = lambda f: 2595.0 * np.log10(1.0 + f / 700.0)  # HTK mel scale
    edges = 700.0 * (10 ** (np.linspace(to_mel(fe["f_min"]), to_mel(fe["f_max"]), n_mels + 2) / 2595.0) - 1.0)
    bins = np.arange(n_fft // 2 + 1) * rate / n_fft
    out = np.empty((fe["frames"], n_mels))
    for t in range(fe["frames"]):
        p = np.abs(np.fft.rfft(window[t * hop : t * hop + n_fft, 0] * hann)) ** 2
        for m in range(n_mels):
            lo, mid, hi = edges[m : m + 3]
            tri = np.clip(np.minimum((bins - lo) / (mid - lo), (hi - bins) / (hi - mid)), 0, None)
            out[t, m] = np.log(p @ tri + fe["log_offset"])
    return (out - fe["mean"]) / fe["std"]


def test_audio_model_exports_to_tflite_front_end_in_graph_for_fp32_and_named_for_int8(audio_run, audio_dataset, tmp_path):
    from ai_edge_litert.interpreter import Interpreter

    from sensorlab.datasets.dataset import Dataset
    from sensorlab.training.tflite_file import _load, graph_facts, read_contract

    r = _cli("export", audio_run, "--format", "tflite", "--json")
    assert r.exit_code == 0, r.output
    fp32 = json.loads(r.stdout)
    assert fp32["ok"] and fp32["argmax_agreement"] == 1.0 and fp32["max_abs_diff"] <= 1e-3 and fp32["windows"] > 20
    assert fp32["frontend"]["in_graph"] and "LOG" in graph_facts((audio_run / "model.tflite").read_bytes())["ops"]  # raw audio in
    assert read_contract(audio_run / "model.tflite").input["shape"] == [4000, 1]

    r = _cli("export", audio_run, "--format", "tflite", "--int8", "--json")
    assert r.exit_code == 0, r.output
    q8 = json.loads(r.stdout)
    # the whole chain (NumPy front end + int8 model) against the whole PyTorch model, on the same audio
    assert q8["ok"] and q8["argmax_agreement"] >= 0.95 and q8["frontend"]["in_graph"] is False
    assert q8["frontend"]["max_abs_diff_vs_pytorch"] < 1e-3
    path = audio_run / "model.int8.tflite"
    c = read_contract(path)
    fe = c.features
    assert fe["kind"] == "log_mel" and fe["in_graph"] is False and fe["shape"] == [fe["frames"], fe["n_mels"]]
    assert c.input["quantization"]["applies_to"] == "log_mel_features" and c.input["shape"] == [4000, 1]
    facts = graph_facts(path.read_bytes())
    assert "LOG" not in facts["ops"] and "DEQUANTIZE" not in facts["ops"]
    schema, model = _load(path.read_bytes())
    assert not [t.name for t in model.subgraphs[0].tensors if t.type == schema.TensorType.FLOAT32]  # fully integer: TFLM runs it

    # A device port that follows the contract's words gets the model's input, and the model's answers
    with Dataset.open(audio_dataset) as ds:
        raw, _ = ds.arrays("mic", "test")
    std = c.input["normalization"]
    x = ((raw[:8] - np.float32(std["mean"][0])) / np.float32(std["std"][0])).astype(np.float32)
    mine = np.stack([_device_log_mel(w, fe) for w in x])
    assert np.abs(mine - c.prepare(raw[:8])).max() < 1e-3
    it = Interpreter(model_path=str(path))
    it.allocate_tensors()
    inp, out = it.get_input_details()[0], it.get_output_details()[0]
    assert list(inp["shape"]) == [1, *fe["shape"]] and inp["dtype"] == np.int8
    s, z = c.input["quantization"]["scale"], c.input["quantization"]["zero_point"]
    from sensorlab.training.predictors import TFLitePredictor

    pred = TFLitePredictor(path)
    for w, f in zip(x, mine):
        it.set_tensor(inp["index"], np.clip(np.round(f / s + z), -128, 127).astype(np.int8)[None])
        it.invoke()
        assert it.get_tensor(out["index"]).reshape(-1).argmax() == pred.predict(c.extract(w[None])).argmax()

    from sensorlab.inference.model import LoadedModel

    live = LoadedModel(path)  # the live view computes the front end the file leaves out, then runs it
    live.check_window(4000, 1)
    probs = live.run(live.features(raw[:8]))
    assert (probs.argmax(1) == pred.predict(c.prepare(raw[:8])).argmax(1)).all()

    pt = json.loads(_cli("evaluate", audio_run, audio_dataset, "--json").stdout)
    m8 = json.loads(_cli("evaluate", path, audio_dataset, "--json").stdout)
    assert m8["kind"] == "tflite" and m8["accuracy"] >= pt["accuracy"] - 0.05

    r = _cli("export-c", path, "--out", tmp_path, "--name", "kws", "--json")
    assert r.exit_code == 0, r.output
    rep = json.loads(r.stdout)
    assert rep["tflm_vs_litert"]["argmax_agreement"] == 1.0
    header = (tmp_path / "kws.h").read_text()
    for define, value in (("N_FFT", fe["n_fft"]), ("FRAME_HOP", fe["hop_length"]), ("N_MELS", fe["n_mels"]), ("FRAMES", fe["frames"]),
                          ("INPUT_ELEMENTS", fe["frames"] * fe["n_mels"])):  # fmt: skip
        assert f"#define KWS_{define} {value}\n" in header
    b = json.loads(_cli("bench-model", path, "--runs", 20, "--json").stdout)
    assert b["tflm_arena_bytes"] > 0 and "outside the graph" in b["frontend"]
