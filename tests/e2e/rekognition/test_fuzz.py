"""Bounded property-based fuzzing of the Rekognition endpoint (hypothesis) against the real, SigV4-protected server.

Requests are drawn from botocore's input shapes of every operation photosift serves: mostly valid values (ids that
exist, images that decode and show a face, in-range numbers), each member sometimes replaced by arbitrary JSON, and
strings that include NUL, unpaired surrogates and the model's edge lengths. Images are random bytes, generated images
of every size, mode and format (with odd EXIF orientations), truncated JPEGs and a real face. Raw bodies and
Authorization headers are fuzzed too. Every reply must be a 200 that conforms to the model, or a 4xx with AWS's error
shape; never a 5xx. Example counts are fixed so the suite stays within seconds.
"""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import numpy as np
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.model import Shape
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from PIL import Image
from rk_helpers import BUCKET, CREDENTIALS, Server, jpeg, start_server
from service_support import postgres_url  # noqa: E402, F401 - the service tests' PostgreSQL fixture

from photosift.api.rekognition import shapes
from photosift.api.rekognition.protocol import CONTENT_TYPE, OPERATIONS

pytestmark = pytest.mark.integration

KEY = "AKIDPHOTOSIFTTEST01"
FACE_OBJECT = "fuzz/astronaut.jpg"
FUZZ = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                         HealthCheck.data_too_large])
KNOWN_FACE = "@known-face"  # replaced by a face id of the known collection when sent (those ids change)
MUTATING = {"DeleteCollection", "DeleteFaces", "DeleteUser", "DisassociateFaces", "AssociateFaces"}


@dataclass
class Known:
    """Ids that exist on the server, so drawn requests reach past ``ResourceNotFoundException``."""

    collection: str
    user: str
    faces: list[str]
    face_jpeg: bytes


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def target(request: pytest.FixtureRequest, server: Server,
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The session's server (SQLite catalog), then one with a PostgreSQL catalog: both must answer alike."""
    if request.param == "sqlite":
        yield server
        return
    pairs = ",".join(f"{k}:{v}" for k, v in CREDENTIALS.items())
    running = start_server(tmp_path_factory.mktemp("fuzz-pg"), pairs,
                           PHOTOSIFT_DATABASE_URL=request.getfixturevalue("postgres_url"))
    yield running
    running.stop()


@pytest.fixture(scope="module")
def client(target: Server) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=target.url, timeout=120) as http:
        yield http


@pytest.fixture(scope="module")
def known(target: Server, client: httpx.Client, astronaut: np.ndarray) -> Known:
    """A collection with one indexed face associated to one user, and the face photo as an S3 object."""
    small = jpeg(np.asarray(Image.fromarray(astronaut).resize((256, 256))))
    target.put_object(FACE_OBJECT, small)
    state = Known(collection="fuzz", user="fuzz-user", faces=[], face_jpeg=small)
    _seed(client, state)
    return state


def _seed(client: httpx.Client, state: Known) -> None:
    """(Re)create the known collection, face and user (a drawn DeleteCollection or DeleteUser may remove them)."""
    if call(client, "DescribeCollection", {"CollectionId": state.collection}).status_code != 200:
        call(client, "CreateCollection", {"CollectionId": state.collection})
    faces = call(client, "ListFaces", {"CollectionId": state.collection}).json()["Faces"]
    if not faces:
        image = {"Bytes": base64.b64encode(state.face_jpeg).decode()}
        faces = [r["Face"] for r in call(client, "IndexFaces", {"CollectionId": state.collection,
                                                                 "Image": image}).json()["FaceRecords"]]
    state.faces = [f["FaceId"] for f in faces]
    call(client, "CreateUser", {"CollectionId": state.collection, "UserId": state.user})
    call(client, "AssociateFaces", {"CollectionId": state.collection, "UserId": state.user, "FaceIds": state.faces})


def sign(body: bytes, headers: dict[str, str], url: str = "http://127.0.0.1/") -> dict[str, str]:
    request = AWSRequest(method="POST", url=url, data=body, headers=headers)
    SigV4Auth(Credentials(KEY, CREDENTIALS[KEY]), "rekognition", "eu-west-1").add_auth(request)
    return dict(request.headers.items())


def call(client: httpx.Client, operation: str, params: object = None, *, raw: bytes | None = None) -> httpx.Response:
    """POST ``params`` (or the ``raw`` body) as ``operation``, signed as an SDK signs it."""
    body = raw if raw is not None else json.dumps(params).encode()
    headers = {"Content-Type": CONTENT_TYPE, "X-Amz-Target": f"RekognitionService.{operation}"}
    return client.post("/", content=body, headers=sign(body, headers, url=str(client.base_url) + "/"))


