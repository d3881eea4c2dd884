"""Helpers of the X sandbox: ISO times, opaque page tokens, and a small subset of the search query syntax."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any


def iso(ts: float) -> str:
    """``2026-01-02T03:04:05.000Z`` as the API writes times."""
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{int(ts * 1000) % 1000:03d}Z"


def epoch(text: str) -> float:
    """Seconds since the epoch of an API time."""
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def base36(number: int) -> str:
    """``number`` in base 36 (page tokens)."""
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while number:
        number, rem = divmod(number, 36)
        out = digits[rem] + out
    return out or "0"


def query_matcher(query: str, users: dict[str, dict[str, Any]]) -> Callable[[dict[str, Any]], bool]:
    """A small subset of the search syntax: words, "phrases", #tags, @handles, from:, to:, is:retweet|reply|quote,
    negation with ``-`` and top-level ``OR``."""
    alternatives = [re.findall(r'-?"[^"]*"|\S+', part.replace("(", " ").replace(")", " "))
                    for part in re.split(r"\s+OR\s+", query)]

    def term_matches(term: str, tweet: dict[str, Any]) -> bool:
        kinds = {r["type"] for r in tweet.get("referenced_tweets", [])}
        author = users[tweet["author_id"]]["username"].lower()
        text = tweet["text"].lower()
        if term.startswith("is:"):
            return {"is:retweet": "retweeted", "is:reply": "replied_to", "is:quote": "quoted"}.get(term) in kinds
        if term.startswith("from:"):
            return author == term[5:].lstrip("@")
        if term.startswith("to:"):
            target = users.get(tweet.get("in_reply_to_user_id", ""), {}).get("username", "")
            return target.lower() == term[3:].lstrip("@")
        if term.startswith('"'):
            return term.strip('"') in text
        if term[:1] in "#@":
            return re.search(rf"(?<!\w){re.escape(term)}(?!\w)", text) is not None
        return term in text

    def match(tweet: dict[str, Any]) -> bool:
        for terms in alternatives:
            if all(term_matches(t[1:].lower(), tweet) is False if t.startswith("-") and len(t) > 1
                   else term_matches(t.lower(), tweet) for t in terms):
                return True
        return False

    return match
