"""DetectFaces and CompareFaces with boto3 against the real server: Bytes and S3Object images, ratios, errors."""

from __future__ import annotations

import csv
import io

import numpy as np
import pytest
from botocore.exceptions import ClientError
from PIL import Image
from rk_helpers import BUCKET, jpeg, stranger

from photosift import faces, imaging

pytestmark = pytest.mark.integration


def code(err: pytest.ExceptionInfo[ClientError]) -> str:
    return err.value.response["Error"]["Code"]


def test_detect_faces_reports_ratios_of_the_engines_pixels(rek, astronaut_jpeg):
    reply = rek.detect_faces(Image={"Bytes": astronaut_jpeg}, Attributes=["DEFAULT"])
    assert len(reply["FaceDetails"]) == 1
    face = reply["FaceDetails"][0]
    engine_face = faces.detect_faces(imaging.decode(astronaut_jpeg))[0]
    left, top, width, height = engine_face.box
    box = face["BoundingBox"]
    assert box == pytest.approx({"Left": left / 512, "Top": top / 512, "Width": width / 512, "Height": height / 512},
                                abs=1e-5)
    # The astronaut's face: upper middle of the picture.
    assert 0.25 < box["Left"] < 0.45 and 0.05 < box["Top"] < 0.2 and 0.1 < box["Width"] < 0.3
    marks = {m["Type"]: (m["X"], m["Y"]) for m in face["Landmarks"]}
    assert set(marks) == {"eyeLeft", "eyeRight", "nose", "mouthLeft", "mouthRight"}
    assert marks["eyeLeft"][0] < marks["eyeRight"][0]  # AWS names landmarks by image side
    assert marks["mouthLeft"][0] < marks["mouthRight"][0]
    assert marks["eyeLeft"][1] < marks["nose"][1] < marks["mouthLeft"][1]
    for x, y in marks.values():
        assert box["Left"] <= x <= box["Left"] + box["Width"] and box["Top"] <= y <= box["Top"] + box["Height"]
    assert set(face) == {"BoundingBox", "Landmarks", "Pose", "Quality", "Confidence"}
    assert face["Confidence"] > 90
    assert abs(face["Pose"]["Yaw"]) < 20 and abs(face["Pose"]["Roll"]) < 20
    assert 0 < face["Quality"]["Sharpness"] <= 100 and 20 < face["Quality"]["Brightness"] < 90


def test_attributes_all_returns_only_what_photosift_computes(rek, astronaut_jpeg):
    face = rek.detect_faces(Image={"Bytes": astronaut_jpeg}, Attributes=["ALL"])["FaceDetails"][0]
    assert set(face) == {"BoundingBox", "Landmarks", "Pose", "Quality", "Confidence"}


def test_detect_faces_from_an_s3_object_in_the_local_store(rek, server, astronaut_jpeg):
    server.put_object("people/astronaut.jpg", astronaut_jpeg)
    from_s3 = rek.detect_faces(Image={"S3Object": {"Bucket": BUCKET, "Name": "people/astronaut.jpg"}})
    from_bytes = rek.detect_faces(Image={"Bytes": astronaut_jpeg})
    assert from_s3["FaceDetails"] == from_bytes["FaceDetails"]


def test_exif_rotated_photos_are_reported_upright(rek, astronaut):
    upright = rek.detect_faces(Image={"Bytes": jpeg(astronaut)})["FaceDetails"][0]["BoundingBox"]
    rotated = Image.fromarray(np.ascontiguousarray(np.rot90(astronaut, k=1)))  # stored turned left
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 CW to display"
    buf = io.BytesIO()
    rotated.save(buf, format="JPEG", quality=92, exif=exif)
    box = rek.detect_faces(Image={"Bytes": buf.getvalue()})["FaceDetails"][0]["BoundingBox"]
    assert box == pytest.approx(upright, abs=0.02)


def test_no_faces_gives_an_empty_list(rek, blank_photo):
    assert rek.detect_faces(Image={"Bytes": jpeg(blank_photo)})["FaceDetails"] == []


