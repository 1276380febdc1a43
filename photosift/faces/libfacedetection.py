"""libfacedetection, the CNN inside the ``yuface`` wheel, called without holding Python's GIL.

``yuface.c_detect`` keeps the GIL for the whole detection (~0.1-0.4 s), so a detection in one thread of the server
stalls every other thread and the event loop. The same C function of the wheel's bundled ``libfacedetection.so``
called through ``ctypes`` releases the GIL and returns the same numbers. Where the library or its symbol is not
found, ``yuface.c_detect`` is used as it is.
"""

from __future__ import annotations

import ctypes
from collections.abc import Callable
from pathlib import Path

import numpy as np

# int* facedetect_cnn(unsigned char* result, unsigned char* bgr, int width, int height, int step), C++ name
_SYMBOL = "_Z14facedetect_cnnPhS_iii"
_RESULT_BYTES = 0x9000  # DETECT_BUFFER_SIZE of libfacedetection
_ROW = 16  # int16 values per face: confidence, x, y, w, h, 5 landmark (x, y) pairs, one unused


def load() -> Callable[[np.ndarray], np.ndarray]:
    """A function ``bgr (h, w, 3) uint8 -> (faces, 16) int16`` that runs libfacedetection (GIL released when
    possible). Raises ``ImportError`` when ``yuface`` is not installed."""
    import yuface

    try:
        library = ctypes.CDLL(str(Path(yuface.__file__).with_name("libfacedetection.so")))
        function = getattr(library, _SYMBOL)
    except (OSError, AttributeError):

        def detect_holding_the_gil(bgr: np.ndarray) -> np.ndarray:
            result = yuface.c_detect(np.ascontiguousarray(bgr, dtype=np.uint8))
            return np.zeros((0, _ROW), np.int16) if result is None else np.asarray(result).astype(np.int16)

        return detect_holding_the_gil
    function.restype = ctypes.c_void_p
    function.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int, ctypes.c_int, ctypes.c_int]

    def detect(bgr: np.ndarray) -> np.ndarray:
        image = np.ascontiguousarray(bgr, dtype=np.uint8)
        result = np.zeros(_RESULT_BYTES, dtype=np.uint8)
        if function(result.ctypes.data, image.ctypes.data, image.shape[1], image.shape[0], image.strides[0]) is None:
            return np.zeros((0, _ROW), np.int16)
        count = int(result[:4].view(np.int32)[0])
        return result[4 : 4 + count * _ROW * 2].view(np.int16).reshape(count, _ROW).copy()

    detect(np.zeros((32, 32, 3), np.uint8))  # the library loads its weights on the first call (not thread-safe)
    return detect
