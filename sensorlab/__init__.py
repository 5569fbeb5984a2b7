"""sensorlab: record camera, microphone and microcontroller sensors on one clock, label, build datasets."""

__version__ = "0.1.0"
