"""Attachments of inbound mail: safe names, type and size limits, content-addressed storage on disk."""

from __future__ import annotations

import fnmatch
import hashlib
import os
import re
import tempfile
import unicodedata
from pathlib import Path

from omnichannel.types import Attachment

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


def type_allowed(content_type: str, patterns: tuple[str, ...] | list[str]) -> bool:
    """True when ``content_type`` matches one of ``patterns`` (``image/*`` style)."""
    content_type = content_type.lower()
    return any(fnmatch.fnmatchcase(content_type, p.lower()) for p in patterns)


def make_attachment(content: bytes, filename: str | None, content_type: str, *, store_dir: Path | None,
                    max_bytes: int, types: tuple[str, ...] | list[str]) -> Attachment:
    """Metadata always; the content saved under ``store_dir`` when it is within the limits.

    Files are named by their SHA-256 (``ab/abcdef...-name.ext``), so a resend or a re-parse writes
    nothing new and no name from the mail ever becomes a path of its own.
    """
    name = safe_filename(filename)
    digest = hashlib.sha256(content).hexdigest()
    att = Attachment(filename=name, content_type=content_type, size=len(content), sha256=digest)
    if len(content) > max_bytes:
        att.skipped_reason = f"larger than {max_bytes} bytes"
    elif not type_allowed(content_type, types):
        att.skipped_reason = f"type {content_type} not accepted"
    elif store_dir is None:
        att.skipped_reason = "no attachment store"
    else:
        att.path = str(_save(store_dir, digest, name, content))
    return att


def _save(store_dir: Path, digest: str, name: str, content: bytes) -> Path:
    folder = store_dir / digest[:2]
    target = folder / f"{digest[:40]}-{name}"
    if not target.resolve().is_relative_to(store_dir.resolve()):  # belt and braces after safe_filename
        target = folder / digest
    if target.exists() and target.stat().st_size == len(content):
        return target
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".part-")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(content)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target
