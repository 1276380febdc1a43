"""AWS Signature Version 4 verification for the Rekognition endpoint.

The rule is what AWS accepts from its own SDKs, and it still covers everything that decides what runs:

- ``Host`` and every ``X-Amz-*`` header sent (``X-Amz-Target`` names the operation; ``X-Amz-Date``,
  ``X-Amz-Content-Sha256``, ...) must be among the ``SignedHeaders``, as AWS requires; a request that signs less is
  refused (``InvalidSignatureException``) before its signature is checked.
- The body is always covered: its SHA-256 is computed here from the bytes received, never taken from the client
  (a claimed ``X-Amz-Content-Sha256`` must equal it).
- ``Content-Type`` need not be signed: the AWS SDK for JavaScript v2 never signs it (nor ``Content-Length``,
  ``User-Agent``, ``X-Amzn-Trace-Id``), and AWS serves it. Its value selects nothing here: the endpoint speaks one
  protocol and parses every body as UTF-8 JSON whatever its label, so changing it cannot change what runs. It is
  checked instead, once the signature holds: its media type must be the protocol's, ``application/x-amz-json-1.1``
  (case-insensitive; parameters such as ``; charset=utf-8``, which browsers and some HTTP stacks add, are ignored,
  as Smithy's awsJson1_1 protocol tests require of servers). Any other value, or none, is
  ``UnsupportedMediaTypeException`` (HTTP 415), never a 500.

The signature is recomputed with botocore's own signer (``botocore.auth.SigV4Auth``) from the request exactly as
received: the headers the client lists in ``SignedHeaders``, the raw body's hash, and the client's ``X-Amz-Date``.
Any region is accepted; the service must be ``rekognition``. Requests dated more than ``MAX_SKEW`` from the server
clock are refused, as AWS does. Error types and messages follow what AWS's JSON services send.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from botocore.auth import SIGV4_TIMESTAMP, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from photosift.api.rekognition.errors import AwsError

SERVICE = "rekognition"
ALGORITHM = "AWS4-HMAC-SHA256"
MAX_SKEW = timedelta(minutes=5)
MEDIA_TYPE = "application/x-amz-json-1.1"  # AWS JSON 1.1, the protocol of Rekognition
_AUTH_FIELDS = re.compile(r"(Credential|SignedHeaders|Signature)=([^,\s]+)")
_REGION = re.compile(r"[a-z0-9][a-z0-9-]{0,31}")  # e.g. eu-west-1; it goes into ARNs the catalog stores


@dataclass(frozen=True)
class Caller:
    """Who signed a request: the access key id and the region of the signature's credential scope."""

    access_key: str
    region: str


def parse_credentials(text: str) -> dict[str, str]:
    """``"ID1:SECRET1,ID2:SECRET2"`` -> ``{ID1: SECRET1, ...}``; raises ``ValueError`` on a malformed pair."""
    pairs: dict[str, str] = {}
    for item in text.split(","):
        item = item.strip()
        if not item:
            continue
        key, sep, secret = item.partition(":")
        if not sep or not key.strip() or not secret.strip():
            raise ValueError("PHOTOSIFT_AWS_CREDENTIALS must be comma-separated ACCESS_KEY_ID:SECRET pairs")
        pairs[key.strip()] = secret.strip()
    return pairs


def region_hint(headers: Mapping[str, str]) -> str | None:
    """The region named in an Authorization header's credential scope, without verifying anything."""
    match = re.search(r"Credential=[^/]+/\d{8}/([^/]+)/", headers.get("authorization", ""))
    return match.group(1) if match and _REGION.fullmatch(match.group(1)) else None


