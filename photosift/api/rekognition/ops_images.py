"""Operations on images alone: DetectFaces and CompareFaces."""

from __future__ import annotations

import asyncio
from typing import Any

from photosift.api.rekognition import detail
from photosift.api.rekognition.context import Context
from photosift.api.rekognition.errors import invalid_parameter
from photosift.api.rekognition.images import analyse
from photosift.application import face_quality as quality
from photosift.application import scoring


async def detect_faces(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    """Every face with the attributes photosift computes (``Attributes`` DEFAULT and ALL give the same set)."""
    image = await analyse(ctx, params["Image"])
    return {"FaceDetails": [detail.face_detail(face, image.size) for face in image.faces]}


async def compare_faces(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    """The largest source face against every target face; matches have similarity >= SimilarityThreshold (80).

    ``QualityFilter`` (default NONE) applies to both images; an image left without a face is a bad parameter.
    """
    threshold = float(params.get("SimilarityThreshold", detail.AWS_DEFAULT_THRESHOLD))
    level = params.get("QualityFilter", "NONE")
    source, target = await asyncio.gather(analyse(ctx, params["SourceImage"], quality.largest(level)),
                                          analyse(ctx, params["TargetImage"], quality.every(level), reference=False))
    if not source.embeddings:
        raise invalid_parameter("There are no faces in the source image that meet the request's quality bar")
    if not target.embeddings:
        raise invalid_parameter("There are no faces in the target image that meet the request's quality bar")
    (probe_index, probe), = source.embeddings.items()
    indices = list(target.embeddings)
    scores = await ctx.compute(scoring.scores, probe, [target.embeddings[i] for i in indices])
    matches, unmatched = [], []
    for index, score in sorted(zip(indices, scores, strict=True), key=lambda p: -p[1]):
        reported = detail.to_aws_similarity(score)
        compared = detail.compared_face(target.faces[index], target.size)
        if reported >= threshold:
            matches.append({"Similarity": reported, "Face": compared})
        else:
            unmatched.append(compared)
    return {
        "SourceImageFace": detail.source_face(source.faces[probe_index], source.size),
        "FaceMatches": matches,
        "UnmatchedFaces": unmatched,
    }
