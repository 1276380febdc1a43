"""photosift: self-hosted photo analysis — blur, faces, storage and a Rekognition-compatible API.

A self-hosted service sends nothing home: onnxruntime (1.29 and later) records a usage event for Microsoft in every
process that loads it, with a device identifier, and queues it under ``~/.cache/Microsoft`` until it can upload it,
unless ``ORT_DISABLE_TELEMETRY`` is set before it loads; photosift sets it (a value already set is kept) before any
of its modules imports onnxruntime. OpenVINO's telemetry: ``photosift.faces.onnx._openvino``.
"""

import os

os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")

__version__ = "0.1.0"
