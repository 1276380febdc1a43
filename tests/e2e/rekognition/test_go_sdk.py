"""The AWS SDK for Go v1 against real servers: DetectFaces and CompareFaces by bytes and by ``S3Object`` (a real S3:
moto), refused with a wrong secret and with an ``X-Amz-Target`` left out of the signature (request handlers remove it
before signing and add it back after).

tests/go/rekognition_sdk.go is built offline in GOPATH mode against Debian's packages (``golang-go``,
``golang-github-aws-aws-sdk-go-dev``; scripts/test.sh installs them as root): no module is downloaded. The test
skips when ``go`` or the SDK's source is missing.
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

GOPATH = Path("/usr/share/gocode")  # where Debian's golang-*-dev packages put their source
SDK_SOURCE = GOPATH / "src" / "github.com" / "aws" / "aws-sdk-go"
PROGRAM = Path(__file__).resolve().parents[1] / "go" / "rekognition_sdk.go"
KEY = "AKIDPHOTOSIFTTEST01"


@pytest.fixture(scope="module")
def go_sdk(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """tests/go/rekognition_sdk.go, built."""
    go = shutil.which("go")
    if go is None:
        pytest.skip("Go not installed (apt-get install golang-go golang-github-aws-aws-sdk-go-dev)")
    if not SDK_SOURCE.is_dir():
        pytest.skip(f"AWS SDK for Go v1 not in {GOPATH} (apt-get install golang-github-aws-aws-sdk-go-dev)")
    folder = tmp_path_factory.mktemp("go-sdk")
    env = {**os.environ, "GO111MODULE": "off", "GOPATH": str(GOPATH), "GOPROXY": "off", "GOFLAGS": "",
           "CGO_ENABLED": "0"}
    if not (os.environ.get("GOCACHE") or os.environ.get("XDG_CACHE_HOME") or os.environ.get("HOME")):
        env["GOCACHE"] = str(folder / "cache")
    binary = folder / "rekognition_sdk"
    done = subprocess.run([go, "build", "-o", str(binary), str(PROGRAM)], env=env, cwd=folder, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    return binary


def test_go_sdk_v1_detects_and_compares_by_bytes_and_s3_object(go_sdk: Path, server: Server, s3_server: Server,
                                                               tmp_path: Path, astronaut_jpeg: bytes) -> None:
    image = tmp_path / "astronaut.jpg"
    image.write_bytes(astronaut_jpeg)
    config = tmp_path / "config.json"
    config.write_text(json.dumps({
        "endpoint": server.url, "s3Endpoint": s3_server.url, "region": "ap-northeast-1", "accessKeyId": KEY,
        "secretAccessKey": CREDENTIALS[KEY], "bucket": BUCKET, "faceObject": S3_FACE, "faceImagePath": str(image),
    }))
    done = subprocess.run([str(go_sdk), str(config)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    results = json.loads(done.stdout)
    assert results.pop("SDKVersion").startswith("1.")

    out = {}
    for name in ("DetectFaces_Bytes", "DetectFaces_S3Object", "CompareFaces_Bytes", "CompareFaces_S3Object"):
        result = results[name]
        assert result["ok"], f"{name}: {result}"
        out[name] = result["output"]
        problems = shapes.check(shapes.operation_model(name.split("_")[0]).output_shape, out[name], strict=True)
        assert problems == [], f"{name}: {problems}"
    assert_sdk_run(out, results)
    unsigned = results["UnsignedTarget"]
    assert "x-amz-target" not in unsigned["authorization"] and unsigned["target"] == "RekognitionService.DetectFaces"
