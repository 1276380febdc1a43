"""Face recognisers: an aligned 112x112 face in, an L2-normalised vector out (OpenVINO or onnxruntime, as
:mod:`photosift.faces.onnx` measured).

- ``w600k_mbf`` (default): InsightFace's MobileFaceNet trained on WebFace600K (the recogniser of its ``buffalo_s``
  pack), 512-d, RGB ``(x - 127.5) / 127.5``. Non-commercial research use only.
- ``sface``: OpenCV model zoo's SFace (2021dec, int8 block-quantised), 128-d, RGB 0-255. Apache-2.0.
- ``sface-yunet``: the same SFace on faces found and aligned by YuNet (MIT) instead of SCRFD: no InsightFace model
  anywhere, so every model of the stack may be used commercially.

All were trained on faces aligned by five landmarks onto the ArcFace template (:mod:`photosift.faces.alignment`);
each recogniser names the detection network that finds its faces and their landmarks (``detector``).
A face's vector may be the normalised sum of the vectors of the aligned face and its mirror image ("flip" test-time
augmentation, one more forward per face, 7.4 ms with OpenVINO): on the shared evaluation data it raised CFP
frontal-profile pairs from 94.5 % to 95.3 % at one threshold and called none of their different-person pairs a match
(1.1 % before). Which faces get it is the engine's choice (:meth:`photosift.faces.engine.FaceEngine.embed`).

A recogniser with a *centre* (``centres.json``: ``w600k_mbf``) gives ``unit(v - centre)``, ``v`` the unit vector
above and the centre the mean unit vector of many faces: what all faces share is taken out, so cosines measure what
tells people apart. On people not used to fit it or the score (``eval/calibrate_similarity.py``), at the same
false-match rate, same-person pairs reaching 80 went from 97.0 % to 97.6 % and reaching 90 from 91.7 % to 94.4 %
(side views 82.5 % -> 88.5 % at 90). The centre is part of what a vector means: catalogs written without it are
converted by migration 0016.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

from photosift.errors import ModelUnavailable
from photosift.faces.alignment import align
from photosift.faces.onnx import Forward, forwards


def l2_normalize(x: np.ndarray) -> np.ndarray:
    """Rows of ``x`` scaled to unit length (zero rows stay zero)."""
    x = np.asarray(x, dtype=np.float32)
    return x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), 1e-12)


@dataclass(frozen=True)
class RecognizerSpec:
    """What a recogniser is: its model file, vector length, input scaling and batch limit, and the
    ``FaceModelVersion`` the Rekognition endpoint reports for vectors it made."""

    name: str
    face_model_version: str
    model: str
    dim: int
    mean: float
    scale: float
    batch: int | None  # None: any batch size
    runtime: str = "onnxruntime"
    dequantize: bool = False  # its file stores int8 weights, expanded to float32 before loading (``onnx``)
    centred: bool = False  # vectors are taken from the recogniser's centre (``centres.json``)
    quick_bf16: bool = False  # album faces without the mirror image are embedded in bf16 (``Recognizer.embed``)
    detector: str = "scrfd"  # the network that finds and aligns its faces (``detectors.NETWORKS``)


RECOGNIZERS: dict[str, RecognizerSpec] = {
    "w600k_mbf": RecognizerSpec("w600k_mbf", "2.0", "w600k_mbf", 512, 127.5, 1 / 127.5, None, runtime="openvino",
                                centred=True, quick_bf16=True),
    "sface": RecognizerSpec("sface", "2.1", "sface_int8", 128, 0.0, 1.0, 1, runtime="openvino", dequantize=True),
    "sface-yunet": RecognizerSpec("sface-yunet", "2.2", "sface_int8", 128, 0.0, 1.0, 1, runtime="openvino",
                                  dequantize=True, detector="yunet"),
}
DEFAULT_RECOGNIZER = "w600k_mbf"
RETIRED_FACE_MODEL_VERSIONS = {"facenet+dlib": "1.0"}
"""Recognisers of earlier releases, whose stored vectors can no longer be computed or compared with new ones."""
RECOGNIZER_ENV = "PHOTOSIFT_RECOGNIZER"
CENTRES_FILE = Path(__file__).with_name("centres.json")


@cache
def centre(name: str) -> np.ndarray:
    """The centre of recogniser ``name``'s unit vectors (``centres.json``)."""
    return np.asarray(json.loads(CENTRES_FILE.read_text())[name]["centre"], dtype=np.float32)


def centred(vectors: np.ndarray, centre_vector: np.ndarray) -> np.ndarray:
    """Unit vectors ``vectors`` taken from ``centre_vector`` and made unit again."""
    return l2_normalize(np.asarray(vectors, np.float32) - centre_vector)


