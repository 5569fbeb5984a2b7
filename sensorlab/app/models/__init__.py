"""Loading models into the studio (mapping dialog) and the host-vs-host / host-vs-device parity views."""

#: What a file dialog asking for a model offers: ONNX and TFLite builds (the int8 `.tflite` is
#: the one that goes on the microcontroller, and the parity view compares it with the float one).
MODEL_FILES = "Models (*.onnx *.tflite);;All files (*)"