def assert_aws_reply(response: httpx.Response, operation: str) -> None:
    """A 200 that conforms to ``operation``'s output shape, or a 4xx with AWS's error shape."""
    assert response.status_code < 500, f"{operation}: {response.status_code} {response.text[:500]}"
    body = response.json()
    event(f"{response.status_code} {body.get('__type', 'OK') if isinstance(body, dict) else '?'}")
    if response.status_code == 200:
        assert shapes.check(shapes.operation_model(operation).output_shape, body, strict=True) == []
        return
    assert 400 <= response.status_code < 500 and set(body) == {"__type", "message"}, response.text[:500]
    assert response.headers["x-amzn-errortype"] == body["__type"]


# --- strategies ---------------------------------------------------------------------------------------------------

any_char = st.characters(codec=None, exclude_categories=())  # NUL and unpaired surrogates included
junk = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(any_char, max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=6,
)
FORMATS = {"JPEG": ("RGB", "L", "CMYK"), "PNG": ("RGB", "RGBA", "L", "P", "1", "I;16"), "WEBP": ("RGB", "RGBA"),
           "GIF": ("P", "L"), "BMP": ("RGB", "L"), "TIFF": ("RGB", "L", "I;16")}


@st.composite
def generated_images(draw: st.DrawFn) -> bytes:
    fmt = draw(st.sampled_from(sorted(FORMATS)))
    mode = draw(st.sampled_from(FORMATS[fmt]))
    size = (draw(st.integers(1, 96)), draw(st.integers(1, 96)))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    image = Image.frombytes("L", size, rng.integers(0, 256, size[0] * size[1], dtype=np.uint8).tobytes()).convert(mode)
    exif = Image.Exif()
    exif[0x0112] = draw(st.integers(0, 10))  # orientation, including values outside 1..8
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **({"exif": exif} if fmt in ("JPEG", "PNG", "WEBP", "TIFF") else {}))
    return buffer.getvalue()


@st.composite
def face_variants(draw: st.DrawFn, face: bytes) -> bytes:
    """The face photo at any size and aspect ratio (down to 1 px), with any EXIF orientation."""
    image = Image.open(io.BytesIO(face)).resize((draw(st.integers(1, 600)), draw(st.integers(1, 600))))
    exif = Image.Exif()
    exif[0x0112] = draw(st.integers(1, 8))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", exif=exif)
    return buffer.getvalue()


def image_bytes(face: bytes) -> st.SearchStrategy[bytes]:
    return st.one_of(st.binary(min_size=1, max_size=256), generated_images(), face_variants(face),
                     st.integers(1, len(face) - 1).map(lambda n: face[:n]), st.just(face))


def from_shape(shape: Shape, known: Known, mutate: bool) -> st.SearchStrategy:
    """Values for ``shape``: valid ones (known ids among them); with ``mutate``, also values outside the model's
    constraints, and any member may be arbitrary JSON instead."""
    kind, meta = shape.type_name, shape.metadata
    if kind == "structure":
        members = {name: from_shape(member, known, mutate) for name, member in shape.members.items()}
        if mutate:
            members = {name: st.one_of(*[strategy] * 9, junk) for name, strategy in members.items()}
        elif shape.name == "Image":  # valid: exactly one source
            return st.one_of(*[st.fixed_dictionaries({name: strategy}) for name, strategy in members.items()])
        needed = set(shape.required_members) | (set() if mutate else VALID_REQUIRED.get(shape.name, set()))
        required = {n: s for n, s in members.items() if n in needed}
        return st.fixed_dictionaries(required, optional={n: s for n, s in members.items() if n not in required})
    if kind == "list":
        low, high = meta.get("min", 0), min(meta.get("max", 6), 6)
        return st.lists(from_shape(shape.member, known, mutate), min_size=0 if mutate else low, max_size=high)
    if kind == "map":
        return st.dictionaries(from_shape(shape.key, known, mutate), from_shape(shape.value, known, mutate),
                               max_size=3)
    if kind == "blob":
        return image_bytes(known.face_jpeg).map(lambda b: base64.b64encode(b).decode())
    if kind in ("integer", "long"):
        low, high = meta.get("min", -(2**31)), meta.get("max", 2**31)
        return (st.integers(low - 2, high + 2) | st.integers()) if mutate else st.integers(low, high)
    if kind in ("float", "double"):
        valid = st.floats(meta.get("min", -1e9), meta.get("max", 1e9))
        return (valid | st.floats()) if mutate else valid
    if kind == "boolean":
        return st.booleans()
    if kind == "string":
        return _strings(shape, known, mutate)
    return junk


