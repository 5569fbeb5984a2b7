"""File-name patterns: ``{label}_{subject}_{take}.wav`` → ``{"label": "3", "subject": "george", "take": "7"}``.

A pattern is literal text with ``{field}`` placeholders, matched against the whole file name
(case-sensitive). A field matches the shortest text that lets the rest of the name match, so
``{label}_{subject}_{take}.wav`` splits ``3_george_7.wav`` at the first underscores; a field
may not contain ``/``. ``{field:d}`` matches digits only, ``{}`` or ``{_}`` matches anything
and is not kept. A regular expression built from the pattern is all this needs, so no
parsing library is involved.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_FIELD = re.compile(r"\{([A-Za-z_]\w*)?(?::(d))?\}")


class PatternError(ValueError):
    """A pattern that cannot be used (one line naming the problem)."""


@dataclass(frozen=True)
class NamePattern:
    """A compiled file-name pattern.

    Examples
    --------
    >>> NamePattern.compile("{label}_{subject}_{take:d}.wav").match("3_george_10.wav")
    {'label': '3', 'subject': 'george', 'take': '10'}
    >>> NamePattern.compile("{label}_{subject}_{take:d}.wav").match("noise.wav") is None
    True
    """

    text: str
    regex: re.Pattern
    fields: tuple[str, ...]

    @classmethod
    def compile(cls, text: str) -> NamePattern:
        parts, fields, pos = [], [], 0
        for m in _FIELD.finditer(text):
            parts.append(re.escape(text[pos : m.start()]))
            name, digits = m.group(1), m.group(2)
            body = r"\d+" if digits else r"[^/\\]+?"
            if name and name != "_":
                if name in fields:
                    raise PatternError(f"pattern {text!r} names {{{name}}} twice")
                fields.append(name)
                parts.append(f"(?P<{name}>{body})")
            else:
                parts.append(f"(?:{body})")
            pos = m.end()
        parts.append(re.escape(text[pos:]))
        rest = _FIELD.sub("", text)
        if "{" in rest or "}" in rest:
            raise PatternError(f"pattern {text!r}: a brace that is not a {{field}} (fields are {{name}} or {{name:d}})")
        return cls(text, re.compile("".join(parts) + r"\Z"), tuple(fields))

    def match(self, name: str) -> dict[str, str] | None:
        """The fields of ``name``, or None when it does not fit the pattern."""
        m = self.regex.match(name)
        return dict(m.groupdict()) if m else None


def natural_key(text: str) -> tuple:
    """Sort key putting ``take_2`` before ``take_10`` (numbers compared as numbers)."""
    return tuple(int(t) if t.isdigit() else t for t in re.split(r"(\d+)", text))


def safe_name(text: str) -> str:
    """``text`` made safe as a file-name stem (letters, digits, ``-_.`` kept; the rest ``-``)."""
    out = re.sub(r"[^\w.-]+", "-", str(text)).strip("-.")
    return out or "unnamed"


__all__ = ["NamePattern", "PatternError", "natural_key", "safe_name"]
