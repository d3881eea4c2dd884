"""The Graph API half of ``MetaSandbox``: the endpoints the Facebook and Instagram connectors call.

Every call needs ``Authorization: Bearer <Page token>``; an expired token answers error 190 / 463, a
throttle answers the chosen rate-limit code with ``X-Business-Use-Case-Usage`` (minutes to regain access).
Lists are paged like Graph (``data``, ``paging.cursors``, ``paging.next``), newest first except comments
(chronological). Messaging rules: ``RESPONSE`` within 24 hours of the citizen's last message,
``MESSAGE_TAG`` + ``HUMAN_AGENT`` within 7 days when the app has the permission, else error 10 with
subcode 2018278 (Messenger) / 2534022 (Instagram); one private reply per comment within 7 days (10900
already replied, 10903 too old).
"""

from __future__ import annotations

import base64
import hmac
import json
import re
import secrets
import time
from typing import Any

from aiohttp import web

WINDOW, HUMAN_AGENT, PRIVATE_REPLY = 24 * 3600, 7 * 86400, 7 * 86400
TEXT_LIMIT = {"facebook": 2000, "instagram": 1000}
WINDOW_SUBCODE = {"facebook": 2018278, "instagram": 2534022}
_MENTIONED = re.compile(r"^mentioned_(comment|media)\.(comment_id|media_id)\((\d+)\)")


def graph_error(status: int, code: int, message: str, subcode: int | None = None, kind: str = "OAuthException",
                headers: dict[str, str] | None = None) -> web.Response:
    """A Graph API error answer."""
    error: dict[str, Any] = {"message": message, "type": kind, "code": code, "fbtrace_id": secrets.token_urlsafe(9)}
    if subcode is not None:
        error["error_subcode"] = subcode
    return web.json_response({"error": error}, status=status, headers=headers)


