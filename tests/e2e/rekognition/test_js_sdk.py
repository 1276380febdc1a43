"""The AWS SDKs for JavaScript v3 (@aws-sdk/client-rekognition) and v2 (aws-sdk), pinned in tests/js, against real
servers.

The tests install the SDKs with ``npm ci`` into tests/js/node_modules (git-ignored) and run tests/js/rekognition_sdk.mjs
(v3) and tests/js/rekognition_sdk_v2.mjs (v2) with the machine's Node.js; they skip when node/npm are missing or the
registry is unreachable on first install. Each SDK must also be refused with a wrong secret, and when its request is
made to leave ``X-Amz-Target`` out of the signature (a hook of the SDK removes it before signing, adds it after).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from rk_helpers import BUCKET, CREDENTIALS, S3_FACE, Server, assert_sdk_run

from photosift.api.rekognition import shapes

pytestmark = pytest.mark.integration

JS_DIR = Path(__file__).resolve().parents[1] / "js"
KEY = "AKIDPHOTOSIFTTEST01"
PACKAGES: dict[str, str] = json.loads((JS_DIR / "package.json").read_text())["dependencies"]  # name -> exact version


@pytest.fixture(scope="module")
def node_sdk() -> Path:
    """tests/js with its pinned packages installed (``npm ci`` when any is missing or of another version)."""
    if not shutil.which("node") or not shutil.which("npm"):
        pytest.skip("Node.js/npm not installed")
    if any(_installed(name) != version for name, version in PACKAGES.items()):
        done = subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=JS_DIR, capture_output=True, text=True,
                              timeout=600)
        if done.returncode != 0:
            pytest.skip(f"npm ci failed (registry unreachable?): {done.stderr[-500:]}")
    return JS_DIR


def _installed(package: str) -> str | None:
    manifest = JS_DIR / "node_modules" / package / "package.json"
    return json.loads(manifest.read_text())["version"] if manifest.is_file() else None


def _run(script: Path, config: dict, tmp_path: Path) -> dict:
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    env = {**os.environ, "AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE": "1"}
    done = subprocess.run(["node", str(script), str(path)], capture_output=True, text=True, timeout=300, env=env)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_js_sdk_v3_works_unchanged_but_for_the_endpoint(node_sdk, server, tmp_path, astronaut_jpeg):
    server.put_object("js/astronaut.jpg", astronaut_jpeg)
    image = tmp_path / "astronaut.jpg"
    image.write_bytes(astronaut_jpeg)
    results = _run(node_sdk / "rekognition_sdk.mjs", {
        "endpoint": server.url, "region": "eu-central-1", "accessKeyId": KEY, "secretAccessKey": CREDENTIALS[KEY],
        "collectionId": "js-sdk", "bucket": BUCKET, "faceObject": "js/astronaut.jpg", "faceImagePath": str(image),
    }, tmp_path)

    for name, result in results.items():
        if name not in ("WrongSecret", "UnsignedTarget"):
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
    unsigned = results["UnsignedTarget"]
    assert not unsigned["ok"] and unsigned["name"] == "InvalidSignatureException", unsigned
    assert "'x-amz-target' must be among the 'SignedHeaders'" in unsigned["message"]


def test_js_sdk_v2_detects_and_compares_by_bytes_and_s3_object(node_sdk, server: Server, s3_server: Server, tmp_path,
                                                                astronaut_jpeg):
    """The seed's own client, aws-sdk@2: it never signs Content-Type (nor Content-Length, User-Agent)."""
    image = tmp_path / "astronaut.jpg"
    image.write_bytes(astronaut_jpeg)
    results = _run(node_sdk / "rekognition_sdk_v2.mjs", {
        "endpoint": server.url, "s3Endpoint": s3_server.url, "region": "eu-west-3", "accessKeyId": KEY,
        "secretAccessKey": CREDENTIALS[KEY], "bucket": BUCKET, "faceObject": S3_FACE, "faceImagePath": str(image),
    }, tmp_path)

    for name in ("DetectFaces_Bytes", "DetectFaces_S3Object", "CompareFaces_Bytes", "CompareFaces_S3Object"):
        result = results[name]
        assert result["ok"], f"{name}: {result}"
        problems = shapes.check(shapes.operation_model(name.split("_")[0]).output_shape, result["output"], strict=True)
        assert problems == [], f"{name}: {problems}"
        sent = {header.lower(): value for header, value in result["sent"].items()}
        assert sent["content-type"] == "application/x-amz-json-1.1"
        signed = sent["authorization"].split("SignedHeaders=")[1].split(",")[0].split(";")
        assert "content-type" not in signed and {"host", "x-amz-target", "x-amz-date"} <= set(signed), signed
    out = {name: r.get("output", {}) for name, r in results.items()}
    assert_sdk_run(out, results)
    unsigned = results["UnsignedTarget"]
    signed = unsigned["sent"]["Authorization"].split("SignedHeaders=")[1].split(",")[0].split(";")
    assert "x-amz-target" not in signed and unsigned["sent"]["X-Amz-Target"] == "RekognitionService.DetectFaces"