def _strings(shape: Shape, known: Known, mutate: bool) -> st.SearchStrategy[str]:
    meta = shape.metadata
    low, high = meta.get("min", 0), meta.get("max", 300)
    odd = st.text(any_char, max_size=40) | st.text("ab", min_size=high, max_size=high + 1)  # NUL, surrogates, length
    if "enum" in meta:
        valid = st.sampled_from(meta["enum"])
    elif shape.name in KNOWN_STRINGS:
        valid = KNOWN_STRINGS[shape.name](known)
    elif "pattern" in meta and "\\p" not in meta["pattern"]:
        valid = st.from_regex(meta["pattern"], fullmatch=True).filter(lambda s: low <= len(s) <= high)
    else:
        valid = st.text(st.characters(exclude_categories=("Cs", "Cc")), min_size=low, max_size=min(high, 40))
    return (valid | odd) if mutate else valid


VALID_REQUIRED = {"S3Object": {"Bucket", "Name"}}  # needed for a valid request, though the model marks them optional
KNOWN_STRINGS = {
    "CollectionId": lambda k: st.sampled_from([k.collection] * 4 + ["fuzz-other"]),
    "UserId": lambda k: st.sampled_from([k.user] * 3 + ["nobody"]),
    "FaceId": lambda k: st.just(KNOWN_FACE) | st.uuids().map(str),
    "S3Bucket": lambda k: st.sampled_from([BUCKET, "no-such-bucket", "..."]),
    "S3ObjectName": lambda k: st.sampled_from([FACE_OBJECT, "missing.jpg", "../../etc/passwd", "a/../../b"]),
}


# --- properties -------------------------------------------------------------------------------------------------


@FUZZ
@given(data=st.data(), operation=st.sampled_from(sorted(OPERATIONS)))
def test_drawn_requests_get_a_model_reply_or_an_aws_error(client, known, data, operation):
    mutate = data.draw(st.booleans(), label="mutate")
    params = data.draw(from_shape(shapes.operation_model(operation).input_shape, known, mutate), label="params")
    response = call(client, operation, raw=json.dumps(params).replace(KNOWN_FACE, known.faces[0]).encode())
    assert_aws_reply(response, operation)
    if operation in MUTATING and response.status_code == 200:
        _seed(client, known)


@settings(max_examples=60, deadline=None)
@given(operation=st.sampled_from([*sorted(OPERATIONS), "NoSuchOperation"]),
       body=st.one_of(st.binary(max_size=300),
                      st.integers(1, 5000).map(lambda n: b"[" * n),
                      st.integers(1, 5000).map(lambda n: b'{"CollectionId": ' * n),
                      st.text(alphabet='[]{}",:0\\ud800e', max_size=200).map(str.encode),
                      junk.map(lambda v: json.dumps(v).encode())))
def test_raw_bodies_never_get_a_5xx(client, operation, body):
    response = call(client, operation, raw=body)
    assert_aws_reply(response, operation if operation in OPERATIONS else "ListCollections")


# What HTTP/1.1 lets a header value hold (h11 refuses the rest client-side): Latin-1 text without controls, trimmed.
header_text = st.text(st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f"),
                      max_size=80).map(str.strip)


@settings(max_examples=60, deadline=None)
@given(authorization=st.one_of(header_text, st.builds(
           "AWS4-HMAC-SHA256 Credential={}/{}/{}/{}/{}, SignedHeaders={}, Signature={}".format,
           st.sampled_from([KEY, "AKIDUNKNOWN"]) | header_text, st.sampled_from(["20250101"]) | header_text,
           st.sampled_from(["eu-west-1"]) | header_text, st.sampled_from(["rekognition"]) | header_text,
           st.sampled_from(["aws4_request"]) | header_text,
           st.sampled_from(["content-type;host;x-amz-date;x-amz-target", "host"]) | header_text, header_text)),
       date=st.sampled_from(["20250101T000000Z"]) | header_text, target=header_text)
def test_forged_authorization_headers_get_an_aws_error(client, authorization, date, target):
    headers = {"Content-Type": CONTENT_TYPE, "X-Amz-Target": target, "X-Amz-Date": date, "Authorization": authorization}
    response = client.post("/", content=b"{}", headers={k: v.encode("latin-1") for k, v in headers.items()})
    assert response.status_code in (400, 403), response.text[:500]
    assert set(response.json()) == {"__type", "message"}
