"""A local Facebook Page + Instagram account (Meta Graph API and webhook sender) for tests, benches and the demo.

Two halves, both shaped like Meta's documentation:

- the sender Meta runs: webhook deliveries signed with ``X-Hub-Signature-256`` —
  ``{"object": "page", "entry": [{"id": <page id>, "time", "messaging": [...] | "changes": [{"field": "feed" |
  "mention", "value"}]}]}`` for the Page, ``{"object": "instagram", ...}`` with ``messaging`` and
  ``changes`` of field ``comments`` / ``mentions`` for the Instagram account;
- the Graph API the connector calls (``omnichannel.sandbox.meta_graph``): ``POST /{page-id}/messages``
  (24-hour window, ``HUMAN_AGENT`` tag up to 7 days, private replies to a comment once within 7 days),
  ``POST /{comment-id}/comments`` and ``/replies``, ``POST /{ig-id}/mentions``, conversations and their
  messages, the Page feed, Instagram media and comments, ``subscribed_apps``, mentioned comment / media,
  attachment downloads; Graph errors ``{"error": {"message", "type", "code", "error_subcode", "fbtrace_id"}}``.

Controls (also over HTTP, ``omnichannel.sandbox.meta_control``): a citizen sends a DM, comments, edits or
deletes a comment, mentions the account, replies to a story; redeliver, throttle, expire the token, move
the clock. Content made with ``deliver=False`` (or while the receiver is down) is only in the Graph API:
what the connector's catch-up must find.
"""

from __future__ import annotations

import hashlib
import itertools
import secrets
import time
from typing import Any

import aiohttp
from aiohttp import web

from omnichannel.sandbox.base import MetaWebhookSender, SandboxServer
from omnichannel.sandbox.meta_graph import GraphAPI

DEFAULT_ACCESS_TOKEN = "EAAB-sandbox-page-token"
DEFAULT_APP_SECRET = "sandbox-meta-app-secret"
PAGE_ID, IG_ID = "104857600123456", "17841400000000001"


def iso(at: float) -> str:
    """Graph API time format, e.g. ``2026-12-06T11:00:00+0000``."""
    return time.strftime("%Y-%m-%dT%H:%M:%S+0000", time.gmtime(at))


