"""Collection operations: create/describe/list/delete, IndexFaces, ListFaces, DeleteFaces, SearchFaces(ByImage).

A collection reports the face model version it was created with; IndexFaces and the searches refuse a collection of
another version than the running recogniser's (``FaceModelRetired``: ``InvalidParameterException``) before any image
work.
"""

from __future__ import annotations

import uuid
from typing import Any

from photosift.api.rekognition import detail, paging
from photosift.api.rekognition.context import Context
from photosift.api.rekognition.errors import invalid_parameter
from photosift.api.rekognition.images import analyse
from photosift.application import face_quality as quality
from photosift.application import rekognition as app
from photosift.errors import NotFound

MAX_SEARCH_RESULTS = 4096


async def create_collection(ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
    cid = p["CollectionId"]
    col = await ctx.io(lambda: app.create_collection(ctx.catalog, cid, arn=ctx.arn(cid),
                                                     face_model_version=app.face_model_version()))
    return {"StatusCode": 200, "CollectionArn": col.arn, "FaceModelVersion": col.face_model_version}


async def describe_collection(ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
    col = await ctx.io(app.describe_collection, ctx.catalog, p["CollectionId"])
    return {"FaceCount": col.face_count, "UserCount": col.user_count, "FaceModelVersion": col.face_model_version,
            "CollectionARN": col.arn, "CreationTimestamp": round(col.created_at.timestamp(), 3)}


async def list_collections(ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
    after = paging.decode(ctx.operation, "", p.get("NextToken"))
    limit = p.get("MaxResults") or 1000
    rows, nxt = await ctx.io(lambda: app.list_collections(ctx.catalog, after=after, limit=limit))
    out: dict[str, Any] = {"CollectionIds": [r[0] for r in rows], "FaceModelVersions": [r[1] for r in rows]}
    if nxt:
        out["NextToken"] = paging.encode(ctx.operation, "", nxt)
    return out


async def delete_collection(ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
    await ctx.io(app.delete_collection, ctx.catalog, p["CollectionId"])
    return {"StatusCode": 200}


async def index_faces(ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
    """Index the faces that pass ``QualityFilter`` (default AUTO), largest first, at most ``MaxFaces``."""
    cid = p["CollectionId"]
    version = await ctx.io(app.comparable_version, ctx.catalog, cid)  # ResourceNotFound before any image work
    level = p.get("QualityFilter", "AUTO")
    max_faces = p.get("MaxFaces")
    image = await analyse(ctx, p["Image"], quality.every(level, max_faces))
    keep, unindexed = [], []
    for index, face in enumerate(image.faces):
        if index in image.embeddings:
            keep.append(index)
            continue
        reasons = quality.reasons(face, level) or ["EXCEEDS_MAX_FACES"]
        unindexed.append({"Reasons": reasons, "FaceDetail": detail.face_detail(face, image.size)})
    new = [app.NewFace(box=_ratios(image.faces[i].box, image.size), confidence=image.faces[i].confidence,
                       embedding=image.embeddings[i]) for i in keep]
    stored = await ctx.io(lambda: app.add_faces(ctx.catalog, cid, new, image_id=str(uuid.uuid4()),
                                                external_image_id=p.get("ExternalImageId")))
    records = [{"Face": face_shape(s, listing=False), "FaceDetail": detail.face_detail(image.faces[i], image.size)}
               for s, i in zip(stored, keep, strict=True)]
    return {"FaceRecords": records, "FaceModelVersion": version, "UnindexedFaces": unindexed}


async def list_faces(ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
    after = paging.decode(ctx.operation, p["CollectionId"], p.get("NextToken"))
    faces, nxt = await ctx.io(lambda: app.list_faces(ctx.catalog, p["CollectionId"], after=after,
                                                     limit=p.get("MaxResults") or 1000, user_id=p.get("UserId"),
                                                     face_ids=p.get("FaceIds")))
    version = await ctx.io(app.collection_version, ctx.catalog, p["CollectionId"])
    out: dict[str, Any] = {"Faces": [face_shape(f, listing=True, version=version) for f in faces],
                           "FaceModelVersion": version}
    if nxt:
        out["NextToken"] = paging.encode(ctx.operation, p["CollectionId"], nxt)
    return out


async def delete_faces(ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
    deleted, failures = await ctx.io(app.delete_faces, ctx.catalog, p["CollectionId"], p["FaceIds"])
    out: dict[str, Any] = {"UnsuccessfulFaceDeletions": [
        {"FaceId": f.face_id, "Reasons": [f.reason], **({"UserId": f.user_id} if f.user_id else {})}
        for f in failures
    ]}
    if deleted:  # the model requires at least one entry when present
        out["DeletedFaces"] = deleted
    return out


async def search_faces(ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
    cid, face_id = p["CollectionId"], p["FaceId"]
    version = await ctx.io(app.comparable_version, ctx.catalog, cid)  # a missing collection is ResourceNotFound
    try:
        probe = await ctx.io(app.face_embedding, ctx.catalog, cid, face_id)
    except NotFound as exc:  # a missing face is a bad parameter
        raise invalid_parameter(str(exc)) from exc
    matches = await _search(ctx, p, probe, exclude=face_id)
    return {"SearchedFaceId": face_id, "FaceMatches": matches, "FaceModelVersion": version}


async def search_faces_by_image(ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
    """Search with the largest face of the image that passes ``QualityFilter`` (default NONE)."""
    version = await ctx.io(app.comparable_version, ctx.catalog, p["CollectionId"])
    image = await analyse(ctx, p["Image"], quality.largest(p.get("QualityFilter", "NONE")))
    if not image.embeddings:
        raise invalid_parameter("There are no faces in the image. Should be at least 1.")
    (index, probe), = image.embeddings.items()
    matches = await _search(ctx, p, probe)
    return {
        "SearchedFaceBoundingBox": detail.bounding_box(image.faces[index].box, image.size),
        "SearchedFaceConfidence": round(min(max(image.faces[index].confidence, 0.0), 100.0), 4),
        "FaceMatches": matches,
        "FaceModelVersion": version,
    }


async def _search(ctx: Context, p: dict[str, Any], probe: Any, exclude: str | None = None) -> list[dict[str, Any]]:
    reported_threshold = float(p.get("FaceMatchThreshold", detail.AWS_DEFAULT_THRESHOLD))
    threshold = detail.to_engine_threshold(reported_threshold) - detail.ROUNDING_SLACK
    limit = p.get("MaxFaces") or MAX_SEARCH_RESULTS
    found = await ctx.compute(lambda: app.search_faces(ctx.catalog, p["CollectionId"], probe, threshold=threshold,
                                                       limit=limit, exclude_face_id=exclude))
    out = []
    for face, score in found:
        reported = detail.to_aws_similarity(score)
        if reported >= reported_threshold:
            out.append({"Similarity": reported, "Face": face_shape(face, listing=False)})
    return out


def face_shape(face: app.IndexedFace, *, listing: bool, version: str = "") -> dict[str, Any]:
    """AWS ``Face`` of a stored face (ListFaces adds the collection's model ``version`` and the user)."""
    left, top, width, height = face.box
    out: dict[str, Any] = {
        "FaceId": face.face_id,
        "BoundingBox": {"Width": width, "Height": height, "Left": left, "Top": top},
        "ImageId": face.image_id,
        "Confidence": round(min(max(face.confidence, 0.0), 100.0), 4),
    }
    if face.external_image_id:
        out["ExternalImageId"] = face.external_image_id
    if listing:
        out["IndexFacesModelVersion"] = version
        if face.user_id:
            out["UserId"] = face.user_id
    return out


def _ratios(box: tuple[int, int, int, int], size: tuple[int, int]) -> app.Box:
    b = detail.bounding_box(box, size)
    return (b["Left"], b["Top"], b["Width"], b["Height"])
