"""Product-path face features of every labelled image of LFW, MFR2 and CFP (cached).

Each image goes through what the product does with a reference photo: ``imaging.decode``, the engine's largest
face, the shipped embedding (``embedding``: every face averaged with its mirror image), and the same face embedded
as an album photo's is (``album``: the mirror image only for turned or masked faces, ``engine.MIRROR_YAW``).
Cached in ``~/.cache/photosift-eval/faces-<recogniser>-<set>-roles.npz``; ``load_masked``: the same faces of LFW and
CFP with a synthetic surgical mask drawn over them, as references (``masked-<recogniser>.npz``); ``load_degraded``:
each LFW image blurred or shrunk (one way per image, drawn from its path), as an album photo's face
(``degraded-<recogniser>-<engine source digest>.npz``: its ``too_small`` flags are the engine's); ``load_crowd``:
every face of WIDER's crowd photos (``crowd-<recogniser>-<engine source digest>.npz``); ``measures`` and
``stored_face``: a face as the catalog stores it, what the product's grouping and suggestion rules read.
"""

from __future__ import annotations

import csv
import sys
import zlib
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _data import CACHE, DATA, detection_set, engine_key  # noqa: E402

from photosift.jobs.pool import spawn_pool  # noqa: E402

SETS = ("lfw", "mfr2", "cfp")
MASK_RGB = (170, 205, 225)  # light blue, the commonest surgical mask


@dataclass(frozen=True)
class LabelledFace:
    """One labelled image and its largest face (``embedding`` None when no face was found)."""

    path: str
    identity: str  # prefixed with the set: "lfw:Abel_Pacheco"
    kind: str  # "frontal" | "profile" (CFP), "mask" | "no-mask" (MFR2), "photo" (LFW)
    embedding: np.ndarray | None  # as a reference (a selfie, a comparison's source), with the pose value
    yaw: float
    album: np.ndarray | None = None  # as an album photo's face (a comparison's target)


def _labels(name: str) -> list[tuple[str, str, str]]:
    """(absolute path, identity, kind) of every image of set ``name``."""
    root = DATA / name
    out = []
    with open(root / "labels.csv", newline="") as fh:
        for row in csv.DictReader(fh):
            if name == "lfw":
                identity, kind = row["identity"], "photo"
            elif name == "mfr2":
                identity, kind = row["identity"], "no-mask" if row["mask"] == "no-mask" else "mask"
            else:
                identity, kind = row["identity_id"], row["pose"]
            out.append((str(root / row["path"]), f"{name}:{identity}", kind))
    return out


def _features(path: str) -> tuple | None:
    from photosift import imaging
    from photosift.faces.engine import get_engine

    engine = get_engine()
    image = imaging.decode(path)
    face = engine.largest(image)
    if face is None:
        return None
    reference, album = (engine.embed(image, [face], reference=role)[0] for role in (True, False))
    return reference.embedding, face.pose.yaw, album.embedding


def _cached(cache: Path, paths: list[str], compute) -> dict:  # noqa: ANN001 - a module-level function of a path
    """``{path: compute(path)}`` for ``paths``, computed in two engine processes where ``cache`` lacks them."""
    stored: dict = np.load(cache, allow_pickle=True)["f"].item() if cache.exists() else {}
    missing = [p for p in paths if p not in stored]
    if missing:
        print(f"embedding {len(missing)} images (cached in {cache}) ...", file=sys.stderr)
        with spawn_pool(2) as pool:
            stored.update(zip(missing, pool.map(compute, missing, chunksize=4), strict=True))
        CACHE.mkdir(parents=True, exist_ok=True)
        np.savez(cache, f=np.array(stored, dtype=object))
    return stored


def load(name: str) -> list[LabelledFace]:
    """Every labelled image of ``name`` ("lfw", "mfr2" or "cfp") with its product-path face."""
    labels = _labels(name)
    stored = _cached(CACHE / f"faces-{_recognizer()}-{name}-roles.npz", [p for p, _, _ in labels], _features)
    out = []
    for path, identity, kind in labels:
        f = stored[path]
        if f is None:
            out.append(LabelledFace(path, identity, kind, None, 0.0))
        else:
            out.append(LabelledFace(path, identity, kind, _with_pose(f[0], f[1]), float(f[1]), f[2]))
    return out


