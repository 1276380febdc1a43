"""The face engine on real (astronaut) and generated photos: detection, geometry, embeddings, similarity, errors."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest
from gil import longest_stall

from photosift import faces, imaging
from photosift.errors import FaceTooSmall, ImageTooLarge, InvalidImage, NoFaceFound
from photosift.faces import calibration
from photosift.faces.alignment import ARCFACE_112, align, similarity_transform
from photosift.faces.detectors import (
    CUE_CANVAS,
    LARGE_CANVAS,
    MIN_RELIABLE_FACE,
    NARROW_PASS_DISCOUNT,
    FaceDetector,
    RawDetection,
    canvas_for,
    non_max_suppression,
)
from photosift.faces.geometry import estimate_pose, iou


def decoded(rgb: np.ndarray) -> imaging.DecodedImage:
    return imaging.DecodedImage(pixels=rgb, original_size=(rgb.shape[1], rgb.shape[0]), format="array")


def test_detects_the_astronaut_with_landmarks_pose_and_quality(astronaut):
    found = faces.detect_faces(decoded(astronaut))
    assert len(found) == 1
    face = found[0]
    left, top, width, height = face.box
    # The face (eyes ~y=100, chin ~y=175) sits at x 178-267, y 63-175 of the 512x512 photo.
    assert 165 <= left <= 190 and 50 <= top <= 75 and 75 <= width <= 105 and 95 <= height <= 130
    assert 80 <= face.confidence <= 100
    assert len(face.landmarks) == 5
    assert all(left <= x <= left + width and top <= y <= top + height for x, y in face.landmarks)
    right_eye, left_eye = face.landmarks[0], face.landmarks[1]
    assert right_eye[0] < left_eye[0]  # subject's right eye is on the image's left
    assert abs(face.pose.roll) < 15 and abs(face.pose.yaw) < 30 and abs(face.pose.pitch) < 30
    assert 0 <= face.quality.sharpness <= 100 and 20 <= face.quality.brightness <= 90
    assert not face.too_small


def test_boxes_are_in_original_pixels_after_a_reduced_decode(tmp_path, astronaut, write_jpeg):
    big = np.ascontiguousarray(np.repeat(np.repeat(astronaut, 4, axis=0), 4, axis=1))  # 2048x2048
    path = write_jpeg(big, tmp_path / "big.jpg")
    reduced = imaging.decode(path, max_pixels=300_000)
    assert reduced.scale < 0.3
    (face,) = faces.detect_faces(reduced)
    reference = faces.detect_faces(decoded(astronaut))[0]
    for got, want in zip(face.box, reference.box, strict=True):
        assert abs(got - 4 * want) <= 24
    nose = face.landmarks[2]
    assert abs(nose[0] - 4 * reference.landmarks[2][0]) <= 16


def test_no_face_in_a_generated_scene(blank_photo):
    image = decoded(blank_photo)
    assert faces.detect_faces(image) == []
    assert faces.find_faces(image) == []
    with pytest.raises(NoFaceFound):
        faces.reference_face(image)


@pytest.mark.parametrize("shape", [(20, 1), (1, 20), (300, 2), (2, 300)])
def test_a_sliver_of_an_image_is_searched_without_error(shape):
    """Faint detections at the edge of a one-pixel image once made an empty tile for the fine pass (a 500)."""
    noise = np.random.default_rng(0).integers(0, 256, size=(*shape, 3), dtype=np.uint8)
    image = decoded(noise)
    assert isinstance(faces.detect_faces(image), list) and isinstance(faces.find_faces(image), list)


def test_a_face_cut_by_the_image_edge_keeps_its_box_inside_the_image(astronaut):
    shifted = np.ascontiguousarray(astronaut[90:, 200:])  # the face now starts left of / above the frame
    for face in faces.detect_faces(decoded(shifted)):
        left, top, width, height = face.box
        assert left >= 0 and top >= 0 and left + width <= shifted.shape[1] and top + height <= shifted.shape[0]


def test_faces_as_small_as_the_product_compares_are_found(make_group_photo):
    # Heads of 60-90 px in a 2000x1500 scene: faces of ~32-45 px, seen at half size by the network (~16-22 px).
    photo = make_group_photo(2000, 1500, [60, 70, 80, 90])
    found = FaceDetector().detect(photo)
    assert len(found) == 4
    assert all(f.too_small == (min(f.box[2:]) < MIN_RELIABLE_FACE) for f in found)
    assert all(abs(f.quality.size - min(f.box[2:])) <= 1 for f in found)  # the analysed size, here the pixels given
    assert canvas_for(photo.shape[:2]) == 1000 and canvas_for((416, 416)) == 640 and canvas_for((6000, 4000)) == 1024


def test_a_face_that_fills_the_frame_is_found(astronaut):
    # an ID-photo crop: too large for the regular pass's anchors, found by the large-face pass
    crop = np.ascontiguousarray(cv2.resize(astronaut[20:260, 130:330], (1000, 1200)))
    found = FaceDetector().detect(crop, thorough=False)
    assert len(found) == 1 and found[0].box[2] > 400


@pytest.mark.parametrize("side", [112, 448])
def test_an_aligned_face_crop_is_found_without_a_border(astronaut, side):
    # the recogniser's own 112x112 input (forehead and chin cut by the frame), as uploaded by apps that crop faces
    (face,) = faces.detect_faces(decoded(astronaut))
    crop = cv2.resize(align(astronaut, np.array(face.landmarks)), (side, side), interpolation=cv2.INTER_CUBIC)
    image = decoded(np.ascontiguousarray(crop))
    assert len(faces.detect_faces(image)) == 1
    assert faces.reference_face(image).face.box[2] > side / 2


def test_faces_squeezed_narrow_are_found_by_the_narrow_pass(make_group_photo):
    # A photo resized to 30 % of its width without keeping its aspect ratio: the heads are ~3x narrower.
    photo = make_group_photo(1600, 600, [200, 200, 200, 200])
    squeezed = cv2.resize(photo, (480, 600), interpolation=cv2.INTER_AREA)
    expected = np.array([f.box for f in FaceDetector().detect(photo)], dtype=float) * [0.3, 1, 0.3, 1]
    found = FaceDetector().detect(squeezed)
    assert len(FaceDetector().detect(squeezed, thorough=False)) < 4
    assert len(found) == 4
    assert (iou(np.array([f.box for f in found]), expected).max(axis=1) > 0.5).all()
    for face in found:  # landmarks are mapped back to the squeezed photo's pixels too
        left, top, width, height = face.box
        assert all(left <= x <= left + width and top <= y <= top + height for x, y in face.landmarks)


def test_the_narrow_pass_runs_on_small_images_only(monkeypatch, make_group_photo):
    # a camera-sized photo is not a stretched rendition: no squeezed copy is searched (20 ms of a 12 MP photo)
    detector = FaceDetector()
    discounts: list[float] = []
    real = detector._pass
    monkeypatch.setattr(detector, "_pass", lambda rgb, canvas, to_image=(1.0, 1.0), discount=0.0: discounts.append(
        discount) or real(rgb, canvas, to_image, discount))
    detector.detect(make_group_photo(1280, 960, [200, 200]))
    assert NARROW_PASS_DISCOUNT in discounts
    discounts.clear()
    detector.detect(make_group_photo(2000, 1500, [300, 300]))
    assert discounts and NARROW_PASS_DISCOUNT not in discounts


def test_a_reference_search_runs_the_thorough_passes_only_when_the_quick_ones_find_nothing(
        monkeypatch, astronaut, blank_photo, make_group_photo):
    # thorough=None finds what the quick passes find, or else what every pass finds, with no pass run twice
    detector = FaceDetector()
    passes: list[tuple[tuple[int, ...], int]] = []
    real = detector._pass
    monkeypatch.setattr(detector, "_pass", lambda rgb, canvas, *rest: passes.append((rgb.shape, canvas))
                        or real(rgb, canvas, *rest))
    small_faces = make_group_photo(2000, 1500, [60, 70])  # whichever passes find them
    for photo, thorough_ran in ((astronaut, False), (blank_photo, True), (small_faces, None)):
        expected = [f.box for f in (detector.detect(photo, False) or detector.detect(photo))]
        passes.clear()
        assert [f.box for f in detector.detect(photo, thorough=None)] == expected
        whole_image = [p for p in passes if p[1] != CUE_CANVAS]  # the fine pass's tiles may share a size
        assert len(whole_image) == len(set(whole_image))
        if thorough_ran is not None:
            assert (len(whole_image) == 3) == thorough_ran  # first, large-face and narrow passes; or the first two


def test_the_extra_passes_only_add_faces_the_regular_pass_missed(monkeypatch):
    # On a normal face the squeezed copy gives a taller, worse box, sometimes more confidently: the regular one stays.
    def detection(box: list[float], confidence: float) -> RawDetection:
        return RawDetection(box=np.array(box, dtype=float), confidence=confidence, landmarks=np.zeros((5, 2)))

    regular = detection([100, 100, 80, 100], 95)
    taller = detection([105, 70, 70, 160], 99)  # the same face seen by the narrow pass
    elsewhere = detection([300, 100, 30, 90], 96)  # a face only the narrow pass sees
    large = detection([200, 200, 190, 190], 97)  # a face only the large-face pass sees

    def fake_pass(self, rgb, canvas, to_image=(1.0, 1.0), discount=0.0):
        if to_image[1] != to_image[0]:  # the squeezed copy
            return [taller, elsewhere]
        return [regular, large] if canvas == LARGE_CANVAS else [regular]

    monkeypatch.setattr(FaceDetector, "_pass", fake_pass)
    got = FaceDetector().detect_raw(np.zeros((400, 400, 3), np.uint8))
    assert [d.box.tolist() for d in got] == [d.box.tolist() for d in (regular, large, elsewhere)]


def test_detection_lets_other_threads_run(astronaut):
    # onnxruntime releases the GIL: a server thread detecting faces does not stall the others.
    detector = FaceDetector()
    image = cv2.resize(astronaut, (1600, 1600))
    stall, whole = longest_stall(lambda: detector.detect_raw(image))
    assert stall < whole / 3


def test_reference_and_targets_equal_the_two_calls(astronaut, make_group_photo, blank_photo):
    group = decoded(make_group_photo(1200, 600, [300, 300]))
    source, targets = faces.reference_and_targets(decoded(astronaut), group)
    assert source.face == faces.reference_face(decoded(astronaut)).face
    assert [t.face for t in targets] == [t.face for t in faces.find_faces(group)]
    np.testing.assert_allclose(faces.similarity(source.embedding, targets[0].embedding), 100.0, atol=1.0)
    with pytest.raises(NoFaceFound):
        faces.reference_and_targets(decoded(blank_photo), group)


def test_comparable_faces_are_the_embedded_faces_not_too_small_without_their_quality(make_group_photo, monkeypatch):
    """``comparable_faces`` (what ``find`` compares): the boxes and vectors that detecting and embedding give the faces
    not flagged too small, to the last bit, without measuring any face's quality."""
    from photosift.faces import detectors

    image = imaging.DecodedImage(pixels=make_group_photo(800, 600, [28, 50, 300]), original_size=(1600, 1200),
                                 format="array")  # a reduced decode: boxes go to original pixels and back
    found = faces.detect_faces(image)
    assert any(f.too_small for f in found) and not all(f.too_small for f in found)
    expected = faces.embed_faces(image, [f for f in found if not f.too_small])
    monkeypatch.setattr(detectors, "face_quality", lambda *_: pytest.fail("a face's quality was measured"))
    got = faces.comparable_faces(image)
    assert [box for box, _ in got] == [e.face.box for e in expected]
    assert all(np.array_equal(vector, e.embedding) for (_, vector), e in zip(got, expected, strict=True))


