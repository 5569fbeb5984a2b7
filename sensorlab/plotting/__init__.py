"""Drawing helpers without Qt: plots rasterised into plain pixel buffers (NumPy arrays) that the
GUI (sensorlab/app/) wraps in a QImage and draws in one call."""
