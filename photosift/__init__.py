"""photosift: self-hosted photo analysis — blur, faces, storage and a Rekognition-compatible API."""

__version__ = "0.1.0"
