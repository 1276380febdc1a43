"""Reading multipart uploads into ``Upload`` objects under the configured size limit."""

from __future__ import annotations

from fastapi import UploadFile

from photosift.application.photos import Upload
from photosift.errors import ImageTooLarge, InvalidInput

_CHUNK = 1 << 20


async def read_uploads(files: list[UploadFile], max_bytes: int) -> list[Upload]:
    """Each file's bytes; a file over ``max_bytes`` becomes an ``ImageTooLarge`` (not read into memory)."""
    if not files:
        raise InvalidInput("no files in the request (send them as multipart form field 'files')")
    out: list[Upload] = []
    for file in files:
        if file.size is not None and file.size > max_bytes:
            error = ImageTooLarge(f"{file.filename or 'file'} is {file.size} bytes; the limit is {max_bytes}")
            out.append(Upload(filename=file.filename, data=b"", error=error))
            continue
        chunks, total = [], 0
        while chunk := await file.read(_CHUNK):
            total += len(chunk)
            if total > max_bytes:
                break
            chunks.append(chunk)
        if total > max_bytes:
            error = ImageTooLarge(f"{file.filename or 'file'} is over the limit of {max_bytes} bytes")
            out.append(Upload(filename=file.filename, data=b"", error=error))
        else:
            out.append(Upload(filename=file.filename, data=b"".join(chunks)))
        await file.close()
    return out
