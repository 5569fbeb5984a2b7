"""Build a dataset: a pure function of (sessions, annotations, spec) → one HDF5 file.

1. **Plan** (this process, cheap; `build_plan.plan_build`): find the session files, read
   their metadata and annotations, apply the spec's filters, fix each stream's layout (rate,
   channels), the class list and the split (`split.assign_splits`).
2. **Cut** one `SessionTask` per session (`session_task.process_session`): here
   (``workers=1``), in ``spawn`` worker processes (``workers=N``) or on a Dask cluster
   (``scheduler="tcp://…"``). The tasks are the same in all three, and at most a few are in
   flight at once, so memory stays bounded on a corpus of any size.
3. **Write** the results in session order (`dataset.DatasetWriter`) to a temporary file,
   renamed over the output at the end: a stopped build leaves no partial dataset.

A session that cannot be used is reported by name and listed in the file's ``skipped``
attribute; with ``strict=True`` it stops the build instead. The file records the spec, the
split, the sensorlab version and content hashes of every input, and a rebuild from the same
inputs is bit-identical (whatever ``workers`` or the cluster).
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
from collections import deque
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from sensorlab import __version__
from sensorlab.datasets.build_plan import BuildError, empty_split_notes, plan_build, preview_counts  # (preview_counts: its old home, which docs/DATASETS.md names)
from sensorlab.datasets.dataset import DatasetWriter
from sensorlab.datasets.session_task import SessionResult, SessionTask, StreamLayout, process_session
from sensorlab.datasets.sources import one_line
from sensorlab.datasets.spec import DatasetSpec
from sensorlab.progress import run_to_end


@dataclass(frozen=True)
class BuildProgress:
    """Yielded after planning and after each session: ``done`` of ``total`` sessions."""

    done: int
    total: int
    windows: int
    session: str = ""
    skipped: str = ""  # why ``session`` was skipped, if it was


@dataclass
class BuildResult:
    path: Path
    windows: int
    sessions: int
    skipped: list[dict] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    content_hash: str = ""


# -- running the per-session tasks ---------------------------------------------------------------


def _run_local(tasks: list[SessionTask], workers: int) -> Iterator[SessionResult]:
    if workers <= 1 or len(tasks) <= 1:
        yield from map(process_session, tasks)
        return
    # spawn: no fork of a process holding open HDF5 handles and threads (fork can deadlock h5py).
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(min(workers, len(tasks))) as pool:
        yield from pool.imap(process_session, tasks, chunksize=1)  # in order, a few ahead


def _run_dask(tasks: list[SessionTask], scheduler: object) -> Iterator[SessionResult]:
    """The same tasks on a Dask cluster (an address, or a ``distributed.Client``), gathered in order."""
    try:
        from distributed import Client
    except ImportError as e:
        raise BuildError(f"--scheduler needs Dask ({e}); install it with `pip install 'sensorlab[dask]'`") from e
    own = not isinstance(scheduler, Client)
    try:
        client = Client(scheduler, timeout=10) if own else scheduler
    except (OSError, TimeoutError, ValueError) as e:
        raise BuildError(f"cannot reach the Dask scheduler {scheduler} ({one_line(e)}); check the address (tcp://HOST:8786)") from e
    try:
        ahead = max(2, 2 * len(client.scheduler_info().get("workers", {}) or [1]))
        pending: deque = deque()
        it = iter(tasks)
        for t in it:
            pending.append(client.submit(process_session, t, pure=False))
            if len(pending) >= ahead:
                break
        while pending:
            fut = pending.popleft()
            res = fut.result()
            fut.release()
            for t in it:
                pending.append(client.submit(process_session, t, pure=False))
                break
            yield res
    finally:
        if own:
            client.close()


def _describe(lay: StreamLayout, source_rates: list[float]) -> dict:
    """A stream's entry in the file; sessions recorded at several rates list them all."""
    d = lay.describe()
    if len(source_rates) > 1:
        d["source_rates"] = source_rates
        d["resampler"] = ", ".join(replace(lay, source_rate=r).resampler for r in source_rates)
    return d