class MetaSandbox(GraphAPI, MetaWebhookSender, SandboxServer):
    """In-process fake of a Page with its linked Instagram account, plus a signing webhook sender."""

    client_max_size = 16 * 1024 * 1024
    client_timeout = 30.0

    def __init__(self, *, access_token: str = DEFAULT_ACCESS_TOKEN, app_secret: str = DEFAULT_APP_SECRET,
                 page_id: str = PAGE_ID, instagram_id: str = IG_ID, page_name: str = "Pemerintah Kota Contoh",
                 username: str = "pemkot_contoh", webhooks: dict[str, str] | None = None,
                 human_agent: bool = True, comment_scoped_ids: bool = False, host: str = "127.0.0.1",
                 port: int = 0) -> None:
        super().__init__(host, port)
        self.access_token, self.app_secret = access_token, app_secret
        self.page_id, self.instagram_id, self.page_name, self.username = page_id, instagram_id, page_name, username
        self.webhooks: dict[str, str] = dict(webhooks or {})  # platform ("facebook"/"instagram") -> URL
        self.human_agent = human_agent                       # the app has Human Agent permission
        # Facebook comments carry an id of the commenter that is not their Messenger PSID (a private reply's
        # answer gives the PSID): alias -> PSID
        self.comment_scoped_ids, self.alias_of = comment_scoped_ids, {}
        self.subscribed_fields = ["feed", "mention", "message_echoes", "message_edits", "messages",
                                  "messaging_postbacks"]
        self.offset = 0.0                                    # seconds the clock was moved forward
        self.users: dict[str, dict[str, Any]] = {}            # user id -> {"platform", "name"/"username"}
        self.threads: dict[str, dict[str, Any]] = {}          # user id -> {"id", "messages": [...]}
        self.posts: dict[str, dict[str, Any]] = {}            # post / media id -> object
        self.comments: dict[str, dict[str, Any]] = {}         # comment id -> object
        self.last_inbound: dict[str, float] = {}              # user id -> time of their last message
        self.private_replied: set[str] = set()
        self.sent: list[dict[str, Any]] = []                  # accepted /messages bodies (+ message_id, platform)
        self.public: list[dict[str, Any]] = []                # comments and replies the Page/account posted
        self.rejected: list[dict[str, Any]] = []              # refused Graph calls, each with "error"
        self.deliveries: list[tuple[str, bytes]] = []         # (platform, body) of every delivery attempted
        self.undelivered: list[tuple[str, bytes]] = []        # deliveries the receiver did not take
        self.files: dict[str, tuple[bytes, str]] = {}         # attachment key -> (content, mime type)
        self.faults: list[dict[str, Any]] = []
        self.token_expired = False
        self.calls = 0
        self._ids = itertools.count(1)
        self.post(platform="facebook", message="Info layanan: sampaikan aduan Anda di kolom komentar.")
        self.post(platform="instagram", message="Kerja bakti bersama warga.")

    # -- lifecycle (start, stop, base_url, async with: SandboxServer) ------------------------------
    def routes(self, app: web.Application) -> None:
        """Control routes, attachment downloads, then the Graph API."""
        from omnichannel.sandbox.meta_control import meta_routes

        app.router.add_routes(meta_routes(self))
        app.router.add_get("/_media/{key}", self._file)
        self.graph_routes(app)

    def now(self) -> float:
        """The sandbox clock (``advance`` moves it)."""
        return time.time() + self.offset

    def advance(self, seconds: float) -> None:
        """Move the clock forward (windows and private-reply limits follow it)."""
        self.offset += seconds

    def throttle(self, count: int, code: int = 613, minutes: int = 1) -> None:
        """The next ``count`` Graph calls fail with rate-limit error ``code`` (4, 17, 32, 613, 80001 ...)."""
        self.faults.append({"left": count, "code": code, "minutes": minutes})

    def expire_token(self) -> None:
        """Every Graph call now fails with error 190 / 463 (session expired) until ``renew_token``."""
        self.token_expired = True

    def renew_token(self, token: str | None = None) -> None:
        """A new Page token is valid (the old one stays expired if ``token`` differs)."""
        self.access_token, self.token_expired = token or self.access_token, False

    # -- ids and objects ------------------------------------------------------------------------
    def _n(self) -> int:
        return next(self._ids)

    def user(self, platform: str, name: str = "Warga", user_id: str | None = None) -> str:
        """A citizen's page-scoped (Facebook) or Instagram-scoped id; made on first use."""
        user_id = user_id or (f"{7_000_000_000_000_000 + self._n()}" if platform == "facebook"
                              else f"{5_800_000_000_000_000 + self._n()}")
        key = "name" if platform == "facebook" else "username"
        self.users.setdefault(user_id, {"platform": platform, key: name})
        return user_id

    def post(self, platform: str, message: str = "", author: dict[str, Any] | None = None) -> str:
        """A post on the Page (Facebook) or a media of the account (Instagram); returns its id.

        With ``author`` it is a citizen's own post elsewhere (not on the Page's feed or among the account's media).
        """
        at = self.now()
        if platform == "facebook":
            post_id = f"{self.page_id}_{100_000 + self._n()}"
            who = author or {"id": self.page_id, "name": self.page_name}
        else:
            post_id = f"{17_900_000_000_000_000 + self._n()}"
            who = author or {"id": self.instagram_id, "username": self.username}
        self.posts[post_id] = {"id": post_id, "platform": platform, "from": who, "message": message,
                               "created": at, "updated": at, "own": author is None}
        return post_id

    def default_post(self, platform: str) -> str:
        """The account's newest own post or media."""
        own = self.page_id if platform == "facebook" else self.instagram_id
        return max((p for p in self.posts.values() if p["platform"] == platform and p["from"]["id"] == own),
                   key=lambda p: p["created"])["id"]

    def add_file(self, data: bytes, mime_type: str) -> str:
        """Serve ``data`` as an attachment; returns its (signed-looking) URL."""
        key = hashlib.sha256(data).hexdigest()[:24]
        self.files[key] = (data, mime_type)
        return f"{self.base_url}/_media/{key}?oh={secrets.token_hex(8)}"

    async def _file(self, request: web.Request) -> web.Response:
        entry = self.files.get(request.match_info["key"])
        if entry is None:
            return web.Response(status=404)
        return web.Response(body=entry[0], content_type=entry[1])

    # -- webhook payloads -----------------------------------------------------------------------
    def _account(self, platform: str) -> str:
        return self.page_id if platform == "facebook" else self.instagram_id

    def payload(self, platform: str, key: str, item: dict[str, Any]) -> dict[str, Any]:
        """A delivery of one ``messaging`` event or ``changes`` item."""
        return {"object": "page" if platform == "facebook" else "instagram",
                "entry": [{"id": self._account(platform), "time": int(self.now() * 1000), key: [item]}]}

    def dm_payload(self, platform: str, user_id: str, text: str | None = None, *, mid: str | None = None,
                   attachments: list[dict[str, Any]] | None = None, quick_reply: str | None = None,
                   reply_to: str | None = None, story: dict[str, Any] | None = None,
                   at: float | None = None) -> dict[str, Any]:
        """A direct message from a citizen, recorded in their conversation."""
        at = self.now() if at is None else at
        mid = mid or "m_" + secrets.token_urlsafe(30)
        message: dict[str, Any] = {"mid": mid}
        if text is not None:
            message["text"] = text
        if attachments:
            message["attachments"] = attachments
        if quick_reply is not None:
            message["quick_reply"] = {"payload": quick_reply}
        if reply_to:
            message["reply_to"] = {"mid": reply_to}
        if story:
            message["reply_to"] = {"story": story}
        thread = self.threads.setdefault(user_id, {"id": "t_" + secrets.token_hex(12), "messages": []})
        if not any(m["id"] == mid for m in thread["messages"]):
            thread["messages"].append({"id": mid, "created": at, "from": user_id, "text": text,
                                       "attachments": attachments or []})
        self.last_inbound[user_id] = max(at, self.last_inbound.get(user_id, 0))
        event = {"sender": {"id": user_id}, "recipient": {"id": self._account(platform)},
                 "timestamp": int(at * 1000), "message": message}
        return self.payload(platform, "messaging", event)

    def comment_payload(self, platform: str, user_id: str, text: str, *, on: str | None = None,
                        parent: str | None = None, at: float | None = None) -> dict[str, Any]:
        """A citizen's comment under a post or media (``on``, default the newest own one), or a reply."""
        at = self.now() if at is None else at
        on = on or (self.comments[parent]["on"] if parent else self.default_post(platform))
        if platform == "facebook":
            comment_id = f"{on.split('_')[-1]}_{200_000 + self._n()}"
        else:
            comment_id = f"{17_850_000_000_000_000 + self._n()}"
        author = {"id": user_id, **{k: v for k, v in self.users.get(user_id, {}).items() if k != "platform"}}
        if platform == "facebook" and self.comment_scoped_ids:
            alias = next((a for a, u in self.alias_of.items() if u == user_id), None) or f"{10**14 + self._n()}"
            self.alias_of[alias] = user_id
            author["id"] = alias
        self.comments[comment_id] = {"id": comment_id, "platform": platform, "on": on, "parent": parent,
                                     "from": author, "text": text, "created": at}
        self.posts[on]["updated"] = at
        return self._comment_change(comment_id, "add")

    def _comment_change(self, comment_id: str, verb: str) -> dict[str, Any]:
        c = self.comments[comment_id]
        if c["platform"] == "facebook":
            value: dict[str, Any] = {"from": c["from"], "post": {"id": c["on"], "status_type": "added_photos",
                                                                 "is_published": True,
                                                                 "updated_time": iso(self.posts[c["on"]]["updated"])},
                                     "post_id": c["on"], "comment_id": comment_id, "created_time": int(c["created"]),
                                     "item": "comment", "parent_id": c["parent"] or c["on"], "verb": verb}
            if verb != "remove":
                value["message"] = c["text"]
            return self.payload("facebook", "changes", {"field": "feed", "value": value})
        value = {"from": c["from"], "media": {"id": c["on"], "media_product_type": "FEED"}, "id": comment_id,
                 "text": c["text"]}
        if c["parent"]:
            value["parent_id"] = c["parent"]
        return self.payload("instagram", "changes", {"field": "comments", "value": value})

    # -- the sender -----------------------------------------------------------------------------
    async def deliver(self, platform: str, payload: dict[str, Any] | bytes, *, signature: str | None = "auto",
                      url: str | None = None) -> int:
        """POST one delivery; the receiver's HTTP status (0 when it is down or none is configured: kept undelivered)."""
        assert self._session is not None, "start() the sandbox first"
        target = url or self.webhooks.get(platform)
        body = self.body(payload)
        self.deliveries.append((platform, body))
        if not target:  # no webhook configured yet: like a receiver that is down
            self.undelivered.append((platform, body))
            return 0
        try:
            async with self._session.post(target, data=body, headers=self.headers(body, signature)) as resp:
                await resp.read()
                status = resp.status
        except (TimeoutError, aiohttp.ClientConnectionError):
            status = 0
        if status != 200:
            self.undelivered.append((platform, body))
        return status

    async def redeliver(self, count: int = 1) -> list[int]:
        """Deliver the last ``count`` deliveries again, byte for byte (Meta's retries)."""
        return [await self.deliver(platform, body) for platform, body in self.deliveries[-count:]]

    async def _send(self, platform: str, payload: dict[str, Any], deliver: bool) -> int | None:
        return await self.deliver(platform, payload) if deliver else None

    async def dm(self, platform: str, user_id: str, text: str | None = None, *, deliver: bool = True,
                 **kw: Any) -> tuple[str, int | None]:
        """A citizen sends a direct message; returns (mid, receiver's status or None when not delivered)."""
        payload = self.dm_payload(platform, user_id, text, **kw)
        mid = payload["entry"][0]["messaging"][0]["message"]["mid"]
        return mid, await self._send(platform, payload, deliver)

    async def photo(self, platform: str, user_id: str, data: bytes, mime_type: str = "image/jpeg",
                    text: str | None = None, **kw: Any) -> tuple[str, int | None]:
        """A direct message with an image attachment (served by the sandbox)."""
        attachments = [{"type": "image", "payload": {"url": self.add_file(data, mime_type)}}]
        return await self.dm(platform, user_id, text, attachments=attachments, **kw)

    async def story_mention(self, user_id: str, data: bytes, *, deliver: bool = True) -> tuple[str, int | None]:
        """An Instagram user mentions the account in their story (a DM with a ``story_mention`` attachment)."""
        attachments = [{"type": "story_mention", "payload": {"url": self.add_file(data, "image/jpeg")}}]
        return await self.dm("instagram", user_id, None, attachments=attachments, deliver=deliver)

    async def comment(self, platform: str, user_id: str, text: str, *, deliver: bool = True,
                      **kw: Any) -> tuple[str, int | None]:
        """A citizen comments; returns (comment id, receiver's status or None)."""
        payload = self.comment_payload(platform, user_id, text, **kw)
        change = payload["entry"][0]["changes"][0]["value"]
        return change.get("comment_id") or change["id"], await self._send(platform, payload, deliver)

    async def edit_comment(self, comment_id: str, text: str, *, deliver: bool = True) -> int | None:
        """The author edits a Facebook comment (``verb: edited``)."""
        c = self.comments[comment_id]
        c["text"], c["edited"] = text, self.now()
        return await self._send(c["platform"], self._comment_change(comment_id, "edited"), deliver)

    async def delete_comment(self, comment_id: str, *, deliver: bool = True) -> int | None:
        """The author deletes a Facebook comment (``verb: remove``); it leaves the Graph API."""
        payload = self._comment_change(comment_id, "remove")
        self.comments[comment_id]["deleted"] = True
        return await self._send(self.comments[comment_id]["platform"], payload, deliver)

    async def mention(self, platform: str, user_id: str, text: str, *, deliver: bool = True) -> tuple[str, int | None]:
        """A citizen @mentions the account in a comment on their own post; Meta sends only the ids."""
        author = {"id": user_id, **{k: v for k, v in self.users.get(user_id, {}).items() if k != "platform"}}
        post_id = self.post(platform, "Postingan warga", author=author)
        comment_id, _ = await self.comment(platform, user_id, text, on=post_id, deliver=False)
        if platform == "facebook":
            item = {"field": "mention", "value": {"post_id": post_id, "comment_id": comment_id, "item": "comment",
                                                  "verb": "add", "sender_id": user_id,
                                                  "sender_name": author.get("name"),
                                                  "created_time": int(self.now())}}
        else:
            item = {"field": "mentions", "value": {"media_id": post_id, "comment_id": comment_id}}
        return comment_id, await self._send(platform, self.payload(platform, "changes", item), deliver)

    async def visitor_post(self, user_id: str, text: str, *, deliver: bool = True) -> tuple[str, int | None]:
        """A citizen posts on the Page's timeline (a Facebook ``feed`` item ``status``, verb ``add``)."""
        author = {"id": user_id, **{k: v for k, v in self.users.get(user_id, {}).items() if k != "platform"}}
        post_id = self.post("facebook", text, author=author)
        self.posts[post_id]["own"] = True  # on the Page's feed
        value = {"from": author, "post_id": post_id, "message": text, "created_time": int(self.now()),
                 "item": "status", "verb": "add", "published": 1}
        return post_id, await self._send("facebook", self.payload("facebook", "changes",
                                                                  {"field": "feed", "value": value}), deliver)

    async def verify(self, url: str, verify_token: str, challenge: str = "1158201444") -> tuple[int, str]:
        """The GET handshake Meta does when a webhook is configured; returns (status, body)."""
        assert self._session is not None
        params = {"hub.mode": "subscribe", "hub.verify_token": verify_token, "hub.challenge": challenge}
        async with self._session.get(url, params=params) as resp:
            return resp.status, await resp.text()