def _iso(at: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S+0000", time.gmtime(at))


class GraphAPI:
    """Graph routes and handlers, mixed into ``MetaSandbox`` (which holds the state)."""

    # state and helpers provided by MetaSandbox
    access_token: str
    token_expired: bool
    faults: list[dict[str, Any]]
    page_id: str
    instagram_id: str
    page_name: str
    username: str
    human_agent: bool
    subscribed_fields: list[str]
    users: dict[str, dict[str, Any]]
    threads: dict[str, dict[str, Any]]
    posts: dict[str, dict[str, Any]]
    comments: dict[str, dict[str, Any]]
    last_inbound: dict[str, float]
    private_replied: set[str]
    sent: list[dict[str, Any]]
    public: list[dict[str, Any]]
    rejected: list[dict[str, Any]]
    calls: int

    def now(self) -> float: ...  # noqa: D102
    def _n(self) -> int: ...  # noqa: D102

    def graph_routes(self, app: web.Application) -> None:
        """GET nodes and edges, POST edges, under ``/{version}/``."""
        app.router.add_get("/{version}/{node}", self._get_node)
        app.router.add_get("/{version}/{node}/{edge}", self._get_edge)
        app.router.add_post("/{version}/{node}/{edge}", self._post_edge)

    # -- access -----------------------------------------------------------------------------------
    def _refused(self, request: web.Request) -> web.Response | None:
        self.calls += 1
        given = request.headers.get("Authorization", "").encode("utf-8", "surrogateescape")
        if not hmac.compare_digest(given, f"Bearer {self.access_token}".encode()):
            return graph_error(400, 190, "Invalid OAuth access token - Cannot parse access token")
        if self.token_expired:
            return graph_error(400, 190, "Error validating access token: Session has expired on "
                               f"{time.strftime('%A, %d-%b-%y %H:%M:%S', time.gmtime(self.now() - 60))} UTC.", 463)
        for fault in self.faults:
            if fault["left"] > 0:
                fault["left"] -= 1
                usage = {self.page_id: [{"type": "pages", "call_count": 100, "total_cputime": 30, "total_time": 40,
                                         "estimated_time_to_regain_access": fault["minutes"]}]}
                self.rejected.append({"path": request.path, "error": fault["code"]})
                return graph_error(400, fault["code"], f"(#{fault['code']}) Calls to this api have exceeded the "
                                   "rate limit.", headers={"X-Business-Use-Case-Usage": json.dumps(usage)})
        self.faults = [f for f in self.faults if f["left"] > 0]
        return None

    @staticmethod
    def _missing(node: str) -> web.Response:
        return graph_error(400, 100, f"Unsupported get request. Object with ID '{node}' does not exist, cannot be "
                           "loaded due to missing permissions, or does not support this operation", 33,
                           kind="GraphMethodException")

    def _paged(self, request: web.Request, items: list[dict[str, Any]]) -> web.Response:
        limit = max(1, min(int(request.query.get("limit") or 25), 100))
        after = request.query.get("after")
        start = int(base64.urlsafe_b64decode(after).decode()) if after else 0
        page = items[start:start + limit]
        body: dict[str, Any] = {"data": page}
        if page:
            cursors = {"before": base64.urlsafe_b64encode(str(start).encode()).decode(),
                       "after": base64.urlsafe_b64encode(str(start + len(page)).encode()).decode()}
            body["paging"] = {"cursors": cursors}
            if start + len(page) < len(items):
                query = {**request.query, "after": cursors["after"]}
                body["paging"]["next"] = str(request.url.with_query(query))
        return web.json_response(body)

    # -- documents --------------------------------------------------------------------------------
    def _person(self, user_id: str) -> dict[str, Any]:
        if user_id == self.page_id:
            return {"id": user_id, "name": self.page_name}
        if user_id == self.instagram_id:
            return {"id": user_id, "username": self.username}
        return {"id": user_id, **{k: v for k, v in self.users.get(user_id, {}).items() if k != "platform"}}

    def _message_doc(self, message: dict[str, Any], user_id: str) -> dict[str, Any]:
        platform = self.users.get(user_id, {}).get("platform", "facebook")
        own = self.page_id if platform == "facebook" else self.instagram_id
        other = own if message["from"] == user_id else user_id
        doc: dict[str, Any] = {"id": message["id"], "created_time": _iso(message["created"]),
                               "from": self._person(message["from"]), "to": {"data": [self._person(other)]},
                               "message": message.get("text") or ""}
        files = [{"id": str(self._n()), "mime_type": "image/jpeg", "name": f"image-{i}.jpg",
                  "image_data": {"url": a["payload"]["url"], "width": 640, "height": 480}}
                 for i, a in enumerate(message.get("attachments") or []) if (a.get("payload") or {}).get("url")]
        if files:
            doc["attachments"] = {"data": files}
        return doc

    def _comment_doc(self, c: dict[str, Any], with_replies: bool = False) -> dict[str, Any]:
        if c["platform"] == "facebook":
            doc: dict[str, Any] = {"id": c["id"], "message": c["text"], "from": c["from"],
                                   "created_time": _iso(c["created"])}
            if c.get("parent"):
                doc["parent"] = {"id": c["parent"]}
            return doc
        doc = {"id": c["id"], "text": c["text"], "timestamp": _iso(c["created"]), "from": c["from"],
               "username": c["from"].get("username"), "media": {"id": c["on"]}}
        if c.get("parent"):
            doc["parent_id"] = c["parent"]
        if with_replies:
            replies = [self._comment_doc(r) for r in self._live() if r["parent"] == c["id"]]
            doc["replies"] = {"data": replies}
        return doc

    def _live(self) -> list[dict[str, Any]]:
        return sorted((c for c in self.comments.values() if not c.get("deleted")), key=lambda c: c["created"])

    # -- GET ----------------------------------------------------------------------------------------
    async def _get_node(self, request: web.Request) -> web.Response:
        if (refused := self._refused(request)) is not None:
            return refused
        node, fields = request.match_info["node"], request.query.get("fields", "")
        if node == self.page_id:
            return web.json_response({"id": node, "name": self.page_name})
        if node == self.instagram_id:
            match = _MENTIONED.match(fields)
            if not match:
                return web.json_response({"id": node, "username": self.username})
            what, object_id = match.group(1), match.group(3)
            if what == "comment" and object_id in self.comments:
                return web.json_response({"id": node, "mentioned_comment": self._comment_doc(self.comments[object_id])})
            if what == "media" and object_id in self.posts:
                p = self.posts[object_id]
                return web.json_response({"id": node, "mentioned_media": {
                    "id": object_id, "caption": p["message"], "timestamp": _iso(p["created"]),
                    "username": p["from"].get("username"), "media_type": "IMAGE"}})
            return self._missing(object_id)
        if node in self.comments and not self.comments[node].get("deleted"):
            return web.json_response(self._comment_doc(self.comments[node]))
        if node in self.posts:
            p = self.posts[node]
            return web.json_response({"id": node, "message": p["message"], "from": p["from"],
                                      "created_time": _iso(p["created"])})
        return self._missing(node)

    async def _get_edge(self, request: web.Request) -> web.Response:
        if (refused := self._refused(request)) is not None:
            return refused
        node, edge, q = request.match_info["node"], request.match_info["edge"], request.query
        since = float(q["since"]) if q.get("since") else None
        if node == self.page_id and edge == "subscribed_apps":
            return web.json_response({"data": [{"category": "Government Organization", "link": "https://example.go.id",
                                                "name": "Layanan Aduan Sandbox", "id": "1234567890",
                                                "subscribed_fields": self.subscribed_fields}]})
        if node == self.page_id and edge == "conversations":
            platform = "instagram" if q.get("platform") == "instagram" else "facebook"
            threads = [(max(m["created"] for m in t["messages"]), t) for user, t in self.threads.items()
                       if t["messages"] and self.users.get(user, {}).get("platform", "facebook") == platform]
            threads.sort(key=lambda x: x[0], reverse=True)
            return self._paged(request, [{"id": t["id"], "updated_time": _iso(at)} for at, t in threads])
        if edge == "messages":
            found = next(((u, t) for u, t in self.threads.items() if t["id"] == node), None)
            if found is None:
                return self._missing(node)
            user, thread = found
            docs = [self._message_doc(m, user) for m in sorted(thread["messages"], key=lambda m: m["created"],
                                                                reverse=True)]
            return self._paged(request, docs)
        if node == self.page_id and edge == "feed":
            posts = sorted((p for p in self.posts.values() if p["platform"] == "facebook" and p["own"]),
                           key=lambda p: p["created"], reverse=True)
            return self._paged(request, [{"id": p["id"], "message": p["message"], "from": p["from"],
                                          "created_time": _iso(p["created"]), "updated_time": _iso(p["updated"])}
                                         for p in posts])
        if node == self.instagram_id and edge == "media":
            media = sorted((p for p in self.posts.values() if p["platform"] == "instagram" and p["own"]),
                           key=lambda p: p["created"], reverse=True)
            counts = {m["id"]: sum(1 for c in self._live() if c["on"] == m["id"]) for m in media}
            return self._paged(request, [{"id": m["id"], "timestamp": _iso(m["created"]),
                                          "comments_count": counts[m["id"]]} for m in media])
        if edge in ("comments", "replies"):
            return self._list_comments(request, node, edge, since)
        return self._missing(f"{node}/{edge}")

    def _list_comments(self, request: web.Request, node: str, edge: str, since: float | None) -> web.Response:
        live = [c for c in self._live() if since is None or c["created"] >= since]
        if node in self.posts and self.posts[node]["platform"] == "facebook":
            stream = request.query.get("filter") == "stream"
            docs = [self._comment_doc(c) for c in live if c["on"] == node and (stream or c["parent"] is None)]
        elif node in self.posts:
            docs = [self._comment_doc(c, with_replies=True) for c in live if c["on"] == node and c["parent"] is None]
        elif node in self.comments:
            docs = [self._comment_doc(c) for c in live if c["parent"] == node]
        else:
            return self._missing(node)
        return self._paged(request, docs)

    # -- POST -------------------------------------------------------------------------------------
    async def _post_edge(self, request: web.Request) -> web.Response:
        if (refused := self._refused(request)) is not None:
            return refused
        node, edge = request.match_info["node"], request.match_info["edge"]
        try:
            body = await request.json()
            if not isinstance(body, dict):
                raise ValueError
        except ValueError:
            return graph_error(400, 100, "(#100) Invalid parameter")
        if node == self.page_id and edge == "messages":
            return self._send_message(body)
        if edge in ("comments", "replies", "mentions"):
            return self._public_reply(node, edge, body)
        return graph_error(400, 100, f"Unsupported post request. Object with ID '{node}' does not exist",
                           33, kind="GraphMethodException")

    def _refuse(self, body: dict[str, Any], status: int, code: int, message: str,
                subcode: int | None = None) -> web.Response:
        self.rejected.append({**body, "error": code, "error_subcode": subcode})
        return graph_error(status, code, message, subcode)

    def _send_message(self, body: dict[str, Any]) -> web.Response:
        recipient, message = body.get("recipient") or {}, body.get("message") or {}
        text = message.get("text")
        if not isinstance(text, str) or not text:
            return self._refuse(body, 400, 100, "(#100) The parameter message[text] is required")
        now = self.now()
        if recipient.get("comment_id") or recipient.get("post_id"):
            object_id = str(recipient.get("comment_id") or recipient.get("post_id"))
            target = self.comments.get(object_id) or self.posts.get(object_id)
            if target is None or target.get("deleted"):
                return self._refuse(body, 400, 100, "(#100) No matching comment or post found", 2018001)
            if object_id in self.private_replied:
                return self._refuse(body, 400, 10900, "(#10900) Activity already replied to")
            if now - target["created"] > PRIVATE_REPLY:
                return self._refuse(body, 400, 10903, "(#10903) This activity can't be replied to")
            user, kind = str(target["from"]["id"]), "private_reply"
            self.private_replied.add(object_id)
        else:
            user, kind = str(recipient.get("id") or ""), str(body.get("messaging_type") or "RESPONSE")
            if user not in self.users:
                return self._refuse(body, 400, 100, "(#100) No matching user found", 2018001)
            platform = self.users[user]["platform"]
            age = now - self.last_inbound.get(user, float("-inf"))
            tagged = kind == "MESSAGE_TAG" and body.get("tag") == "HUMAN_AGENT" and self.human_agent
            if not (age < WINDOW or (tagged and age < HUMAN_AGENT)):
                return self._refuse(body, 400, 10, "(#10) This message is sent outside of allowed window.",
                                    WINDOW_SUBCODE[platform])
        platform = self.users.get(user, {}).get("platform", "facebook")
        if len(text) > TEXT_LIMIT[platform]:
            return self._refuse(body, 400, 100, f"(#100) Length of param message[text] must be less than or equal "
                                f"to {TEXT_LIMIT[platform]}")
        mid = "m_" + secrets.token_urlsafe(30)
        thread = self.threads.setdefault(user, {"id": "t_" + secrets.token_hex(12), "messages": []})
        own = self.page_id if platform == "facebook" else self.instagram_id
        thread["messages"].append({"id": mid, "created": now, "from": own, "text": text, "attachments": []})
        self.sent.append({**body, "message_id": mid, "platform": platform, "to": user, "kind": kind})
        return web.json_response({"recipient_id": user, "message_id": mid})

    def _public_reply(self, node: str, edge: str, body: dict[str, Any]) -> web.Response:
        text = body.get("message")
        if not isinstance(text, str) or not text:
            return self._refuse(body, 400, 100, "(#100) The parameter message is required")
        if edge == "mentions" and node == self.instagram_id:
            node = str(body.get("comment_id") or body.get("media_id") or "")
        target = self.comments.get(node) or self.posts.get(node)
        if target is None or target.get("deleted"):
            return self._refuse(body, 400, 100, f"(#100) Object with ID '{node}' does not exist", 33)
        platform = target["platform"]
        on = target.get("on") or node
        author = ({"id": self.page_id, "name": self.page_name} if platform == "facebook"
                  else {"id": self.instagram_id, "username": self.username})
        comment_id = (f"{on.split('_')[-1]}_{300_000 + self._n()}" if platform == "facebook"
                      else f"{17_860_000_000_000_000 + self._n()}")
        parent = node if node in self.comments else None
        self.comments[comment_id] = {"id": comment_id, "platform": platform, "on": on, "parent": parent,
                                     "from": author, "text": text, "created": self.now()}
        self.public.append({"id": comment_id, "platform": platform, "object_id": node, "message": text})
        return web.json_response({"id": comment_id})
