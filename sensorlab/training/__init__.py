"""Training, evaluation, export and quantization of small models from dataset files.

Nothing here is imported by the core layers, and nothing here imports the GUI. torch,
onnx and the TFLite converter are imported inside the functions that need them, so
`sensorlab --help` and the live studio never pay for them.
"""
