"""The project's label set: names, colours, hotkeys 1–9 and descriptions.

A label set belongs to a project folder (``<project>/labels.toml``) and is shared by all its
sessions; annotations refer to labels by name. Evented with psygnal so the label bar and the
timeline follow edits. Qt-free.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from psygnal import Signal

from sensorlab.labeling.atomic_file import atomic_write_text

#: Colour-blind-friendly default palette (Okabe-Ito), cycled for labels without a colour.
DEFAULT_COLORS = ("#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7", "#999999")


@dataclass(frozen=True)
class LabelDef:
    """One label of a project: name, display colour, optional hotkey 1–9, description."""

    name: str
    color: str = "#999999"
    hotkey: int | None = None
    description: str = ""

    def __post_init__(self) -> None:
        if not self.name:
            raise ValueError("label name must not be empty")
        if self.hotkey is not None and not (1 <= int(self.hotkey) <= 9):
            raise ValueError(f"label {self.name!r}: hotkey must be 1..9, got {self.hotkey}")
        c = self.color
        if not (len(c) == 7 and c[0] == "#" and all(ch in "0123456789abcdefABCDEF" for ch in c[1:])):
            raise ValueError(f"label {self.name!r}: colour must look like '#rrggbb', got {c!r}")


class LabelSet:
    """The labels of a project, in display order, saved as ``labels.toml`` (or ``.json``).

    Signals fire on the thread that made the change (normally the GUI thread).

    Examples
    --------
    >>> ls = LabelSet.from_names(["idle", "wave", "clap"])
    >>> ls.by_hotkey(2).name
    'wave'
    """

    label_added = Signal(LabelDef)
    label_changed = Signal(LabelDef, LabelDef)  # (old, new)
    label_removed = Signal(LabelDef)

    FILENAME = "labels.toml"

    def __init__(self, labels: Iterable[LabelDef] = ()):
        self._labels: dict[str, LabelDef] = {}
        for lab in labels:
            self.add(lab)

    @classmethod
    def from_names(cls, names: Sequence[str]) -> LabelSet:
        """Labels with default colours and hotkeys 1..9 in order; labels named by single digits
        (spoken digits "0".."9") get their own digit as hotkey, so key 3 is label "3" ("0" has
        none: key 0 shows the whole session)."""
        digits = len(names) > 0 and all(len(n) == 1 and n.isdigit() for n in names) and len(set(names)) == len(names)

        def key(i: int, n: str) -> int | None:
            if digits:
                return int(n) or None
            return i + 1 if i < 9 else None

        return cls(LabelDef(n, DEFAULT_COLORS[i % len(DEFAULT_COLORS)], key(i, n)) for i, n in enumerate(names))

    def __iter__(self) -> Iterator[LabelDef]:
        return iter(list(self._labels.values()))

    def __len__(self) -> int:
        return len(self._labels)

    def __contains__(self, name: object) -> bool:
        return name in self._labels

    def __getitem__(self, name: str) -> LabelDef:
        return self._labels[name]

    @property
    def names(self) -> list[str]:
        return list(self._labels)

    def by_hotkey(self, key: int) -> LabelDef | None:
        return next((lab for lab in self._labels.values() if lab.hotkey == key), None)

    def _check_hotkey(self, lab: LabelDef, ignore: str | None = None) -> None:
        other = self.by_hotkey(lab.hotkey) if lab.hotkey is not None else None
        if other is not None and other.name not in (lab.name, ignore):
            raise ValueError(f"hotkey {lab.hotkey} is already used by label {other.name!r}")

    def add(self, lab: LabelDef) -> None:
        if lab.name in self._labels:
            raise ValueError(f"label {lab.name!r} already exists")
        self._check_hotkey(lab)
        self._labels[lab.name] = lab
        self.label_added.emit(lab)

    def update(self, name: str, /, **changes: Any) -> LabelDef:
        """Change fields of a label (renaming keeps its position). Returns the new definition."""
        old = self._labels[name]
        new = replace(old, **changes)
        if new.name != name and new.name in self._labels:
            raise ValueError(f"label {new.name!r} already exists")
        self._check_hotkey(new, ignore=name)
        self._labels = {(new.name if k == name else k): (new if k == name else v) for k, v in self._labels.items()}
        self.label_changed.emit(old, new)
        return new

    def remove(self, name: str) -> None:
        lab = self._labels.pop(name)
        self.label_removed.emit(lab)

    def color_of(self, name: str) -> str:
        """Colour for a label name, with a stable fallback for labels not in the set."""
        if name in self._labels:
            return self._labels[name].color
        return DEFAULT_COLORS[sum(name.encode()) % len(DEFAULT_COLORS)]

    # -- persistence --------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        out = []
        for lab in self._labels.values():
            d: dict[str, Any] = {"name": lab.name, "color": lab.color}
            if lab.hotkey is not None:
                d["hotkey"] = lab.hotkey
            if lab.description:
                d["description"] = lab.description
            out.append(d)
        return {"schema_version": "1.0", "labels": out}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> LabelSet:
        return cls(LabelDef(**{k: v for k, v in e.items() if k in LabelDef.__dataclass_fields__}) for e in d.get("labels", []))

    @classmethod
    def load(cls, path: str | Path) -> LabelSet:
        """Load a label set from a ``.toml`` or ``.json`` file, or from a project folder.

        A folder means ``<folder>/labels.toml``.
        """
        path = Path(path)
        if path.is_dir():
            path = path / cls.FILENAME
        if path.suffix == ".json":
            return cls.from_dict(json.loads(path.read_text(encoding="utf-8")))
        with path.open("rb") as f:
            return cls.from_dict(tomllib.load(f))

    def save(self, path: str | Path) -> Path:
        """Save atomically as TOML (``.toml``, or a folder) or JSON (``.json``); returns the path."""
        path = Path(path)
        if path.is_dir():
            path = path / self.FILENAME
        d = self.to_dict()
        text = json.dumps(d, indent=2, ensure_ascii=False) + "\n" if path.suffix == ".json" else _to_toml(d)
        atomic_write_text(path, text)
        return path


def _toml_str(s: str) -> str:
    # JSON string escapes are a subset of TOML basic-string escapes, so json.dumps is exact.
    return json.dumps(s, ensure_ascii=False)


def _to_toml(d: dict[str, Any]) -> str:
    """Tiny TOML writer for the label set (stdlib only reads TOML)."""
    lines = ["# sensorlab label set: one [[labels]] table per label, in display order.",
             f"schema_version = {_toml_str(d['schema_version'])}", ""]
    for lab in d["labels"]:
        lines.append("[[labels]]")
        for k, v in lab.items():
            lines.append(f"{k} = {v}" if isinstance(v, int) else f"{k} = {_toml_str(v)}")
        lines.append("")
    return "\n".join(lines)


__all__ = ["DEFAULT_COLORS", "LabelDef", "LabelSet"]
