"""The stack without InsightFace's models (``PHOTOSIFT_RECOGNIZER=sface-yunet``): SFace on faces that YuNet finds
and aligns. Its point is what it does not load, so that is checked in a process of its own."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import replace

import cv2
import numpy as np
import pytest
from gil import longest_stall

from photosift import faces
from photosift.errors import ModelUnavailable
from photosift.faces import models
from photosift.faces.detectors import FaceDetector

STACK_SCRIPT = """
import json
import cv2
from skimage import data
from photosift import faces, imaging
from photosift.faces import models

def decoded(rgb):
    return imaging.decode(cv2.imencode('.png', rgb[:, :, ::-1])[1].tobytes())

astronaut = data.astronaut()
reference = faces.reference_face(decoded(astronaut))
group = faces.find_faces(decoded(cv2.resize(astronaut, (384, 384))))
print(json.dumps({"embedder": faces.EMBEDDER, "found": len(group),
                  "similarity": float(faces.similarity(reference.embedding, group[0].embedding)[0, 0]),
                  "loaded": sorted(models._verified)}))
"""


def test_the_sface_yunet_stack_matches_a_face_with_models_free_for_commercial_use_only():
    env = {**os.environ, "PHOTOSIFT_RECOGNIZER": "sface-yunet"}
    done = subprocess.run([sys.executable, "-c", STACK_SCRIPT], capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["embedder"] == "sface-yunet" and result["found"] == 1
    assert result["similarity"] >= faces.DEFAULT_THRESHOLD  # the same photo at another size
    assert result["loaded"] == ["sface_int8", "yunet"]  # no SCRFD, not even to refine the landmarks
    assert not any("non-commercial" in models.MODELS[name].licence for name in result["loaded"])


def test_verify_models_checks_the_recognisers_own_detector(monkeypatch):
    monkeypatch.setattr(faces, "EMBEDDER", "sface-yunet")
    monkeypatch.setattr(models, "_verified", {})
    monkeypatch.setitem(models.MODELS, "scrfd_500m", replace(models.MODELS["scrfd_500m"], sha256="0" * 64))
    faces.verify_models()  # SCRFD is not this stack's: its file is not read
    monkeypatch.setitem(models.MODELS, "yunet", replace(models.MODELS["yunet"], sha256="0" * 64))
    models._verified.pop("yunet")
    with pytest.raises(ModelUnavailable, match="'yunet'.*refusing to load it"):
        faces.verify_models()


def test_yunet_finds_each_face_with_its_landmarks_and_nothing_in_a_scene_without_faces(make_group_photo,
                                                                                        blank_photo):
    detector = FaceDetector("yunet")
    found = detector.detect(make_group_photo(1600, 1200, [120, 200, 280]))
    assert len(found) == 3
    for face in found:
        left, top, width, height = face.box
        assert face.confidence >= detector.min_confidence
        assert all(left <= x <= left + width and top <= y <= top + height for x, y in face.landmarks)
        eyes = np.array(face.landmarks[:2])
        assert eyes[0, 0] < eyes[1, 0] and abs(eyes[0, 1] - eyes[1, 1]) < height / 5  # left eye first, level
    assert detector.detect(blank_photo) == []


def test_yunet_lets_other_threads_run(astronaut):
    # OpenCV releases the GIL while it computes, as onnxruntime does for SCRFD
    detector = FaceDetector("yunet")
    image = cv2.resize(astronaut, (1600, 1600))
    stall, whole = longest_stall(lambda: detector.detect_raw(image))
    assert stall < whole / 3
