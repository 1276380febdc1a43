"""onnxruntime sessions for the face models: CPU only, a fixed number of threads, quiet logs."""

from __future__ import annotations

import os
from pathlib import Path

import onnxruntime as ort

from photosift.faces.models import model_path

THREADS_ENV = "PHOTOSIFT_MODEL_THREADS"
"""Threads one model forward may use (default 1: analysis runs one process per core, and two sessions of two
threads each on two cores only fight)."""


def session(name: str, strip_unused_inputs: bool = False) -> ort.InferenceSession:
    """An inference session of the verified model ``name`` (see :mod:`photosift.faces.models`).

    ``strip_unused_inputs``: drop graph inputs no node reads before loading (OpenCV zoo's block-quantised exports
    list the float weights they replaced as inputs, which onnxruntime would then require)."""
    path = model_path(name)
    model: str | bytes = str(path)
    if strip_unused_inputs:
        model = _without_unused_inputs(path)
    options = ort.SessionOptions()
    options.intra_op_num_threads = max(1, int(os.environ.get(THREADS_ENV, "1") or 1))
    options.inter_op_num_threads = 1
    options.log_severity_level = 3  # errors only: some shipped graphs list their weights among the inputs
    return ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])


def _without_unused_inputs(path: Path) -> bytes:
    """The serialised model at ``path`` without the graph inputs that no node consumes."""
    import onnx

    model = onnx.load(str(path))
    consumed = {name for node in model.graph.node for name in node.input}
    unused = [item for item in model.graph.input if item.name not in consumed]
    for item in unused:
        model.graph.input.remove(item)
    return model.SerializeToString()
