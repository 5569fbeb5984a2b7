"""What the Datasets tab remembers between studio starts: its spec form (streams, labels, window,
split), the tag filter, the query and the dataset file it writes, in the studio's settings
(``datasets/…``), as the session form remembers the next session's fields. A dataset file that
is already there is shown when the tab first appears (its report, Train on it →), instead of
"not built yet" over a file the user built yesterday.

A remembered stream that none of the sessions in the folder holds any more (renamed, or
another rig) is left out of the restored form, and the tab says which and why, instead of a
preview that fails on a stream the user did not pick this time.
"""

from __future__ import annotations

import json
import logging

from PySide6.QtCore import QSettings

log = logging.getLogger(__name__)

FORM_KEY, TAGS_KEY, WHERE_KEY, OUTPUT_KEY = "datasets/form", "datasets/tags", "datasets/where", "datasets/output"


def remember(tab, settings: QSettings) -> None:
    """Store ``tab``'s form, tag filter, query and chosen output file in ``settings``."""
    settings.setValue(FORM_KEY, json.dumps(tab.form.to_dict()))
    settings.setValue(TAGS_KEY, tab.picker.tag_filter.text())
    settings.setValue(WHERE_KEY, tab.where.text())
    # Only a file the user chose: the default follows the sessions folder.
    settings.setValue(OUTPUT_KEY, tab.output.text() if tab.output.isModified() else "")


def restore(tab, settings: QSettings) -> bool:
    """Fill ``tab`` from ``settings``; False when nothing was remembered (or it cannot be read,
    which is logged: the form then keeps its defaults)."""
    text = settings.value(FORM_KEY)
    if not text:
        return False
    try:
        tab.form.set_dict(json.loads(str(text)))
    except (ValueError, TypeError, KeyError) as e:
        log.warning("the Datasets tab's remembered spec could not be restored (%s): starting from the defaults", e)
        return False
    tab.picker.tag_filter.setText(str(settings.value(TAGS_KEY, "") or ""))
    tab.where.setText(str(settings.value(WHERE_KEY, "") or ""))
    if output := str(settings.value(OUTPUT_KEY, "") or ""):
        tab.output.setText(output)
        tab.output.setModified(True)
    return True


def drop_missing_streams(tab) -> str:
    """Remove the form's streams that no session in the picker's folder holds; returns what to
    tell the user ("" when every stream is there, or when the folder lists no sessions yet)."""
    known = {s for info in tab.picker.infos for s in info.streams}
    if not known:
        return ""
    missing = [name for name in tab.form.stream_names() if name not in known]
    if not missing:
        return ""
    doc = tab.form.to_dict()
    doc["streams"] = [s for s in doc["streams"] if s["name"] not in missing]
    tab.form.set_dict(doc)
    names = ", ".join(repr(n) for n in missing)
    return (f"Remembered stream {names} is in none of the sessions in {tab.picker.folder}: left out of the spec. "
            "Add the streams these sessions hold under Streams.")  # fmt: skip


__all__ = ["remember", "restore", "drop_missing_streams"]
