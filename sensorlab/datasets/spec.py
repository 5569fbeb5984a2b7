"""The dataset build spec: which sessions, streams, labels, windows and split (a TOML file).

A spec is plain data (pydantic), so the dataset file can store it resolved (every default
filled in) and a rebuild from the same spec is the same build. Example::

    [sessions]
    paths = ["sessions/*.h5"]            # files or globs, relative to the spec file
    tags = ["subject=s01", "subject=s02"]  # same key: any of them; different keys: all
    where = ["duration >= 30", "location != home"]

    [[streams]]
    name = "imu"
    channels = ["ax", "ay", "az"]        # default: all, in recorded order
    rate = 50                            # target rate (Hz); default: the stream's own

    [labels]
    tier = "activity"
    rule = "majority"                    # majority | centre | any_overlap | end
    min_coverage = 0.5
    unlabeled = "background"             # drop | background
    background_max_ratio = 1.0

    [window]
    length = 2.0
    hop = 1.0
    gaps = "drop"                        # drop | fill

    [split]
    by = "subject"                       # session | any tag key (subject, speaker, …)
    method = "holdout"                   # holdout | kfold | leave_one_out
    fractions = { train = 0.7, val = 0.15, test = 0.15 }
    seed = 0

Errors are one line naming the key: ``spec.toml: window.hop: must be > 0 (got 0)``.
"""

from __future__ import annotations

import json
import operator
import re
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from sensorlab.session.format import DERIVED_SUFFIXES


class SpecError(ValueError):
    """A spec file that cannot be used; the message is one line naming the key and the fix."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


#: ``key OP value`` terms of ``sessions.where``; ``~`` is a regular-expression search.
_WHERE = re.compile(r"^\s*([A-Za-z_][\w.-]*)\s*(==|!=|>=|<=|>|<|=|~)\s*(.*?)\s*$")
_OPS = {"==": operator.eq, "=": operator.eq, "!=": operator.ne, ">=": operator.ge, "<=": operator.le, ">": operator.gt, "<": operator.lt}


def parse_where(term: str) -> tuple[str, str, str]:
    """Split ``"duration >= 30"`` into ``("duration", ">=", "30")``; ValueError if malformed."""
    m = _WHERE.match(term)
    if not m or not m.group(3):
        raise ValueError(f"{term!r} is not 'key OP value' (OP one of == != >= <= > < ~), e.g. 'duration >= 30'")
    key, op, value = m.groups()
    return key, "==" if op == "=" else op, value.strip("'\"")


def where_matches(term: str, fields: dict[str, Any]) -> bool:
    """True if a session with these metadata ``fields`` (tags and metadata) satisfies ``term``.

    Numbers compare as numbers when both sides parse as one; a missing key never matches
    (except with ``!=``).

    Examples
    --------
    >>> where_matches("duration >= 30", {"duration": 42.0})
    True
    >>> where_matches("subject ~ ^s0[12]$", {"subject": "s02"})
    True
    """
    key, op, value = parse_where(term)
    if key not in fields:
        return op == "!="
    have = fields[key]
    if op == "~":
        return re.search(value, str(have)) is not None
    try:
        a, b = float(have), float(value)
    except (TypeError, ValueError):
        a, b = str(have), value
        if op not in ("==", "!="):
            return False
    return bool(_OPS[op](a, b))


class SessionsSpec(_Model):
    """Which session files to use."""

    paths: list[str] = Field(min_length=1)
    tags: list[str] = Field(default_factory=list)
    where: list[str] = Field(default_factory=list)

    @field_validator("tags")
    @classmethod
    def _tags(cls, v: list[str]) -> list[str]:
        for t in v:
            if "=" not in t or not t.split("=", 1)[0].strip():
                raise ValueError(f"{t!r} is not key=value, e.g. 'subject=s01'")
        return v

    @field_validator("where")
    @classmethod
    def _where(cls, v: list[str]) -> list[str]:
        for term in v:
            _, op, value = parse_where(term)
            if op == "~":
                try:
                    re.compile(value)
                except re.error as e:
                    raise ValueError(f"{term!r}: bad regular expression ({e})") from None
        return v

    def tag_filter(self) -> dict[str, set[str]]:
        out: dict[str, set[str]] = {}
        for t in self.tags:
            k, v = t.split("=", 1)
            out.setdefault(k.strip(), set()).add(v.strip())
        return out

    def accepts(self, fields: dict[str, Any]) -> bool:
        """True if a session's metadata fields pass the tag filters and every ``where`` term."""
        for key, allowed in self.tag_filter().items():
            if str(fields.get(key, "")) not in allowed:
                return False
        return all(where_matches(term, fields) for term in self.where)


