"""What the studio window does for a running model: its settings, a new mapping, unloading it.

Every live model's predictions panel has a **Model ▾** button (`PredictionPanel.model_action`):

- **Settings…** (`model_settings_dialog.ModelSettingsDialog`): the name of its predictions stream, smoothing (none, or
  a moving average over N windows) and events (a class, the threshold its probability must
  rise above for a ``start``, and the release it must fall below for a ``stop``: hysteresis).
  Apply or OK changes the running model (`Studio.tune_model`): from its next window, keeping
  everything drawn and recorded so far.
- **Map again…**: the mapping dialog with the model's current mapping filled in; OK runs the
  model with the new one in its place (`Studio.remap_model`).
- **Unload**: the model stops and its panel goes (`Studio.unload_model`); a recording keeps
  what it predicted so far.

After each change the window's rig text says what runs (`Studio.models_rig`), so **Devices… →
Save rig…** saves the models as set and a recording stores them (docs/INFERENCE.md).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sensorlab.app.models.model_settings_dialog import ModelSettingsDialog
    from sensorlab.inference.live_settings import ModelSettings


class ModelControls:
    """The studio window's answers to a predictions panel's Model ▾ (a mixin of `MainWindow`:
    it uses ``studio``, ``live_view``, ``rig_text``, ``post`` and ``show_error``)."""

    def _on_model_action(self, action: str, stream: str) -> None:
        {"settings": self.model_settings, "remap": self.remap_model, "unload": self.unload_model}[action](stream)

    def model_settings(self, stream: str) -> ModelSettingsDialog | None:
        """Open the settings of the model behind ``stream`` (non-modal: the plots go on)."""
        from sensorlab.app.models.model_settings_dialog import ModelSettingsDialog

        try:
            proc = self.studio.running_model(stream)
        except Exception as e:  # noqa: BLE001 - StudioBusy / ValueError: said in the messages
            self.show_error(str(e))
            return None
        names = {"name": proc.name}  # follows a rename, for the next Apply

        def apply(new: ModelSettings) -> str:
            try:
                names["name"] = self.studio.tune_model(names["name"], **{k: getattr(new, k) for k in ("name", "smooth", "event_label", "threshold", "release")})
            except Exception as e:  # noqa: BLE001 - StudioBusy / ValueError carry the fix
                return str(e)
            self._sync_rig()
            self.post(f"{names['name']}: {describe(new)}")
            return ""

        dialog = ModelSettingsDialog(proc.settings(), list(proc.model.labels), proc.model.mapping.hop, apply, parent=self)
        dialog.open()
        self.model_dialog = dialog
        return dialog

    def unload_model(self, stream: str) -> None:
        """Stop the model behind ``stream``; its panel goes (a recording keeps what it predicted)."""
        try:
            self.studio.unload_model(stream)
        except Exception as e:  # noqa: BLE001
            self.show_error(str(e))
            return
        self._sync_rig()
        kept = " (the recording keeps its predictions so far)" if self.studio.recording else ""
        self.post(f"{stream} unloaded{kept}; Model ▾ → Load model… runs it again")

    def remap_model(self, stream: str):
        """The mapping dialog on the running model's mapping; OK replaces it in place. Returns the dialog."""
        from sensorlab.app.models.model_dialog import MappingDialog

        try:
            proc = self.studio.running_model(stream)
        except Exception as e:  # noqa: BLE001
            self.show_error(str(e))
            return None
        model = proc.model
        # A sensorlab model's contract wins when it is loaded again: a mapping saved beside it
        # would never be read (and the demo model's folder is the package's own).
        dialog = MappingDialog(model.path, dict(self.studio.streams), parent=self, mapping=model.mapping, save=model.contract is None)

        def done() -> None:
            try:
                added = self.studio.remap_model(stream, dialog.mapping)
            except Exception as e:  # noqa: BLE001 - refused: the old model runs on
                self.show_error(f"{stream} not mapped again: {e}")
                return
            self._sync_rig()
            self.post(f"{stream} mapped again: {', '.join(added)} on {dialog.mapping.stream}")

        dialog.accepted.connect(done)
        dialog.open()
        self.model_dialog = dialog
        return dialog

    def _on_stream_removed(self, name: str) -> None:
        if self.live_view is not None:
            self.live_view.remove_stream(name)

    def _on_stream_renamed(self, old: str, info) -> None:
        if self.live_view is not None:
            self.live_view.rename_stream(old, info)

    def _sync_rig(self) -> None:
        """The rig text says what runs now (what Save rig… writes and a recording stores)."""
        from sensorlab.acquisition.rig import RigError

        try:
            self.rig_text = self.studio.models_rig(self.rig_text)
        except (RigError, ValueError) as e:  # a rig text the window cannot parse: left as it was
            self.show_error(f"the rig could not be updated with the running models: {e}")


def describe(s: ModelSettings) -> str:
    """``moving average over 5 windows; events on clap above 0.80, below 0.50``."""
    smooth = f"moving average over {s.smooth} windows" if s.smooth > 1 else "no smoothing"
    if not s.event_label:
        return f"{smooth}; no events"
    release = s.release if s.release is not None else s.threshold
    return f"{smooth}; events on {s.event_label} above {s.threshold:.2f}, below {release:.2f}"


__all__ = ["ModelControls", "describe"]