def _recognizer() -> str:
    from photosift.faces import EMBEDDER

    return EMBEDDER


def _with_pose(embedding: np.ndarray, yaw: float) -> np.ndarray:
    """The product's embedding: the cosine parts and the pose value."""
    from photosift.faces import EMBEDDING_DIM
    from photosift.faces.calibration import pose_value

    if len(embedding) == EMBEDDING_DIM:
        return embedding
    return np.append(embedding, np.float32(pose_value(yaw))).astype(np.float32)


def draw_mask(rgb: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
    """A copy of ``rgb`` with a surgical-mask polygon over the face, placed from the five landmarks in the face's own
    axes: from halfway between the eyes and the nose tip down to the chin (the mouth plus 0.8x the eye-mouth
    distance), about twice the eye distance wide, narrowing towards the chin."""
    left_eye, right_eye, nose, mouth = landmarks[0], landmarks[1], landmarks[2], (landmarks[3] + landmarks[4]) / 2
    eyes = (left_eye + right_eye) / 2
    across = right_eye - left_eye
    half = float(np.linalg.norm(across))  # half the mask's width: about one eye distance
    across = across / max(half, 1e-6)
    down = np.array([-across[1], across[0]])
    top = eyes + 0.5 * (nose - eyes)
    eye_mouth = float((mouth - eyes) @ down)
    depth = float((mouth - top) @ down) + 0.8 * eye_mouth
    points = [
        top - across * 1.05 * half,
        top + across * 1.05 * half,
        top + across * 0.95 * half + down * 0.55 * depth,
        top + across * 0.45 * half + down * depth,
        top - across * 0.45 * half + down * depth,
        top - across * 0.95 * half + down * 0.55 * depth,
    ]
    masked = rgb.copy()
    cv2.fillPoly(masked, [np.round(points).astype(np.int32)], MASK_RGB, lineType=cv2.LINE_AA)
    return masked


def _masked_features(path: str) -> np.ndarray | None:
    from photosift import imaging
    from photosift.faces.engine import get_engine

    engine = get_engine()
    image = imaging.decode(path)
    face = engine.largest(image)
    if face is None:
        return None
    masked = draw_mask(image.pixels, np.array(face.landmarks) * image.scale)
    masked_image = imaging.DecodedImage(masked, image.original_size, image.format)
    return engine.embed(masked_image, [face], reference=True)[0].embedding


def load_masked() -> dict[str, np.ndarray]:
    """Path -> embedding of the largest face with a synthetic mask, for every image of LFW and CFP."""
    faces = {f.path: f for name in ("lfw", "cfp") for f in load(name)}
    stored = _cached(CACHE / f"masked-{_recognizer()}.npz", list(faces), _masked_features)
    return {p: _with_pose(v, faces[p].yaw) for p, v in stored.items() if v is not None and p in faces}


BLURS = {"gaussian": (2.0, 6.0), "defocus": (2.0, 5.0), "motion": (6.0, 16.0)}
"""% of the face's height: Gaussian sigma, defocus disk radius, motion length (any angle) of a blurred copy."""
SMALL = (24.0, 40.0)  # px: the face height of a shrunk copy (on a 640x480 canvas)


@dataclass(frozen=True)
class DegradedFace:
    """An LFW image's degraded copy and its largest face as an album photo's (``album`` None when none was found)."""

    kind: str  # "gaussian" | "defocus" | "motion" | "small"
    album: np.ndarray | None
    too_small: bool = False
    sharpness: float = 0.0
    relative_blur: float = 0.0
    size: float | None = None  # px, in the analysed pixels (``FaceQuality.size``)

    def stored(self):  # -> photosift.catalog.models.Face
        """The face as the catalog stores it (:func:`stored_face`)."""
        return stored_face(self.too_small, self.sharpness, self.relative_blur, self.size)


def degrade(path: str) -> tuple[str, bytes]:
    """The kind and JPEG bytes of ``path``'s degraded copy: blurred (one of :data:`BLURS`, 2 in 3 images) or shrunk
    (:data:`SMALL`), the kind and strength drawn from the path (the same copy every run)."""
    rng = np.random.default_rng(zlib.crc32(path.encode()))
    image = cv2.imread(path)
    face = 0.46 * image.shape[0]  # an LFW face's height in its frame
    kind = str(rng.choice([*BLURS, "small"], p=[2 / 9, 2 / 9, 2 / 9, 1 / 3]))
    if kind == "small":
        scale = rng.uniform(*SMALL) / face
        small = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        image = np.full((480, 640, 3), 120, np.uint8)
        top, left = (480 - small.shape[0]) // 2, (640 - small.shape[1]) // 2
        image[top : top + small.shape[0], left : left + small.shape[1]] = small
    else:
        size = rng.uniform(*BLURS[kind]) / 100 * face
        if kind == "gaussian":
            image = cv2.GaussianBlur(image, (0, 0), size)
        else:
            kernel = _disk(size) if kind == "defocus" else _line(size, rng.uniform(0, np.pi))
            image = cv2.filter2D(image, -1, kernel, borderType=cv2.BORDER_REFLECT)
    return kind, cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 92])[1].tobytes()


