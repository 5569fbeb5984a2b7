"""The demo rig as the studio opens it: the emulated devices plus the bundled demo model.

`acquisition.emulated.rig.demo_rig` holds the devices (acquisition may not import inference);
this adds the clap detector shipped as package data (``path = "demo"``,
`sensorlab.inference.DEMO_MODEL`, trained by ``tools/make_demo_model.py``) as a ``[[processor]]``,
so ``make run`` and ``sensorlab record --demo`` show and record its predictions stream. The
rig text stored in a demo session therefore names the model too.

With the model comes its device-side counterpart, ``clap_mcu``: an emulated board
(`acquisition.emulated.classifier`) that prints the class of each of its own 0.4 s windows
on a serial events stream, wrong on purpose 2 % of the time, so **Compare with device…** and
``sensorlab parity`` have divergences to find.

Without onnxruntime (the ``inference`` extra) the rig has no model and `demo_model_note`
says why; everything else records as before.
"""

from __future__ import annotations

import importlib.util

from sensorlab.acquisition.emulated.rig import demo_rig as demo_devices
from sensorlab.acquisition.rig import EmulatedConfig, ModelProcessorConfig, RigConfig
from sensorlab.inference.rig_kind import DEMO_MODEL

#: The demo model's predictions stream (one sample per 0.1 s window: P(background), P(clap)).
DEMO_PREDICTIONS = "clap_pred"
#: Its events stream: ``start`` when P(clap) rises above 0.8, ``stop`` when it falls below 0.5.
DEMO_EVENTS = f"{DEMO_PREDICTIONS}_events"
#: The emulated board's own class per window (events: ``clap`` / ``background``, one per 0.1 s).
DEMO_DEVICE_CLASS = "clap_mcu"
#: How often that board prints the wrong class (injected divergences for the parity view).
DEMO_MISREPORT = 0.02


def demo_model_note() -> str:
    """Why the demo rig runs no model ("" when it does)."""
    if importlib.util.find_spec("onnxruntime") is None:
        return 'the demo model needs onnxruntime: pip install -e ".[inference]"'
    if not DEMO_MODEL.is_file():
        return f"the demo model {DEMO_MODEL} is missing; rebuild it with python tools/make_demo_model.py"
    return ""


def demo_rig(eeg: bool = True, text_imu: bool = True, model: bool = True) -> RigConfig:
    """The demo rig: every emulated device, and (``model`` and onnxruntime installed) the demo
    clap detector on ``imu`` with its events stream, and the board reporting its own class."""
    rig = demo_devices(eeg, text_imu)
    if model and not demo_model_note():
        rig.emulated.append(EmulatedConfig(device="classifier", name=DEMO_DEVICE_CLASS, drift_ppm=-20.0, misreport=DEMO_MISREPORT))
        rig.processor.append(ModelProcessorConfig(kind="model", path="demo", name=DEMO_PREDICTIONS, event_label="clap", threshold=0.8, release=0.5))
    return rig


__all__ = ["DEMO_DEVICE_CLASS", "DEMO_EVENTS", "DEMO_MISREPORT", "DEMO_PREDICTIONS", "demo_model_note", "demo_rig"]
