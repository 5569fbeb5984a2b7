"""Train, evaluate, export and quantize on tiny synthetic datasets a correct model must learn."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from sensorlab.contract import METADATA_KEY, ContractError, ModelContract
from sensorlab.datasets.dataset import Dataset

from .conftest import FAST_TRAIN
from .conftest import cli as _cli

pytest.importorskip("torch")


@pytest.fixture(scope="module")
def fast_config(tmp_path_factory):
    p = tmp_path_factory.mktemp("cfg") / "train.toml"
    p.write_text(FAST_TRAIN)
    return p


@pytest.fixture(scope="module")
def audio_run(audio_run_folder):
    return audio_run_folder


def test_train_learns_sine_vs_square_and_writes_a_complete_run(imu_run, imu_dataset):
    import torch

    run, events = imu_run
    epochs = [e for e in events if e["event"] == "epoch"]
    assert [e["epoch"] for e in epochs] == list(range(1, 9))  # one JSON line per epoch, for live curves
    assert {"train_loss", "val_loss", "train_acc", "val_acc"} <= set(epochs[0])
    done = events[-1]
    assert done["event"] == "done" and done["test_accuracy"] >= 0.9
    for name in ("model.pt", "config.toml", "metrics.json", "curves.png", "confusion.png", "MODEL_CARD.md", "contract.json"):
        assert (run / name).stat().st_size > 0, name
    ck = torch.load(run / "model.pt", weights_only=True)
    assert ck["arch"] == "timeseries_cnn"
    with Dataset.open(imu_dataset) as ds:
        content_hash = ds.attrs["content_hash"]
    card = (run / "MODEL_CARD.md").read_text()
    assert content_hash in card and "| sine |" in card and "latency" in card
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["test"]["accuracy"] == done["test_accuracy"]
    assert "batch_size = 16" in (run / "config.toml").read_text()


def test_training_is_reproducible(imu_dataset, fast_config, tmp_path):
    import torch

    states = []
    for name in ("a", "b"):
        r = _cli("train", imu_dataset, "--task", "timeseries", "--config", fast_config, "--epochs", 2, "--out", tmp_path / name, "--seed", 3)
        assert r.exit_code == 0, r.output
        states.append(torch.load(tmp_path / name / "model.pt", weights_only=True)["state_dict"])
    assert all(torch.equal(states[0][k], states[1][k]) for k in states[0])


def test_contract_prepares_windows_with_the_dataset_normalization(imu_run, imu_dataset):
    run, _ = imu_run
    c = ModelContract.from_json((run / "contract.json").read_text())
    with Dataset.open(imu_dataset) as ds:
        x, _ = ds.arrays("imu", "test")
        expected = ds.normalization("imu").apply(x)
    assert c.input["channels"] == ["ax", "ay", "az"] and c.input["rate"] == 50.0 and c.labels == ["sine", "square"]
    np.testing.assert_array_equal(c.prepare(x), expected)
    with pytest.raises(ContractError, match="the model takes"):
        c.prepare(x[:, :10])


def test_contract_refuses_a_newer_major_version(imu_run):
    d = json.loads((imu_run[0] / "contract.json").read_text())
    d["version"] = "2.0"
    with pytest.raises(ContractError, match="newer than this sensorlab reads"):
        ModelContract.from_json(json.dumps(d))


def test_export_onnx_matches_pytorch_and_carries_the_contract(imu_run, imu_dataset, capfd):
    import warnings

    import onnxruntime as ort

    from sensorlab.contract import from_onnxruntime

    run, _ = imu_run
    capfd.readouterr()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        r = _cli("export", run, "--format", "onnx", "--json")
    assert r.exit_code == 0, r.output
    # The exporter's chatter (one line per torchvision operator, a pytree FutureWarning) once
    # buried the parity line in the studio's log: none of it reaches the user.
    assert "torchvision" not in capfd.readouterr().err
    assert not [w for w in caught if "LeafSpec" in str(w.message)]
    rep = json.loads(r.stdout)
    assert rep["ok"] and rep["argmax_agreement"] == 1.0 and rep["max_abs_diff"] <= 1e-4 and rep["windows"] > 20
    sess = ort.InferenceSession(str(run / "model.onnx"), providers=["CPUExecutionProvider"])
    assert METADATA_KEY in sess.get_modelmeta().custom_metadata_map
    assert from_onnxruntime(sess) == ModelContract.from_json((run / "contract.json").read_text())  # read back == written
    ev = _cli("evaluate", run / "model.onnx", imu_dataset, "--json")
    ck = _cli("evaluate", run, imu_dataset, "--json")
    m_onnx, m_pt = json.loads(ev.stdout), json.loads(ck.stdout)
    assert m_onnx["kind"] == "onnx" and m_pt["kind"] == "pytorch"
    assert m_onnx["confusion"] == m_pt["confusion"] and m_onnx["accuracy"] >= 0.9
    assert set(m_onnx["per_class"]["sine"]) == {"precision", "recall", "f1", "support"}


def test_audio_log_mel_model_learns_tones_vs_noise_and_exports_its_front_end(audio_run, audio_dataset):
    import onnx

    metrics = json.loads((audio_run / "metrics.json").read_text())
    assert metrics["test"]["accuracy"] >= 0.9
    r = _cli("export", audio_run, "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["ok"]
    ops = {n.op_type for n in onnx.load(str(audio_run / "model.onnx")).graph.node}
    assert {"Conv", "MatMul", "Log"} <= ops  # the log-mel front end is inside the graph: raw audio in
    c = ModelContract.from_json((audio_run / "contract.json").read_text())
    assert c.features["kind"] == "log_mel" and c.features["in_graph"] and c.input["shape"] == [4000, 1]


def test_audio_augmentation_leaves_silence_silent_in_the_log_mel_features():
    """Spoken digits sit between digital silence; training must see that silence as the test split does."""
    import torch

    from sensorlab.training.models import LogMel, augment, frontend_params

    t = np.arange(4000) / 8000
    x = np.zeros((16, 4000, 1), np.float32)
    x[:, :2000, 0] = np.sin(2 * np.pi * 440 * t[:2000])  # a tone, then silence (as `import wav` pads clips)
    fe = LogMel(**frontend_params(8000, 4000, 40, 0.032, 0.016))
    g = torch.Generator().manual_seed(0)
    with torch.no_grad():
        clean, aug = fe(torch.from_numpy(x)), fe(augment("audio", torch.from_numpy(x), g))
    quiet = slice(19, 27)  # frames at samples 2432-3583: silent whatever the time shift (at most 400 samples)
    assert float(clean[:, quiet].max()) < -13 and float(aug[:, quiet].max()) < -13  # ln(1e-6): nothing was added
    assert not torch.allclose(aug[:, 2:10], clean[:, 2:10])  # the tone frames still vary (gain, shift)


def test_contract_computes_a_log_mel_front_end_the_graph_leaves_out(audio_run, audio_dataset):
    """int8 TFLite audio models take log-mel features: the contract's NumPy front end must equal the model's own."""
    import torch

    from sensorlab.training.checkpoint import load_checkpoint

    model, c = load_checkpoint(audio_run)
    with Dataset.open(audio_dataset) as ds:
        raw, _ = ds.arrays("mic", "test")
    x = c.prepare(raw)
    assert c.extract(x) is x and x.shape[1:] == (4000, 1)  # in the graph: the window goes in as it is
    c.features = {**c.features, "in_graph": False, "mean": float(model.feat_mean), "std": float(model.feat_std),
                  "shape": [c.features["frames"], c.features["n_mels"]]}  # fmt: skip
    with torch.inference_mode():
        ref = ((model.frontend(torch.from_numpy(x)) - model.feat_mean) / model.feat_std).numpy()
    got = c.prepare(raw)
    assert got.shape == ref.shape == (len(raw), c.features["frames"], c.features["n_mels"])
    assert np.abs(got - ref).max() < 1e-3
    assert c.model_input_shape == list(ref.shape[1:])


def test_quantize_int8_agrees_with_fp32(imu_run, imu_dataset):
    run, _ = imu_run
    if not (run / "model.onnx").exists():
        assert _cli("export", run).exit_code == 0
    r = _cli("quantize", run / "model.onnx", imu_dataset, "--json")
    assert r.exit_code == 0, r.output
    rep = json.loads(r.stdout)
    builds = {b["build"]: b for b in rep["builds"]}
    static = builds["int8 static (QDQ)"]
    assert static["argmax_agreement"] >= 0.95 and static["accuracy"] >= 0.9
    assert static["size_bytes"] < builds["fp32"]["size_bytes"]
    assert len(rep["verdicts"]) == 2 and (run / "quantize.md").exists()
    m = json.loads(_cli("evaluate", run / "model.int8.onnx", imu_dataset, "--json").stdout)
    assert m["accuracy"] == static["accuracy"]  # the int8 file carries the contract: evaluate needs nothing else


def test_quantize_a_leave_one_out_fold_reports_on_its_held_out_subject_and_never_calibrates_on_it(tmp_path, fast_config):
    """`quantize` on a leave-one-subject-out file failed ("no split 'test'"), and calibration read
    every window, the unheard subject's included. It now reports on the split the run tested on
    (or --split) and calibrates on the other subjects only."""
    from sensorlab.training.predictors import OnnxPredictor
    from sensorlab.training.quantize import calibration_windows

    from .conftest import imu_windows, write_dataset

    x, y = imu_windows(180, seed=3)
    split = (np.arange(len(y)) // 2 % 3).astype(np.int8)  # subjects s0, s1, s2, both classes in each
    x[split == 2] += 3.0  # the held-out subject's windows are recognisable (an offset the model standardizes away)
    ds = write_dataset(tmp_path / "loso.h5", "imu", "timeseries", 50.0, ["ax", "ay", "az"], x, y, ["sine", "square"], split,
                       split_names=["s0", "s1", "s2"], method="leave_one_out")  # fmt: skip
    cfg = tmp_path / "fold.toml"
    cfg.write_text(fast_config.read_text() + 'test_split = "s2"\n')
    run = tmp_path / "fold-s2"
    assert _cli("train", ds, "--task", "timeseries", "--config", cfg, "--epochs", 2, "--out", run).exit_code == 0
    assert _cli("export", run).exit_code == 0

    r = _cli("quantize", run / "model.onnx", ds, "--json")
    assert r.exit_code == 0, r.output
    rep = json.loads(r.stdout)
    assert rep["split"] == "s2" and rep["test_windows"] == 60  # the run's own held-out subject
    contract = OnnxPredictor(run / "model.onnx").contract
    calib = calibration_windows(ds, contract, held_out="s2")
    held = contract.prepare(x[split == 2])
    others = contract.prepare(x[split != 2])
    assert len(calib) == 120 and not any((held == w).all((1, 2)).any() for w in calib)
    assert all((others == w).all((1, 2)).any() for w in calib)  # every calibration window is another subject's
    m = json.loads(_cli("evaluate", run / "model.int8.onnx", ds, "--split", "s2", "--json").stdout)
    assert m["n"] == 60 and m["accuracy"] == rep["builds"][1]["accuracy"]

    r = _cli("quantize", run / "model.onnx", ds, "--split", "s1")
    assert r.exit_code == 0 and "60 test windows (split 's1')" in r.output
    r = _cli("quantize", run / "model.onnx", ds, "--split", "test")
    assert r.exit_code == 1 and "no split 'test'; it has s0, s1, s2" in r.output


def test_bench_model_gives_cpu_time_per_window_beside_the_wall_clock(imu_run):
    """On a loaded machine wall-clock latency mostly measures the wait for a core: bench-model
    also reports the thread's own CPU time per window, which never exceeds the wall clock."""
    run, _ = imu_run
    if not (run / "model.onnx").exists():
        assert _cli("export", run).exit_code == 0
    r = _cli("bench-model", run / "model.onnx", "--runs", 30, "--json")
    assert r.exit_code == 0, r.output
    lat = json.loads(r.stdout)["latency_ms"]
    assert 0 < lat["cpu_p50"] <= lat["p50"] and lat["cpu_mean"] > 0  # each run: CPU time ≤ its wall time
    human = _cli("bench-model", run / "model.onnx", "--runs", 30).output
    assert re.search(r"CPU time +\d+\.\d{3} ms per window", human)


