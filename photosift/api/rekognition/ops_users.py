"""User vectors: CreateUser, DeleteUser, ListUsers, AssociateFaces, DisassociateFaces, SearchUsers(ByImage)."""

from __future__ import annotations

from typing import Any

from photosift.api.rekognition import detail, paging
from photosift.api.rekognition.context import Context
from photosift.api.rekognition.errors import invalid_parameter
from photosift.api.rekognition.images import analyse
from photosift.application import face_quality as quality
from photosift.application import rekognition as app
from photosift.errors import InvalidInput, NotFound

ASSOCIATE_THRESHOLD = 75.0  # AWS's default UserMatchThreshold for AssociateFaces
MAX_USERS = 500


async def create_user(ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
    await ctx.io(lambda: app.create_user(ctx.catalog, p["CollectionId"], p["UserId"],
                                         client_token=p.get("ClientRequestToken")))
    return {}


async def delete_user(ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
    await ctx.io(app.delete_user, ctx.catalog, p["CollectionId"], p["UserId"])
    return {}


async def list_users(ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
    after = paging.decode(ctx.operation, p["CollectionId"], p.get("NextToken"))
    users, nxt = await ctx.io(lambda: app.list_users(ctx.catalog, p["CollectionId"], after=after,
                                                     limit=p.get("MaxResults") or MAX_USERS))
    out: dict[str, Any] = {"Users": [{"UserId": u.user_id, "UserStatus": u.status} for u in users]}
    if nxt:
        out["NextToken"] = paging.encode(ctx.operation, p["CollectionId"], nxt)
    return out


async def associate_faces(ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
    """Associate faces; once the user has faces, a new one must reach UserMatchThreshold (default 75)."""
    reported = float(p.get("UserMatchThreshold", ASSOCIATE_THRESHOLD))
    # decide as the reported (rounded) similarity reads: a face shown with Confidence 100.0 passes a threshold of 100
    threshold = detail.to_engine_threshold(reported) - detail.ROUNDING_SLACK
    done, failures, user = await ctx.compute(lambda: app.associate_faces(
        ctx.catalog, p["CollectionId"], p["UserId"], p["FaceIds"], threshold=threshold))
    unsuccessful = []
    for f in failures:
        item: dict[str, Any] = {"FaceId": f.face_id, "Reasons": [f.reason]}
        if f.user_id:
            item["UserId"] = f.user_id
        if f.similarity is not None:
            item["Confidence"] = detail.to_aws_similarity(f.similarity)
        unsuccessful.append(item)
    return {"AssociatedFaces": [{"FaceId": fid} for fid in done], "UnsuccessfulFaceAssociations": unsuccessful,
            "UserStatus": user.status}


async def disassociate_faces(ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
    done, failures, user = await ctx.io(app.disassociate_faces, ctx.catalog, p["CollectionId"], p["UserId"],
                                        p["FaceIds"])
    unsuccessful = [{"FaceId": f.face_id, "Reasons": [f.reason], **({"UserId": f.user_id} if f.user_id else {})}
                    for f in failures]
    return {"DisassociatedFaces": [{"FaceId": fid} for fid in done],
            "UnsuccessfulFaceDisassociations": unsuccessful, "UserStatus": user.status}


async def search_users(ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
    """Search users by a stored face (``FaceId``) or by another user's vector (``UserId``); exactly one of them."""
    cid, face_id, user_id = p["CollectionId"], p.get("FaceId"), p.get("UserId")
    if (face_id is None) == (user_id is None):
        raise invalid_parameter("Exactly one of FaceId or UserId must be given")
    version = await ctx.io(app.comparable_version, ctx.catalog, cid)
    try:
        if face_id is not None:
            probe = await ctx.io(app.face_embedding, ctx.catalog, cid, face_id)
        else:
            probe = await ctx.io(app.user_vector, ctx.catalog, cid, user_id)
    except (NotFound, InvalidInput) as exc:
        raise invalid_parameter(str(exc)) from exc
    out: dict[str, Any] = {"UserMatches": await _match_users(ctx, p, probe, exclude=user_id),
                           "FaceModelVersion": version}
    if face_id is not None:
        out["SearchedFace"] = {"FaceId": face_id}
    else:
        out["SearchedUser"] = {"UserId": user_id}
    return out


async def search_users_by_image(ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
    """Search users with the largest face passing ``QualityFilter`` (default NONE); the others are UnsearchedFaces."""
    version = await ctx.io(app.comparable_version, ctx.catalog, p["CollectionId"])
    level = p.get("QualityFilter", "NONE")
    image = await analyse(ctx, p["Image"], quality.largest(level))
    if not image.embeddings:
        raise invalid_parameter("There are no faces in the image. Should be at least 1.")
    (index, probe), = image.embeddings.items()
    unsearched = [{"FaceDetails": detail.face_detail(face, image.size),
                   "Reasons": quality.reasons(face, level) or ["FACE_NOT_LARGEST"]}
                  for i, face in enumerate(image.faces) if i != index]
    return {
        "UserMatches": await _match_users(ctx, p, probe),
        "FaceModelVersion": version,
        "SearchedFace": {"FaceDetail": detail.face_detail(image.faces[index], image.size)},
        "UnsearchedFaces": unsearched,
    }


async def _match_users(ctx: Context, p: dict[str, Any], probe: Any, exclude: str | None = None) -> list[dict]:
    reported_threshold = float(p.get("UserMatchThreshold", detail.AWS_DEFAULT_THRESHOLD))
    threshold = detail.to_engine_threshold(reported_threshold) - detail.ROUNDING_SLACK
    found = await ctx.compute(lambda: app.search_users(ctx.catalog, p["CollectionId"], probe, threshold=threshold,
                                                       limit=p.get("MaxUsers") or MAX_USERS, exclude_user_id=exclude))
    out = []
    for user, score in found:
        reported = detail.to_aws_similarity(score)
        if reported >= reported_threshold:
            out.append({"Similarity": reported, "User": {"UserId": user.user_id, "UserStatus": user.status}})
    return out