def test_references_are_averaged_with_their_mirror_image_and_frontal_album_faces_are_not(astronaut, monkeypatch):
    from photosift.faces import engine as face_engine

    image = decoded(astronaut)
    face = faces.detect_faces(image)[0]
    assert abs(face.pose.yaw) < face_engine.MIRROR_YAW  # the astronaut looks into the camera, unmasked
    reference, album = (faces.embed_faces(image, [face], reference=role)[0].embedding for role in (True, False))
    cosine = float(reference[:-1] @ album[:-1])
    assert 0.95 < cosine < 0.9999  # the same face, one vector with its mirror image and one without
    for gate in ("MIRROR_YAW", "MIRROR_MASK"):  # a turned or a masked face gets the mirror image too
        with monkeypatch.context() as patched:
            patched.setattr(face_engine, gate, 0.0)
            np.testing.assert_allclose(faces.embed_faces(image, [face])[0].embedding, reference, atol=1e-6)
    assert faces.reference_face(image).embedding == pytest.approx(reference, abs=1e-6)


def test_a_tiny_reference_face_is_refused(make_group_photo):
    photo = make_group_photo(400, 300, [30])  # a ~13 px face
    found = faces.detect_faces(decoded(photo))
    assert found and found[0].too_small
    with pytest.raises(FaceTooSmall):
        faces.reference_face(decoded(photo))


