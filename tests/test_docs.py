"""The repository stands alone: every document cited by code or docs is in it, sections included."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TEXT = [
    *ROOT.glob("sensorlab/**/*.py"), *ROOT.glob("sensorlab/**/*.toml"), *ROOT.glob("tests/**/*.py"),
    *ROOT.glob("bench/**/*.py"), *ROOT.glob("docs/*.md"), *ROOT.glob("docs/performance/*.md"), ROOT / "README.md", ROOT / "Makefile",
]  # fmt: skip
# Citations of notes that live outside the repository (built from parts so this file does not match).
OUTSIDE = re.compile("|".join(["VIRTUAL" + "-DEVICES", "STYLE" + r" rules?\b", r"\.\./" + "shared", r"\bshared/"]))
# A document by its name (``docs/`` optional), or one of the performance rounds by its path.
DOC = re.compile(r"\b((?:docs/)?[A-Z][A-Z-]+\.md|docs/performance/[a-z-]+\.md)\b(?:[,§ ]+\"([^\"]+)\")?")


def _files():
    return [p for p in TEXT if p.is_file() and p.resolve() != Path(__file__).resolve()]


def test_no_citation_of_files_outside_the_repository():
    hits = [
        f"{path.relative_to(ROOT)}:{i}: {line.strip()}"
        for path in _files()
        for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if OUTSIDE.search(line)
    ]
    assert not hits, "cites notes that are not in the repository:\n" + "\n".join(hits)


def test_every_cited_document_and_section_exists():
    missing = []
    for path in _files():
        for name, section in DOC.findall(path.read_text(encoding="utf-8")):
            doc = ROOT / name if name.startswith("docs/") else next((p for p in (ROOT / name, ROOT / "docs" / name) if p.exists()), None)
            if doc is None or not doc.exists():
                missing.append(f"{path.relative_to(ROOT)}: {name}")
            elif section and not re.search(rf"^#+ .*{re.escape(section)}|\*\*{re.escape(section)}", doc.read_text(encoding="utf-8"), re.M):
                missing.append(f"{path.relative_to(ROOT)}: {name}, section {section!r}")
    assert not missing, "\n".join(missing)
