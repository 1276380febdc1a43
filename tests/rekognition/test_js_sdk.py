"""The AWS SDK for JavaScript v3 (@aws-sdk/client-rekognition, pinned in tests/js) against the real server.

The test installs the SDK with ``npm ci`` into tests/js/node_modules (git-ignored) and runs tests/js/rekognition_sdk.mjs
with the machine's Node.js; it skips when node/npm are missing or the registry is unreachable on first install.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from rk_helpers import BUCKET, CREDENTIALS

from photosift.api.rekognition import shapes

pytestmark = pytest.mark.integration

JS_DIR = Path(__file__).resolve().parents[1] / "js"
KEY = "AKIDPHOTOSIFTTEST01"


@pytest.fixture(scope="module")
def node_sdk() -> Path:
    if not shutil.which("node") or not shutil.which("npm"):
        pytest.skip("Node.js/npm not installed")
    if not (JS_DIR / "node_modules" / "@aws-sdk" / "client-rekognition").is_dir():
        done = subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=JS_DIR, capture_output=True, text=True,
                              timeout=600)
        if done.returncode != 0:
            pytest.skip(f"npm ci failed (registry unreachable?): {done.stderr[-500:]}")
    return JS_DIR / "rekognition_sdk.mjs"


def test_js_sdk_v3_works_unchanged_but_for_the_endpoint(node_sdk, server, tmp_path, astronaut_jpeg):
    server.put_object("js/astronaut.jpg", astronaut_jpeg)
    image = tmp_path / "astronaut.jpg"
    image.write_bytes(astronaut_jpeg)
    config = tmp_path / "config.json"
    config.write_text(json.dumps({
        "endpoint": server.url, "region": "eu-central-1", "accessKeyId": KEY, "secretAccessKey": CREDENTIALS[KEY],
        "collectionId": "js-sdk", "bucket": BUCKET, "faceObject": "js/astronaut.jpg", "faceImagePath": str(image),
    }))
    done = subprocess.run(["node", str(node_sdk), str(config)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    results = json.loads(done.stdout)

    for name, result in results.items():
        if name != "WrongSecret":
            assert result["ok"], f"{name}: {result}"
            operation = name.split("_")[0]
            problems = shapes.check(shapes.operation_model(operation).output_shape, result["output"], strict=True)
            assert problems == [], f"{name}: {problems}"

    out = {name: r.get("output", {}) for name, r in results.items()}
    for source in ("Bytes", "S3Object"):
        assert len(out[f"DetectFaces_{source}"]["FaceDetails"]) == 1
        assert out[f"CompareFaces_{source}"]["FaceMatches"][0]["Similarity"] >= 80
        assert len(out[f"IndexFaces_{source}"]["FaceRecords"]) == 1
    assert out["DetectFaces_Bytes"]["FaceDetails"] == out["DetectFaces_S3Object"]["FaceDetails"]
    indexed = {out[f"IndexFaces_{s}"]["FaceRecords"][0]["Face"]["FaceId"] for s in ("Bytes", "S3Object")}
    assert {m["Face"]["FaceId"] for m in out["SearchFacesByImage_Bytes"]["FaceMatches"]} == indexed
    assert len(out["SearchFacesByImage_S3Object"]["FaceMatches"]) == 1  # MaxFaces=1
    assert out["CreateCollection"]["StatusCode"] == 200

    wrong = results["WrongSecret"]
    assert not wrong["ok"] and wrong["name"] == "InvalidSignatureException" and wrong["fault"] == "client"
