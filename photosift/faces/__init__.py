"""Faces: detect, embed and compare — a tiny functional facade over the process-wide face engine.

Boxes are ``(left, top, width, height)`` and landmarks ``(x, y)``, both in pixels of the upright ORIGINAL image
(``DecodedImage.original_size``), whatever scale the image was decoded at. Faces come largest first.

Engines (loaded lazily, once per process, shared by threads; no network):
- detector: the recogniser's detection network (SCRFD-500M through onnxruntime; YuNet through OpenCV for
  ``sface-yunet``) in passes (:mod:`photosift.faces.detectors`): one at half the analysed resolution, small faint
  detections looked at again on their own tiles, one for faces that fill the frame and, on images up to 1280 px,
  one for faces narrowed by resizing without keeping the aspect ratio.
- recogniser (``PHOTOSIFT_RECOGNIZER``, :mod:`photosift.faces.recognizers`): InsightFace's ``w600k_mbf`` (default,
  512-d) or OpenCV zoo's SFace (128-d), on the face aligned by that network's five landmarks. An embedding is the
  L2-normalised vector followed by the face's pose value (``|yaw| / 90``): ``EMBEDDING_DIM`` values. Vectors of two
  recognisers are never compared: the catalog records each vector's recogniser (``EMBEDDER``).
- similarity: 0-100 from a logistic model of the cosine, the pose and a mask estimate, scaled so that
  ``DEFAULT_THRESHOLD`` (80) means a documented false-match rate per comparison (see
  ``photosift.faces.calibration`` and ``eval/calibrate_similarity.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from photosift.errors import FaceTooSmall, ModelUnavailable, NoFaceFound
from photosift.faces import calibration
from photosift.faces.engine import get_engine
from photosift.faces.recognizers import DEFAULT_RECOGNIZER, RECOGNIZERS, active_recognizer, face_model_version
from photosift.faces.types import Box, Detector, EmbeddedFace, Face, FaceQuality, Pose
from photosift.imaging import DecodedImage

DEFAULT_THRESHOLD: float = 80.0
"""Similarity (0-100) at or above which two faces are reported as the same person (about 1 false match in 1,000)."""
CERTAIN_THRESHOLD: float = 90.0
"""Similarity at or above which two faces are near-certainly one person (about 1 false match in 10,000 or fewer)."""

try:
    EMBEDDER: str = active_recognizer()
    """The recogniser of this process (``PHOTOSIFT_RECOGNIZER``); stored vectors record it."""
    _SETTING_ERROR: ModelUnavailable | None = None
except ModelUnavailable as exc:  # reported by verify_models() and the engine, not as a traceback at import
    EMBEDDER, _SETTING_ERROR = DEFAULT_RECOGNIZER, exc

FACE_MODEL_VERSION: str = face_model_version(EMBEDDER)
"""What the Rekognition endpoint reports as ``FaceModelVersion`` for this recogniser's vectors."""

PART_DIMS: tuple[int, ...] = (RECOGNIZERS[EMBEDDER].dim,)

EMBEDDING_DIM: int = sum(PART_DIMS) + 1
"""Length of an embedding vector: the recogniser's unit vector and the pose value."""

REFERENCE_MIN_SHARPNESS: float = 10.0
"""The least face sharpness (``quality.sharpness``, 0-100) of a reference face (a member's selfie, ``compare``'s
SOURCE, ``find``'s REFERENCE). Measured on 25 LFW photos blurred step by step: the same person still scored a median
98.8 (91 % matches at the old 80) with the reference's face sharpness in 10-12, but 76.5 (50 %) in 8-10 and 14 (18 %)
in 5-8; unblurred LFW faces score 28 or more."""



def verify_models() -> None:
    """Check the model files this process will load (the recogniser's and its detector's) against their pinned
    SHA-256; raises ``ModelUnavailable`` with one line. A server calls it at start-up, before it accepts work."""
    from photosift.faces.detectors import NETWORKS
    from photosift.faces.models import model_path

    if _SETTING_ERROR is not None:
        raise _SETTING_ERROR
    spec = RECOGNIZERS[EMBEDDER]
    for name in (spec.model, NETWORKS[spec.detector].model):
        model_path(name)


def detect_faces(image: DecodedImage) -> list[Face]:
    """Faces in ``image`` (largest first) with box, confidence 0-100, five landmarks, pose and quality."""
    return get_engine().detect(image)


def embed_faces(image: DecodedImage, faces: Sequence[Face], reference: bool = False) -> list[EmbeddedFace]:
    """Embeddings (``float32``, ``EMBEDDING_DIM``) for ``faces`` of ``image`` (boxes in original pixels);
    ``reference``: faces others are looked for with (``engine.FaceEngine.embed``)."""
    return get_engine().embed(image, faces, reference)


def comparable_faces(image: DecodedImage) -> list[tuple[Box, np.ndarray]]:
    """The box (original pixels) and embedding of every face of ``image`` large enough to compare, largest first:
    what an album matches (a face flagged ``too_small`` never is), embedded as album faces are, and nothing else
    measured (their quality, the blur of a crop, is what ``detect_faces`` adds)."""
    return get_engine().comparable(image)


def find_faces(image: DecodedImage, reference: bool = False) -> list[EmbeddedFace]:
    """Detect and embed every face of ``image`` (``reference``: as :func:`embed_faces`); no face gives ``[]``."""
    engine = get_engine()
    return engine.embed(image, engine.detect(image), reference)


def reference_face(image: DecodedImage) -> EmbeddedFace:
    """The largest face of ``image``, embedded: the face a comparison is made with (CompareFaces' source).

    Raises ``NoFaceFound`` when there is no face and ``FaceTooSmall`` when the largest one is too small to compare.
    """
    return reference_among(image)[0]


