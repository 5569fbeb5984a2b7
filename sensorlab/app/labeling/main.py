"""Open a session for labeling in its own window: ``python -m sensorlab.app.labeling.main run1.h5``.

`main(argv)` is what ``sensorlab label FILE`` calls. `LabelingWindow` wraps a `LabelingView`
with a menu (open, label set, keys) and a status bar.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from PySide6.QtCore import QSize, Signal
from PySide6.QtGui import QAction, QKeySequence, QShowEvent
from PySide6.QtWidgets import QApplication, QMainWindow, QMessageBox, QWidget

from sensorlab.app.common.session_dialog import session_file_dialog
from sensorlab.app.common.take_keyboard import take_keyboard
from sensorlab.app.common.window_size import fit_to_screen
from sensorlab.app.labeling.view import LabelingView
from sensorlab.labeling.labelset import LabelSet


#: Size a labeling window opens at (lanes, tracks and their titles laid out without overlap).
DEFAULT_SIZE = QSize(1400, 900)


def default_size(window: QWidget) -> QSize:
    """`DEFAULT_SIZE`, shrunk to 90 % of the available screen area when that is smaller."""
    return fit_to_screen(window, DEFAULT_SIZE)


class LabelingWindow(QMainWindow):
    """A main window around one `LabelingView` (replaced when another session is opened).

    ``closed`` is emitted when the window closes (the studio then takes the keyboard back)."""

    closed = Signal()

    def __init__(self, path: str | Path, labels: LabelSet | None = None, *, play_audio: bool = True):
        super().__init__()
        self.play_audio = play_audio
        self.labels = labels
        self.view: LabelingView | None = None
        self.open_dialog = None  # File ▸ Open…'s dialog while it is up
        menu = self.menuBar().addMenu("&File")
        act = QAction("&Open session…", self, shortcut=QKeySequence.StandardKey.Open)
        act.triggered.connect(self._ask_open)
        menu.addAction(act)
        act = QAction("&Label set…", self)
        act.triggered.connect(self._edit_labels)
        menu.addAction(act)
        # Ctrl+W: a window opened from the studio's Sessions list had no way to close it from the
        # keyboard or the menu but "Quit" (which closes only this window, as Close does).
        act = QAction("&Close", self, shortcut=QKeySequence("Ctrl+W"))
        act.triggered.connect(self.close)
        menu.addAction(act)
        # Ctrl+Q spelled out: StandardKey.Quit is empty on some platforms (and on Windows).
        act = QAction("&Quit", self, shortcut=QKeySequence("Ctrl+Q"))
        act.triggered.connect(self.close)
        menu.addAction(act)
        self.resize(default_size(self))
        self.open(path)

    def open(self, path: str | Path) -> None:
        """Show ``path`` instead of the open session. A file that cannot be opened leaves the
        open session as it was and says why on its status line (the old view was closed first,
        which left an empty window behind a traceback)."""
        try:
            view = LabelingView(path, self.labels, play_audio=self.play_audio)
        except (OSError, ValueError, KeyError) as e:
            if self.view is None:
                raise
            from sensorlab.labeling.timebase import one_line

            msg = one_line(e)
            self.view.message.emit(f"not opened: {msg}" if Path(path).name in msg else f"not opened: {path}: {msg}")
            return
        if self.view is not None:
            self.view.close_session()
            self.view.deleteLater()
        self.view = view
        self.setCentralWidget(self.view)
        self.setWindowTitle(f"sensorlab · labeling · {Path(path).name}")
        self.view.setFocus()

    def _ask_open(self) -> None:
        # Non-blocking, kept for a look from tests; the overview caches beside sessions are hidden.
        folder = self.view.path.parent if self.view is not None else ""
        self.open_dialog = session_file_dialog(self, "Open session", folder)
        self.open_dialog.fileSelected.connect(self.open)
        self.open_dialog.open()

    def _edit_labels(self) -> None:
        from sensorlab.app.labeling.labelset_editor import LabelSetEditor

        v = self.view
        if v is None:
            return
        target = v.labels_path or v.path.parent / LabelSet.FILENAME
        LabelSetEditor(v.labels, target, self).exec()
        v._update_legend()

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 (Qt override)
        """Take the keyboard when shown, for the labeling view: its keys (1–9, Space, Ctrl+Z…)
        work before the first click, with or without a window manager."""
        super().showEvent(event)
        if not event.spontaneous():
            take_keyboard(self, self.view)

    def closeEvent(self, ev):  # noqa: N802
        if self.view is not None:
            self.view.close_session()
        super().closeEvent(ev)
        self.closed.emit()


#: Printed instead of letting Qt abort when there is no display (see `sensorlab.app.main.has_display`).


def main(argv: list[str] | None = None) -> int:
    """Open ``FILE`` for labeling; returns the exit code (Qt's, 2 without a display or file, 1 if unreadable)."""
    from sensorlab.app.common.display import LABEL_NO_DISPLAY as NO_DISPLAY, has_display

    p = argparse.ArgumentParser(prog="sensorlab label", description="Label a recorded session.")
    p.add_argument("file", type=Path, help="session file (.h5)")
    p.add_argument("--labels", type=Path, default=None, help="label set (labels.toml); default: next to the session")
    p.add_argument("--mute", action="store_true", help="play back without sound")
    args = p.parse_args(argv)
    if not has_display():  # before any QApplication: without a display Qt aborts the process
        print(NO_DISPLAY, file=sys.stderr)
        return 2
    if not args.file.exists():
        print(f"sensorlab label: no such session: {args.file}", file=sys.stderr)
        return 2
    from sensorlab.labeling.timebase import SessionUnreadable, session_span

    try:
        session_span(args.file)  # a damaged file: one line here rather than a dialog
    except SessionUnreadable as e:
        print(f"sensorlab label: {e}", file=sys.stderr)
        return 1
    from sensorlab.app.common import theme

    app = QApplication.instance() or QApplication(sys.argv[:1])
    theme.apply(app)
    labels = LabelSet.load(args.labels) if args.labels else None
    try:
        w = LabelingWindow(args.file, labels, play_audio=not args.mute)
    except Exception as e:  # noqa: BLE001 - show why the file cannot be opened, not a traceback
        QMessageBox.critical(None, "Cannot open session", str(e))
        return 1
    w.show()
    from sensorlab.app.common.display import close_on_signals

    close_on_signals(w)  # Ctrl-C closes the window normally (edits are already saved)
    return app.exec()


if __name__ == "__main__":
    raise SystemExit(main())
