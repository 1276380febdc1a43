"""boto3 as apps use it, against real servers: DetectFaces and CompareFaces by bytes and by ``S3Object`` (a real S3:
moto), refused with a wrong secret, and refused when ``X-Amz-Target`` is left out of the signature (botocore event
handlers remove it before signing and add it back before sending)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from botocore.exceptions import ClientError
from rk_helpers import BUCKET, S3_FACE, Server

pytestmark = pytest.mark.integration


def _unsigned_target(client: object) -> list[str]:
    """Make ``client`` sign without ``X-Amz-Target`` and send it all the same; the list gets each sent Authorization."""
    targets: list[str] = []
    sent: list[str] = []

    def drop(request: object, **_: object) -> None:
        targets.append(request.headers["X-Amz-Target"])
        del request.headers["X-Amz-Target"]

    def add(request: object, **_: object) -> None:
        request.headers["X-Amz-Target"] = targets.pop()
        authorization = request.headers["Authorization"]  # bytes once the request is prepared
        sent.append(authorization.decode() if isinstance(authorization, bytes) else authorization)

    client.meta.events.register("before-sign.rekognition", drop)
    client.meta.events.register("before-send.rekognition", add)
    return sent


def test_boto3_detects_and_compares_by_bytes_and_s3_object(make_client: Callable[..., object], s3_server: Server,
                                                           astronaut_jpeg: bytes) -> None:
    rek, s3rek = make_client(), make_client(url=s3_server.url)
    by_bytes, by_s3 = {"Bytes": astronaut_jpeg}, {"S3Object": {"Bucket": BUCKET, "Name": S3_FACE}}
    detected = [rek.detect_faces(Image=by_bytes)["FaceDetails"], s3rek.detect_faces(Image=by_s3)["FaceDetails"]]
    assert len(detected[0]) == 1 and detected[0] == detected[1]
    for client, source in ((rek, by_bytes), (s3rek, by_s3)):
        compared = client.compare_faces(SourceImage=source, TargetImage=by_bytes, SimilarityThreshold=80)
        assert compared["FaceMatches"][0]["Similarity"] >= 80


def test_boto3_with_a_wrong_secret_is_refused(make_client: Callable[..., object], astronaut_jpeg: bytes) -> None:
    with pytest.raises(ClientError) as err:
        make_client(secret="not-the-secret").detect_faces(Image={"Bytes": astronaut_jpeg})
    assert err.value.response["Error"]["Code"] == "InvalidSignatureException"


def test_boto3_with_an_unsigned_target_is_refused(make_client: Callable[..., object], astronaut_jpeg: bytes) -> None:
    rek = make_client()
    sent = _unsigned_target(rek)
    with pytest.raises(ClientError) as err:
        rek.detect_faces(Image={"Bytes": astronaut_jpeg})
    error = err.value.response["Error"]
    assert error["Code"] == "InvalidSignatureException"
    assert "'x-amz-target' must be among the 'SignedHeaders'" in error["Message"]
    assert len(sent) == 1 and "x-amz-target" not in sent[0] and "SignedHeaders=content-type;host;x-amz-date" in sent[0]
