"""`UndoStack`: runs the commands of `sensorlab.labeling.commands` on one `AnnotationSet`, with undo,
redo, a history, a clean state and autosave."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from psygnal import Signal

from sensorlab.labeling.annotations import AnnotationSet

if TYPE_CHECKING:  # commands.py re-exports this module's UndoStack: no import back at run time
    from sensorlab.labeling.commands import Command

log = logging.getLogger(__name__)


class UndoStack:
    """Runs commands on one `AnnotationSet` with undo/redo, a history and a clean state.

    Parameters
    ----------
    annotations
        The set the commands edit.
    autosave
        Called with the set after every push, undo and redo (e.g.
        `sensorlab.labeling.store.autosaver`); when it returns, the state is marked clean.
        If it raises ``OSError`` (disk full, read-only medium) the edit stays applied, the
        stack stays dirty and ``autosave_failed`` fires with the message, so the GUI can warn
        instead of losing the edit.
    limit
        Maximum number of undo steps kept (0 = unlimited).

    Signals
    -------
    index_changed(int)
        After push/undo/redo; the argument is the new `index`.
    clean_changed(bool)
    autosave_failed(str)

    All fire on the thread that called push/undo/redo (the GUI thread).
    """

    index_changed = Signal(int)
    clean_changed = Signal(bool)
    autosave_failed = Signal(str)

    def __init__(
        self,
        annotations: AnnotationSet,
        *,
        autosave: Callable[[AnnotationSet], None] | None = None,
        limit: int = 0,
    ):
        self.annotations = annotations
        self.autosave = autosave
        self.limit = limit
        self._commands: list[Command] = []
        self._index = 0  # commands[:index] are done
        self._clean_index: int | None = 0  # None: the clean state was discarded from history

    # -- state ---------------------------------------------------------------------------
    @property
    def index(self) -> int:
        """Number of commands currently applied."""
        return self._index

    @property
    def history(self) -> list[str]:
        """Texts of all commands, done and undone (those from `index` on can be redone)."""
        return [c.text for c in self._commands]

    @property
    def can_undo(self) -> bool:
        return self._index > 0

    @property
    def can_redo(self) -> bool:
        return self._index < len(self._commands)

    @property
    def undo_text(self) -> str:
        return self._commands[self._index - 1].text if self.can_undo else ""

    @property
    def redo_text(self) -> str:
        return self._commands[self._index].text if self.can_redo else ""

    @property
    def is_clean(self) -> bool:
        """True when the set equals what was last saved (or the initial state)."""
        return self._clean_index == self._index

    def set_clean(self) -> None:
        was = self.is_clean
        self._clean_index = self._index
        if not was:
            self.clean_changed.emit(True)

    def clear(self) -> None:
        """Forget the history (after loading another session); the current state is clean."""
        self._commands.clear()
        self._index = 0
        self._clean_index = 0
        self.index_changed.emit(0)

    # -- operations ---------------------------------------------------------------------------
    def push(self, command: Command) -> None:
        """Do ``command`` and record it; discards anything that could be redone."""
        was_clean = self.is_clean
        command.do(self.annotations)  # raises before recording if the command is invalid
        del self._commands[self._index:]
        if self._clean_index is not None and self._clean_index > self._index:
            self._clean_index = None  # the saved state was in the discarded redo branch
        self._commands.append(command)
        self._index += 1
        if self.limit and len(self._commands) > self.limit:
            drop = len(self._commands) - self.limit
            del self._commands[:drop]
            self._index -= drop
            if self._clean_index is not None:
                self._clean_index = self._clean_index - drop if self._clean_index >= drop else None
        self._after_change(was_clean)

    def undo(self) -> None:
        if not self.can_undo:
            return
        was_clean = self.is_clean
        self._commands[self._index - 1].undo(self.annotations)
        self._index -= 1
        self._after_change(was_clean)

    def redo(self) -> None:
        if not self.can_redo:
            return
        was_clean = self.is_clean
        self._commands[self._index].do(self.annotations)
        self._index += 1
        self._after_change(was_clean)

    def set_index(self, index: int) -> None:
        """Undo or redo until `index` commands are applied (clicking in the history list)."""
        if not 0 <= index <= len(self._commands):
            raise IndexError(index)
        while self._index > index:
            self.undo()
        while self._index < index:
            self.redo()

    def _after_change(self, was_clean: bool) -> None:
        self.index_changed.emit(self._index)
        if self.autosave is not None:
            try:
                self.autosave(self.annotations)
            except OSError as e:
                log.error("autosave failed: %s", e)
                self.autosave_failed.emit(str(e))
            else:
                self._clean_index = self._index
        if self.is_clean != was_clean:
            self.clean_changed.emit(self.is_clean)


__all__ = ["UndoStack"]
