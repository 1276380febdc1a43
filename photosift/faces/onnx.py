"""Runtimes for the ONNX face models: CPU only, a fixed number of threads, quiet logs.

onnxruntime runs every model; OpenVINO runs the ones it runs faster with the same results (:func:`forwards`):
InsightFace's w600k_mbf recogniser takes 7.6 ms per face there against 14.9 ms in onnxruntime on this project's
2-core server (both in fp32, one thread; the vectors agree to 1e-5), while SCRFD gains 4 %. OpenCV zoo's SFace ships
with its weights in int8 blocks, which OpenVINO cannot read: expanded to float32 first (:func:`_dequantized`), the
same function runs there in 16 ms per face against 60 ms in onnxruntime on the int8 file (cosine 1.0 between them).
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort

from photosift.faces.models import model_path

Forward = Callable[[np.ndarray], np.ndarray]
"""A model's forward pass: an input batch in, its first output out."""

THREADS_ENV = "PHOTOSIFT_MODEL_THREADS"
"""Threads one model forward may use (default 1: analysis runs one process per core, and two sessions of two
threads each on two cores only fight)."""


def session(name: str, dequantize: bool = False) -> ort.InferenceSession:
    """An inference session of the verified model ``name`` (see :mod:`photosift.faces.models`); ``dequantize``:
    the file's int8 weights expanded to float32 first (:func:`_dequantized`)."""
    path = model_path(name)
    model: str | bytes = _dequantized(path) if dequantize else str(path)
    options = ort.SessionOptions()
    options.intra_op_num_threads = _threads()
    options.inter_op_num_threads = 1
    options.log_severity_level = 3  # errors only: some shipped graphs list their weights among the inputs
    return ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])


def forwards(name: str, *, runtime: str, dequantize: bool = False, bf16: bool = False
             ) -> tuple[Forward, Forward]:
    """The fp32 forward pass of the verified model ``name`` in ``runtime`` ("onnxruntime" or "openvino"), any batch
    size, thread-safe, and a quick one: with ``bf16`` (OpenVINO only), a bfloat16 pass compiled from the same
    reading of the model where the CPU computes bf16 natively (AVX-512 BF16 or AMX, as OpenVINO's CPU plugin
    reports; elsewhere it is slower); otherwise the fp32 pass itself."""
    if runtime == "openvino":
        return _openvino_forwards(_dequantized(model_path(name)) if dequantize else model_path(name), bf16)
    model = session(name, dequantize)
    input_name = model.get_inputs()[0].name

    def run(batch: np.ndarray) -> np.ndarray:
        return model.run(None, {input_name: batch})[0]

    return run, run


def _openvino_forwards(model_file: Path | bytes, bf16: bool) -> tuple[Forward, Forward]:
    """The model at ``model_file`` (or serialised in it) compiled by OpenVINO's CPU plugin in fp32 and, with
    ``bf16`` where the CPU computes it natively, in bf16 (``INFERENCE_PRECISION_HINT``; fp32 is never lowered on its
    own, so every machine computes the same fp32 vectors); the batch dimension left free, no thread pinned to a core
    (two analysis processes pinned theirs to the same core); one inference request per thread."""
    ov = _openvino()
    core = ov.Core()
    model = core.read_model(model_file, b"") if isinstance(model_file, bytes) else core.read_model(str(model_file))
    shape = model.inputs[0].get_partial_shape()
    shape[0] = ov.Dimension(-1)
    model.reshape({model.inputs[0]: shape})

    def compiled(precision: str) -> Forward:
        return _openvino_run(core.compile_model(model, "CPU", {
            "INFERENCE_NUM_THREADS": _threads(), "NUM_STREAMS": 1, "ENABLE_CPU_PINNING": False,
            "INFERENCE_PRECISION_HINT": precision, "PERFORMANCE_HINT": "LATENCY"}))

    fp32 = compiled("f32")
    native = bf16 and "BF16" in core.get_property("CPU", "OPTIMIZATION_CAPABILITIES")
    quick = compiled("bf16") if native else fp32
    # One inference here, in the one thread that loads the models: OpenVINO's bindings set up their numpy bridge
    # (once per process) on first use behind a static guard, and two threads' first inferences at once deadlock
    # there (pybind11's gil_safe_call_once; seen as a server whose CompareFaces embedded both sides at once and
    # never answered). The quick forward: album faces take it first anyway.
    quick(np.zeros((1, *(d.get_length() for d in list(shape)[1:])), np.float32))
    return fp32, quick


