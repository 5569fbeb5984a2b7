"""`SessionMetadata`: who, what and when of a session, stored as root attributes of the file."""

from __future__ import annotations

import json
import socket
import time
from datetime import datetime, timezone
from typing import Any

from pydantic import BaseModel, Field

#: Fields the user fills in; the rest are filled by the writer.
USER_FIELDS = ("name", "notes", "tags", "rig")


class SessionMetadata(BaseModel):
    """Session-level description.

    The user sets ``name``, ``notes``, ``tags`` and ``rig``; `SessionWriter` fills in the
    clock and version fields when the file is created (``start_*``) and closed (``end_*``).

    Examples
    --------
    >>> m = SessionMetadata(name="s01-walk", tags={"subject": "s01", "location": "lab"})
    >>> m.tags["subject"]
    's01'
    """

    name: str = ""
    notes: str = ""
    tags: dict[str, str] = Field(default_factory=dict)
    rig: str = ""  # the rig file (TOML text) the session was recorded with
    # -- filled by the writer ------------------------------------------------------
    software_version: str = ""
    schema_version: str = ""
    hostname: str = ""
    start_time_iso: str = ""  # wall clock, local time with UTC offset
    start_time_epoch: float | None = None  # wall clock, Unix seconds
    start_host_time: float | None = None  # host clock (`clock.now`) at the same moment
    end_time_iso: str = ""
    end_time_epoch: float | None = None
    end_host_time: float | None = None

    def stamped_start(self, host_time: float) -> SessionMetadata:
        """A copy with the start fields set to now (wall clock) and ``host_time``."""
        from sensorlab import __version__
        from sensorlab.session.format import SCHEMA_VERSION

        epoch = time.time()
        return self.model_copy(
            update=dict(
                software_version=__version__,
                schema_version=SCHEMA_VERSION,
                hostname=socket.gethostname(),
                start_time_iso=iso(epoch),
                start_time_epoch=epoch,
                start_host_time=host_time,
            )
        )

    def to_attrs(self) -> dict[str, Any]:
        """HDF5-attribute-safe values (no None; dicts as JSON)."""
        out: dict[str, Any] = {}
        for k, v in self.model_dump().items():
            if v is None:
                continue
            out[k] = json.dumps(v) if isinstance(v, dict) else v
        return out

    @classmethod
    def from_attrs(cls, attrs: Any) -> SessionMetadata:
        """Rebuild from HDF5 root attributes (unknown keys are ignored)."""
        d: dict[str, Any] = {}
        for k in cls.model_fields:
            if k not in attrs:
                continue
            v = attrs[k]
            if isinstance(v, bytes):
                v = v.decode("utf-8")
            if hasattr(v, "item"):
                v = v.item()
            if k == "tags" and isinstance(v, str):
                v = json.loads(v) if v else {}
            d[k] = v
        return cls(**d)


def iso(epoch: float) -> str:
    """ISO 8601 local time with UTC offset, millisecond precision."""
    return datetime.fromtimestamp(epoch, timezone.utc).astimezone().isoformat(timespec="milliseconds")
