"""X (Twitter) connector (kind ``x``): the mentions timeline and recent-search queries, with public replies.

Each source resumes from its own ``since_id``. A poll follows every page (newest first) before the
source's ``since_id`` advances to the first page's ``newest_id``; when the page budget or a rate
limit stops it midway, the checkpoint also keeps ``newest_id`` and ``next_token`` so the next poll
continues where it stopped. Rate limits are remembered per endpoint (mentions, search): a blocked
endpoint is skipped while the others keep polling; ``wait_on_rate_limit`` stays off because
tweepy would block the whole loop (or retry at once when the 429 has no reset header).
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any, ClassVar

import aiohttp
import tweepy
from tweepy.asynchronous import AsyncClient

from connectors.x.config import XConfig
from connectors.x.http import EndpointLimits, RedirectingSession, api_detail, translate
from connectors.x.media import fetch_media
from connectors.x.tweets import (
    EXPANSIONS,
    MEDIA_FIELDS,
    TWEET_FIELDS,
    USER_FIELDS,
    envelope_from_document,
    media_of,
    page_documents,
    public_reply_text,
)
from omnichannel.errors import ConfigError, PermanentDeliveryError, RetryableError
from omnichannel.protocols import PluginContext
from omnichannel.templates import Templates
from omnichannel.types import Attachment, Batch, Envelope, IngestResult, OutboxItem, Receipt

log = logging.getLogger(__name__)
_TRANSIENT = (tweepy.TwitterServerError, aiohttp.ClientError, TimeoutError, ValueError)


class _EndpointUnavailable(Exception):
    """This source cannot be polled now (rate limited or failing); the others go on."""


class XConnector:
    """Pull connector and Replier for one X account."""

    kind: ClassVar[str] = "x"

    def __init__(self, name: str, config: XConfig) -> None:
        self.name, self.config = name, config
        # rate-limit memory outlives restarts of this object (the supervisor restarts it after failures)
        self.limits = EndpointLimits(config.rate_limit_backoff_initial, config.rate_limit_backoff_max, time.time)
        self._account_id = config.account_user_id
        self._state: dict[str, dict[str, str]] = {}
        self._session: RedirectingSession | None = None
        self._client: AsyncClient | None = None
        self._poster: tuple[RedirectingSession, AsyncClient] | None = None
        self._templates: Any = None
        self._ctx: PluginContext | None = None
        self._media: aiohttp.ClientSession | None = None  # the media CDN: another host, never the API token

    # -- lifecycle -----------------------------------------------------------------------------
    def _open(self) -> tuple[RedirectingSession, AsyncClient]:
        c = self.config
        client = AsyncClient(bearer_token=c.bearer_token.get_secret_value(), consumer_key=_secret(c.consumer_key),
                             consumer_secret=_secret(c.consumer_secret), access_token=_secret(c.access_token),
                             access_token_secret=_secret(c.access_token_secret),
                             return_type=aiohttp.ClientResponse, wait_on_rate_limit=False)
        session = RedirectingSession(c.api_base_url, c.timeout)
        client.session = session
        return session, client

    def _key(self, field: str) -> str:
        return f"connectors[{self.name}].{field}"

    def sources(self) -> list[tuple[str, str, str | None]]:
        """``(checkpoint key, endpoint, query)`` for every configured source."""
        out: list[tuple[str, str, str | None]] = [("mentions", "mentions", None)] if self.config.mentions else []
        return out + [(f"search:{q}", "search", q) for q in self.config.search_queries]

    async def start(self, ctx: PluginContext, checkpoint: dict[str, Any] | None) -> None:
        """Open the client, resolve the account id if needed, and resume from ``checkpoint``."""
        self.limits.clock = ctx.extra.get("clock", self.limits.clock)
        self._templates = ctx.templates
        self._ctx = ctx
        keys = {key for key, _, _ in self.sources()}
        stored = (checkpoint or {}).get("sources") or {}
        self._state = {k: dict(v) for k, v in stored.items() if k in keys and isinstance(v, dict)}
        await self.stop()
        self._session, self._client = self._open()
        if not self._account_id:
            self._account_id = (await self._lookup_account(self._client))["id"]

    async def stop(self) -> None:
        """Close the sessions (safe to call twice)."""
        for session in (self._session, self._poster[0] if self._poster else None, self._media):
            if session is not None and not session.closed:
                await session.close()
        self._session = self._client = self._poster = self._media = None

    async def _lookup_account(self, client: AsyncClient) -> dict[str, Any]:
        c = self.config
        try:
            if c.account_user_id:
                resp = await client.get_user(id=c.account_user_id, user_fields=USER_FIELDS)
            else:
                resp = await client.get_user(username=c.account_username, user_fields=USER_FIELDS)
            body = await resp.json()
        except Exception as exc:
            raise translate(exc, f"{self.name}: account lookup", self._key("account_username")) from exc
        if "data" not in body:
            detail = "; ".join(str(e.get("detail")) for e in body.get("errors", [])) or "no such account"
            raise ConfigError(self._key("account_user_id" if c.account_user_id else "account_username"), detail)
        return body["data"]

    async def probe(self) -> str:
        """Look the account up with the bearer token (and verify the user credentials when given)."""
        session, client = self._open()
        try:
            user = await self._lookup_account(client)
            reply = "replies off"
            if self.config.has_user_context():
                try:
                    me = (await (await client.get_me(user_auth=True)).json())["data"]
                except Exception as exc:
                    raise translate(exc, f"{self.name}: user credentials") from exc
                if str(me["id"]) != str(user["id"]):
                    raise ConfigError(self._key("access_token"), f"the user credentials belong to @{me['username']}, "
                                                      f"not @{user['username']}")
                reply = f"replies {self.config.reply_mode}, user credentials OK"
            return (f"X account @{user['username']} (id {user['id']}); sources: "
                    f"{', '.join(k for k, _, _ in self.sources())}; {reply}")
        finally:
            await session.close()

    # -- polling -------------------------------------------------------------------------------
    async def poll(self) -> Batch:
        """Every source whose endpoint is not blocked, all pages (within ``max_pages``), oldest first."""
        if self._client is None:
            raise RetryableError(f"{self.name}: not started")
        documents: dict[str, dict[str, Any]] = {}
        updates: dict[str, dict[str, str]] = {}
        waits: list[float] = []
        polled = 0
        for key, endpoint, query in self.sources():
            wait = self.limits.wait(endpoint)
            if wait > 0:
                waits.append(wait)
                continue
            try:
                state = await self._drain(key, endpoint, query, documents)
            except _EndpointUnavailable:
                waits.append(self.limits.wait(endpoint))
                continue
            polled += 1
            if state != self._state.get(key, {}):
                updates[key] = state
        if not polled and waits:
            raise RetryableError(f"{self.name}: every source is rate limited or failing "
                                 f"({', '.join(sorted(self.limits.blocked()))})", retry_after=max(1.0, min(waits)))
        if not documents and not updates:
            return Batch()
        ordered = sorted(documents.items(), key=lambda item: _order(item[0]))
        envelopes = [envelope_from_document(doc, tid) for tid, doc in ordered]
        for (_, doc), env in zip(ordered, envelopes, strict=True):
            if env.error is None and env.skip_reason is None:
                env.attachments = [await self._fetch(m, env.external_id) for m in media_of(doc)]
        # oldest first, so a thread's first tweet becomes the complaint and the rest its follow-ups
        return Batch(envelopes=envelopes, checkpoint={"sources": {**self._state, **updates}})

    async def _drain(self, key: str, endpoint: str, query: str | None,
                     documents: dict[str, dict[str, Any]]) -> dict[str, str]:
        """Follow the pages of one source; return its new checkpoint entry."""
        state = self._state.get(key, {})
        since, newest, token = state.get("since_id"), state.get("newest_id"), state.get("next_token")
        for page in range(self.config.max_pages):
            try:
                body = await self._page(endpoint, query, since, token)
            except tweepy.BadRequest as exc:
                detail = api_detail(exc)
                if token and ("pagination_token" in detail or "next_token" in detail):
                    log.warning("%s %s: pagination token refused, restarting from since_id", self.name, key)
                    newest = token = None
                    continue
                if since and endpoint == "search" and "since_id" in detail:
                    log.warning("%s %s: since_id is older than the search window; tweets in between are out of "
                                "reach, restarting from the window start", self.name, key)
                    since = newest = token = None
                    continue
                raise ConfigError(self._key("search_queries" if query else "account_user_id"), detail) from exc
            except tweepy.TooManyRequests as exc:
                wait = self.limits.rate_limited(endpoint, exc.response.headers)
                self._blocked(key, endpoint, "rate limited (429)", wait)
                if page == 0:
                    raise _EndpointUnavailable from exc
                break
            except _TRANSIENT as exc:
                wait = self.limits.failed(endpoint)
                self._blocked(key, endpoint, f"{type(exc).__name__}: {exc}", wait)
                if page == 0:
                    raise _EndpointUnavailable from exc
                break
            except Exception as exc:
                raise translate(exc, f"{self.name} {key}") from exc
            meta = body.get("meta") if isinstance(body.get("meta"), dict) else {}
            newest = newest or meta.get("newest_id")
            for tid, doc in page_documents(body, self._account_id or "", key):
                documents.setdefault(tid, doc)
            token = meta.get("next_token")
            if not token:
                return {"since_id": newest or since} if (newest or since) else {}
            if self.limits.wait(endpoint) > 0:  # the window is used up: continue after its reset
                break
        return {k: v for k, v in (("since_id", since), ("newest_id", newest), ("next_token", token)) if v}

    async def _page(self, endpoint: str, query: str | None, since: str | None, token: str | None) -> dict[str, Any]:
        assert self._client is not None
        common = {"since_id": since, "max_results": self.config.max_results, "tweet_fields": TWEET_FIELDS,
                  "expansions": EXPANSIONS, "user_fields": USER_FIELDS, "media_fields": MEDIA_FIELDS}
        if endpoint == "mentions":
            resp = await self._client.get_users_mentions(self._account_id, pagination_token=token, **common)
        else:
            resp = await self._client.search_recent_tweets(query, next_token=token, **common)
        body = await resp.json()
        self.limits.observe(endpoint, resp.headers)
        if "data" not in body and "meta" not in body and body.get("errors"):  # e.g. the account does not exist
            detail = "; ".join(str(e.get("detail") or e.get("message")) for e in body["errors"])
            raise ConfigError(self._key("account_user_id" if endpoint == "mentions" else "search_queries"), detail)
        return body

    async def _fetch(self, media: dict[str, Any], external_id: str) -> Attachment:
        if self._media is None or self._media.closed:
            self._media = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.config.timeout))
        assert self._ctx is not None
        return await fetch_media(self._media, media, root=Path(self._ctx.attachments_dir), config=self.config,
                                 where=f"{self.name} {external_id}")

    def _blocked(self, key: str, endpoint: str, why: str, wait: float) -> None:
        log.warning("%s %s: %s; endpoint %s paused for %.0fs, other sources keep polling",
                    self.name, key, why, endpoint, wait)

    async def ack(self, batch: Batch, result: IngestResult) -> None:
        """The batch is committed: its checkpoint is now the position to resume from."""
        if batch.checkpoint is not None:
            self._state = {k: dict(v) for k, v in batch.checkpoint["sources"].items()}
        for item in result.items:
            if item.new:
                log.debug("%s stored tweet %s as %s (%s)", self.name, item.external_id, item.outcome, item.reason)
        if result.new:
            log.info("%s stored %d new tweets: %d complaints, %d follow-ups, %d skipped, %d quarantined", self.name,
                     result.new, result.count("complaint"), result.count("follow_up"), result.count("skipped"),
                     result.count("quarantined"))

    # -- replies -------------------------------------------------------------------------------
    async def reply(self, item: OutboxItem, idempotency_key: str) -> Receipt:
        """Post a public reply holding only the ref and a fixed Indonesian text (``reply_mode: public``)."""
        if self.config.reply_mode != "public":
            raise PermanentDeliveryError("public replies are off for this connector (reply_mode: none)")
        tweet_id = str((item.payload.get("origin") or {}).get("tweet_id") or "")
        if not tweet_id.isdigit():
            raise PermanentDeliveryError("the reply's origin has no tweet id")
        text = public_reply_text(item.payload, self._templates or Templates(), _pii_mask())
        if self._poster is None or self._poster[0].closed:
            self._poster = self._open()
        try:
            resp = await self._poster[1].create_tweet(text=text, in_reply_to_tweet_id=tweet_id, user_auth=True)
            data = (await resp.json())["data"]
        except tweepy.TooManyRequests as exc:
            wait = self.limits.rate_limited("post", exc.response.headers)
            raise RetryableError(f"{self.name}: posting is rate limited", retry_after=wait) from exc
        except tweepy.Forbidden as exc:
            if "duplicate content" in api_detail(exc):  # the same ref was already posted: it is delivered
                log.info("%s reply %s to tweet %s was already posted", self.name, idempotency_key, tweet_id)
                return Receipt(remote_ref=None, detail={"duplicate": True, "in_reply_to": tweet_id})
            raise PermanentDeliveryError(f"X refused the reply: {api_detail(exc)}") from exc
        except (tweepy.BadRequest, tweepy.NotFound, tweepy.Unauthorized) as exc:
            raise PermanentDeliveryError(f"X refused the reply ({exc.response.status}: {api_detail(exc)})") from exc
        except (*_TRANSIENT, KeyError) as exc:
            raise RetryableError(f"{self.name}: posting failed: {type(exc).__name__}: {exc}") from exc
        log.info("%s replied to tweet %s with %s (%s)", self.name, tweet_id, data["id"], idempotency_key)
        return Receipt(remote_ref=str(data["id"]), detail={"in_reply_to": tweet_id})

    @classmethod
    def reparse(cls, raw: bytes, external_id: str) -> Envelope:
        """Rebuild an envelope from its stored raw document (``omnichannel quarantine retry``)."""
        import json

        try:
            doc = json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            return Envelope(external_id=external_id, raw=raw, error=f"stored raw is not JSON: {exc}")
        return envelope_from_document(doc, external_id)


def _secret(value: Any) -> str | None:
    return value.get_secret_value() if value is not None else None


def _order(tweet_id: str) -> tuple[int, str]:
    return (int(tweet_id), "") if tweet_id.isdigit() else (1 << 64, tweet_id)


def _pii_mask() -> Any:
    try:
        from omnichannel.pii import mask
    except ImportError:  # written by another helper; the local patterns still guard until it lands
        return None
    return mask
