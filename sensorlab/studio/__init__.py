"""The studio core: one rig live and recording, driven by the window and the command line.

`Studio` owns the acquisition, the pre-roll, the recorder and the live labels (Qt-free);
`headless.record` is ``sensorlab record``'s loop over it.
"""

import sensorlab.inference  # noqa: F401 - registers rig files' [[processor]] kind = "model"
from sensorlab.studio.live_labels import live_event
from sensorlab.studio.preroll import DEFAULT_PREROLL_S, PREROLL_BYTES
from sensorlab.studio.studio import Studio, StudioBusy

__all__ = ["DEFAULT_PREROLL_S", "PREROLL_BYTES", "Studio", "StudioBusy", "live_event"]