def iter_build(
    spec: DatasetSpec,
    out: str | Path,
    *,
    workers: int = 1,
    scheduler: object | None = None,
    strict: bool = False,
) -> Generator[BuildProgress, None, BuildResult]:
    """`build_dataset`, yielding progress after planning and after each session."""
    out = Path(out)
    plan = plan_build(spec, strict)
    if not plan.classes or not any(t.spans for t in plan.tasks):
        # Not one label survives the tier / include choice: every window would be dropped (or,
        # with unlabeled = "background", capped at background_max_ratio × 0 labeled ones), and
        # an empty file that "built" fine (exit status 0) only fails later, in training.
        why = "; ".join(plan.notes[:3])
        raise BuildError(f"nothing to build: no session has labels the spec keeps ({why}); check labels.tier and labels.include")
    total = len(plan.tasks)
    yield BuildProgress(0, total, 0)
    train = plan.split.names.index("train") if "train" in plan.split.names else None
    shapes = [(lay.name, (lay.n_samples, len(lay.channels)) if lay.is_signal else (lay.n_samples, *lay.sample_shape), lay.dtype) for lay in plan.layouts]
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    writer = DatasetWriter(tmp, shapes, train)
    class_index = {c: i for i, c in enumerate(plan.classes)}
    inputs: list[dict] = []
    skipped = list(plan.skipped)
    warnings: list[str] = list(plan.notes)
    per_session: dict[str, int] = {}
    try:
        results = _run_dask(plan.tasks, scheduler) if scheduler is not None else _run_local(plan.tasks, workers)
        for done, (task, res) in enumerate(zip(plan.tasks, results), 1):
            if res.error:
                if strict:
                    raise BuildError(f"{res.name}: {res.error} (strict build stopped; drop --strict to skip it)")
                skipped.append({"session": res.name, "reason": res.error})
                yield BuildProgress(done, total, writer.n, res.name, res.error)
                continue
            name = task.name
            twin = next((i["name"] for i in inputs if i["session_sha256"] == res.info["session_sha256"]), None)
            if twin is not None:  # a copy (or link) of one recording: its windows would be in the dataset twice
                raise BuildError(f"{twin} and {name} are the same recording (identical files): its windows would be in the dataset "
                                 f"twice, in two splits when split.by is \"session\" (test windows also trained on); keep one copy "
                                 f"where sessions.paths finds it")  # fmt: skip
            split_code = plan.split.index_of(plan.groups[name])
            k = len(res)
            writer.append(res.x, {"label": np.array([class_index[x] for x in res.labels], np.int16), "split": np.full(k, split_code),
                                  "session": np.full(k, len(inputs)), "start": res.start, "offset": res.offset,
                                  "coverage": res.coverage, "flags": res.flags})  # fmt: skip
            per_session[name] = k
            inputs.append({"name": name, "group": plan.groups[name], "tags": plan.tags[name], "labels_sha256": plan.labels_sha[name], **res.info})
            warnings.extend(res.warnings)
            yield BuildProgress(done, total, writer.n, name)
        if not inputs:
            why = "; ".join(f"{x['session']}: {x['reason']}" for x in skipped[:3])
            raise BuildError(f"no session could be used ({why}); nothing written")
        spec_json = spec.to_json()
        spec_hash = hashlib.sha256(spec_json.encode()).hexdigest()
        content = hashlib.sha256(spec_hash.encode())
        for inp in inputs:
            content.update(f"{inp['name']}:{inp['session_sha256']}:{inp['labels_sha256']}".encode())
        attrs = {
            "sensorlab_version": __version__,
            "spec": spec_json,
            "spec_hash": spec_hash,
            "classes": plan.classes,
            "streams": [_describe(lay, plan.source_rates[lay.name]) for lay in plan.layouts],
            "window": {"length": spec.window.length, "hop": spec.window.hop, "rule": spec.labels.rule,
                       "min_coverage": spec.labels.min_coverage, "gaps": spec.window.gaps},  # fmt: skip
            "split_names": plan.split.names,
            "split": plan.split.to_dict(),
            "inputs": inputs,
            "skipped": skipped,
            "warnings": warnings + plan.split.notes + empty_split_notes(plan.split, plan.groups, per_session, plan.notes),
            "content_hash": content.hexdigest(),
        }
        n = writer.n
        writer.finish(attrs)
        os.replace(tmp, out)
    except BaseException:
        writer.abort()
        tmp.unlink(missing_ok=True)
        raise
    return BuildResult(out, n, len(inputs), skipped, attrs["warnings"], attrs["content_hash"])


def build_dataset(
    spec: DatasetSpec,
    out: str | Path,
    *,
    workers: int = 1,
    scheduler: object | None = None,
    strict: bool = False,
    on_progress: Callable[[BuildProgress], None] | None = None,
) -> BuildResult:
    """Build the dataset file ``out`` from ``spec``.

    Parameters
    ----------
    workers
        Sessions processed in parallel by ``spawn`` worker processes (1: in this process).
    scheduler
        A Dask scheduler address (``tcp://host:8786``) or a ``distributed.Client``: run the
        per-session tasks there instead (the session files must be readable at the same paths).
    strict
        Stop at the first session that cannot be used instead of skipping it.

    Examples
    --------
    >>> build_dataset(load_spec("imu.toml"), "imu.h5", workers=2).windows  # doctest: +SKIP
    """
    return run_to_end(iter_build(spec, out, workers=workers, scheduler=scheduler, strict=strict), on_progress)


__all__ = ["BuildError", "BuildProgress", "BuildResult", "build_dataset", "empty_split_notes", "iter_build", "plan_build", "preview_counts"]
