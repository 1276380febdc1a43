"""LFW pairs through the Rekognition-compatible endpoint with boto3: CompareFaces accuracy at a SimilarityThreshold.

Each row of ``pairs.csv`` (img1, img2, same_identity) becomes one ``CompareFaces`` call with both images as
``Image.Bytes``; a pair is predicted "same" when ``FaceMatches`` is non-empty. A side without a face
(``InvalidParameterException``) is predicted "different" and counted separately.

    # against a running server (credentials as configured in PHOTOSIFT_AWS_CREDENTIALS, or anything on loopback
    # when none are configured):
    python eval/rekognition_lfw.py --endpoint http://127.0.0.1:8000 --key AKID --secret SECRET
    # or let the script start `photosift serve` on a free loopback port with a throw-away data folder:
    nice -n 10 python eval/rekognition_lfw.py --serve
"""

from __future__ import annotations

import argparse
import csv
import os
import socket
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import boto3
import httpx
from botocore.config import Config
from botocore.exceptions import ClientError

DEFAULT_PAIRS = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "lfw" / "pairs.csv"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pairs", type=Path, default=DEFAULT_PAIRS, help="CSV with img1,img2,same_identity")
    parser.add_argument("--endpoint", default="http://127.0.0.1:8000")
    parser.add_argument("--serve", action="store_true", help="start `photosift serve` on a free port for the run")
    parser.add_argument("--region", default="us-east-1")
    parser.add_argument("--key", default=os.environ.get("AWS_ACCESS_KEY_ID", "photosift"))
    parser.add_argument("--secret", default=os.environ.get("AWS_SECRET_ACCESS_KEY", "photosift"))
    parser.add_argument("--threshold", type=float, default=80.0, help="SimilarityThreshold (AWS default 80)")
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--limit", type=int, default=0, help="only the first N pairs (0 = all)")
    args = parser.parse_args()

    if not args.pairs.is_file():
        print(f"rekognition_lfw: no pairs file at {args.pairs}", file=sys.stderr)
        return 2
    with open(args.pairs, newline="") as fh:
        rows = list(csv.DictReader(fh))
    if args.limit:
        rows = rows[: args.limit]
    root = args.pairs.parent

    server = _serve() if args.serve else None
    endpoint = server[0] if server else args.endpoint
    try:
        client = boto3.client("rekognition", endpoint_url=endpoint, region_name=args.region,
                              aws_access_key_id=args.key, aws_secret_access_key=args.secret,
                              config=Config(retries={"mode": "standard", "max_attempts": 5}, read_timeout=300,
                                            max_pool_connections=max(10, args.concurrency)))

        def compare(row: dict[str, str]) -> tuple[bool, bool, str | None]:
            truth = row["same_identity"].strip().lower() in ("1", "true", "yes")
            try:
                reply = client.compare_faces(SourceImage={"Bytes": (root / row["img1"]).read_bytes()},
                                             TargetImage={"Bytes": (root / row["img2"]).read_bytes()},
                                             SimilarityThreshold=args.threshold)
            except ClientError as exc:
                code = exc.response["Error"]["Code"]
                if code != "InvalidParameterException":
                    raise
                return truth, False, code
            return truth, bool(reply["FaceMatches"]), None

        started = time.monotonic()
        with ThreadPoolExecutor(args.concurrency) as pool:
            results = list(pool.map(compare, rows))
        elapsed = time.monotonic() - started
    finally:
        if server:
            server[1]()

    tp = sum(t and p for t, p, _ in results)
    tn = sum(not t and not p for t, p, _ in results)
    fp = sum(not t and p for t, p, _ in results)
    fn = sum(t and not p for t, p, _ in results)
    no_face = sum(e is not None for _, _, e in results)
    n = len(results)
    print(f"pairs {n}  (same {tp + fn}, different {tn + fp})  SimilarityThreshold {args.threshold:g}")
    print(f"accuracy {100 * (tp + tn) / n:.2f} %   TP {tp}  TN {tn}  FP {fp}  FN {fn}   no face (predicted "
          f"different) {no_face}")
    print(f"time {elapsed:.1f} s ({1000 * elapsed / n:.0f} ms/pair at concurrency {args.concurrency})")
    return 0


def _serve() -> tuple[str, object]:
    """Start ``photosift serve`` (loopback, no AWS credentials) on a free port; return (url, stop)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    data = tempfile.TemporaryDirectory(prefix="photosift-lfw-")
    env = {**os.environ, "PHOTOSIFT_DATA_DIR": data.name, "PHOTOSIFT_AWS_CREDENTIALS": ""}
    proc = subprocess.Popen([sys.executable, "-m", "photosift", "serve", "--host", "127.0.0.1", "--port", str(port)],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"

    def stop() -> None:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
        data.cleanup()

    for _ in range(300):
        if proc.poll() is not None:
            raise SystemExit("rekognition_lfw: photosift serve exited at start")
        try:
            httpx.get(url + "/healthz", timeout=2)
            return url, stop
        except httpx.HTTPError:
            time.sleep(0.2)
    stop()
    raise SystemExit("rekognition_lfw: photosift serve did not start")


if __name__ == "__main__":
    sys.exit(main())