def test_same_face_scores_high_and_embeddings_are_unit_parts(astronaut):
    a = faces.find_faces(decoded(astronaut))[0].embedding
    mirrored = np.ascontiguousarray(astronaut[:, ::-1])
    b = faces.find_faces(decoded(mirrored))[0].embedding
    assert a.dtype == np.float32 and a.shape == (faces.EMBEDDING_DIM,)
    assert math.isclose(np.linalg.norm(a[:-1]), 1, rel_tol=1e-4)  # the recogniser's unit vector
    assert 0 <= a[-1] <= 1  # and the pose value
    score = faces.similarity(a, b)
    assert score.shape == (1, 1) and score[0, 0] >= 95


def test_lfw_pairs_are_told_apart_at_the_default_threshold(shared_data):
    import csv

    lfw = shared_data / "lfw"
    with open(lfw / "pairs.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    genuine = [r for r in rows if r["same_identity"] == "1"][:6]
    impostor = [r for r in rows if r["same_identity"] == "0"][:6]
    correct = 0
    for row in genuine + impostor:
        a = faces.reference_face(imaging.decode(lfw / row["img1"])).embedding
        b = faces.reference_face(imaging.decode(lfw / row["img2"])).embedding
        correct += (faces.similarity(a, b)[0, 0] >= faces.DEFAULT_THRESHOLD) == (row["same_identity"] == "1")
    assert correct >= 11


def test_similarity_shapes_range_and_symmetry():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(3, faces.EMBEDDING_DIM)).astype(np.float32)
    b = rng.normal(size=(5, faces.EMBEDDING_DIM)).astype(np.float32)
    s = faces.similarity(a, b)
    assert s.shape == (3, 5) and s.dtype == np.float32
    assert (s >= 0).all() and (s <= 100).all()
    np.testing.assert_allclose(s, faces.similarity(b, a).T, atol=1e-4)
    assert faces.similarity(a[:0], b).shape == (0, 5)
    with pytest.raises(ValueError):
        faces.similarity(a[:, :100], b)


