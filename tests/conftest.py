"""Shared fixtures: a real face photo (scikit-image's astronaut) and generated photos built from its face; the
servers, S3 and PostgreSQL of ``support/service_support``; every test under ``e2e/`` marked ``e2e``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image
from service_support import images, make_server, moto_s3, postgres_url  # noqa: F401 - pytest fixtures

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"

E2E = Path(__file__).resolve().parent / "e2e"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark the end-to-end tests (real servers, SDKs, Chromium): ``-m "not e2e"`` runs the rest."""
    for item in items:
        if item.path.is_relative_to(E2E):
            item.add_marker(pytest.mark.e2e)


# The astronaut's face in skimage.data.astronaut() (512x512): a generous crop around it, (top, bottom, left, right).
ASTRONAUT_FACE_CROP = (20, 230, 140, 310)


@pytest.fixture(scope="session")
def astronaut() -> np.ndarray:
    """A real 512x512 RGB photo of one person (Eileen Collins), public domain."""
    from skimage import data

    return data.astronaut()


@pytest.fixture()
def write_jpeg() -> Callable[[np.ndarray, Path], Path]:
    """``write_jpeg(rgb, path)`` -> path of a JPEG (quality 92) of ``rgb``."""
    return save_jpeg


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """../shared/data beside the checkout (tests using it skip when it is absent)."""
    if not SHARED_DATA.is_dir():
        pytest.skip("shared evaluation data not available")
    return SHARED_DATA


@pytest.fixture(scope="session")
def astronaut_face(astronaut: np.ndarray) -> np.ndarray:
    """The astronaut's head and some background, RGB (210x170)."""
    top, bottom, left, right = ASTRONAUT_FACE_CROP
    return np.ascontiguousarray(astronaut[top:bottom, left:right])


def save_jpeg(rgb: np.ndarray, path: Path, quality: int = 92) -> Path:
    Image.fromarray(rgb).save(path, quality=quality)
    return path


def background(width: int, height: int, seed: int = 0) -> np.ndarray:
    """A face-free generated scene: smooth colour gradients plus mild texture noise."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    base = np.stack([90 + 60 * xx / width, 120 + 40 * yy / height, 150 - 50 * xx / width], axis=-1)
    noise = cv2.GaussianBlur(rng.normal(0, 25, (height, width, 1)).astype(np.float32), (0, 0), 3)[..., None]
    return np.clip(base + noise, 0, 255).astype(np.uint8)


def group_photo(face: np.ndarray, width: int, height: int, face_heights: list[int], seed: int = 0) -> np.ndarray:
    """A generated canvas with copies of ``face`` pasted side by side, scaled to ``face_heights`` (odd ones flipped)."""
    canvas = background(width, height, seed)
    n = len(face_heights)
    for i, target in enumerate(face_heights):
        scale = target / face.shape[0]
        patch = cv2.resize(face, (max(1, round(face.shape[1] * scale)), target), interpolation=cv2.INTER_AREA)
        if i % 2:
            patch = patch[:, ::-1]
        cx = int((i + 0.5) * width / n)
        x0, y0 = max(0, cx - patch.shape[1] // 2), max(0, height // 2 - target // 2)
        ph, pw = min(patch.shape[0], height - y0), min(patch.shape[1], width - x0)
        canvas[y0 : y0 + ph, x0 : x0 + pw] = patch[:ph, :pw]
    return canvas


@pytest.fixture()
def make_group_photo(astronaut_face: np.ndarray) -> Callable[..., np.ndarray]:
    """``make_group_photo(width, height, face_heights)`` -> RGB canvas with pasted astronaut faces."""

    def make(width: int, height: int, face_heights: list[int], seed: int = 0) -> np.ndarray:
        return group_photo(astronaut_face, width, height, face_heights, seed)

    return make


@pytest.fixture()
def blank_photo() -> np.ndarray:
    """A 640x480 generated scene without any face."""
    return background(640, 480, seed=1)