def test_evaluate_against_another_build_gives_argmax_agreement_on_the_same_windows(imu_run, imu_dataset):
    run, _ = imu_run
    if not (run / "model.onnx").exists():
        assert _cli("export", run).exit_code == 0
    if not (run / "quantize.json").exists():
        assert _cli("quantize", run / "model.onnx", imu_dataset).exit_code == 0
    rep = json.loads((run / "quantize.json").read_text())
    m32 = json.loads(_cli("evaluate", run / "model.onnx", imu_dataset, "--against", run, "--json").stdout)
    assert m32["agreement"]["argmax_agreement"] == 1.0 and m32["agreement"]["kind"] == "pytorch" and m32["agreement"]["windows"] == m32["n"]
    r = _cli("evaluate", run / "model.int8.onnx", imu_dataset, "--against", run)
    assert r.exit_code == 0, r.output
    share = float(re.search(r"same class as pytorch \S+ on ([\d.]+)% of (\d+) windows", r.output).group(1)) / 100
    assert share == pytest.approx(rep["builds"][1]["argmax_agreement"], abs=1e-4)  # PyTorch = fp32 ONNX on every window here


def test_bad_inputs_are_one_line_errors(imu_dataset, tmp_path):
    r = _cli("train", imu_dataset, "--task", "speech")
    assert r.exit_code == 2 and "use one of audio, timeseries, image" in r.output
    r = _cli("train", imu_dataset, "--task", "audio", "--out", tmp_path / "x")
    assert r.exit_code == 1 and "no stream suits --task audio" in r.output
    bad = tmp_path / "bad.toml"
    bad.write_text("epochz = 3\n")
    r = _cli("train", imu_dataset, "--task", "timeseries", "--config", bad)
    assert r.exit_code == 1 and "epochz" in r.output
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(b"not a model")
    r = _cli("evaluate", junk, imu_dataset)
    assert r.exit_code == 1 and "not a valid ONNX model" in r.output