def test_score_is_monotone_in_every_cosine_under_every_condition():
    calib = calibration.load(faces.EMBEDDER)
    names = calibration.feature_names(len(calib.part_dims), calib.conditions)
    assert len(calib.weights) == len(names)
    cos = np.linspace(-0.2, 1.0, 25)
    for pose in (0.0, 0.5, 1.0):
        for mask, both in ((0.0, 0.0), (1.0, 0.0), (1.0, 1.0)):
            for part in range(len(calib.part_dims)):
                feats = {n: 0.3 for n in names[: len(calib.part_dims)]}
                rows = []
                for c in cos:
                    f = dict(feats, **{f"c{part + 1}": c})
                    for cond, v in (("p", pose), ("m", mask), ("mm", both)):
                        if cond not in calib.conditions:
                            continue
                        f[cond] = v
                        for k in range(len(calib.part_dims)):
                            f[f"{cond}*c{k + 1}"] = v * f[f"c{k + 1}"]
                    rows.append([f[n] for n in names])
                logits = calib.logit(np.array(rows).T)  # the score is increasing in it (it saturates at 100)
                assert (np.diff(logits) > 0).all(), (pose, mask, both, part)
                assert (np.diff(calib.to_similarity(logits)) >= 0).all()


def test_a_side_view_lowers_the_bar_for_the_same_cosines():
    calib = calibration.load(faces.EMBEDDER)
    rng = np.random.default_rng(3)
    a = rng.normal(size=faces.EMBEDDING_DIM).astype(np.float32)
    b = a + 1.2 * rng.normal(size=faces.EMBEDDING_DIM).astype(np.float32)  # a modest cosine
    a[-1] = b[-1] = 0.0
    frontal = float(faces.similarity(a, b)[0, 0])
    b[-1] = calibration.pose_value(60)
    assert float(faces.similarity(a, b)[0, 0]) > frontal  # the same cosines are stronger evidence from a side view
    assert calibration.pose_value(-45) == 0.5 and calibration.pose_value(120) == 1.0
    with pytest.raises(ValueError):
        calib.similarity(a[:-1], b)


