"""Settings: one object, environment prefix ``PHOTOSIFT_``; every default works on a bare machine."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from photosift.errors import InvalidSetting


class Settings(BaseSettings):
    """Runtime configuration, read from ``PHOTOSIFT_*`` environment variables."""

    model_config = SettingsConfigDict(env_prefix="PHOTOSIFT_", extra="ignore")

    data_dir: Path = Path("photosift-data")
    host: str = "127.0.0.1"
    port: int = 8000
    database_url: str | None = None  # default: SQLite file in data_dir
    store_url: str | None = None  # default: folder data_dir/blobs; or s3://bucket/prefix
    s3_endpoint_url: str | None = None
    api_keys: str = ""  # comma-separated bearer tokens; empty = loopback only
    allowed_origins: str = ""  # comma-separated origins (https://app.example) allowed to send cross-origin writes
    # access for a group (photosift.application.access): the owner signs in, share links reach one album
    owner_password_hash: str = ""  # Argon2 hash ($argon2id$...) of a password the owner may sign in with
    session_days: float = Field(default=30.0, gt=0, le=3650)  # lifetime of a browser session (sign-in, share link)
    public_url: str = ""  # the address people open (https://photos.example); share links start with it
    aws_credentials: str = ""  # comma-separated ACCESS_KEY_ID:SECRET pairs
    workers: int = Field(default=2, ge=0)  # analysis processes (and job threads); 0: an API-only node
    max_upload_bytes: int = 50 * 1024 * 1024
    max_pixels: int = 100_000_000
    blur_threshold: float | None = None  # None = the blur module's documented default
    # service (photosift serve): background jobs, interactive engine calls, uploads
    job_max_attempts: int = Field(default=3, ge=1)  # a job failing this many times is marked failed
    job_lease_seconds: float = Field(default=600.0, gt=0)  # a running job not finished by then is taken again
    engine_max_pending: int | None = Field(default=None, ge=1)  # interactive engine calls in flight before 503
    max_files_per_request: int = Field(default=100, ge=1)  # files of one multipart upload

    @property
    def resolved_database_url(self) -> str:
        """The database URL, defaulting to a SQLite file inside ``data_dir``."""
        return self.database_url or f"sqlite:///{(self.data_dir / 'catalog.sqlite3').resolve()}"

    @property
    def resolved_store_url(self) -> str:
        """The store URL, defaulting to a folder inside ``data_dir``."""
        return self.store_url or str((self.data_dir / "blobs").resolve())


def load_settings() -> Settings:
    """The settings in the environment now. Raises ``InvalidSetting`` naming the first ``PHOTOSIFT_*`` variable of
    the wrong type or out of range, with what is wrong with it."""
    try:
        return Settings()
    except ValidationError as exc:
        error = exc.errors()[0]
        name = "PHOTOSIFT_" + "_".join(str(part) for part in error["loc"]).upper()
        raise InvalidSetting(f"{name}: {error['msg']}") from None


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, read once from the environment (``load_settings``)."""
    return load_settings()
