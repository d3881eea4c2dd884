"""Addresses in mail headers: who wrote, where an answer goes, and the To/Cc lists.

The stdlib address parsers are slow (a pure-Python tokenizer) and most values repeat (every mail is
To: our address; citizens write again), so plain-ASCII values are parsed once and remembered.
"""

from __future__ import annotations

import re
from email import policy
from email.utils import getaddresses

from connectors.email.text import Hint, clean, decode_header_value, needs_hint, unfold
from omnichannel.types import Sender

_ADDRESS = re.compile(r"^[^@\s<>()\[\],;:\"]{1,64}@[^@\s<>()\[\],;:\"]{1,255}$")
# ``Plain Name <local@domain>`` or a bare address (most mail): what getaddresses returns for them, without its
# pure-Python tokenizer; anything else (quotes, comments, dots in a name, several addresses) goes to the stdlib
_SIMPLE = re.compile(r"(?:([A-Za-z0-9]{1,64}(?: [A-Za-z0-9]{1,64}){0,8}) <)?"
                     r"([A-Za-z0-9_%+-]{1,64}(?:\.[A-Za-z0-9_%+-]{1,64}){0,8}@"
                     r"[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63}){1,8})(?(1)>)")
CACHED_VALUE_CHARS = 300
CACHE_SIZE = 4096
_CACHE: dict[str, tuple[tuple[str, str], ...]] = {}  # value → pairs, oldest dropped first


def parse_addresses(value: str, hint: Hint = None) -> tuple[tuple[str, str], ...]:
    """(display name, address) pairs; the stdlib parsers in turn, encoded-words decoded after parsing."""
    cacheable = len(value) <= CACHED_VALUE_CHARS and value.isascii() and "\x1b" not in value
    if cacheable and (hit := _CACHE.get(value)) is not None:
        return hit
    pairs, hint_used = _parse(value, hint)
    if cacheable and not hint_used:  # the charset hint played no part: the answer holds for every mail
        if len(_CACHE) >= CACHE_SIZE:
            _CACHE.pop(next(iter(_CACHE)), None)
        _CACHE[value] = pairs
    return pairs


def _parse(value: str, hint: Hint) -> tuple[tuple[tuple[str, str], ...], bool]:
    hint_used = needs_hint(value)
    value = clean(unfold(value[:20_000]), hint)
    pairs: list[tuple[str, str]] = []
    simple = _SIMPLE.fullmatch(value)
    try:
        pairs = [(simple.group(1) or "", simple.group(2))] if simple else [
            (name, addr) for name, addr in getaddresses([value]) if _ADDRESS.match(addr or "")]
    except Exception:  # the legacy parser chokes on a few malformed inputs; the modern one is next
        pairs = []
    if not pairs and "@" in value:
        try:
            header = policy.default.header_factory("from", value)
            pairs = [(a.display_name, a.addr_spec) for a in header.addresses if _ADDRESS.match(a.addr_spec or "")]
        except Exception:
            pairs = []
    hint_used = hint_used or any(needs_hint(name) for name, _ in pairs)
    return tuple((decode_header_value(name, 200, hint), addr.strip().lower()) for name, addr in pairs), hint_used


def address_list(values: list[str]) -> list[str]:
    """The addresses in To/Cc values, at most 50."""
    return [addr for value in values for _, addr in parse_addresses(value)][:50]


def sender_of(headers: dict[str, list[str]], hint: Hint) -> tuple[Sender | None, str | None]:
    """Who wrote (From, else Sender/Reply-To/Return-Path) and where an answer goes (Reply-To, else From)."""
    found: dict[str, tuple[str, str]] = {}
    for name in ("from", "sender", "reply-to", "return-path"):
        values = headers.get(name)
        if values and values[0]:
            pairs = parse_addresses(values[0], hint)
            if pairs:
                found[name] = pairs[0]
    author = found.get("from") or found.get("sender") or found.get("reply-to") or found.get("return-path")
    if author is None:
        return None, None
    display, address = author
    reply = (found.get("reply-to") or author)[1]
    return Sender(id=address, name=display or None, email=address), reply
