"""The training tab: runs train/export/quantize as subprocesses with curves, log and results."""
