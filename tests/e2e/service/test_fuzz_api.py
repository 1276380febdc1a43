"""Property-based fuzzing of the native API (schemathesis on the served OpenAPI document) against a real server.

Every operation gets generated requests, valid and invalid (a bounded number each), on a SQLite and a PostgreSQL
catalog; no answer may be a 5xx, and every answer must match the documented status codes, content types and
response schemas. (Run with a larger ``MAX_EXAMPLES`` to search harder: 60 passed on both catalogs.) Path ids are often
replaced by real ones (an album with analysed photos, a member, faces, people), so requests reach past the 404.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator

import httpx
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from hypothesis.strategies import SearchStrategy
from schemathesis.checks import not_a_server_error
from schemathesis.generation.modes import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from service_support import Server, make_images, upload, wait_analysed

pytestmark = pytest.mark.integration

MAX_EXAMPLES = 6  # per operation, mode and catalog: the whole file stays well under 2 minutes
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
KEEP_RANDOM = {("DELETE", "member_id"), ("DELETE", "reference_id"), ("DELETE", "photo_id")}  # the shared ones stay


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A keyless server on each catalog (PostgreSQL is stricter about what it stores and compares)."""
    env = {"PHOTOSIFT_DATABASE_URL": request.getfixturevalue("postgres_url")} if request.param == "postgresql" else {}
    with Server(tmp_path_factory.mktemp("fuzz") / "data", env=env).running() as running:
        yield running


@pytest.fixture(scope="module")
def real_ids(server: Server) -> dict[str, str]:
    """An album with a member, two analysed photos (the member's and a stranger's) and their faces and people."""
    images = make_images()
    with server.client() as client:
        album = client.post("/v1/albums", json={"name": "fuzz"}).json()["id"]
        member = client.post(f"/v1/albums/{album}/members", data={"name": "Ann"},
                             files=[("files", ("ann.jpg", images["face"], "image/jpeg"))]).json()
        accepted = upload(client, album, [("a.jpg", images["face2"]), ("b.jpg", images["stranger"])]).json()
        photo_ids = [p["id"] for p in accepted["photos"]]
        photos = wait_analysed(client, photo_ids)
        faces = [f for p in photos.values() for f in p["faces"] or []]
        people = client.get(f"/v1/albums/{album}/people").json()["items"]
    return {"album_id": album, "member_id": member["id"], "reference_id": member["references"][0]["id"],
            "photo_id": photo_ids[0], "face_id": faces[0]["id"] if faces else "0",
            "person_id": people[0]["id"] if people else "unknown"}


@pytest.fixture(scope="module")
def api_schema(server: Server) -> schemathesis.BaseSchema:
    return schemathesis.openapi.from_url(f"{server.url}/openapi.json")


def test_native_api_conforms(api_schema: schemathesis.BaseSchema, server: Server, real_ids: dict[str, str]) -> None:
    """Generated requests, valid and invalid, for every operation: no 5xx, and answers as documented."""
    failures: list[str] = []
    with requests.Session() as session:  # one keep-alive connection: an error answer must not break it
        operations = [result.ok() for result in api_schema.get_all_operations()]
        for operation in operations:
            for mode in GenerationMode:
                try:
                    _fuzz(operation.as_strategy(generation_mode=mode), server, real_ids, session)
                except Unsatisfiable:  # nothing of this operation can be made invalid (no parameters)
                    continue
                except (Exception, BaseExceptionGroup) as exc:  # every operation's failures are reported together
                    failures.append(f"{operation.label} ({mode}): {type(exc).__name__}: {exc}"[:3000])
    assert len(operations) >= 20  # a schema that lost its routes would pass vacuously
    assert not failures, "\n\n".join(failures)


def _fuzz(strategy: SearchStrategy, server: Server, real_ids: dict[str, str], session: requests.Session) -> None:
    @given(case=strategy)
    @settings(max_examples=MAX_EXAMPLES, deadline=None, database=None, derandomize=True,
              phases=[Phase.explicit, Phase.generate],  # no shrinking: a failure is reported as found, quickly
              suppress_health_check=list(HealthCheck))
    def run(case: schemathesis.Case) -> None:
        for name, value in list(case.path_parameters.items()):
            if name == "album_id" and case.method == "DELETE":
                case.path_parameters[name] = _new_album(server)  # a throw-away album: the shared one stays
            elif name in real_ids and (case.method, name) not in KEEP_RANDOM and zlib.crc32(str(value).encode()) % 3:
                case.path_parameters[name] = real_ids[name]
        if case.path.endswith("/events"):
            _check_stream(case, server, session)
        else:
            case.call_and_validate(session=session, checks=CHECKS, timeout=60)

    run()


def _new_album(server: Server) -> str:
    return httpx.post(f"{server.url}/v1/albums", json={"name": "throw-away"}, timeout=30).json()["id"]


def _check_stream(case: schemathesis.Case, server: Server, session: requests.Session) -> None:
    """The event stream either starts and stays open (200, text/event-stream) or is refused before it starts (4xx,
    JSON error); a stream that starts and then breaks (the old ``?after=10^25``) fails."""
    request = case.as_transport_kwargs(base_url=server.url)
    with session.request(**request, stream=True, timeout=(10, 1.0)) as response:
        assert response.status_code in (200, 400, 404), response.status_code
        if response.status_code != 200:
            assert set(response.json()["error"]) == {"type", "message"}
            return
        assert response.headers["content-type"].startswith("text/event-stream")
        lines = response.iter_lines()
        assert next(lines) == b"retry: 2000"
        try:
            for _ in range(4):
                next(lines)
        except requests.exceptions.ConnectionError as exc:  # a read timeout: the stream is open and idle
            assert "timed out" in str(exc).lower(), exc
        except (StopIteration, requests.exceptions.ChunkedEncodingError) as exc:
            raise AssertionError(f"the event stream of {request['url']} ended early: {exc!r}") from exc