def test_image_errors_use_aws_types(rek, server):
    with pytest.raises(ClientError) as err:
        rek.detect_faces(Image={"Bytes": b"this is not an image"})
    assert code(err) == "InvalidImageFormatException"
    with pytest.raises(ClientError) as err:
        rek.detect_faces(Image={"Bytes": b"\xff\xd8" + bytes(5 * 1024 * 1024)})
    assert code(err) == "ImageTooLargeException"
    with pytest.raises(ClientError) as err:
        rek.detect_faces(Image={"S3Object": {"Bucket": BUCKET, "Name": "missing.jpg"}})
    assert code(err) == "InvalidS3ObjectException"
    server.put_object("huge.jpg", b"\xff\xd8" + bytes(15 * 1024 * 1024))
    with pytest.raises(ClientError) as err:
        rek.detect_faces(Image={"S3Object": {"Bucket": BUCKET, "Name": "huge.jpg"}})
    assert code(err) == "ImageTooLargeException"
    with pytest.raises(ClientError) as err:
        rek.detect_faces(Image={})
    assert code(err) == "InvalidParameterException"


def test_compare_faces_matches_the_same_person(rek, astronaut, make_group_photo):
    source = jpeg(astronaut)
    target = jpeg(make_group_photo(900, 400, [200, 160]))  # two (mirrored) copies of the astronaut's face
    reply = rek.compare_faces(SourceImage={"Bytes": source}, TargetImage={"Bytes": target})
    assert reply["SourceImageFace"]["Confidence"] > 90
    assert len(reply["FaceMatches"]) == 2 and reply["UnmatchedFaces"] == []
    sims = [m["Similarity"] for m in reply["FaceMatches"]]
    assert sims == sorted(sims, reverse=True) and min(sims) >= 80
    assert set(reply["FaceMatches"][0]["Face"]) == {"BoundingBox", "Landmarks", "Pose", "Quality", "Confidence"}


def test_compare_faces_threshold_moves_faces_to_unmatched(rek, astronaut):
    target = jpeg(np.concatenate([astronaut, stranger()], axis=1))
    default = rek.compare_faces(SourceImage={"Bytes": jpeg(astronaut)}, TargetImage={"Bytes": target})
    assert len(default["FaceMatches"]) == 1 and len(default["UnmatchedFaces"]) == 1
    assert default["FaceMatches"][0]["Face"]["BoundingBox"]["Left"] < 0.5  # the astronaut, left half
    assert default["UnmatchedFaces"][0]["BoundingBox"]["Left"] > 0.5
    everyone = rek.compare_faces(SourceImage={"Bytes": jpeg(astronaut)}, TargetImage={"Bytes": target},
                                 SimilarityThreshold=0)
    assert len(everyone["FaceMatches"]) == 2 and everyone["UnmatchedFaces"] == []
    assert everyone["FaceMatches"][0]["Similarity"] > everyone["FaceMatches"][1]["Similarity"]


def test_compare_faces_quality_filter_drops_small_faces(rek, astronaut, make_group_photo):
    target = jpeg(make_group_photo(800, 400, [200, 28]))  # one usable face, one far too small (~12 px)
    plain = rek.compare_faces(SourceImage={"Bytes": jpeg(astronaut)}, TargetImage={"Bytes": target})
    filtered = rek.compare_faces(SourceImage={"Bytes": jpeg(astronaut)}, TargetImage={"Bytes": target},
                                 QualityFilter="HIGH")
    seen = len(plain["FaceMatches"]) + len(plain["UnmatchedFaces"])
    kept = len(filtered["FaceMatches"]) + len(filtered["UnmatchedFaces"])
    assert seen == 2 and kept == 1


def test_compare_faces_without_a_source_face_is_invalid(rek, astronaut, blank_photo):
    with pytest.raises(ClientError) as err:
        rek.compare_faces(SourceImage={"Bytes": jpeg(blank_photo)}, TargetImage={"Bytes": jpeg(astronaut)})
    assert code(err) == "InvalidParameterException"


def test_compare_faces_tells_different_people_apart(rek, shared_data):
    lfw = shared_data / "lfw"
    with open(lfw / "pairs.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    same = [r for r in rows if r["same_identity"].lower() in ("1", "true")][:5]
    different = [r for r in rows if r["same_identity"].lower() in ("0", "false")][:5]

    def matched(row: dict[str, str]) -> bool:
        reply = rek.compare_faces(SourceImage={"Bytes": (lfw / row["img1"]).read_bytes()},
                                  TargetImage={"Bytes": (lfw / row["img2"]).read_bytes()})
        return bool(reply["FaceMatches"])

    assert sum(matched(r) for r in same) >= 4
    assert sum(not matched(r) for r in different) >= 4