def uncentred(vector: np.ndarray, centre_vector: np.ndarray) -> np.ndarray:
    """The unit vector ``v`` that :func:`centred` made ``vector`` of: ``c = unit(v - m)`` with ``|v| = 1`` is
    ``v = m + t c``, ``t`` the positive root of ``|m + t c| = 1``."""
    c, m = np.asarray(vector, np.float64), np.asarray(centre_vector, np.float64)
    along = float(c @ m)
    return (m + (-along + np.sqrt(along**2 + 1.0 - float(m @ m))) * c).astype(np.float32)


def active_recognizer() -> str:
    """The recogniser this process runs: ``PHOTOSIFT_RECOGNIZER``, default ``w600k_mbf``."""
    name = os.environ.get(RECOGNIZER_ENV, "").strip() or DEFAULT_RECOGNIZER
    if name not in RECOGNIZERS:
        raise ModelUnavailable(f"{RECOGNIZER_ENV}={name!r} is not a recogniser; choose one of {', '.join(RECOGNIZERS)}")
    return name


def face_model_version(recognizer: str) -> str:
    """The ``FaceModelVersion`` of vectors made by ``recognizer`` (current or retired)."""
    if recognizer in RECOGNIZERS:
        return RECOGNIZERS[recognizer].face_model_version
    return RETIRED_FACE_MODEL_VERSIONS.get(recognizer, "0.0")


class Recognizer:
    """One recogniser's session; ``embed`` is thread-safe (onnxruntime sessions are)."""

    def __init__(self, name: str = DEFAULT_RECOGNIZER) -> None:
        self.spec = RECOGNIZERS[name]
        self.name, self.dim = name, self.spec.dim
        self._forward, self._quick = forwards(self.spec.model, runtime=self.spec.runtime,
                                              dequantize=self.spec.dequantize,
                                              bf16=self.spec.quick_bf16)  # one forward twice where no bf16 one
        self.centre = centre(name) if self.spec.centred else None

    def embed(self, rgb: np.ndarray, landmarks: Sequence[np.ndarray],
              mirror: Callable[[np.ndarray], np.ndarray] | None = None) -> np.ndarray:
        """``(n, dim)`` unit vectors of the faces of ``rgb`` with these five-point ``landmarks`` (pixels of ``rgb``),
        as :meth:`embed_aligned` makes them."""
        if len(landmarks) == 0:
            return np.zeros((0, self.dim), np.float32)
        return self.embed_aligned([align(rgb, points) for points in landmarks], mirror)

    def embed_aligned(self, faces: Sequence[np.ndarray],
                      mirror: Callable[[np.ndarray], np.ndarray] | None = None) -> np.ndarray:
        """``(n, dim)`` unit vectors of aligned 112x112 RGB faces, taken from the recogniser's centre (if it has one).

        Without ``mirror`` (references), each face's vector averaged with its mirror image's. With it (album faces),
        each face is embedded once by the quick forward; the faces ``mirror`` marks (given those vectors, centred)
        are embedded again with their mirror images, the others keep that vector. The quick forward is bf16 where
        ``RecognizerSpec.quick_bf16`` says so and the CPU computes it natively (7.1 instead of 11.4 ms per face on
        the AMD server; vectors within cosine 0.994 of fp32's, 0.9999 on average), else the fp32 one: references
        and the album faces that are turned or masked, whose comparisons sit nearest the threshold, are always
        fp32."""
        stack = np.stack(faces)
        if mirror is None:
            return self._centred(self._mirrored(stack))
        quick = self._vectors(stack, self._quick)
        own = self._centred(quick)
        flip = np.asarray(mirror(own), bool)
        if flip.any():
            fp32 = quick[flip] if self._quick is self._forward else None  # the quick vectors, when they are fp32
            own[flip] = self._centred(self._mirrored(stack[flip], fp32))
        return own

    def _mirrored(self, faces: np.ndarray, vectors: np.ndarray | None = None) -> np.ndarray:
        """Unit vectors of ``faces`` averaged with their mirror images', in fp32 (``vectors``: the faces' own fp32
        vectors, when already computed)."""
        own = self._vectors(faces) if vectors is None else vectors
        return l2_normalize(own + self._vectors(faces[:, :, ::-1]))

    def _centred(self, vectors: np.ndarray) -> np.ndarray:
        return vectors if self.centre is None else centred(vectors, self.centre)

    def _vectors(self, faces: np.ndarray, run: Forward | None = None) -> np.ndarray:
        """``(n, dim)`` unit vectors of a stack of aligned faces ``(n, 112, 112, 3)`` (``run``: the fp32 forward
        unless given)."""
        run = run or self._forward
        blob = np.ascontiguousarray((faces.astype(np.float32).transpose(0, 3, 1, 2) - self.spec.mean) * self.spec.scale)
        step = self.spec.batch or len(blob)
        return l2_normalize(np.vstack([run(blob[i : i + step]) for i in range(0, len(blob), step)]))
