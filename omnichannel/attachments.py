"""The attachment store: content sniffed from the bytes, files named by their SHA-256 under one directory.

Every channel keeps the files it receives under ``<data_dir>/attachments`` (``ATTACHMENTS``), at
``ab/abcdef…<ext>`` — the path stored on the envelope is *relative* to that directory, so replicas that
mount the same data directory elsewhere find the same file, and a photo sent on two channels is one file.
The content type recorded and served is the one the bytes show (magic numbers), never the name's or the
sender's header: a ``foto.jpg`` that is a Windows program is kept as metadata with a reason, not stored.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import tempfile
import unicodedata
from pathlib import Path
from typing import Any

from omnichannel.types import Attachment

ATTACHMENTS = "attachments"  # the directory under data_dir
CHUNK = 65_536
# what a channel connector stores by default: pictures, documents, voice notes and video citizens send
DEFAULT_TYPES: tuple[str, ...] = (
    "image/jpeg", "image/png", "image/gif", "image/webp", "image/heic", "application/pdf", "text/plain", "text/csv",
    "audio/ogg", "audio/mpeg", "audio/mp4", "video/mp4", "video/3gpp", "video/quicktime", "message/rfc822",
    "application/zip", "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "application/msword",
    "application/vnd.ms-excel")
EXTENSIONS = {"image/jpeg": ".jpg", "image/png": ".png", "image/gif": ".gif", "image/webp": ".webp",
              "image/heic": ".heic", "application/pdf": ".pdf", "text/plain": ".txt", "audio/ogg": ".ogg",
              "audio/mpeg": ".mp3", "audio/mp4": ".m4a", "video/mp4": ".mp4", "video/3gpp": ".3gp",
              "video/quicktime": ".mov", "message/rfc822": ".eml", "application/zip": ".zip",
              "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ".docx",
              "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ".xlsx",
              "application/msword": ".doc", "application/vnd.ms-excel": ".xls"}
# a zip or an OLE2 file is also what these declared types are made of: the declared name is kept then
_CONTAINERS = {"application/zip": {"application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                                   "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"},
               "application/x-ole-storage": {"application/msword", "application/vnd.ms-excel"}}
_TEXTUAL = ("text/", "message/rfc822", "application/json")
_UNSAFE = re.compile(r"[^\w.\- ()+,@=]+", re.UNICODE)
_RESERVED = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(10)), *(f"lpt{i}" for i in range(10))}


def safe_filename(name: str | None, fallback: str = "lampiran") -> str:
    """A display/storage name with no directories, traversal, control characters or reserved device names."""
    name = unicodedata.normalize("NFC", name or "")
    name = name.replace("\\", "/").split("/")[-1]          # drop any directory part, Windows or POSIX
    name = _UNSAFE.sub("_", name).strip(" ._")             # no control characters, no leading dots
    if not name or name.split(".")[0].lower() in _RESERVED:
        name = f"{fallback}_{name}" if name else fallback
    if len(name) > 120:
        stem, dot, ext = name.rpartition(".")
        name = (stem[:100] + "." + ext[:15]) if dot and len(ext) <= 15 else name[:120]
    return name


def sniff(head: bytes) -> str | None:
    """The content type the first bytes show (the first 512 are enough), ``text/plain`` for UTF-8 text
    without control characters, ``None`` when nothing is recognised."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in (b"heic", b"heix", b"mif1", b"msf1"):
            return "image/heic"
        if brand.startswith(b"3g"):
            return "video/3gpp"
        if brand == b"qt  ":
            return "video/quicktime"
        if brand in (b"M4A ", b"M4B "):
            return "audio/mp4"
        return "video/mp4"
    if head.startswith(b"OggS"):
        return "audio/ogg"
    if head.startswith(b"ID3") or head[:2] in (b"\xff\xfb", b"\xff\xf3", b"\xff\xf2"):
        return "audio/mpeg"
    if head.startswith(b"PK\x03\x04"):
        return "application/zip"
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return "application/x-ole-storage"
    if head.startswith(b"MZ"):
        return "application/x-msdownload"
    if head.startswith(b"\x7fELF"):
        return "application/x-executable"
    if head.startswith((b"<!DOCTYPE html", b"<html", b"<svg", b"<?xml")):
        return "text/html"  # never served as is: markup runs script in a browser
    return "text/plain" if _textual(head) else None


def _textual(head: bytes) -> bool:
    if not head or b"\x00" in head:
        return not head
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 4:  # not just a character cut at the end of the head
            return False
        text = head[:exc.start].decode("utf-8")
    return all(ch.isprintable() or ch in "\t\r\n\f" for ch in text)


