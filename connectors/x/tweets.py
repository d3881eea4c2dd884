"""Tweets → envelopes, and the only texts the X connector will ever post publicly.

Each envelope's ``raw`` is a self-contained JSON document in the API's own shape (``data`` = the
tweet, ``includes`` = its author, referenced tweets and media) plus the account id and the source, so
``reparse`` can rebuild the envelope from the stored bytes alone.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import datetime
from typing import Any

from omnichannel.errors import PermanentDeliveryError
from omnichannel.types import Envelope, Sender

TWEET_FIELDS = ["created_at", "author_id", "conversation_id", "in_reply_to_user_id", "referenced_tweets", "lang",
                "attachments"]
EXPANSIONS = ["author_id", "referenced_tweets.id", "referenced_tweets.id.author_id", "attachments.media_keys"]
USER_FIELDS = ["name", "username"]
MEDIA_FIELDS = ["type", "url", "preview_image_url", "alt_text"]

REF = re.compile(r"^ADU-\d{4}-\d{6,}$")
# purpose of a reply row -> the public template used on X (never the private one with the answer text)
PUBLIC_TEMPLATES = {"ack": "ack_public", "ack_followup": "ack_followup", "answer": "answer_public", "closed": "closed",
                    "rejected": "rejected_public", "reopened": "reopened_public"}
_ANY_REF = re.compile(r"\bADU-\d{4}-\d{6,}\b")
FALLBACK_AGENCY = "instansi terkait"
_LEAKS = [
    ("an email address", re.compile(r"[^\s@]+@[^\s@]+\.[A-Za-z]{2,}")),
    ("a mention", re.compile(r"(?<![\w])@\w")),
    ("a phone number", re.compile(r"(?:\+?62|\b0)[\s.-]?8[\d\s.-]{7,14}\d")),
    ("a long number (NIK, account)", re.compile(r"\d{8,}")),
]


def page_documents(body: dict[str, Any], account_id: str, source: str) -> list[tuple[str, dict[str, Any]]]:
    """Split one API page into ``(tweet id, raw document)`` pairs, each carrying its own includes.

    Never raises on an oddly shaped tweet: its document goes on as it is and ``envelope_from_document``
    quarantines it, so one bad tweet cannot fail the poll and stop the source for good.
    """
    includes = body.get("includes") if isinstance(body.get("includes"), dict) else {}
    users = {str(u.get("id")): u for u in _dicts(includes.get("users"))}
    tweets = {str(t.get("id")): t for t in _dicts(includes.get("tweets"))}
    media = {str(m.get("media_key")): m for m in _dicts(includes.get("media"))}
    out = []
    for tweet in body.get("data") or []:
        fields = tweet if isinstance(tweet, dict) else {}
        refs = [tweets[str(r.get("id"))] for r in _dicts(fields.get("referenced_tweets")) if str(r.get("id")) in tweets]
        authors = {str(fields.get("author_id"))} | {str(t.get("author_id")) for t in refs}
        doc = {"data": tweet, "includes": {"users": [users[a] for a in sorted(authors) if a in users],
                                           "tweets": refs},
               "account_id": account_id, "source": source}
        attached = fields.get("attachments") if isinstance(fields.get("attachments"), dict) else {}
        keys = attached.get("media_keys") if isinstance(attached.get("media_keys"), list) else []
        if any(str(k) in media for k in keys):
            doc["includes"]["media"] = [media[str(k)] for k in keys if str(k) in media]
        tid = str(fields.get("id") or "")
        if not tid.isdigit():
            tid = "invalid-" + hashlib.sha256(json.dumps(tweet, sort_keys=True, default=str).encode()).hexdigest()[:24]
        out.append((tid, doc))
    return out


def _dicts(value: Any) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def envelope_from_document(doc: dict[str, Any], external_id: str) -> Envelope:
    """Build the envelope for one raw document; unparseable ones come back with ``error`` set (quarantine)."""
    raw = json.dumps(doc, ensure_ascii=False, separators=(",", ":"))
    try:
        return _parse(doc, external_id, raw)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        return Envelope(external_id=external_id, raw=raw, error=f"unparseable tweet: {type(exc).__name__}: {exc}")


def _parse(doc: dict[str, Any], external_id: str, raw: str) -> Envelope:
    tweet = doc["data"]
    tid, author, text = str(tweet["id"]), str(tweet["author_id"]), tweet["text"]
    if not isinstance(text, str):
        raise TypeError("text is not a string")
    account = str(doc.get("account_id") or "")
    users = {str(u["id"]): u for u in doc.get("includes", {}).get("users", [])}
    refs = {str(t["id"]): t for t in doc.get("includes", {}).get("tweets", [])}
    kinds = {r["type"]: str(r["id"]) for r in tweet.get("referenced_tweets") or []}
    conversation = str(tweet.get("conversation_id") or tid)
    skip = "retweet" if "retweeted" in kinds else "own post" if author == account else None
    # A follow-up comes from the same citizen: a reply to their own tweet or to our acknowledgement,
    # or a quote of their own tweet. Another citizen in the same conversation files their own complaint.
    reply_to = []
    if "replied_to" in kinds and str(tweet.get("in_reply_to_user_id")) in {author, account}:
        reply_to.append(kinds["replied_to"])
    quoted = refs.get(kinds.get("quoted", ""))
    if quoted is not None and str(quoted.get("author_id")) == author:
        reply_to.append(str(quoted["id"]))
    body = text if quoted is None else f"{text}\n\n> {quoted.get('text', '')}"
    user = users.get(author, {})
    created = tweet.get("created_at")
    envelope = Envelope(
        external_id=external_id, raw=raw, sender=Sender(id=author, name=user.get("name"),
                                                        username=user.get("username")),
        text=body, reply_to=reply_to, thread_id=f"{conversation}/{author}", message_id=tid,
        origin={"tweet_id": tid, "conversation_id": conversation},
        meta={"source": doc.get("source"), "lang": tweet.get("lang"), "conversation_id": conversation,
              "quoted_id": kinds.get("quoted")},
        skip_reason=skip)
    if created:
        envelope.received_at = datetime.fromisoformat(str(created).replace("Z", "+00:00"))
    return envelope


def public_reply_text(payload: dict[str, Any], templates: Any, mask: Any = None) -> str:
    """The text of a public reply: a public template filled with the ref only (and the agency name).

    The payload's own text is never posted; at most the agency name is read back out of it when it was
    rendered from the same public template. Raises ``PermanentDeliveryError`` if the result could leak
    personal data (checked by local patterns and, when given, ``mask`` = ``omnichannel.pii.mask``).
    """
    purpose = str(payload.get("purpose") or "")
    name = PUBLIC_TEMPLATES.get(purpose.split("-", 1)[0])
    if name is None:
        raise PermanentDeliveryError(f"no public template for reply purpose {purpose!r}; not posted on X")
    ref = str(payload.get("complaint") or "")
    if name == "ack_followup":  # names the original complaint the message was added to
        found = _ANY_REF.search(str(payload.get("text") or ""))
        ref = found.group(0) if found else ref
    if not REF.match(ref):
        raise PermanentDeliveryError("reply without a valid complaint ref; not posted on X")
    agency = _agency_from(str(payload.get("text") or ""), templates, name, ref) or FALLBACK_AGENCY
    text = templates(name, ref=ref, agency=agency)
    problem = leak(text, ref, mask)
    if problem:
        raise PermanentDeliveryError(f"public reply refused: the text would contain {problem}")
    return text


def _agency_from(text: str, templates: Any, name: str, ref: str) -> str | None:
    pattern = templates(name, ref="\x00R\x00", agency="\x00A\x00")
    if "\x00A\x00" not in pattern:
        return None
    regex = re.escape(pattern).replace(re.escape("\x00R\x00"), re.escape(ref))
    regex = regex.replace(re.escape("\x00A\x00"), r"(?P<agency>[^\n@#]{1,80}?)", 1).replace(
        re.escape("\x00A\x00"), r"(?P=agency)")
    match = re.fullmatch(regex, text.strip())
    return match.group("agency").strip() if match else None


def leak(text: str, ref: str, mask: Any = None) -> str | None:
    """What personal data ``text`` would leak (None when clean); the complaint ref itself is allowed."""
    if ref not in text:
        return "no complaint ref"
    if len(text) > 280:
        return "more than 280 characters"
    probe = text.replace(ref, "ADU-REF")
    for what, pattern in _LEAKS:
        if pattern.search(probe):
            return what
    if mask is not None and mask(probe) != probe:
        return "personal data (omnichannel.pii)"
    return None


def media_of(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """The media objects a raw document carries (photos have a ``url``; a video only a preview and streams)."""
    includes = doc.get("includes") if isinstance(doc.get("includes"), dict) else {}
    return _dicts(includes.get("media"))
