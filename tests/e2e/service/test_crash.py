"""A server killed with SIGKILL in the middle of a batch finishes every photo after a restart, exactly once: with
the SQLite catalog and with PostgreSQL."""

from __future__ import annotations

import time

import httpx
import numpy as np
import pytest
from PIL import Image
from service_support import jpeg, upload, wait_analysed

pytestmark = pytest.mark.integration
PHOTOS = 12


def _photos(face: np.ndarray) -> list[tuple[str, bytes]]:
    """Distinct 2000x1500 photos; every other one shows the face."""
    rng = np.random.default_rng(3)
    out = []
    for n in range(PHOTOS):
        base = np.zeros((1500, 2000, 3), np.uint8)
        base[:] = rng.integers(40, 200, 3, dtype=np.uint8)
        base[:, :, 1] = np.linspace(0, 255, 2000, dtype=np.uint8)[None, :] // (n + 2)
        if n % 2 == 0:
            x, y = 300 + 40 * n, 300 + 20 * n
            base[y:y + 512, x:x + 512] = face
        out.append((f"p{n:02d}.jpg", jpeg(base)))
    return out


@pytest.mark.parametrize("catalog", ["sqlite", "postgresql"])
def test_sigkill_mid_batch_then_restart_finishes_every_photo(make_server, images, catalog, request) -> None:
    import io

    face = np.asarray(Image.open(io.BytesIO(images["face"])).convert("RGB"))
    env = {"PHOTOSIFT_DATABASE_URL": request.getfixturevalue("postgres_url")} if catalog == "postgresql" else {}
    server = make_server("crash", env=env)
    with server.client() as client:
        album_id = client.post("/v1/albums", json={"name": "crash"}).json()["id"]
        reply = upload(client, album_id, _photos(face))
        assert reply.status_code == 202
        ids = [e["id"] for e in reply.json()["photos"]]
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:  # kill once analysis is under way but not finished
            done = client.get(f"/v1/albums/{album_id}/photos", params={"status": "done", "limit": 500}).json()
            if done["items"]:
                break
            time.sleep(0.05)
        assert 0 < len(done["items"]) < PHOTOS, "the kill must land mid-batch"
    server.kill()
    server.start()
    with server.client() as client:
        photos = wait_analysed(client, ids)
        assert all(p["status"] == "done" for p in photos.values()), [p["error"] for p in photos.values()]
        assert all(photos[i]["face_count"] >= 1 for i in ids[0::2])  # the photos showing the face
        faces = client.get(f"/v1/albums/{album_id}/faces", params={"limit": 500}).json()["items"]
        per_photo = {i: sorted(f["id"] for f in faces if f["photo_id"] == i) for i in ids}
        assert {i: len(f) for i, f in per_photo.items()} == {i: photos[i]["face_count"] for i in ids}
        assert {i: sorted(f["id"] for f in photos[i]["faces"]) for i in ids} == per_photo  # no face recorded twice
        analysed = []
        quiet = httpx.Client(base_url=server.url, timeout=httpx.Timeout(10, read=3))
        with pytest.raises(httpx.ReadTimeout), quiet, quiet.stream("GET", f"/v1/albums/{album_id}/events") as stream:
            for line in stream.iter_lines():  # the whole history, then silence until the read timeout
                if line == "event: photo.analyzed":
                    analysed.append(line)
        status = client.get("/v1/status").json()["jobs"]
        assert status.get("done") == PHOTOS and "failed" not in status and "queued" not in status
        assert len(analysed) == PHOTOS  # each photo's results were committed exactly once
