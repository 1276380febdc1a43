"""Helpers of the Rekognition tests: a real photosift server on a free loopback port, and reply validation.

The server is ``photosift serve`` in a subprocess (or, for a test that reconfigures the app, ``create_app`` served
by uvicorn in a thread).
Every boto3 call's raw JSON reply is checked against botocore's model (strictly: unknown members are errors) and its
parsed output with ``botocore.validate.ParamValidator``; any violation fails the test that made the call.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
import numpy as np
from botocore.validate import ParamValidator
from PIL import Image

from photosift.api.rekognition import shapes

ROOT = Path(__file__).resolve().parents[3]
CREDENTIALS = {"AKIDPHOTOSIFTTEST01": "s3cr3t-one/with+chars", "AKIDPHOTOSIFTTEST02": "second-secret"}
BUCKET = "test-bucket"
S3_FACE = "sdk/astronaut.jpg"  # in BUCKET of the moto S3 behind the ``s3_server`` fixture: the astronaut photo


@dataclass
class Server:
    """A running server: its URL and data folder (local buckets live in ``data_dir/buckets/<bucket>``)."""

    url: str
    data_dir: Path
    stop: Callable[[], None]

    def put_object(self, name: str, data: bytes, bucket: str = BUCKET) -> None:
        path = self.data_dir / "buckets" / bucket / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def start_server(data_dir: Path, credentials: str, host: str = "127.0.0.1", **env_extra: str) -> Server:
    """``photosift serve`` with ``PHOTOSIFT_AWS_CREDENTIALS=credentials`` in a subprocess; returns once it answers."""
    port = free_port(host)
    env = {**os.environ, "PHOTOSIFT_DATA_DIR": str(data_dir), "PHOTOSIFT_AWS_CREDENTIALS": credentials,
           "PHOTOSIFT_WORKERS": "2", **env_extra}
    data_dir.mkdir(parents=True, exist_ok=True)
    log = open(data_dir / "server.log", "wb")  # noqa: SIM115 - closed in stop()
    proc = subprocess.Popen([sys.executable, "-m", "photosift", "serve", "--host", host, "--port", str(port)],
                            env=env, stdout=log, stderr=subprocess.STDOUT, cwd=data_dir)

    def stop() -> None:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()

    return _wait(Server(url=f"http://{host}:{port}", data_dir=data_dir, stop=stop), proc.poll)


def start_app_in_thread(app: object, data_dir: Path, host: str = "127.0.0.1") -> Server:
    """Serve an already-built ASGI ``app`` with uvicorn in a thread (for apps a test has reconfigured)."""
    import uvicorn

    port = free_port(host)
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()

    def stop() -> None:
        server.should_exit = True
        thread.join(15)

    return _wait(Server(url=f"http://{host}:{port}", data_dir=data_dir, stop=stop),
                 lambda: None if thread.is_alive() else 1)


def _wait(server: Server, exited: Callable[[], int | None]) -> Server:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if exited() is not None:
            log = server.data_dir / "server.log"
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise RuntimeError(f"server exited: {tail}")
        with contextlib.suppress(httpx.HTTPError):
            httpx.get(server.url + "/healthz", timeout=2)
            return server
        time.sleep(0.2)
    server.stop()
    raise RuntimeError("server did not start")


class ResponseChecker:
    """Collects model violations of every reply a boto3 client receives."""

    def __init__(self) -> None:
        self.violations: list[str] = []
        self.checked = 0

    def __call__(self, http_response, parsed, model, **_) -> None:  # noqa: ANN001 - botocore hook signature
        if http_response.status_code >= 300:
            return
        self.checked += 1
        raw = json.loads(http_response.content or b"{}")
        for problem in shapes.check(model.output_shape, raw, strict=True):
            self.violations.append(f"{model.name}: {problem}")
        output = {k: v for k, v in parsed.items() if k != "ResponseMetadata"}
        if model.output_shape is not None:
            report = ParamValidator().validate(output, model.output_shape)
            if report.has_errors():
                self.violations.append(f"{model.name}: {report.generate_report()}")


def jpeg(rgb: np.ndarray, quality: int = 92) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="JPEG", quality=quality)
    return buf.getvalue()


def stranger() -> np.ndarray:
    """Another person than the astronaut, as RGB: scikit-image's cameraman (512x512, public domain)."""
    from skimage import data

    return np.stack([data.camera()] * 3, axis=-1)


def assert_sdk_run(out: dict, results: dict) -> None:
    """What every real SDK's run must show: faces found and compared by bytes and by S3Object (the same faces both
    ways), a wrong secret and an unsigned ``X-Amz-Target`` refused as AWS refuses them."""
    for source in ("Bytes", "S3Object"):
        assert len(out[f"DetectFaces_{source}"]["FaceDetails"]) == 1
        assert out[f"CompareFaces_{source}"]["FaceMatches"][0]["Similarity"] >= 80
    assert out["DetectFaces_Bytes"]["FaceDetails"] == out["DetectFaces_S3Object"]["FaceDetails"]
    wrong = results["WrongSecret"]
    assert not wrong["ok"] and (wrong["code"], wrong["status"]) == ("InvalidSignatureException", 400), wrong
    unsigned = results["UnsignedTarget"]
    assert not unsigned["ok"] and (unsigned["code"], unsigned["status"]) == ("InvalidSignatureException", 400)
    assert "'x-amz-target' must be among the 'SignedHeaders'" in unsigned["message"]
