"""Fast unit tests of the endpoint's pieces: the shape checker, SigV4 verification, similarity mapping, quality."""

from __future__ import annotations

import datetime as dt

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from photosift import errors
from photosift.api.rekognition import detail, shapes, sigv4
from photosift.api.rekognition.errors import AwsError, to_aws
from photosift.application import face_quality as quality
from photosift.faces.types import Face, FaceQuality, Pose


def test_shape_checker_finds_violations():
    out = shapes.operation_model("DetectFaces").output_shape
    good = {"FaceDetails": [{"BoundingBox": {"Width": 0.1, "Height": 0.2, "Left": 0.3, "Top": 0.4},
                             "Confidence": 99.0, "Landmarks": [{"Type": "nose", "X": 0.5, "Y": 0.5}]}]}
    assert shapes.check(out, good, strict=True) == []
    bad = {"FaceDetails": [{"Confidence": 101, "Landmarks": [{"Type": "chin", "X": "0.5"}], "Extra": 1}]}
    problems = shapes.check(out, bad, strict=True)
    assert any("less than or equal to 100" in p for p in problems)
    assert any("enum value set" in p for p in problems)
    assert any("must be a number" in p for p in problems)
    assert any("Unknown member" in p for p in problems)
    assert shapes.check(out, bad) != [] and not any("Unknown" in p for p in shapes.check(out, bad))


def test_parse_request_decodes_blobs_and_reports_like_aws():
    params = shapes.parse_request("DetectFaces", b'{"Image": {"Bytes": "aGVsbG8="}}')
    assert params["Image"]["Bytes"] == b"hello"
    with pytest.raises(AwsError) as err:
        shapes.parse_request("CreateCollection", b'{"CollectionId": "a b"}')
    assert err.value.code == "InvalidParameterException" and "collectionId" in err.value.message
    with pytest.raises(AwsError) as err:
        shapes.parse_request("CreateCollection", b"{}")
    assert "must not be null" in err.value.message
    with pytest.raises(AwsError) as err:
        shapes.parse_request("DetectFaces", b'{"Image": {"Bytes": "***"}}')
    assert err.value.code == "InvalidParameterException"


SDK_HEADERS = {"X-Amz-Target": "RekognitionService.ListCollections", "Content-Type": "application/x-amz-json-1.1"}


def _signed(body: bytes, secret: str = "sekret", when: dt.datetime | None = None,
            signed: dict[str, str] = SDK_HEADERS) -> tuple[list, dict]:
    request = AWSRequest(method="POST", url="http://127.0.0.1:9/", data=body, headers=dict(signed))
    signer = SigV4Auth(Credentials("AKID", secret), "rekognition", "sa-east-1")
    if when is None:
        signer.add_auth(request)
    else:
        request.context["timestamp"] = when.strftime("%Y%m%dT%H%M%SZ")
        request.headers["X-Amz-Date"] = request.context["timestamp"]
        canonical = signer.canonical_request(request)
        sig = signer.signature(signer.string_to_sign(request, canonical), request)
        request.headers["Authorization"] = (f"AWS4-HMAC-SHA256 Credential={signer.scope(request)}, "
                                            f"SignedHeaders={signer.signed_headers(signer.headers_to_sign(request))}, "
                                            f"Signature={sig}")
    headers = [("host", "127.0.0.1:9"), *request.headers.items()]
    return headers, {"method": "POST", "path": "/", "query": "", "body": body, "secrets": {"AKID": "sekret"}}


def test_sigv4_accepts_botocore_signatures_and_rejects_changes():
    headers, kw = _signed(b"{}")
    assert sigv4.verify(headers=headers, **kw) == sigv4.Caller("AKID", "sa-east-1")
    with pytest.raises(AwsError) as err:
        sigv4.verify(headers=headers, **{**kw, "body": b'{"x": 1}'})
    assert err.value.code == "InvalidSignatureException"
    with pytest.raises(AwsError) as err:
        sigv4.verify(headers=[(k, "RekognitionService.X" if k == "X-Amz-Target" else v) for k, v in headers], **kw)
    assert err.value.code == "InvalidSignatureException"
    bad_headers, _ = _signed(b"{}", secret="other")
    with pytest.raises(AwsError):
        sigv4.verify(headers=bad_headers, **kw)


def test_sigv4_clock_window():
    now = dt.datetime(2030, 1, 1, 12, 0, tzinfo=dt.UTC)
    for minutes, ok in ((-4, True), (4, True), (-6, False), (6, False)):
        headers, kw = _signed(b"{}", when=now + dt.timedelta(minutes=minutes))
        if ok:
            sigv4.verify(headers=headers, now=now, **kw)
        else:
            with pytest.raises(AwsError) as err:
                sigv4.verify(headers=headers, now=now, **kw)
            assert err.value.code == "InvalidSignatureException"