def reference_among(image: DecodedImage) -> tuple[EmbeddedFace, int]:
    """:func:`reference_face` of ``image`` and how many faces it shows that could be taken for the person meant
    (the large ones the coarse passes find; every face when they find none). Raises as :func:`reference_face`."""
    engine = get_engine()
    candidates = engine.reference_candidates(image)
    if not candidates:
        raise NoFaceFound("no face found in the image")
    face = candidates[0]
    if face.too_small:
        raise FaceTooSmall(f"the largest face is {face.box[2]}x{face.box[3]} px, too small to compare reliably")
    return engine.embed(image, [face], reference=True)[0], len(candidates)


def reference_and_targets(source: DecodedImage, target: DecodedImage) -> tuple[EmbeddedFace, list[EmbeddedFace]]:
    """What a comparison needs: :func:`reference_face` of ``source`` and :func:`find_faces` of ``target``, side by
    side in two threads (the engine releases the GIL while it computes). Raises as :func:`reference_face` does."""
    with ThreadPoolExecutor(1, thread_name_prefix="reference") as helper:
        reference = helper.submit(reference_face, source)
        targets = find_faces(target)
        return reference.result(), targets


def similarity(a: np.ndarray, b: np.ndarray | calibration.Prepared) -> np.ndarray:
    """Calibrated similarity 0-100 of embeddings ``a`` (n, d) against ``b`` (m, d) -> ``(n, m) float32``.

    1-D inputs are treated as one row. A template from :func:`make_template` scores the mean cosine to its
    references (per part), on the same calibrated scale. ``b`` may come from :func:`prepare` when compared often.
    """
    a2 = np.atleast_2d(a)
    b2 = b if isinstance(b, calibration.Prepared) else np.atleast_2d(b)
    if a2.shape[0] == 0 or len(b2) == 0:
        return np.zeros((a2.shape[0], len(b2)), np.float32)
    return calibration.load(EMBEDDER).similarity(a2, b2)


def index_vectors(embeddings: np.ndarray) -> np.ndarray:
    """``(n, d + 2)``: what a face index holds of ``embeddings`` (n, d) so that its inner product with
    :func:`index_query` ranks faces as :func:`similarity` does near :data:`DEFAULT_THRESHOLD`: the unit recogniser
    vector and two offsets for the face's pose and mask (``calibration.Calibration.index_vectors``)."""
    return calibration.load(EMBEDDER).index_vectors(np.atleast_2d(embeddings), DEFAULT_THRESHOLD)


def index_query(embedding: np.ndarray) -> np.ndarray:
    """``(d + 2,)``: the face index's query for one embedding (a face or a template) against :func:`index_vectors`."""
    return calibration.load(EMBEDDER).index_query(np.atleast_2d(embedding))


def similarity_ceiling(embedding: np.ndarray, key: float) -> float:
    """The highest :func:`similarity` to ``embedding`` (a face or a template) of any face whose index vector has at
    most ``key`` as inner product with ``index_query(embedding)``, whatever that face's pose and mask: faces ranked
    after a nearest-neighbour answer cannot score above it."""
    return calibration.load(EMBEDDER).ceiling(np.asarray(embedding, np.float32), key, DEFAULT_THRESHOLD)


SAME_FACE_COSINE: float = 0.95
"""Two embeddings whose recogniser vectors reach this cosine show one and the same face (one photo twice, a burst
shot's copy): different photos of one person reach at most 0.915 on LFW (2,170 pairs; 0.908 between two album faces,
``engine.MIRROR_YAW``), the same photo 1.0, and a mirrored copy of a frontal album face 0.955-0.981 (5th-95th
percentile on LFW)."""


def same_face(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``(n, m)`` bool: which faces of ``a`` (n, d) and ``b`` (m, d) are one and the same (``SAME_FACE_COSINE``)."""
    split = calibration.load(EMBEDDER).split
    parts = zip(split(a)[0], split(b)[0], strict=True)
    return np.all([x @ y.T >= SAME_FACE_COSINE for x, y in parts], axis=0)


def prepare(embeddings: np.ndarray) -> calibration.Prepared:
    """``embeddings`` (n, d) ready to be compared many times with :func:`similarity` (an album's faces)."""
    return calibration.load(EMBEDDER).prepare(np.atleast_2d(embeddings))


def mask_probability(embeddings: np.ndarray) -> np.ndarray:
    """``(n,)`` probability that each face of ``embeddings`` (n, d) wears a mask (the calibration's probe)."""
    return prepare(embeddings).mask


def make_template(embeddings: Sequence[np.ndarray]) -> np.ndarray:
    """One ``EMBEDDING_DIM`` vector for several reference embeddings of the same person (per-part mean)."""
    return calibration.make_template(embeddings, PART_DIMS)


__all__ = [
    "DEFAULT_THRESHOLD",
    "SAME_FACE_COSINE",
    "EMBEDDER",
    "EMBEDDING_DIM",
    "FACE_MODEL_VERSION",
    "REFERENCE_MIN_SHARPNESS",
    "Box",
    "Detector",
    "EmbeddedFace",
    "Face",
    "FaceQuality",
    "Pose",
    "comparable_faces",
    "detect_faces",
    "embed_faces",
    "find_faces",
    "make_template",
    "mask_probability",
    "prepare",
    "same_face",
    "similarity_ceiling",
    "index_query",
    "index_vectors",
    "reference_among",
    "reference_and_targets",
    "reference_face",
    "similarity",
    "verify_models",
]
