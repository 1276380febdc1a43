"""Routers of the native API, all mounted under ``/v1``."""