def _openvino() -> Any:
    """OpenVINO's runtime without its model converter. ``import openvino`` also imports ``openvino.tools.ovc``,
    which, unless the user opted out (``opt_in_out --opt_out``), sends a usage event to Google Analytics from a
    forked process on every import: a self-hosted service must not phone home, and each analysis process paid
    ~0.3 s of its start-up for it. photosift converts no model, so the converter is left out while ``openvino``
    loads (then ``openvino.convert_model`` is missing, but ``openvino.tools.ovc`` can still be imported)."""
    converter = "openvino.tools.ovc"
    blocked = converter not in sys.modules
    if blocked:
        sys.modules[converter] = None  # type: ignore[assignment]  # an ImportError, which openvino/__init__ skips
    try:
        import openvino
    finally:
        if blocked and sys.modules.get(converter, 0) is None:
            del sys.modules[converter]
    return openvino


def _openvino_run(compiled: Any) -> Forward:
    """A compiled model's forward pass, one inference request per thread."""
    output = compiled.outputs[0]
    requests = threading.local()

    def run(batch: np.ndarray) -> np.ndarray:
        if not hasattr(requests, "request"):
            requests.request = compiled.create_infer_request()
        return np.array(requests.request.infer({0: batch})[output])  # a copy: the request reuses its memory

    return run


def _threads() -> int:
    return max(1, int(os.environ.get(THREADS_ENV, "1") or 1))


def _dequantized(path: Path) -> bytes:
    """The serialised model at ``path`` with the weights it stores in int8 (each a ``DequantizeLinear`` of constants:
    OpenCV zoo's block-quantised exports) expanded to the float32 values they stand for, and without the graph inputs
    that no node reads (those exports list the float weights they replaced as inputs, which runtimes would require).
    The network computes what it computed; runtimes that cannot read block-quantised weights can run it."""
    import onnx
    from onnx import numpy_helper

    model = onnx.load(str(path))
    constants = {item.name: item for item in model.graph.initializer}
    for node in [n for n in model.graph.node if n.op_type == "DequantizeLinear"]:
        if not all(name in constants for name in node.input):
            continue
        values = [numpy_helper.to_array(constants[name]) for name in node.input]
        weights, scale = values[0], values[1].astype(np.float32)
        zero = values[2].astype(np.float32) if len(values) > 2 else np.zeros_like(scale)
        attributes = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
        axis, block = int(attributes.get("axis", 1)), int(attributes.get("block_size", 0))
        if block:  # one scale per ``block`` values along ``axis``
            scale, zero = (np.repeat(v, block, axis=axis).take(range(weights.shape[axis]), axis=axis)
                           for v in (scale, zero))
        elif scale.ndim == 1 and scale.size > 1:  # one scale per slice along ``axis``
            shape = [1] * weights.ndim
            shape[axis] = -1
            scale, zero = scale.reshape(shape), zero.reshape(shape)
        expanded = (weights.astype(np.float32) - zero) * scale
        model.graph.initializer.append(numpy_helper.from_array(expanded.astype(np.float32), node.output[0]))
        model.graph.node.remove(node)
    return without_unused_inputs(model).SerializeToString()


def without_unused_inputs(model: Any) -> Any:
    """The ONNX ``model`` (a ``ModelProto``) without the graph inputs and constants that no node reads, in place."""
    consumed = {name for node in model.graph.node for name in node.input}
    for items in (model.graph.input, model.graph.initializer):
        for item in [item for item in items if item.name not in consumed]:
            items.remove(item)
    return model
