"""Instagram connector (kind ``instagram``): DMs, comments on the account's media, @mentions.

Uses the Instagram API with Facebook Login: the professional account is linked to a Page, the Page token
sends messages (``POST /{page-id}/messages``) and reads conversations (``platform=instagram``).
Webhook fields to subscribe (Meta app dashboard → Webhooks → Instagram): ``messages``, ``comments``,
``live_comments``, ``mentions``, ``message_edit``; and the Page's ``subscribed_apps`` with ``messages``.
"""

from __future__ import annotations

from typing import Any, ClassVar

from connectors.meta.config import InstagramConfig
from connectors.meta.connector import MetaConnector
from connectors.meta.parse import Lookup, when

COMMENT_FIELDS = "id,text,timestamp,from,username,replies{id,text,timestamp,from,username}"


class InstagramConnector(MetaConnector):
    """An Instagram professional account: push (webhooks) with pull catch-up; answers citizens (Replier)."""

    kind: ClassVar[str] = "instagram"
    webhook_object: ClassVar[str] = "instagram"
    platform: ClassVar[str] = "Instagram"
    text_limit: ClassVar[int] = 1000
    required_fields: ClassVar[frozenset[str]] = frozenset({"messages"})

    def __init__(self, name: str, config: InstagramConfig) -> None:
        super().__init__(name, config)
        self.config: InstagramConfig = config

    @property
    def account_id(self) -> str:
        """The Instagram professional account id (``entry.id`` of Instagram deliveries)."""
        return self.config.instagram_account_id

    async def describe(self) -> str:
        """The account's username and id, read with the token."""
        account = await self.graph.get(self.account_id, fields="id,username")
        return f"Instagram @{account.get('username')} ({account.get('id')})"

    def _change(self, item: dict[str, Any], media_id: str, parent: str | None) -> tuple[float, str, dict[str, Any]]:
        at = when(item.get("timestamp")).timestamp()
        who = item.get("from") if isinstance(item.get("from"), dict) else {"username": item.get("username")}
        value: dict[str, Any] = {"id": str(item["id"]), "text": item.get("text"), "from": who,
                                 "media": {"id": media_id}, "timestamp": item.get("timestamp")}
        if parent:
            value["parent_id"] = parent
        return at, str(item["id"]), {"changes": {"field": "comments", "value": value}}

    async def recent_comments(self, since: float) -> list[tuple[float, str, dict[str, Any]]]:
        """Comments and their replies since ``since`` on the account's most recent media."""
        media = await self.graph.pages(f"{self.account_id}/media", self.config.catch_up_posts,
                                       fields="id,timestamp,comments_count", limit=self.config.catch_up_posts)
        found: list[tuple[float, str, dict[str, Any]]] = []
        for item in media:
            if not item.get("comments_count"):
                continue
            for comment in await self.graph.pages(f"{item['id']}/comments", 1000, fields=COMMENT_FIELDS, limit=50):
                found.append(self._change(comment, str(item["id"]), None))
                for reply in (comment.get("replies") or {}).get("data") or []:
                    found.append(self._change(reply, str(item["id"]), str(comment["id"])))
        own = self.account_id  # our own replies are not citizens'
        return [f for f in found if f[0] >= since and f[2]["changes"]["value"]["from"].get("id") != own]

    async def public_reply(self, origin: dict[str, Any], text: str) -> str:
        """A reply under the comment (or to the mention), unless the account already posted that very text."""
        if origin.get("type") == "mention":
            body = {"media_id": origin.get("media_id"), "message": text}
            if origin.get("comment_id"):
                body["comment_id"] = origin["comment_id"]
            return str((await self.graph.post(f"{self.account_id}/mentions", body)).get("id"))
        node = str(origin["object_id"])
        for item in await self.graph.pages(f"{node}/replies", 500, fields="id,text,from", limit=50):
            if (item.get("from") or {}).get("id") == self.account_id and item.get("text") == text:
                return str(item["id"])
        return str((await self.graph.post(f"{node}/replies", {"message": text})).get("id"))

    async def read_mention(self, lookup: Lookup) -> dict[str, Any]:
        """The comment or caption that @mentions the account (``mentioned_comment`` / ``mentioned_media``)."""
        if lookup.comment_id:
            field = f"mentioned_comment.comment_id({lookup.comment_id}){{id,text,timestamp,from,username,media{{id}}}}"
            answer = await self.graph.get(self.account_id, fields=field)
            return answer.get("mentioned_comment") or {}
        field = f"mentioned_media.media_id({lookup.media_id}){{id,caption,timestamp,username,media_type,permalink}}"
        answer = await self.graph.get(self.account_id, fields=field)
        return answer.get("mentioned_media") or {}
