"""Facebook Page connector (kind ``facebook``): Messenger conversations, comments and visitor posts, mentions.

Webhook fields to subscribe (Meta app dashboard → Webhooks → Page, and ``POST /{page-id}/subscribed_apps``):
``messages``, ``message_echoes``, ``message_edits``, ``messaging_postbacks``, ``feed``, ``mention``.
"""

from __future__ import annotations

from typing import Any, ClassVar

from connectors.meta.config import FacebookConfig
from connectors.meta.connector import MetaConnector
from connectors.meta.parse import Lookup, when

COMMENT_FIELDS = "id,message,from,created_time,parent{id}"


class FacebookConnector(MetaConnector):
    """A Facebook Page: push (webhooks) with pull catch-up; answers citizens (Replier)."""

    kind: ClassVar[str] = "facebook"
    webhook_object: ClassVar[str] = "page"
    platform: ClassVar[str] = "Facebook"
    text_limit: ClassVar[int] = 2000
    required_fields: ClassVar[frozenset[str]] = frozenset({"messages", "feed"})

    def __init__(self, name: str, config: FacebookConfig) -> None:
        super().__init__(name, config)

    async def describe(self) -> str:
        """The Page's name and id, read with the token."""
        page = await self.graph.get(self.config.page_id, fields="id,name")
        return f"Facebook Page {page.get('name')} ({page.get('id')})"

    async def recent_comments(self, since: float) -> list[tuple[float, str, dict[str, Any]]]:
        """Visitor posts and comments since ``since`` on the Page's most recent posts."""
        page = self.config.page_id
        posts = await self.graph.pages(f"{page}/feed", self.config.catch_up_posts, limit=self.config.catch_up_posts,
                                       fields="id,message,from,created_time,updated_time")
        found: list[tuple[float, str, dict[str, Any]]] = []
        for post in posts:
            created = when(post.get("created_time")).timestamp()
            author = (post.get("from") or {}).get("id")
            if author and author != page and created >= since:
                found.append((created, str(post["id"]), {"changes": {"field": "feed", "value": {
                    "item": "post", "verb": "add", "post_id": post["id"], "from": post.get("from"),
                    "message": post.get("message"), "created_time": int(created)}}}))
            if when(post.get("updated_time") or post.get("created_time")).timestamp() < since:
                continue  # no comment since: a comment moves its post's updated_time
            comments = await self.graph.pages(f"{post['id']}/comments", 1000, filter="stream", order="chronological",
                                              since=int(since), fields=COMMENT_FIELDS, limit=100)
            for item in comments:
                at = when(item.get("created_time")).timestamp()
                if at < since or (item.get("from") or {}).get("id") == page:  # our own replies are not citizens'
                    continue
                value = {"item": "comment", "verb": "add", "comment_id": item["id"], "post_id": post["id"],
                         "parent_id": (item.get("parent") or {}).get("id") or post["id"], "from": item.get("from"),
                         "message": item.get("message"), "created_time": int(at)}
                found.append((at, str(item["id"]), {"changes": {"field": "feed", "value": value}}))
        return found

    async def public_reply(self, origin: dict[str, Any], text: str) -> str:
        """A comment under the comment or post, unless the Page already posted that very text there."""
        node = str(origin["object_id"])
        for item in await self.graph.pages(f"{node}/comments", 500, fields="id,message,from", limit=100):
            if (item.get("from") or {}).get("id") == self.config.page_id and item.get("message") == text:
                return str(item["id"])
        return str((await self.graph.post(f"{node}/comments", {"message": text})).get("id"))

    async def read_mention(self, lookup: Lookup) -> dict[str, Any]:
        """The post or comment that mentions the Page."""
        return await self.graph.get(str(lookup.comment_id or lookup.media_id),
                                    fields="id,message,from,created_time,permalink_url")
