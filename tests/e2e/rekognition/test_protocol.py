"""The AWS JSON 1.1 protocol and SigV4 authentication, with boto3 (and raw signed requests) against the real server."""

from __future__ import annotations

import datetime as dt
import json
import subprocess

import botocore.auth
import httpx
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError
from rk_helpers import CREDENTIALS, start_server

pytestmark = pytest.mark.integration

KEY = "AKIDPHOTOSIFTTEST01"


def signed_post(url: str, target: str | None, body: bytes, *, key: str = KEY, secret: str | None = None,
                region: str = "us-west-2", service: str = "rekognition") -> httpx.Response:
    """POST ``body`` to ``url`` signed by botocore's SigV4 signer, as an SDK would send it."""
    headers = {"Content-Type": "application/x-amz-json-1.1"}
    if target:
        headers["X-Amz-Target"] = target
    request = AWSRequest(method="POST", url=url + "/", data=body, headers=headers)
    SigV4Auth(Credentials(key, secret or CREDENTIALS[key]), service, region).add_auth(request)
    return httpx.post(url + "/", content=body, headers=dict(request.headers.items()))


def error_of(response: httpx.Response) -> tuple[int, str]:
    body = response.json()
    assert set(body) == {"__type", "message"}
    assert response.headers["x-amzn-errortype"] == body["__type"]
    assert response.headers["content-type"] == "application/x-amz-json-1.1"
    return response.status_code, body["__type"]


def test_a_valid_signature_is_accepted_in_any_region(make_client):
    for region in ("us-east-1", "ap-southeast-2"):
        arn = make_client(region=region).create_collection(CollectionId=f"region-{region}")["CollectionArn"]
        assert arn == f"aws:rekognition:{region}:000000000000:collection/region-{region}"


def test_second_configured_key_is_accepted(make_client):
    assert "CollectionIds" in make_client(key="AKIDPHOTOSIFTTEST02").list_collections()


def test_wrong_secret_fails_with_the_sdks_signature_error(make_client):
    with pytest.raises(ClientError) as err:
        make_client(secret="not-the-secret").list_collections()
    assert err.value.response["Error"]["Code"] == "InvalidSignatureException"
    assert "signature we calculated does not match" in err.value.response["Error"]["Message"]


def test_unknown_access_key_is_unrecognized(make_client):
    with pytest.raises(ClientError) as err:
        make_client(key="AKIDUNKNOWN", secret="whatever").list_collections()
    assert err.value.response["Error"]["Code"] == "UnrecognizedClientException"


def test_requests_outside_the_clock_skew_window_are_refused(make_client, monkeypatch):
    for minutes in (-6, 6):
        skewed = dt.datetime.now(dt.UTC).replace(tzinfo=None) + dt.timedelta(minutes=minutes)
        monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda skewed=skewed: skewed)
        with pytest.raises(ClientError) as err:
            make_client().list_collections()
        assert err.value.response["Error"]["Code"] == "InvalidSignatureException"
        assert "Signature expired" in err.value.response["Error"]["Message"] or "not yet current" in \
            err.value.response["Error"]["Message"]
    skewed = dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(minutes=4)
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda: skewed)
    assert "CollectionIds" in make_client().list_collections()


def test_missing_signature_is_refused(server):
    response = httpx.post(server.url + "/", content=b"{}", headers={
        "X-Amz-Target": "RekognitionService.ListCollections", "Content-Type": "application/x-amz-json-1.1"})
    assert error_of(response) == (403, "MissingAuthenticationTokenException")