def test_template_of_one_person():
    rng = np.random.default_rng(1)
    e = rng.normal(size=faces.EMBEDDING_DIM).astype(np.float32)
    single = faces.make_template([e])
    np.testing.assert_allclose(single[:-1], e[:-1] / np.linalg.norm(e[:-1]), atol=1e-6)
    several = faces.make_template([e, -e + 0.01, e])
    assert several.shape == (faces.EMBEDDING_DIM,) and several.dtype == np.float32
    with pytest.raises(ValueError):
        faces.make_template([])


def test_a_template_scores_the_mean_cosine_to_its_references():
    calib = calibration.load(faces.EMBEDDER)
    rng = np.random.default_rng(2)
    probe, *references = rng.normal(size=(4, faces.EMBEDDING_DIM)).astype(np.float32) + 1.0  # correlated
    probe[-1] = 0.0
    for r in references:
        r[-1] = 0.0
    features = calib.features(probe, np.stack(references))  # (features, 1, 3)
    parts = len(calib.part_dims)
    mean_cosines = features[:parts].mean(axis=2, keepdims=True)
    template_features = calib.features(probe, faces.make_template(references))
    np.testing.assert_allclose(template_features[:parts], mean_cosines, rtol=1e-4)
    expected = calib.to_similarity(calib.logit(template_features))[0]
    np.testing.assert_allclose(faces.similarity(probe, faces.make_template(references))[0], expected, rtol=1e-4)
    # embeddings of any length compare as cosines
    scaled, plain = faces.similarity(3 * probe, references[0]), faces.similarity(probe, references[0])
    np.testing.assert_allclose(scaled, plain, rtol=1e-5)


