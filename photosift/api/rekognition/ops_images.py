"""Operations on images alone: DetectFaces and CompareFaces."""

from __future__ import annotations

import asyncio
from typing import Any

import numpy as np

from photosift.api.rekognition import detail, quality
from photosift.api.rekognition.context import Context
from photosift.api.rekognition.errors import invalid_parameter
from photosift.api.rekognition.images import AnalysedImage, analyse
from photosift.faces.types import EmbeddedFace


async def detect_faces(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    """Every face with the attributes photosift computes (``Attributes`` DEFAULT and ALL give the same set)."""
    image = await analyse(ctx, params["Image"])
    return {"FaceDetails": [detail.face_detail(f.face, image.size) for f in image.faces]}


async def compare_faces(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    """The largest source face against every target face; matches have similarity >= SimilarityThreshold (80)."""
    threshold = float(params.get("SimilarityThreshold", detail.AWS_DEFAULT_THRESHOLD))
    level = params.get("QualityFilter", "NONE")
    source, target = await asyncio.gather(analyse(ctx, params["SourceImage"]), analyse(ctx, params["TargetImage"]))
    source_faces = passing(source, level)
    if not source_faces:
        raise invalid_parameter("There are no faces in the source image that meet the request's quality bar")
    target_faces = passing(target, level)
    if not target_faces:
        raise invalid_parameter("There are no faces in the target image that meet the request's quality bar")
    probe = source_faces[0]  # largest first
    scores = await ctx.compute(similarities, probe, target_faces)
    matches, unmatched = [], []
    for face, score in sorted(zip(target_faces, scores, strict=True), key=lambda p: -p[1]):
        reported = detail.to_aws_similarity(score, default_threshold())
        compared = detail.compared_face(face.face, target.size)
        if reported >= threshold:
            matches.append({"Similarity": reported, "Face": compared})
        else:
            unmatched.append(compared)
    return {
        "SourceImageFace": detail.source_face(probe.face, source.size),
        "FaceMatches": matches,
        "UnmatchedFaces": unmatched,
    }


def passing(image: AnalysedImage, level: str) -> list[EmbeddedFace]:
    """The faces of ``image`` that pass the quality filter ``level``, largest first."""
    return [f for f in image.faces if not quality.reasons(f.face, level)]


def similarities(probe: EmbeddedFace, others: list[EmbeddedFace]) -> list[float]:
    """Engine similarity 0-100 of ``probe`` against each of ``others``."""
    from photosift import faces

    matrix = faces.similarity(probe.embedding[None, :], np.stack([o.embedding for o in others]))
    return [float(v) for v in np.asarray(matrix)[0]]


def default_threshold() -> float:
    """photosift's documented default similarity threshold (what AWS's 80 is anchored to)."""
    from photosift import faces

    return float(faces.DEFAULT_THRESHOLD)