def _disk(radius: float) -> np.ndarray:
    k = int(np.ceil(radius))
    y, x = np.mgrid[-k : k + 1, -k : k + 1]
    disk = (x**2 + y**2 <= radius**2).astype(np.float32)
    return disk / disk.sum()


def _line(length: float, angle: float) -> np.ndarray:
    k = int(np.ceil(length / 2))
    kernel = np.zeros((2 * k + 1, 2 * k + 1), np.float32)
    for t in np.linspace(-length / 2, length / 2, 4 * int(length) + 1):
        kernel[int(round(k + t * np.sin(angle))), int(round(k + t * np.cos(angle)))] = 1.0
    return kernel / kernel.sum()


def _degraded_features(path: str) -> tuple:
    from photosift import faces, imaging

    kind, data = degrade(path)
    found = faces.find_faces(imaging.decode(data))  # largest first, as an album photo's faces
    if not found:
        return (kind, None)
    face = found[0].face  # its embedding holds the pose value, as every album face's does
    return kind, found[0].embedding, *measures(face)


def load_degraded() -> dict[str, DegradedFace]:
    """Path -> the degraded copy's face, for every image of LFW (``degrade``)."""
    paths = [path for path, _, _ in _labels("lfw")]
    stored = _cached(CACHE / f"degraded-{_recognizer()}-{engine_key()}.npz", paths, _degraded_features)
    return {path: DegradedFace(*stored[path]) for path in paths}


def _crowd_features(path: str) -> list[tuple]:
    from photosift import faces, imaging

    image = imaging.decode(path)
    return [(f.embedding, *measures(f.face)) for f in faces.find_faces(image)]


def load_crowd() -> dict[str, list[tuple]]:
    """Path -> every face the product finds in that WIDER crowd photo: embedding and :func:`measures`."""
    paths = [str(path) for path, _ in detection_set("wider")]
    return _cached(CACHE / f"crowd-{_recognizer()}-{engine_key()}.npz", paths, _crowd_features)


def measures(face) -> tuple[bool, float, float, float | None]:  # noqa: ANN001 - a photosift.faces.Face
    """What the catalog stores of ``face`` that the product's grouping rules read: ``too_small``, sharpness,
    relative blur and size (``FaceQuality``)."""
    return face.too_small, face.quality.sharpness, face.quality.relative_blur, face.quality.size


def stored_face(too_small: bool, sharpness: float, relative_blur: float,
                size: float | None):  # -> photosift.catalog.models.Face
    """A face of the running recogniser as the catalog stores it (what the product's grouping rules read), from
    :func:`measures`."""
    from photosift import faces
    from photosift.catalog.models import Face

    return Face(too_small=too_small, sharpness=sharpness, relative_blur=relative_blur, analysed_size=size,
                recognizer=faces.EMBEDDER)


if __name__ == "__main__":
    for s in SETS:
        faces = load(s)
        print(s, len(faces), sum(f.embedding is None for f in faces), "without a face")
