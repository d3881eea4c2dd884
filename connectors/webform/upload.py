"""The citizen form's ``multipart/form-data`` body: fields and files, read with bounded memory.

Each file is streamed to a temporary file (64 KiB at a time, never whole in memory), hashed on the way and
judged by its first bytes, not its name or the browser's Content-Type. A submission with a file too big, too
many files or a file that is not a picture or PDF is refused whole (413 / 422 / 415 with the reason in Bahasa
Indonesia) and its temporary files are removed, so nothing of it is stored half-way.
"""

from __future__ import annotations

import asyncio
import hashlib
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

from omnichannel import attachments
from omnichannel.types import Attachment
from omnichannel.web.body import BodyError, body_timeout

CHUNK = 65_536
FIELDS = ("text", "subject", "name", "email", "phone", "location", "anonymous", "confidential")
TYPE_NAMES = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WebP", "image/gif": "GIF",
              "application/pdf": "PDF"}


class UploadError(BodyError):
    """A refused upload: the status, an English ``reason`` for logs and clients, the citizen's ``message``."""

    def __init__(self, status: int, reason: str, message: str) -> None:
        super().__init__(status, reason)
        self.message = message

    def response(self, **extra: Any) -> web.Response:
        """``{"error", "message", "problems"}``: the message is what the form page shows."""
        return web.json_response({"error": self.reason, "message": self.message,
                                  "problems": [{"field": "files", "problem": self.message}], **extra},
                                 status=self.status)


@dataclass
class Incoming:
    """One uploaded file waiting in a temporary directory until the whole submission is accepted."""

    filename: str
    temp: Path
    size: int
    sha256: str
    content_type: str


@dataclass
class Upload:
    """The form's fields and its files (in ``workdir``, removed by ``discard`` whatever happens)."""

    fields: dict[str, Any] = field(default_factory=dict)
    files: list[Incoming] = field(default_factory=list)
    workdir: Path | None = None

    def discard(self) -> None:
        """Remove what is still in the temporary directory."""
        if self.workdir is not None:
            shutil.rmtree(self.workdir, ignore_errors=True)
            self.workdir = None

    def keep(self, root: Path) -> list[Attachment]:
        """Move the files into the attachment store (blocking: run it in a thread)."""
        out = []
        for f in self.files:
            path = attachments.keep_file(f.temp, f.sha256, f.content_type, root)
            out.append(Attachment(filename=f.filename, content_type=f.content_type, size=f.size, sha256=f.sha256,
                                  path=path))
        return out

    def raw(self) -> dict[str, Any]:
        """What the envelope keeps as its raw body: the fields and each file's metadata."""
        return {**self.fields, "files": [{"filename": f.filename, "sha256": f.sha256, "size": f.size,
                                          "content_type": f.content_type} for f in self.files]}


def size_text(size: int) -> str:
    """A size as a citizen reads it: ``10 MB``, ``500 KB``."""
    if size >= 1_048_576:
        return f"{size / 1_048_576:.1f}".removesuffix(".0") + " MB"
    return f"{max(1, size // 1024)} KB"


def _boolean(value: str) -> bool:
    return value.strip().lower() in ("1", "true", "on", "yes", "ya")


async def read_upload(request: web.Request, *, root: Path, max_fields_bytes: int, max_files: int,
                      max_file_bytes: int, types: list[str], templates: Any) -> Upload:
    """Read the whole multipart body into an ``Upload``; ``UploadError`` / ``BodyError`` when refused (the
    temporary files are already removed then)."""
    upload = Upload()
    try:
        async with asyncio.timeout(body_timeout(request) + max_files * 60):
            await _read(request, upload, root, max_fields_bytes, max_files, max_file_bytes, types, templates)
    except TimeoutError:
        upload.discard()
        raise BodyError(408, "the body did not arrive in time") from None
    except (ConnectionError, aiohttp.ClientPayloadError, HttpProcessingError, asyncio.IncompleteReadError):
        upload.discard()
        raise BodyError(400, "incomplete body") from None
    except (ValueError, AssertionError, RuntimeError) as exc:  # aiohttp's reader on a malformed body
        upload.discard()
        raise BodyError(400, f"malformed multipart body: {str(exc)[:120]}") from None
    except BaseException:
        upload.discard()
        raise
    return upload


