"""Reading a blob stream's samples: JPEG frames or UTF-8 events, stored back to back in one uint8
``data`` blob with an ``(n, 2)`` (offset, size) ``index`` (variable-length types are not SWMR-safe).

A torn or crafted index row, a frame whose bytes never reached the disk (zeros) or a JPEG that
does not decode is reported in the returned mask, never raised: `StreamReader` leaves such
samples out and records them.
"""

from __future__ import annotations

import h5py
import numpy as np

from sensorlab.session import format as fmt
from sensorlab.session.stream_integrity import looks_like_jpeg


def read_blobs(g: h5py.Group, storage: fmt.Storage, sample_shape: tuple[int, ...], i0: int, i1: int, decode: bool) -> tuple[np.ndarray, np.ndarray]:
    """The blobs of samples ``[i0, i1)`` of the stream group ``g`` and a mask of those that are readable.

    ``decode``: JPEG frames decoded to arrays (stacked when they all have one shape); text is
    always decoded from UTF-8 (undecodable bytes replaced)."""
    index = g[fmt.INDEX][i0:i1]
    blob_len = g[fmt.DATA].shape[0]
    off, size = (index[:, 0], index[:, 1]) if len(index) else (np.empty(0, np.int64), np.empty(0, np.int64))
    ok = (off >= 0) & (size >= 0) & (off + size <= blob_len)  # a crafted or torn index row
    out = np.empty(len(index), dtype=object)
    out[:] = [b""] * len(index)
    if ok.any():
        start, end = int(off[ok].min()), int((off[ok] + size[ok]).max())
        blob = g[fmt.DATA][start:end].tobytes()  # one read for the whole range
        for j in np.flatnonzero(ok):
            out[j] = blob[off[j] - start : off[j] - start + size[j]]
    if storage is fmt.Storage.UTF8:
        return np.array([b.decode("utf-8", errors="replace") for b in out], dtype=object), ok
    ok &= np.fromiter((looks_like_jpeg(b) for b in out), bool, len(out))
    if not decode:
        return out, ok
    import cv2

    frames = np.empty(len(out), dtype=object)
    for j in np.flatnonzero(ok):
        frames[j] = cv2.imdecode(np.frombuffer(out[j], np.uint8), cv2.IMREAD_UNCHANGED)
        ok[j] = frames[j] is not None
    if ok.all():
        return stack_frames(frames, sample_shape), ok
    return frames, ok


def stack_frames(frames: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Decoded frames as one ``(n, h, w, 3)`` array, or an object array if their size changed mid-stream."""
    if len(frames) == 0:
        return np.empty((0, *shape), dtype=np.uint8)
    if all(f.shape == frames[0].shape for f in frames):
        return np.stack(list(frames))
    arr = np.empty(len(frames), dtype=object)
    arr[:] = list(frames)
    return arr