def test_a_tampered_body_breaks_the_signature(server):
    body = b'{"CollectionId": "tamper"}'
    headers = {"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "RekognitionService.CreateCollection"}
    request = AWSRequest(method="POST", url=server.url + "/", data=body, headers=headers)
    SigV4Auth(Credentials(KEY, CREDENTIALS[KEY]), "rekognition", "us-east-1").add_auth(request)
    response = httpx.post(server.url + "/", content=b'{"CollectionId": "tampex"}', headers=dict(request.headers))
    assert error_of(response) == (400, "InvalidSignatureException")


def test_a_signature_for_another_service_is_refused(server):
    response = signed_post(server.url, "RekognitionService.ListCollections", b"{}", service="s3")
    assert error_of(response) == (400, "InvalidSignatureException")


def test_unknown_operations_get_an_aws_error_not_a_500(server):
    for target in ("RekognitionService.DetectCelebrities2", "SomethingElse.ListCollections", None):
        response = signed_post(server.url, target, b"{}")
        assert error_of(response) == (400, "UnknownOperationException")


def test_malformed_json_is_a_serialization_error(server):
    response = signed_post(server.url, "RekognitionService.ListCollections", b"{not json")
    assert error_of(response) == (400, "SerializationException")


def test_model_constraints_are_enforced_by_the_server(rek):
    with pytest.raises(ClientError) as err:
        rek.create_collection(CollectionId="spaces are not allowed")
    assert err.value.response["Error"]["Code"] == "InvalidParameterException"
    assert "regular expression pattern" in err.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as err:
        rek.list_faces(CollectionId="x", MaxResults=5000)
    assert err.value.response["Error"]["Code"] == "InvalidParameterException"


def test_replies_carry_a_request_id(rek):
    reply = rek.list_collections()
    assert len(reply["ResponseMetadata"]["RequestId"]) == 36


def test_without_credentials_only_loopback_clients_are_served(tmp_path, make_client):
    local = start_server(tmp_path, credentials="")
    try:
        assert "CollectionIds" in make_client(key="anything", secret="anything", url=local.url).list_collections()
        unsigned = httpx.post(local.url + "/", content=b"{}", headers={  # no signature, so no signed-header rule
            "X-Amz-Target": "RekognitionService.ListCollections", "Content-Type": "application/x-amz-json-1.1"})
        assert unsigned.status_code == 200 and "CollectionIds" in unsigned.json()
    finally:
        local.stop()
    address = _non_loopback_address()
    if address is None:
        pytest.skip("this machine has no non-loopback address to test from")
    # (the native API's keys let `photosift serve` bind beyond loopback; they are not AWS credentials)
    remote = start_server(tmp_path / "remote", credentials="", host=address, PHOTOSIFT_API_KEYS="native-only-key")
    try:
        with pytest.raises(ClientError) as err:
            make_client(key="anything", secret="anything", url=remote.url).list_collections()
        assert err.value.response["Error"]["Code"] == "AccessDeniedException"
    finally:
        remote.stop()


def _non_loopback_address() -> str | None:
    try:
        out = subprocess.run(["hostname", "-I"], capture_output=True, text=True, timeout=5).stdout.split()
    except (OSError, subprocess.SubprocessError):
        return None
    v4 = [a for a in out if "." in a and not a.startswith("127.")]
    return v4[0] if v4 else None


def test_error_bodies_parse_as_json(server):
    response = signed_post(server.url, "RekognitionService.DescribeCollection", json.dumps({"CollectionId": "nope"})
                           .encode())
    assert error_of(response) == (400, "ResourceNotFoundException")


def _signed_headers(url: str, body: bytes, signed: dict[str, str]) -> dict[str, str]:
    """Headers of a request signed (botocore's signer) over ``signed`` only: what a custom signer may send."""
    request = AWSRequest(method="POST", url=url + "/", data=body, headers=signed)
    SigV4Auth(Credentials(KEY, CREDENTIALS[KEY]), "rekognition", "us-east-1").add_auth(request)
    return dict(request.headers.items())


def test_the_signature_must_cover_the_operation_it_runs(server, rek):
    """The issue's bypass: a request signed for DescribeCollection must not run as DeleteCollection."""
    rek.create_collection(CollectionId="bypass-target")
    body = json.dumps({"CollectionId": "bypass-target"}).encode()
    describe = {"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "RekognitionService.DescribeCollection"}

    changed = _signed_headers(server.url, body, describe)  # target signed, then changed
    changed["X-Amz-Target"] = "RekognitionService.DeleteCollection"
    assert error_of(httpx.post(server.url + "/", content=body, headers=changed)) == (400, "InvalidSignatureException")

    added = _signed_headers(server.url, body, {"Content-Type": "application/x-amz-json-1.1"})  # target never signed
    added["X-Amz-Target"] = "RekognitionService.DeleteCollection"
    response = httpx.post(server.url + "/", content=body, headers=added)
    assert error_of(response) == (400, "InvalidSignatureException")
    assert "x-amz-target" in response.json()["message"]

    unsigned_type = _signed_headers(server.url, body, {"X-Amz-Target": "RekognitionService.DeleteCollection"})
    unsigned_type["Content-Type"] = "text/plain"  # Content-Type need not be signed, but it must be the protocol's
    response = httpx.post(server.url + "/", content=body, headers=unsigned_type)
    assert error_of(response) == (415, "UnsupportedMediaTypeException")

    repeated = _signed_headers(server.url, body, describe)  # a second target header breaks the signed value
    second = ("X-Amz-Target", "RekognitionService.DeleteCollection")
    response = httpx.post(server.url + "/", content=body, headers=[*repeated.items(), second])
    assert error_of(response) == (400, "InvalidSignatureException")

    assert rek.describe_collection(CollectionId="bypass-target")["FaceCount"] == 0  # still there
    ok = httpx.post(server.url + "/", content=body, headers=_signed_headers(server.url, body, describe))
    assert ok.status_code == 200 and ok.json()["FaceCount"] == 0


def test_content_type_is_checked_not_required_in_the_signature(server):
    """What AWS accepts from its SDKs: an unsigned Content-Type (JavaScript SDK v2), with or without parameters."""
    body = b"{}"
    target = {"X-Amz-Target": "RekognitionService.ListCollections"}
    for content_type in ("application/x-amz-json-1.1", "application/x-amz-json-1.1; charset=UTF-8"):
        for signed in ({**target, "Content-Type": content_type}, target):
            headers = {**_signed_headers(server.url, body, signed), "Content-Type": content_type}
            response = httpx.post(server.url + "/", content=body, headers=headers)
            assert response.status_code == 200 and "CollectionIds" in response.json(), (content_type, signed)
    for content_type in ("application/json", "text/plain", "application/x-www-form-urlencoded", None):
        for signed in ({**target, "Content-Type": content_type} if content_type else target, target):
            headers = {k: v for k, v in _signed_headers(server.url, body, signed).items() if k != "Content-Type"}
            response = httpx.post(server.url + "/", content=body,
                                  headers={**headers, "Content-Type": content_type} if content_type else headers)
            assert error_of(response) == (415, "UnsupportedMediaTypeException"), (content_type, signed)
            assert "application/x-amz-json-1.1" in response.json()["message"]


def test_deeply_nested_json_is_a_serialization_error(server):
    for body in (b"[" * 100_000, b'{"CollectionId": "x", "Tags": {"a": ' + b"[" * 50_000 + b"]" * 50_000 + b"}}",
                 b'{"x": ' + b'{"y": ' * 40 + b"1" + b"}" * 41):
        response = signed_post(server.url, "RekognitionService.CreateCollection", body)
        assert error_of(response) == (400, "SerializationException")


def test_nul_and_lone_surrogates_are_invalid_parameters(server):
    for body in (rb'{"CollectionId": "nul\u0000id"}', rb'{"CollectionId": "x\ud800"}',
                 rb'{"Image": {"S3Object": {"Bucket": "test-bucket", "Name": "a\u0000b"}}}',
                 rb'{"Image": {"S3Object": {"Bucket": "test-bucket", "Name": "a\udfffb"}}}'):
        target = "DetectFaces" if b"Image" in body else "CreateCollection"
        response = signed_post(server.url, f"RekognitionService.{target}", body)
        assert error_of(response) == (400, "InvalidParameterException")


def test_tags_follow_the_models_unicode_patterns(rek):
    rek.create_collection(CollectionId="tagged", Tags={"équipe 1": "Führung/2024"})
    with pytest.raises(ClientError) as err:
        rek.create_collection(CollectionId="tagged-aws", Tags={"aws:reserved": "x"})
    assert err.value.response["Error"]["Code"] == "InvalidParameterException"


def test_refused_values_are_echoed_shortened(rek):
    with pytest.raises(ClientError) as err:
        rek.create_collection(CollectionId="!" * 255)
    message = err.value.response["Error"]["Message"]
    assert "regular expression pattern" in message and "!" * 64 + "..." in message and "!" * 65 not in message


def test_null_members_are_absent_members(server):
    """A JSON null is an absent member, as in AWS's JSON protocol (found by the fuzz suite: it was a 500)."""
    body = json.dumps({"SourceImage": {}, "TargetImage": {}, "SimilarityThreshold": None}).encode()
    assert error_of(signed_post(server.url, "RekognitionService.CompareFaces", body)) == (400,
                                                                                          "InvalidParameterException")
    response = signed_post(server.url, "RekognitionService.ListCollections", b'{"MaxResults": null, "NextToken": null}')
    assert response.status_code == 200 and "CollectionIds" in response.json()