def content_type(head: bytes, declared: str | None) -> str | None:
    """The type to record: what the bytes show; the declared type only where the bytes allow it (a text
    part declared ``message/rfc822``, a zip declared as a Word document); ``None`` when unrecognised."""
    found = sniff(head)
    declared = (declared or "").split(";")[0].strip().lower()
    if found == "text/plain" and declared.startswith(_TEXTUAL) and declared != "text/html":
        return declared
    if found in _CONTAINERS and declared in _CONTAINERS[found]:
        return declared
    return found


async def read_limited(stream: Any, limit: int) -> bytes:
    """A response body read to its end or to just past ``limit`` bytes (more than ``limit`` back means too big):
    ``StreamReader.read(n)`` returns what has arrived, not ``n`` bytes."""
    data = bytearray()
    while len(data) <= limit:
        chunk = await stream.read(min(CHUNK, limit + 1 - len(data)))
        if not chunk:
            break
        data += chunk
    return bytes(data)


def relative_path(sha256: str, ctype: str) -> str:
    """Where content with this hash lives, relative to the attachments directory."""
    return f"{sha256[:2]}/{sha256}{EXTENSIONS.get(ctype, '.bin')}"


def _place(root: Path, rel: str, write: object) -> str:
    target = root / rel
    if target.exists():
        return rel
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".part-")
    try:
        with os.fdopen(fd, "wb") as out:
            write(out)  # type: ignore[operator]
        os.replace(tmp, target)  # atomic: a reader sees the whole file or none
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return rel


def keep(data: bytes, filename: str, declared: str | None, *, root: Path | None, max_bytes: int,
         types: tuple[str, ...] | list[str] = DEFAULT_TYPES) -> Attachment:
    """Metadata always; the bytes saved under ``root`` when within ``max_bytes`` and of an accepted sniffed
    type, else ``skipped_reason`` says why they were not (blocking: call it from a thread or a worker)."""
    digest = hashlib.sha256(data).hexdigest()
    ctype = content_type(data[:512], declared)
    att = Attachment(filename=filename, content_type=ctype or "application/octet-stream", size=len(data),
                     sha256=digest)
    reason = refusal(len(data), ctype, declared, max_bytes=max_bytes, types=types)
    if reason is None and root is None:
        reason = "no attachment store"
    if reason is not None:
        att.skipped_reason = reason
        return att
    assert root is not None
    att.path = _place(root, relative_path(digest, att.content_type), lambda out: out.write(data))
    return att


async def keep_async(data: bytes, filename: str, declared: str | None, *, root: Path | None, max_bytes: int,
                     types: tuple[str, ...] | list[str] = DEFAULT_TYPES) -> Attachment:
    """``keep`` off the event loop."""
    return await asyncio.to_thread(keep, data, filename, declared, root=root, max_bytes=max_bytes, types=types)


def refusal(size: int, ctype: str | None, declared: str | None, *, max_bytes: int,
            types: tuple[str, ...] | list[str]) -> str | None:
    """Why content of this size and sniffed type is not stored, or ``None`` when it is."""
    if size > max_bytes:
        return f"larger than {max_bytes} bytes ({size})"
    if ctype is None:
        return f"unknown type (declared {declared or 'none'})"
    if ctype not in types:
        return f"type {ctype} not accepted"
    return None


def keep_file(source: Path, sha256: str, ctype: str, root: Path) -> str:
    """Move a fully written temporary file into the store (a rename on the same filesystem, else a copy);
    its relative path. Content already stored is not written again."""
    rel = relative_path(sha256, ctype)
    target = root / rel
    if target.exists():
        source.unlink(missing_ok=True)
        return rel
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.replace(source, target)
        return rel
    except OSError:  # another filesystem: copy, then rename into place
        pass

    def copy(out: object) -> None:
        with source.open("rb") as f:
            while chunk := f.read(CHUNK):
                out.write(chunk)  # type: ignore[attr-defined]

    _place(root, rel, copy)
    source.unlink(missing_ok=True)
    return rel


def resolve(root: Path, path: str | None) -> Path | None:
    """The file of a stored ``path`` (relative to ``root``; an absolute one, as stored before paths were
    relative, must lie inside ``root`` too), or ``None`` when it is missing or points outside."""
    if not path:
        return None
    base = root.resolve()
    candidate = Path(path)
    target = (candidate if candidate.is_absolute() else base / candidate).resolve()
    if not target.is_relative_to(base) or not target.is_file():
        return None
    return target