def test_pose_from_landmarks():
    frontal = np.array([[40, 50], [80, 50], [60, 72], [45, 92], [75, 92]], dtype=float)
    pose = estimate_pose(frontal)
    assert abs(pose.yaw) < 1 and abs(pose.roll) < 1 and abs(pose.pitch) < 10
    angle = math.radians(20)
    rot = np.array([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]])
    tilted = estimate_pose((frontal - 60) @ rot.T + 60)
    assert abs(tilted.roll - 20) < 0.5 and abs(tilted.yaw) < 1
    turned = frontal.copy()
    turned[2, 0] += 15  # nose towards the image's right
    assert estimate_pose(turned).yaw > 20


def test_alignment_puts_the_landmarks_on_the_template():
    rng = np.random.default_rng(3)
    angle, scale, shift = np.radians(25), 4.0, np.array([300.0, 200.0])
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    points = ARCFACE_112 @ (scale * rotation).T + shift  # a large, tilted face
    matrix = similarity_transform(points + rng.normal(0, 0.01, points.shape), ARCFACE_112)
    mapped = points @ matrix[:, :2].T + matrix[:, 2]
    np.testing.assert_allclose(mapped, ARCFACE_112, atol=0.05)
    image = np.zeros((800, 800, 3), np.uint8)
    cv2.circle(image, tuple(int(v) for v in points[2]), 12, (255, 255, 255), -1)  # a white nose tip
    aligned = align(image, points)
    assert aligned.shape == (112, 112, 3)
    nose = ARCFACE_112[2].round().astype(int)
    assert aligned[nose[1], nose[0]].mean() > 200 and aligned[10, 10].mean() == 0


def test_a_model_file_that_differs_from_its_pinned_hash_is_refused(monkeypatch, tmp_path):
    from photosift.errors import ModelUnavailable
    from photosift.faces import models

    package = tmp_path / "fakepkg"
    (package / "model").mkdir(parents=True)
    (package / "__init__.py").write_text("raise RuntimeError('a model package is never imported')\n")
    (package / "model" / "net.onnx").write_bytes(b"tampered")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setitem(models.MODELS, "fake", models.ModelFile("fakepkg", "fakepkg==1", "model/net.onnx", "0" * 64,
                                                                "test"))
    with pytest.raises(ModelUnavailable, match="SHA-256"):
        models.model_path("fake")
    monkeypatch.setitem(models.MODELS, "gone", models.ModelFile("nopkg_here", "nopkg==1", "x.onnx", "0" * 64, "t"))
    with pytest.raises(ModelUnavailable, match="not installed"):
        models.model_path("gone")


def test_every_shipped_model_matches_its_pinned_hash():
    from photosift.faces import models

    for name in models.MODELS:
        assert models.model_path(name).is_file()


def test_an_unknown_recognizer_is_refused_with_one_line(monkeypatch):
    from photosift.errors import ModelUnavailable
    from photosift.faces.recognizers import active_recognizer

    monkeypatch.setenv("PHOTOSIFT_RECOGNIZER", "facenet")
    with pytest.raises(ModelUnavailable, match="w600k_mbf"):
        active_recognizer()


def test_non_max_suppression_keeps_the_most_confident():
    lm = np.zeros((5, 2))
    a = RawDetection(np.array([10, 10, 50, 50.0]), 90, lm)
    b = RawDetection(np.array([12, 12, 50, 50.0]), 70, lm)
    c = RawDetection(np.array([200, 10, 50, 50.0]), 60, lm)
    kept = non_max_suppression([b, a, c])
    assert [d.confidence for d in kept] == [90, 60]
    assert iou(a.box, np.stack([a.box, c.box])).round(3).tolist() == [[1.0, 0.0]]


def test_bad_images_raise_typed_errors(tmp_path, write_jpeg):
    corrupt = tmp_path / "corrupt.jpg"
    corrupt.write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    with pytest.raises(InvalidImage):
        imaging.decode(corrupt)
    with pytest.raises(ImageTooLarge):
        imaging.decode(write_jpeg(np.zeros((300, 300, 3), np.uint8), tmp_path / "big.jpg"),
                       limits=imaging.DecodeLimits(max_pixels=10_000))
