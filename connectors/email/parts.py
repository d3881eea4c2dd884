"""Large mail read in parts, so memory is bounded by the limits and not by the mail.

A mail over ``PartLimits.over`` bytes is not fetched whole. Its BODYSTRUCTURE (RFC 3501 7.4.2) and header
come first; then, in one more FETCH, the MIME header and body of each text part (cut at ``text_bytes``)
and of each attachment within ``max_attachment_bytes`` whose type is accepted, while the bytes taken stay
within ``budget``. What is fetched is put together again as a ``multipart/mixed`` message under the
mail's own header (the parts flattened, each with its own MIME header), which the parser reads as
usual; what is left on the server is listed with its name, type and size (``Omitted``) and becomes
attachment metadata with the reason. The whole mail stays in the mailbox (flagged \\Seen or moved as
any other), so nothing is lost.
"""

from __future__ import annotations

import fnmatch
import uuid
from dataclasses import dataclass, field
from typing import Any

from connectors.email.attach import safe_filename
from omnichannel.types import Attachment, Envelope

TEXT_TYPES = ("text/plain", "text/html")


@dataclass(frozen=True, slots=True)
class PartLimits:
    """When a mail is read in parts, and how much of it is read."""

    over: int = 1024 * 1024                 # mails larger than this are read in parts
    max_attachment_bytes: int = 10 * 1024 * 1024
    attachment_types: tuple[str, ...] = ("image/*", "application/pdf", "text/plain")
    text_bytes: int = 1024 * 1024           # per text part; more is cut (noted)
    budget: int = 16 * 1024 * 1024          # bytes fetched for one mail at most


@dataclass(slots=True)
class Omitted:
    """A part left on the server: what the citizen sent, without its content."""

    section: str
    content_type: str
    size: int  # octets as encoded on the server
    filename: str | None
    reason: str


@dataclass(slots=True)
class Leaf:
    """One non-multipart part of the structure."""

    section: str
    content_type: str
    size: int
    filename: str | None
    attachment: bool
    encoding: str


@dataclass(slots=True)
class Plan:
    """Which sections to fetch, which to leave."""

    fetch: list[Leaf] = field(default_factory=list)
    cut: set[str] = field(default_factory=set)   # text parts fetched only in part
    omitted: list[Omitted] = field(default_factory=list)
    single: bool = False                         # the mail is one part: its body is section 1, header = MIME


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode("ascii", "replace")
    return "" if value is None else str(value)


def _params(value: Any) -> dict[str, str]:
    if not isinstance(value, (tuple, list)):
        return {}
    items = list(value)
    return {_text(items[i]).lower(): _text(items[i + 1]) for i in range(0, len(items) - 1, 2)}


def leaves(structure: Any, prefix: str = "") -> list[Leaf]:
    """The non-multipart parts of a BODYSTRUCTURE with their section numbers (a nested message is one leaf)."""
    if getattr(structure, "is_multipart", False) or (
            isinstance(structure, (tuple, list)) and structure and isinstance(structure[0], list)):
        out: list[Leaf] = []
        for n, child in enumerate(structure[0], start=1):
            out.extend(leaves(child, f"{prefix}{n}" if not prefix else f"{prefix}.{n}"))
        return out
    parts = list(structure)
    ctype = f"{_text(parts[0]).lower()}/{_text(parts[1]).lower()}"
    params = _params(parts[2]) if len(parts) > 2 else {}
    size = int(parts[6]) if len(parts) > 6 and isinstance(parts[6], int) else 0
    disposition_at = {"text": 9, "message": 11}.get(ctype.split("/")[0], 8)
    disposition = parts[disposition_at] if len(parts) > disposition_at else None
    kind, dparams = "", {}
    if isinstance(disposition, (tuple, list)) and disposition:
        kind, dparams = _text(disposition[0]).lower(), _params(disposition[1] if len(disposition) > 1 else None)
    filename = dparams.get("filename") or params.get("name") or None
    return [Leaf(prefix or "1", ctype, size, filename, kind == "attachment" or (filename is not None and
                                                                                ctype not in TEXT_TYPES),
                 _text(parts[5]).lower() if len(parts) > 5 else "")]


