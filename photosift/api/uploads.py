"""Multipart uploads as ``Upload`` objects, in fixed memory per request.

Starlette's multipart parser spools each file part to a temporary file as it arrives (in memory only up to 1 MB,
then on disk), so a request holds at most about 1 MB of each part in memory. The ``Upload`` objects returned here
refer to those spooled files: their bytes are hashed and copied to the store in chunks, never read whole. The
spooled files are closed (and deleted) when the response has been sent.
"""

from __future__ import annotations

import os
import unicodedata

from fastapi import UploadFile
from starlette.concurrency import run_in_threadpool

from photosift.application.photos import Upload
from photosift.application.validation import MAX_FILENAME, check_filename
from photosift.errors import ImageTooLarge, InvalidInput


async def read_uploads(files: list[UploadFile], max_bytes: int) -> list[Upload]:
    """One ``Upload`` per file, backed by its spooled file; a file over ``max_bytes`` becomes an ``ImageTooLarge``, a
    file name that is too long or holds control characters an ``InvalidInput`` (the other files are still taken)."""
    if not files:
        raise InvalidInput("no files in the request (send them as multipart form field 'files')")
    out: list[Upload] = []
    for file in files:
        try:
            file.filename = check_filename(file.filename)
        except InvalidInput as exc:
            out.append(Upload.refused(_printable((file.filename or "")[:MAX_FILENAME]), exc))
            await file.close()
            continue
        size = file.size if file.size is not None else await run_in_threadpool(_size, file)
        if size > max_bytes:
            error = ImageTooLarge(f"{file.filename or 'file'} is {size} bytes; the limit is {max_bytes}")
            out.append(Upload.refused(file.filename, error))
            await file.close()  # frees its disk space now
            continue
        out.append(Upload(filename=file.filename, file=file.file, size=size))
    return out


def _printable(name: str) -> str:
    """``name`` with control characters and lone surrogates replaced, safe to echo in a JSON reply."""
    return "".join("\ufffd" if unicodedata.category(c) in ("Cc", "Cs") else c for c in name)


def _size(file: UploadFile) -> int:
    size = file.file.seek(0, os.SEEK_END)
    file.file.seek(0)
    return size
