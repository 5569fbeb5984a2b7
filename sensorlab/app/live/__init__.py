"""The studio's live view: one panel per stream (time series, audio spectrogram, camera, events), stream health and model predictions."""