def test_a_dataset_without_test_windows_says_there_are_no_test_metrics(tmp_path, fast_config):
    """A first dataset from one labeled session has no test split: training printed
    "test accuracy nan, macro F1 nan"; it now says why there are no test metrics."""
    from .conftest import imu_windows, write_dataset

    x, y = imu_windows(40)
    ds = write_dataset(tmp_path / "no_test.h5", "imu", "timeseries", 50.0, ["ax", "ay", "az"], x, y, ["sine", "square"],
                       (np.arange(len(y)) % 4 == 0).astype(np.int8))  # train and val only  # fmt: skip
    r = _cli("train", ds, "--task", "timeseries", "--config", fast_config, "--epochs", 1, "--out", tmp_path / "run")
    assert r.exit_code == 0, r.output
    last = r.output.strip().splitlines()[-1]
    assert "no test metrics" in last and "test split has no windows" in last and "nan" not in last
    # metrics.json stays strict JSON (jq and JavaScript reject a bare NaN): no value is null.
    def no_constants(name):
        raise AssertionError(f"metrics.json holds {name}")

    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text(), parse_constant=no_constants)
    assert metrics["test"]["accuracy"] is None and metrics["test"]["n"] == 0
    # The plan reads as words, not a Python dict ("{'train': 23, 'val': 4, 'test': 0}").
    start = next(line for line in r.output.splitlines() if line.startswith("training "))
    assert re.search(r": \d+ train windows, \d+ val windows, 0 test windows$", start), start
