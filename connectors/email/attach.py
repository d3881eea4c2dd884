"""Attachments of inbound mail: type patterns and size limits over the shared attachment store."""

from __future__ import annotations

import fnmatch
from pathlib import Path

from omnichannel import attachments
from omnichannel.attachments import safe_filename
from omnichannel.types import Attachment

__all__ = ["make_attachment", "safe_filename", "type_allowed"]

def type_allowed(content_type: str, patterns: tuple[str, ...] | list[str]) -> bool:
    """True when ``content_type`` matches one of ``patterns`` (``image/*`` style)."""
    content_type = content_type.lower()
    return any(fnmatch.fnmatchcase(content_type, p.lower()) for p in patterns)


def make_attachment(content: bytes, filename: str | None, content_type: str, *, store_dir: Path | None,
                    max_bytes: int, types: tuple[str, ...] | list[str]) -> Attachment:
    """Metadata always; the content saved in the shared attachment store (``omnichannel.attachments``) when
    it is within the limits and the type its bytes show (not the part's header) matches ``types``.

    Files are named by their SHA-256, so a resend or a re-parse writes nothing new and no name from the
    mail ever becomes a path of its own.
    """
    name = safe_filename(filename)
    sniffed = attachments.content_type(content[:512], content_type)
    accepted = (sniffed,) if sniffed and type_allowed(sniffed, types) else ()
    return attachments.keep(content, name, content_type, root=store_dir, max_bytes=max_bytes, types=accepted)