def test_credentials_setting_parses_pairs():
    assert sigv4.parse_credentials(" A:x , B:y:z ") == {"A": "x", "B": "y:z"}
    assert sigv4.parse_credentials("") == {}
    with pytest.raises(ValueError):
        sigv4.parse_credentials("no-secret")


def test_similarity_mapping_anchors_the_default_threshold():
    assert detail.to_aws_similarity(80, 80) == 80 and detail.to_aws_similarity(91.5, 80) == 91.5
    assert detail.to_aws_similarity(60, 60) == 80
    for t in (40.0, 80.0, 95.0):
        for s in (0.0, 10.0, t, 99.0, 100.0):
            assert detail.to_engine_threshold(detail.to_aws_similarity(s, t), t) == pytest.approx(s, abs=1e-3)


def test_quality_filter_reasons():
    face = Face(box=(0, 0, 10, 10), confidence=60, landmarks=(), pose=Pose(70, 0, 0),
                quality=FaceQuality(sharpness=50, brightness=50), too_small=True)
    assert quality.reasons(face, "NONE") == []
    assert quality.reasons(face, "LOW") == ["SMALL_BOUNDING_BOX"]
    assert set(quality.reasons(face, "HIGH")) == {"SMALL_BOUNDING_BOX", "LOW_CONFIDENCE", "EXTREME_POSE"}
    assert quality.reasons(face, "AUTO") == quality.reasons(face, "MEDIUM")



def test_quality_filter_size_bars_rise_with_the_level():
    """A face compared from 16 px passes LOW; MEDIUM (AUTO) asks for 24 px and HIGH for 40 px, in the analysed
    pixels (faces of a collection are compared with each other, and small ones look alike)."""

    def small(reasons: list[str]) -> bool:
        return "SMALL_BOUNDING_BOX" in reasons

    def face(size: float | None) -> Face:
        return Face(box=(0, 0, 90, 90), confidence=99, landmarks=(), pose=Pose(0, 0, 0),
                    quality=FaceQuality(sharpness=50, brightness=50, size=size))

    assert [small(quality.reasons(face(20), level)) for level in ("NONE", "LOW", "MEDIUM", "HIGH")] \
        == [False, False, True, True]
    assert [small(quality.reasons(face(30), level)) for level in ("LOW", "MEDIUM", "HIGH")] == [False, False, True]
    assert not any(small(quality.reasons(face(s), level)) for s in (40, None) for level in ("LOW", "MEDIUM", "HIGH"))


def test_error_table():
    assert to_aws(errors.ImageTooLarge("x")).code == "ImageTooLargeException"
    assert to_aws(errors.InvalidImage("x")).code == "InvalidImageFormatException"
    assert to_aws(errors.Busy("x")).code == "ProvisionedThroughputExceededException"
    assert to_aws(errors.AlreadyExists("x"), "CreateCollection").code == "ResourceAlreadyExistsException"
    assert to_aws(errors.AlreadyExists("x"), "CreateUser").code == "ConflictException"
    full = to_aws(errors.InsufficientStorage("disk full"))
    assert (full.code, full.status) == ("ServiceUnavailableException", 503)
    assert to_aws(errors.NotFound("x")).code == "ResourceNotFoundException"


def _signed_without(late: dict[str, str]) -> tuple[list, dict]:
    """A valid botocore signature of a ListCollections request, with the ``late`` headers set after signing."""
    names = {name.lower() for name in late}
    headers, kw = _signed(b"{}", signed={k: v for k, v in SDK_HEADERS.items() if k.lower() not in names})
    return headers + list(late.items()), kw