async def _read(request: web.Request, upload: Upload, root: Path, max_fields_bytes: int, max_files: int,
                max_file_bytes: int, types: list[str], templates: Any) -> None:
    reader = await request.multipart()
    used = 0
    while (part := await reader.next()) is not None:
        if not isinstance(part, aiohttp.BodyPartReader):
            raise BodyError(400, "nested multipart bodies are not accepted")
        if part.filename is not None:
            incoming = await _file(part, upload, root, max_file_bytes, types, templates)
            if incoming is None:
                continue  # the empty part a browser sends for a file input left empty
            if len(upload.files) >= max_files:
                raise UploadError(422, f"more than {max_files} files", templates("upload_too_many", max=max_files))
            upload.files.append(incoming)
            continue
        if part.name not in FIELDS:
            raise BodyError(422, f"unknown form field {part.name!r}")
        value = bytearray()
        while chunk := await part.read_chunk(CHUNK):
            used += len(chunk)
            if used > max_fields_bytes:
                raise BodyError(413, f"form fields larger than {max_fields_bytes} bytes")
            value += chunk
        try:
            text = value.decode("utf-8")
        except UnicodeDecodeError:
            raise BodyError(400, f"form field {part.name} is not UTF-8") from None
        upload.fields[part.name] = _boolean(text) if part.name in ("anonymous", "confidential") else text


async def _file(part: aiohttp.BodyPartReader, upload: Upload, root: Path, max_bytes: int,
                types: list[str], templates: Any) -> Incoming | None:
    name = attachments.safe_filename(part.filename)
    if upload.workdir is None:
        # the temporary files sit beside the store: accepting them is a rename
        await asyncio.to_thread(root.mkdir, parents=True, exist_ok=True)
        upload.workdir = Path(await asyncio.to_thread(tempfile.mkdtemp, prefix=".upload-", dir=root))
    temp = upload.workdir / f"{len(upload.files)}-{hashlib.sha256(name.encode()).hexdigest()[:8]}.part"
    digest, head, size = hashlib.sha256(), b"", 0
    out = await asyncio.to_thread(temp.open, "wb")
    try:
        while chunk := await part.read_chunk(CHUNK):
            size += len(chunk)
            if size > max_bytes:
                raise UploadError(413, f"file larger than {max_bytes} bytes",
                                  templates("upload_too_big", berkas=name, batas=size_text(max_bytes)))
            digest.update(chunk)
            if len(head) < 512:
                head += chunk[:512 - len(head)]
            await asyncio.to_thread(out.write, chunk)
    finally:
        await asyncio.to_thread(out.close)
    found = attachments.sniff(head)
    if size == 0 and not part.filename:
        temp.unlink(missing_ok=True)
        return None
    if size == 0:
        raise UploadError(422, "empty file", templates("upload_empty", berkas=name))
    if found not in types:
        names = [TYPE_NAMES.get(t, t) for t in types]
        allowed = ", ".join(names[:-1]) + " atau " + names[-1] if len(names) > 1 else "".join(names)
        raise UploadError(415, f"file type {found or 'unknown'} not accepted",
                          templates("upload_bad_type", berkas=name, jenis=allowed))
    return Incoming(filename=name, temp=temp, size=size, sha256=digest.hexdigest(), content_type=found)


def sweep(root: Path, older_than: float = 3600.0) -> int:
    """Remove temporary upload directories a crash left behind (older than ``older_than`` seconds, so another
    replica's upload in progress is kept); how many were removed. Blocking: run it in a thread."""
    removed = 0
    if not root.is_dir():
        return 0
    for folder in root.glob(".upload-*"):
        try:
            stale = folder.is_dir() and time.time() - folder.stat().st_mtime > older_than
        except OSError:
            continue
        if stale:
            shutil.rmtree(folder, ignore_errors=True)
            removed += 1
    return removed
