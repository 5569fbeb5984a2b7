"""The studio's error of state, in a module of its own so that `Studio` and its mixins
(`sensorlab.studio.live_models`) raise the same class; import it from `sensorlab.studio`."""


class StudioBusy(RuntimeError):
    """The call does not fit the studio's state (recording already, no device running, …)."""