class StreamSpec(_Model):
    """One stream of every window."""

    name: str = Field(min_length=1)
    channels: list[str] | None = None  # None: every channel, in recorded order
    rate: float | None = Field(default=None, gt=0)  # target rate; None: the stream's nominal rate


#: The fraction of a window its label must cover (`LabelSpec.min_coverage`) when a spec does not
#: say: the GUI's form and a spec file for ``sensorlab dataset build`` start from it alike (they
#: differed, 0.5 and 0, and gave 15 and 23 windows from the same sessions). Half a window: a
#: window only brushed by a label is not that label's example. Point labels are exempt.
DEFAULT_MIN_COVERAGE = 0.5


class LabelSpec(_Model):
    """How a window gets its label from the segments of one tier."""

    tier: str = Field(min_length=1)
    rule: Literal["majority", "centre", "any_overlap", "end"] = "majority"
    min_coverage: float = Field(default=DEFAULT_MIN_COVERAGE, ge=0.0, le=1.0)
    unlabeled: Literal["drop", "background"] = "drop"
    background_label: str = Field(default="background", min_length=1)
    background_max_ratio: float = Field(default=1.0, ge=0.0)
    include: list[str] | None = None  # only these labels; others count as unlabeled

    @field_validator("rule", mode="before")
    @classmethod
    def _rule(cls, v: Any) -> Any:
        # Accept the spellings people type ("center", "any-overlap", "at_end").
        aliases = {"center": "centre", "any-overlap": "any_overlap", "anyoverlap": "any_overlap", "at_end": "end", "end_of_window": "end"}
        return aliases.get(str(v).lower(), v) if isinstance(v, str) else v


class WindowSpec(_Model):
    length: float = Field(gt=0)  # seconds
    hop: float = Field(gt=0)  # seconds
    gaps: Literal["drop", "fill"] = "drop"


class SplitSpec(_Model):
    """How sessions are split; every group (value of ``by``) lands on exactly one side."""

    by: str = Field(default="session", min_length=1)
    method: Literal["holdout", "kfold", "leave_one_out"] = "holdout"
    fractions: dict[str, float] = Field(default_factory=lambda: {"train": 0.7, "val": 0.15, "test": 0.15})
    k: int = Field(default=5, ge=2)
    seed: int = 0
    stratify: bool = True

    @field_validator("method", mode="before")
    @classmethod
    def _method(cls, v: Any) -> Any:
        aliases = {"k-fold": "kfold", "k_fold": "kfold", "loso": "leave_one_out", "logo": "leave_one_out", "leave-one-out": "leave_one_out",
                   "leave_one_subject_out": "leave_one_out", "leave-one-subject-out": "leave_one_out"}  # fmt: skip
        return aliases.get(str(v).lower(), v) if isinstance(v, str) else v

    @field_validator("fractions")
    @classmethod
    def _fractions(cls, v: dict[str, float]) -> dict[str, float]:
        if not v:
            raise ValueError("needs at least one split, e.g. { train = 0.8, test = 0.2 }")
        bad = {k: x for k, x in v.items() if not (x >= 0)}
        if bad:
            raise ValueError(f"fractions must be >= 0 (got {bad})")
        total = sum(v.values())
        if abs(total - 1.0) > 1e-6:
            raise ValueError(f"fractions must add up to 1 (they add up to {total:g})")
        return v