def verify(
    *,
    method: str,
    path: str,
    query: str,
    headers: Sequence[tuple[str, str]],
    body: bytes,
    secrets: Mapping[str, str],
    now: datetime | None = None,
) -> Caller:
    """Check the SigV4 ``Authorization`` header of a request; return the caller or raise ``AwsError``.

    ``headers``: every (name, value) pair as received (names in any case, repeated names kept).
    """
    lowered = [(name.lower(), value) for name, value in headers]
    authorization = _single(lowered, "authorization")
    if authorization is None:
        raise AwsError("MissingAuthenticationTokenException", "Missing Authentication Token", 403)
    algorithm, _, rest = authorization.strip().partition(" ")
    if algorithm != ALGORITHM:
        raise AwsError("IncompleteSignatureException", f"Unsupported signature algorithm: {algorithm!r}")
    fields = dict(_AUTH_FIELDS.findall(rest))
    for required in ("Credential", "SignedHeaders", "Signature"):
        if required not in fields:
            raise AwsError("IncompleteSignatureException",
                           f"Authorization header requires '{required}' parameter. Authorization={authorization}")
    scope = fields["Credential"].split("/")
    if len(scope) != 5 or scope[4] != "aws4_request":
        raise AwsError("IncompleteSignatureException", f"Credential is malformed: {fields['Credential']}")
    access_key, day, region, service, _ = scope
    if service != SERVICE:
        raise AwsError("InvalidSignatureException", f"Credential should be scoped to correct service: '{SERVICE}'.")
    if not _REGION.fullmatch(region):
        raise AwsError("InvalidSignatureException", "Credential should be scoped to a valid region.")
    stamp = _single(lowered, "x-amz-date")
    if stamp is None:
        raise AwsError("IncompleteSignatureException", "Authorization header requires existence of a 'X-Amz-Date' "
                       "or a 'Date' header.")
    signed_at = _parse_stamp(stamp)
    if day != stamp[:8]:
        raise AwsError("InvalidSignatureException", "Credential should be scoped to a valid date: "
                       f"'{stamp[:8]}', not '{day}'.")
    _check_clock(signed_at, now or datetime.now(UTC))
    secret = secrets.get(access_key)
    if secret is None:
        raise AwsError("UnrecognizedClientException", "The security token included in the request is invalid.")
    signed = fields["SignedHeaders"].split(";")
    unsigned = unsigned_headers(signed, [name for name, _ in lowered])
    if unsigned:
        names = ", ".join(f"'{name}'" for name in unsigned)
        raise AwsError("InvalidSignatureException", f"{names} must be among the 'SignedHeaders' in the AWS "
                       "Authorization.")
    expected = _signature(method, path, query, lowered, signed, body, stamp, access_key, secret, region)
    if not hmac.compare_digest(expected.encode(), fields["Signature"].encode("utf-8", "backslashreplace")):
        raise AwsError("InvalidSignatureException", "The request signature we calculated does not match the "
                       "signature you provided. Check your AWS Secret Access Key and signing method. Consult the "
                       "service documentation for details.")
    check_content_type(_single(lowered, "content-type"))
    return Caller(access_key=access_key, region=region)


def check_content_type(value: str | None) -> None:
    """Refuse a ``Content-Type`` whose media type is not ``MEDIA_TYPE`` (parameters ignored; none is refused)."""
    if value is None or value.split(";", 1)[0].strip().lower() != MEDIA_TYPE:
        shown = "none" if value is None else repr(value[:100])
        raise AwsError("UnsupportedMediaTypeException", f"Unsupported Content-Type {shown}: send the request body as "
                       f"'{MEDIA_TYPE}'.", 415)


def unsigned_headers(signed: Sequence[str], present: Sequence[str]) -> list[str]:
    """The headers a signature must cover but does not: ``Host`` always, and every ``X-Amz-*`` header the request
    carries (``X-Amz-Target`` names the operation). Names are lower-case."""
    required = ["host", *sorted({name for name in present if name.startswith("x-amz-")})]
    return [name for name in required if name not in signed]


def _signature(method: str, path: str, query: str, headers: list[tuple[str, str]], signed: list[str], body: bytes,
               stamp: str, access_key: str, secret: str, region: str) -> str:
    """The signature botocore computes for this request, over exactly the headers the client signed."""
    body_hash = hashlib.sha256(body).hexdigest()
    claimed = _single(headers, "x-amz-content-sha256")
    if claimed is not None and claimed != body_hash:
        # Rekognition payloads are always signed; a claimed hash must be the body's (botocore would trust it).
        raise AwsError("InvalidSignatureException", "The provided 'x-amz-content-sha256' header does not match "
                       "what was computed.")
    request = AWSRequest(method=method, url=f"http://signed{path}" + (f"?{query}" if query else ""), data=body)
    for name, value in headers:
        if name in signed:
            request.headers[name] = value  # HTTPHeaders appends: repeated headers are kept, in order
    request.context["timestamp"] = stamp
    signer = SigV4Auth(Credentials(access_key, secret), SERVICE, region)
    canonical = signer.canonical_request(request)
    return signer.signature(signer.string_to_sign(request, canonical), request)


def _single(headers: list[tuple[str, str]], name: str) -> str | None:
    values = [value for key, value in headers if key == name]
    return ",".join(values) if values else None


def _parse_stamp(stamp: str) -> datetime:
    try:
        return datetime.strptime(stamp, SIGV4_TIMESTAMP).replace(tzinfo=UTC)
    except ValueError as exc:
        message = f"Date must be in ISO-8601 'basic format'. Got '{stamp}'."
        raise AwsError("IncompleteSignatureException", message) from exc


def _check_clock(signed_at: datetime, now: datetime) -> None:
    fmt = SIGV4_TIMESTAMP
    if signed_at < now - MAX_SKEW:
        raise AwsError("InvalidSignatureException", f"Signature expired: {signed_at.strftime(fmt)} is now earlier "
                       f"than {(now - MAX_SKEW).strftime(fmt)} ({now.strftime(fmt)} - 5 min.)")
    if signed_at > now + MAX_SKEW:
        raise AwsError("InvalidSignatureException", f"Signature not yet current: {signed_at.strftime(fmt)} is still "
                       f"later than {(now + MAX_SKEW).strftime(fmt)} ({now.strftime(fmt)} + 5 min.)")
