"""`LslOutlet`: publish a sensorlab stream, or the live labels, as an LSL outlet.

An outlet is a node of the stream graph (`sensorlab.acquisition.processors`) with an input and
no output streams: `Acquisition` gives it a bounded ring of its input, and its own thread
pushes what arrives to liblsl, so a slow network never reaches a device thread (when the
outlet falls more than the ring's 10 s behind, the oldest data is dropped and counted, and
the recording is unaffected). Sample times go out on LSL's clock (`runtime.local_to_host`),
so an LSL recorder on this or another machine lines them up with its other streams.

The live labels are no stream of the acquisition (the recorder stores them): an outlet for
``labels`` has no input, and the `Studio` calls its `on_live_label` for every label pressed,
recording or not. Each is sent as the session stores it (`live_event` JSON text).
"""

from __future__ import annotations

import logging
import socket

import numpy as np

from sensorlab.acquisition.lsl.runtime import local_to_host, lsl_stream_info, pylsl
from sensorlab.acquisition.names import LIVE_LABELS_STREAM
from sensorlab.acquisition.processors.base import ProcessorBase
from sensorlab.acquisition.source import Chunk, SourceError, StreamInfo, StreamKind

log = logging.getLogger(__name__)


class LslOutlet(ProcessorBase):
    """Publish ``stream`` (a running stream, or ``"labels"``) as the LSL stream ``lsl_name``.

    ``lsl_name`` defaults to ``sensorlab-<stream>``; ``source_id`` to
    ``sensorlab-<host>-<stream>`` (stable, so LSL recorders reconnect after a restart).
    """

    def __init__(self, stream: str, lsl_name: str | None = None, lsl_type: str | None = None, source_id: str | None = None):
        labels = stream == LIVE_LABELS_STREAM
        super().__init__(() if labels else (stream,), description=f"LSL outlet of {stream}")
        self.stream = stream
        self.lsl_name = lsl_name or f"sensorlab-{stream}"
        self.lsl_type = lsl_type
        self.source_id = source_id or f"sensorlab-{socket.gethostname()}-{stream}"
        self.outlet = None
        self.pushed = 0  # samples handed to liblsl

    def open(self, inputs=None) -> None:
        if inputs is None and self.outlet is not None:
            return  # SourceBase.start re-opens a node without streams; ours is open already
        if self.inputs and (not inputs or self.stream not in inputs):
            have = ", ".join(sorted(inputs or {})) or "none"
            raise SourceError(f"{self.description}: there is no stream {self.stream!r} to publish (streams: {have}, labels); fix 'stream' of [[lsl_outlet]] or --lsl-outlet")
        super().open(inputs)

    def _declare(self) -> list[StreamInfo]:
        if self.stream == LIVE_LABELS_STREAM:
            info = StreamInfo(LIVE_LABELS_STREAM, StreamKind.EVENTS, 0.0, dtype="str")
        else:
            info = self.input_infos[self.stream]
        lsl = pylsl()
        try:
            self.outlet = lsl.StreamOutlet(lsl_stream_info(info, self.lsl_name, self.lsl_type, self.source_id))
        except SourceError:
            raise
        except Exception as e:  # noqa: BLE001 - liblsl could not open its ports
            raise SourceError(f"{self.description}: LSL could not create the outlet ({type(e).__name__}: {e})") from None
        self._l2h = local_to_host()
        self._events = info.kind is StreamKind.EVENTS
        return []  # publishes; derives no stream

    def _close(self) -> None:
        self.outlet = None  # liblsl closes the outlet when the object is freed

    def process(self, new: dict[str, Chunk]) -> None:
        chunk = new[self.stream]
        stamps = (chunk.timestamps - self._l2h).tolist()
        if self._events:
            data = [x.decode("utf-8", "replace") if isinstance(x, bytes) else str(x) for x in chunk.data]
        else:
            data = np.ascontiguousarray(chunk.data).reshape(len(chunk), -1)
        self.outlet.push_chunk(data, timestamp=stamps)
        self.pushed += len(chunk)

    def on_live_label(self, text: str, t: float) -> None:
        """Publish one live label pressed at host time ``t`` (any thread; only for ``labels``)."""
        outlet = self.outlet
        if self.stream != LIVE_LABELS_STREAM or outlet is None or not self.running:
            return
        try:
            outlet.push_sample([text], t - self._l2h)
        except Exception as e:  # noqa: BLE001 - publishing must never stop a label from being stored
            log.warning("%s: could not publish a live label: %s", self.description, e)
            return
        self.pushed += 1

    @property
    def has_consumers(self) -> bool:
        """True while some LSL program receives this outlet."""
        outlet = self.outlet
        return bool(outlet is not None and outlet.have_consumers())