def test_sigv4_requires_the_target_every_x_amz_header_and_host_to_be_signed():
    for late in ({"X-Amz-Target": "RekognitionService.DeleteCollection"}, {"X-Amz-Meta-Extra": "1"}):
        headers, kw = _signed_without(late)
        with pytest.raises(AwsError) as err:
            sigv4.verify(headers=headers, **kw)
        assert err.value.code == "InvalidSignatureException"
        assert f"'{next(iter(late)).lower()}'" in err.value.message and "SignedHeaders" in err.value.message
    headers, kw = _signed(b"{}")
    assert "SignedHeaders=content-type;host;" in dict(headers)["Authorization"]
    no_host = [(k, v.replace(";host;", ";") if k == "Authorization" else v) for k, v in headers]
    with pytest.raises(AwsError) as err:
        sigv4.verify(headers=no_host, **kw)
    assert err.value.code == "InvalidSignatureException" and "'host'" in err.value.message
    assert sigv4.unsigned_headers(["host"], ["host", "x-amz-target", "content-type", "user-agent"]) == ["x-amz-target"]
    assert sigv4.unsigned_headers(["content-type", "x-amz-date"], ["content-type", "x-amz-date"]) == ["host"]
    assert sigv4.unsigned_headers(["host", "x-amz-date"], ["host", "x-amz-date", "user-agent", "content-type",
                                                          "content-length", "x-amzn-trace-id"]) == []


def test_sigv4_accepts_an_unsigned_content_type_of_the_protocol_as_the_javascript_sdk_v2_sends_it():
    """SDK v2 signs neither Content-Type nor Content-Length nor User-Agent; AWS serves it, and so must photosift."""
    for content_type in ("application/x-amz-json-1.1", "application/x-amz-json-1.1; charset=utf-8",
                         "Application/X-Amz-JSON-1.1;charset=UTF-8", "application/x-amz-json-1.1 ; foo=bar"):
        headers, kw = _signed_without({"Content-Type": content_type, "Content-Length": "2",
                                       "User-Agent": "aws-sdk-js/2.1693.0"})
        assert sigv4.verify(headers=headers, **kw) == sigv4.Caller("AKID", "sa-east-1"), content_type
        signed, kw = _signed(b"{}", signed={**SDK_HEADERS, "Content-Type": content_type})  # signed: as boto3 sends it
        assert sigv4.verify(headers=signed, **kw) == sigv4.Caller("AKID", "sa-east-1"), content_type


def test_sigv4_refuses_another_content_type_signed_or_not_as_a_415():
    for content_type in ("text/plain", "application/json", "application/x-amz-json-1.0", "application/x-amz-json-1.11",
                         "application/x-amz-json-1.1x", "multipart/form-data; boundary=x", "", "\xe9"):
        for headers, kw in (_signed_without({"Content-Type": content_type}),
                            _signed(b"{}", signed={**SDK_HEADERS, "Content-Type": content_type})):
            with pytest.raises(AwsError) as err:
                sigv4.verify(headers=headers, **kw)
            assert (err.value.code, err.value.status) == ("UnsupportedMediaTypeException", 415), content_type
            assert sigv4.MEDIA_TYPE in err.value.message
    headers, kw = _signed_without({"Content-Type": "dropped"})
    with pytest.raises(AwsError) as err:  # none at all
        sigv4.verify(headers=[(k, v) for k, v in headers if k != "Content-Type"], **kw)
    assert err.value.code == "UnsupportedMediaTypeException" and "none" in err.value.message
    headers, kw = _signed_without({"Content-Type": "text/plain"})
    with pytest.raises(AwsError) as err:  # a wrong secret is a signature error first, whatever the content type
        sigv4.verify(headers=headers, **{**kw, "secrets": {"AKID": "other"}})
    assert err.value.code == "InvalidSignatureException"


def test_sigv4_refuses_odd_regions_and_signatures_without_a_500():
    headers, kw = _signed(b"{}")
    auth = dict(headers)["Authorization"]
    for bad in (auth.replace("/sa-east-1/", "/" + "x" * 600 + "/"), auth.replace("/sa-east-1/", "/Évil/"),
                auth.rsplit("Signature=", 1)[0] + "Signature=\u00e9\u00e9"):
        with pytest.raises(AwsError) as err:
            sigv4.verify(headers=[(k, bad if k == "Authorization" else v) for k, v in headers], **kw)
        assert err.value.code == "InvalidSignatureException"
    assert sigv4.region_hint({"authorization": auth.replace("/sa-east-1/", "/a b/")}) is None
    assert sigv4.region_hint({"authorization": auth}) == "sa-east-1"


def test_an_absurd_content_length_is_too_large_not_a_500():
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    from starlette.requests import Request

    from photosift.api.rekognition import protocol

    for declared in (b"9" * 5000, str(protocol.MAX_BODY_BYTES + 1).encode()):
        request = Request({"type": "http", "method": "POST", "path": "/", "headers": [(b"content-length", declared)]})
        with pytest.raises(AwsError) as err, ThreadPoolExecutor(1) as thread:  # a thread of its own: a browser
            thread.submit(asyncio.run, protocol._body(request)).result()  # test may leave this one's loop set
        assert err.value.code == "ImageTooLargeException"