class DatasetSpec(_Model):
    """A whole build spec (see the module docstring for the TOML form)."""

    sessions: SessionsSpec
    streams: list[StreamSpec] = Field(min_length=1)
    labels: LabelSpec
    window: WindowSpec
    split: SplitSpec = Field(default_factory=SplitSpec)
    #: Directory relative paths are resolved against (the spec file's folder); not stored.
    base_dir: str = Field(default=".", exclude=True)

    @model_validator(mode="after")
    def _unique_streams(self) -> DatasetSpec:
        names = [s.name for s in self.streams]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"stream {dup[0]!r} is listed twice")
        return self

    def to_json(self) -> str:
        """Canonical JSON (sorted keys): what the dataset file stores and hashes."""
        return json.dumps(self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))

    def session_files(self) -> list[Path]:
        """The files named by ``sessions.paths`` (globs expanded), sorted and without duplicates."""
        found: set[Path] = set()
        for pattern in self.sessions.paths:
            found.update(self._matches(pattern))
        return sorted(found, key=lambda x: (x.name, str(x)))

    def unmatched_paths(self) -> list[str]:
        """Entries of ``sessions.paths`` that find no session file: a typo, a moved or deleted
        session. The build refuses them (they silently left a session out of the dataset)."""
        return [pattern for pattern in self.sessions.paths if not self._matches(pattern)]

    def _matches(self, pattern: str) -> set[Path]:
        p = Path(pattern).expanduser()
        p = p if p.is_absolute() else Path(self.base_dir) / p
        if p.is_file():  # a file name may hold glob characters: "take[2].h5" is that file
            return {p}
        if any(c in pattern for c in "*?["):
            anchor = Path(p.anchor) if p.is_absolute() else Path(".")
            return {x for x in anchor.glob(str(p.relative_to(anchor))) if x.is_file() and not x.name.endswith(DERIVED_SUFFIXES)}
        if p.is_dir():
            return {x for x in p.glob("*.h5") if not x.name.endswith(DERIVED_SUFFIXES)}
        return set()


def _loc(err: dict[str, Any]) -> str:
    return ".".join(str(x) for x in err["loc"] if not (isinstance(x, str) and x.startswith(("function-", "literal["))))


def _one_line(source: str, e: ValidationError) -> str:
    err = e.errors()[0]
    key = _loc(err) or "(top level)"
    msg = err["msg"].removeprefix("Value error, ")
    if err["type"] == "missing":
        msg = "missing (required)"
    elif err["type"] == "extra_forbidden":
        msg = "unknown key (check its spelling; see docs/DATASETS.md)"
    elif "input" in err and err["type"] not in ("value_error",) and not isinstance(err["input"], dict):
        msg += f" (got {err['input']!r})"
    more = f" (and {len(e.errors()) - 1} more problem(s))" if len(e.errors()) > 1 else ""
    return f"{source}: {key}: {msg}{more}"


def spec_from_dict(doc: dict[str, Any], base_dir: str | Path = ".", source: str = "spec") -> DatasetSpec:
    """Validate a spec given as a dict (the parsed TOML); SpecError names the key on failure."""
    try:
        return DatasetSpec.model_validate({**doc, "base_dir": str(base_dir)})
    except ValidationError as e:
        raise SpecError(_one_line(source, e)) from None


def load_spec(path: str | Path) -> DatasetSpec:
    """Read and validate a spec TOML file; relative session paths count from its folder.

    Raises
    ------
    SpecError
        Missing file, invalid TOML, or an invalid value (one line naming the key).
    """
    path = Path(path)
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SpecError(f"{path}: no such spec file") from None
    except tomllib.TOMLDecodeError as e:
        raise SpecError(f"{path}: not valid TOML ({e})") from None
    except (OSError, UnicodeDecodeError) as e:
        raise SpecError(f"{path}: cannot read it ({e})") from None
    return spec_from_dict(doc, path.parent, str(path))


__all__ = ["DatasetSpec", "LabelSpec", "SessionsSpec", "SpecError", "SplitSpec", "StreamSpec", "WindowSpec",
           "load_spec", "parse_where", "spec_from_dict", "where_matches"]  # fmt: skip
