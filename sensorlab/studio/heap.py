"""Short garbage-collector pauses while devices run: start-up's objects kept out of full passes.

A full (generation-2) collection walks every object the collector tracks, holding the GIL, so
every thread of the process that wants to run Python waits for it: an audio callback, a camera
grab, a serial source. With the demo rig open headless that is ~60,500 objects and **58–63 ms
of CPU** a pass; in the studio window, with its views, ~131,000 objects and **134–171 ms**
(and on a busy machine, where the collecting thread is also preempted while it holds the GIL,
0.3–3.4 s of wall time). Nearly all of them are made by start-up (modules, Qt wrappers, the
rig's sources, the views) and live as long as the rig. Freezing them (`gc.freeze`: moved to a
generation the collector never walks) leaves a full pass only the objects made since:
**0.1–7 ms** (docs/performance/recording-and-loss.md).

Frozen objects are never collected, so `thaw` when the rig closes (what the old rig leaves
as cyclic garbage is then collected as usual, and the next rig's start-up is frozen anew) and
when a processor is taken out while the rig runs (a model unloaded or replaced: it may have
been frozen with the rig; full passes then walk the whole heap again until the next rig opens).
"""

from __future__ import annotations

import gc


def freeze(collect: bool = True) -> int:
    """Keep every object alive now out of later collections (``collect``: free the garbage
    first, one full pass now rather than during a recording). Returns how many are frozen."""
    if collect:
        gc.collect()
    gc.freeze()
    return gc.get_freeze_count()


def thaw() -> None:
    """Hand the frozen objects back to the collector (a rig closed: its objects may be garbage)."""
    gc.unfreeze()


__all__ = ["freeze", "thaw"]
