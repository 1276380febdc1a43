"""The Rekognition-compatible endpoint: AWS JSON 1.1 on ``POST /`` (include ``router`` in the app)."""

from photosift.api.rekognition.protocol import OPERATIONS, router

__all__ = ["OPERATIONS", "router"]
