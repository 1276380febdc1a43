"""Fixtures of the service tests (the helpers live in ``service_support``)."""

from service_support import images, make_server, moto_s3, postgres_url  # noqa: F401 - pytest fixtures
