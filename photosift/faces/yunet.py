"""YuNet (OpenCV model zoo, 2023mar, int8; five landmarks) through OpenCV's ``FaceDetectorYN``: faces and landmarks
of an RGB image, with the same contract as :class:`photosift.faces.scrfd.Scrfd`.

onnxruntime cannot run the block-quantised file (its ``DequantizeLinear`` nodes carry a block size for per-tensor
scales); OpenCV's DNN module, which the file was made for, runs it at any input size. A ``FaceDetectorYN`` holds its
network's state, so each thread gets its own (the model is 100 kB).
"""

from __future__ import annotations

import threading
from functools import cache

import cv2
import numpy as np

from photosift.faces.models import model_path
from photosift.imaging import fit_to

NMS_IOU = 0.4
TOP_K = 5000
_quiet = threading.Lock()  # OpenCV's log level is the process's: one thread lowers and restores it at a time


class Yunet:
    """YuNet: ``detect(rgb, canvas, min_score)`` -> boxes ``(n, 4)`` as ``(l, t, w, h)``, scores ``(n,)`` 0-1,
    landmarks ``(n, 5, 2)``; thread-safe."""

    def __init__(self) -> None:
        self._path = str(model_path("yunet"))
        self._local = threading.local()

    def detect(self, rgb: np.ndarray, canvas: int, min_score: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Faces of ``rgb`` (pixels of ``rgb``) scoring ``min_score`` or more, the image fitted into a ``canvas`` x
        ``canvas`` square."""
        resized, scale = fit_to(rgb, canvas)
        network = self._network()
        network.setInputSize((resized.shape[1], resized.shape[0]))
        network.setScoreThreshold(float(min_score))
        _, found = network.detect(cv2.cvtColor(resized, cv2.COLOR_RGB2BGR))  # trained on OpenCV's BGR images
        if found is None or len(found) == 0:
            return np.zeros((0, 4)), np.zeros(0), np.zeros((0, 5, 2))
        found = found.astype(np.float64)
        return found[:, :4] / scale, found[:, 14], found[:, 4:14].reshape(-1, 5, 2) / scale

    def _network(self) -> cv2.FaceDetectorYN:
        if not hasattr(self._local, "network"):
            # without a line on stderr per thread: OpenCV warns that its new graph engine ignores the (default) target
            with _quiet:
                level = cv2.utils.logging.getLogLevel()
                cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)
                try:
                    self._local.network = cv2.FaceDetectorYN.create(self._path, "", (320, 320), 0.5, NMS_IOU,
                                                                    TOP_K)
                finally:
                    cv2.utils.logging.setLogLevel(level)
        return self._local.network


@cache
def shared() -> Yunet:
    """The process's one YuNet, shared by the detector and the landmark refiner."""
    return Yunet()