def plan(structure: Any, limits: PartLimits) -> Plan:
    """Decide what of a large mail is fetched: text first, then accepted attachments within the limits."""
    found = leaves(structure)
    out = Plan(single=not (getattr(structure, "is_multipart", False) or (
        isinstance(structure, (tuple, list)) and structure and isinstance(structure[0], list))))
    budget = limits.budget
    texts = [leaf for leaf in found if leaf.content_type in TEXT_TYPES and not leaf.attachment]
    others = [leaf for leaf in found if leaf not in texts]
    for leaf in texts:
        out.fetch.append(leaf)
        if leaf.size > limits.text_bytes:
            out.cut.add(leaf.section)
        budget -= min(leaf.size, limits.text_bytes)
    for leaf in others:
        decoded = leaf.size * 3 // 4 if leaf.encoding == "base64" else leaf.size
        if decoded > limits.max_attachment_bytes:
            why = f"larger than {limits.max_attachment_bytes} bytes: left on the mail server (read in parts)"
        elif not any(fnmatch.fnmatchcase(leaf.content_type, p.lower()) for p in limits.attachment_types):
            why = f"type {leaf.content_type} not accepted: left on the mail server (read in parts)"
        elif leaf.size > budget:
            why = "the mail is large: left on the mail server once its budget was used (read in parts)"
        else:
            out.fetch.append(leaf)
            budget -= leaf.size
            continue
        out.omitted.append(Omitted(leaf.section, leaf.content_type, decoded, leaf.filename, why))
    return out


def items(p: Plan, limits: PartLimits) -> list[bytes]:
    """The FETCH items for a plan (MIME header and body of each section; a cut text part partially)."""
    out: list[bytes] = []
    for leaf in p.fetch:
        if not p.single:
            out.append(f"BODY.PEEK[{leaf.section}.MIME]".encode())
        if leaf.section in p.cut:
            out.append(f"BODY.PEEK[{leaf.section}]<0.{limits.text_bytes}>".encode())
        else:
            out.append(f"BODY.PEEK[{leaf.section}]".encode())
    return out


def assemble(header: bytes, p: Plan, data: dict[bytes, Any]) -> bytes:
    """The fetched parts as one message under the mail's own header (multipart/mixed unless single)."""
    def body(section: str) -> bytes:
        value = data.get(f"BODY[{section}]".encode())
        if value is None:
            value = data.get(f"BODY[{section}]<0>".encode())
        return bytes(value or b"")

    header = header.rstrip(b"\r\n") + b"\r\n"
    if p.single:
        return header + b"\r\n" + (body("1") if p.fetch else b"")
    boundary = f"omnichannel-parts-{uuid.uuid4().hex}".encode()
    kept = [line for line in _header_fields(header)
            if not line.lower().startswith((b"content-type:", b"content-transfer-encoding:"))]
    out = [b"".join(kept), b"Content-Type: multipart/mixed; boundary=\"" + boundary + b"\"\r\n\r\n"]
    for leaf in p.fetch:
        mime = bytes(data.get(f"BODY[{leaf.section}.MIME]".encode()) or b"\r\n")
        out += [b"--", boundary, b"\r\n", mime if mime.endswith(b"\r\n\r\n") else mime.rstrip(b"\r\n") + b"\r\n\r\n",
                body(leaf.section), b"\r\n"]
    out += [b"--", boundary, b"--\r\n"]
    return b"".join(out)


def with_omitted(env: Envelope, size: int, omitted: list[Omitted]) -> None:
    """Record on ``env`` that it was read in parts: the parts left on the server become attachment metadata."""
    for part in omitted:
        env.attachments.append(Attachment(filename=safe_filename(part.filename, f"lampiran-{part.section}"),
                                          content_type=part.content_type, size=part.size, skipped_reason=part.reason))
    env.meta["read_in_parts"] = {"size": size, "left_on_server": len(omitted)}


def _header_fields(header: bytes) -> list[bytes]:
    """The header's fields, each with its continuation lines."""
    fields: list[bytes] = []
    for line in header.splitlines(keepends=True):
        if line[:1] in (b" ", b"\t") and fields:
            fields[-1] += line
        elif line.strip():
            fields.append(line if line.endswith(b"\n") else line + b"\r\n")
    return fields
