"""A local X API v2 server for tests and the demo: mentions, recent search, posting replies, rate limits.

Speaks the wire format tweepy's ``AsyncClient`` expects: string ids, ``data``/``includes``/``meta``,
newest-first pages with ``since_id`` and ``pagination_token``/``next_token``, the ``x-rate-limit-*``
headers per endpoint, and error bodies shaped ``{"title", "detail", "type", "status"}`` served as
``application/problem+json``. GET endpoints take the app bearer token; ``POST /2/tweets`` and
``GET /2/users/me`` need OAuth 1.0a user context, whose HMAC-SHA1 signature is verified.
"""

from __future__ import annotations

import bisect
import itertools
import json
import re
import time
from collections.abc import Callable
from typing import Any

from aiohttp import web
from oauthlib.common import Request as OAuthRequest
from oauthlib.oauth1.rfc5849 import signature as oauth_signature
from oauthlib.oauth1.rfc5849 import utils as oauth_utils

from omnichannel.sandbox.base import SandboxServer
from omnichannel.sandbox.x_query import base36, epoch, iso, query_matcher

REAL_HOST = "https://api.twitter.com"
PROBLEM = "https://api.twitter.com/2/problems/"
TWEET_FIELDS = {"id", "text", "edit_history_tweet_ids", "author_id", "created_at", "conversation_id",
                "in_reply_to_user_id", "referenced_tweets", "lang", "entities", "public_metrics", "source", "attachments"}
USER_FIELDS = {"id", "name", "username", "created_at", "description", "protected", "verified", "location"}
EXPANSIONS = {"author_id", "referenced_tweets.id", "referenced_tweets.id.author_id", "in_reply_to_user_id",
              "entities.mentions.username", "attachments.media_keys"}
MEDIA_FIELDS = {"media_key", "type", "url", "preview_image_url", "width", "height", "alt_text", "duration_ms",
                "variants"}
# (requests per 15-minute window) as in the app-level limits of the paid tiers
DEFAULT_LIMITS = {"mentions": 450, "search": 450, "tweets": 200, "users_me": 75, "users": 300}
WINDOW = 900


class _Problem(Exception):
    def __init__(self, status: int, title: str, detail: str, type_: str = "about:blank", **extra: Any) -> None:
        super().__init__(detail)
        self.status, self.body = status, {"title": title, "detail": detail, "type": type_, "status": status, **extra}


def _invalid(parameter: str, value: str, message: str) -> _Problem:
    return _Problem(400, "Invalid Request", "One or more parameters to your request was invalid.",
                    PROBLEM + "invalid-request", errors=[{"parameters": {parameter: [value]}, "message": message}])


class XSandbox(SandboxServer):
    """In-process X API v2 stand-in; ``await start()``, use ``base_url``, ``await stop()``."""

    def __init__(self, *, bearer_token: str = "sandbox-bearer", account_id: str = "1500000000000000001",
                 account_username: str = "pemkot_contoh", consumer_key: str = "sandbox-ck",
                 consumer_secret: str = "sandbox-cs", access_token: str = "sandbox-at",
                 access_token_secret: str = "sandbox-ats", limits: dict[str, int] | None = None,
                 search_window: float = 7 * 86400, clock: Callable[[], float] = time.time,
                 host: str = "127.0.0.1", port: int = 0) -> None:
        super().__init__(host, port)
        self.bearer_token, self.account_id, self.account_username = bearer_token, account_id, account_username
        self.consumer_key, self.consumer_secret = consumer_key, consumer_secret
        self.access_token, self.access_token_secret = access_token, access_token_secret
        self.limits = {**DEFAULT_LIMITS, **(limits or {})}
        self.search_window, self.clock = search_window, clock
        self.users: dict[str, dict[str, Any]] = {}
        self._usernames: dict[str, str] = {}
        self._order: list[int] = []  # tweet ids, ascending (ids grow with every post)
        self.tweets: dict[str, dict[str, Any]] = {}
        self.replies: list[dict[str, Any]] = []
        self.requests: list[tuple[str, dict[str, str]]] = []
        self._ids = itertools.count(1_800_000_000_000_000_000)
        self._user_ids = itertools.count(2_000_000_001)
        self._windows: dict[str, tuple[int, int]] = {}  # endpoint -> (window reset epoch, used)
        self._storms: dict[str, list[tuple[bool, float]]] = {}
        self._storm_after: dict[str, int] = {}
        self._failures: dict[str, list[int]] = {}
        self.media: dict[str, dict[str, Any]] = {}  # media_key -> the media object (url made at render time)
        self.media_bytes: dict[str, bytes] = {}     # what pbs.twimg.com would serve for a photo
        self._media_ids = itertools.count(1_700_000_000_000_000_000)
        self.add_user(account_username, name="Pemerintah Kota Contoh", user_id=account_id)

    # -- lifecycle (start, stop, base_url, async with: SandboxServer) ------------------------------
    def routes(self, app: web.Application) -> None:
        """The X API v2 endpoints and ``/_sandbox/x/...``."""
        from omnichannel.sandbox.x_control import x_routes

        app.router.add_get("/2/users/me", self._users_me)
        app.router.add_get(r"/2/users/{id:\d+}/mentions", self._mentions)
        app.router.add_get(r"/2/users/{id:\d+}", self._user_by_id)
        app.router.add_get("/2/users/by/username/{username}", self._user_by_username)
        app.router.add_get("/2/tweets/search/recent", self._search)
        app.router.add_post("/2/tweets", self._create_tweet)
        app.router.add_routes(x_routes(self))

    # -- test API ------------------------------------------------------------------------------
    def add_user(self, username: str, name: str | None = None, user_id: str | None = None) -> dict[str, Any]:
        """Create (or return) a user by username."""
        known = self._usernames.get(username.lower())
        if known is not None:
            return self.users[known]
        uid = user_id or str(next(self._user_ids))
        self._usernames[username.lower()] = uid
        self.users[uid] = {"id": uid, "name": name or username.replace("_", " ").title(), "username": username,
                           "created_at": iso(self.clock() - 86400 * 400), "description": "",
                           "protected": False, "verified": False}
        return self.users[uid]

    def post_tweet(self, text: str, author: str = "warga", *, in_reply_to: str | None = None,
                   quote_of: str | None = None, retweet_of: str | None = None,
                   created_at: float | None = None, auto_mentions: bool = True, photos: list[bytes] | None = None,
                   videos: int = 0) -> dict[str, Any]:
        """Publish a tweet as ``author`` (a username, created on first use), with ``photos`` (bytes served at
        the media object's ``url``) and ``videos`` (metadata only: X gives a video as stream variants)."""
        user = self.add_user(author)
        tid = str(next(self._ids))
        refs: list[dict[str, str]] = []
        tweet: dict[str, Any] = {"id": tid, "text": text, "edit_history_tweet_ids": [tid], "author_id": user["id"],
                                 "created_at": iso(created_at if created_at is not None else self.clock()),
                                 "conversation_id": tid, "lang": "in", "source": "sandbox"}
        if retweet_of is not None:
            original = self.tweets[retweet_of]
            tweet["text"] = f"RT @{self.users[original['author_id']]['username']}: {original['text']}"[:280]
            refs.append({"type": "retweeted", "id": retweet_of})
        if quote_of is not None:
            refs.append({"type": "quoted", "id": quote_of})
        if in_reply_to is not None:
            parent = self.tweets[in_reply_to]
            if auto_mentions:  # like the apps: a reply starts with the handles of the chain it answers
                handles = [f"@{self.users[parent['author_id']]['username']}", *re.findall(r"@\w+", parent["text"])]
                prefix = [h for h in dict.fromkeys(handles) if h.lower() != f"@{author}".lower()
                          and h.lower() not in text.lower()]
                tweet["text"] = " ".join([*prefix, text])
            tweet["conversation_id"] = parent["conversation_id"]
            tweet["in_reply_to_user_id"] = parent["author_id"]
            refs.append({"type": "replied_to", "id": in_reply_to})
        if refs:
            tweet["referenced_tweets"] = refs
        keys = [self._add_media("photo", content) for content in photos or []]
        keys += [self._add_media("video", None) for _ in range(videos)]
        if keys:
            tweet["attachments"] = {"media_keys": keys}
        self.tweets[tid] = tweet
        self._order.append(int(tid))
        return tweet

    def _add_media(self, kind: str, content: bytes | None) -> str:
        key = f"{3 if kind == 'photo' else 7}_{next(self._media_ids)}"
        self.media[key] = {"media_key": key, "type": kind, "width": 1200, "height": 900}
        if content is not None:
            self.media_bytes[key] = content
        else:
            self.media[key].update(duration_ms=8000, variants=[{"content_type": "application/x-mpegURL",
                                                                "url": f"/ext_tw_video/{key}/pl/playlist.m3u8"}])
        return key

    def _render_media(self, key: str, fields: set[str]) -> dict[str, Any]:
        media = dict(self.media[key])
        if media["type"] == "photo":
            media["url"] = f"{self.base_url}/_sandbox/x/media/{key}.jpg"
        else:
            media["preview_image_url"] = f"{self.base_url}/_sandbox/x/media/{key}-thumb.jpg"
        return {k: v for k, v in media.items() if k in {"media_key", "type"} | fields}

    def post_mention(self, text: str, author: str = "warga", **kw: Any) -> dict[str, Any]:
        """A tweet that mentions the account (``@account`` is prefixed unless the text has it)."""
        handle = f"@{self.account_username}"
        if handle.lower() not in text.lower():
            text = f"{handle} {text}"
        return self.post_tweet(text, author, **kw)

    def rate_limit_storm(self, endpoint: str, count: int, *, headers: bool = True, reset_in: float = 900,
                         after: int = 0) -> None:
        """After ``after`` more requests, the next ``count`` to ``endpoint`` get 429 (with or without headers)."""
        self._storms.setdefault(endpoint, []).extend([(headers, reset_in)] * count)
        self._storm_after[endpoint] = after

    def fail(self, endpoint: str, status: int, count: int = 1) -> None:
        """The next ``count`` requests to ``endpoint`` get ``status`` with a JSON problem body."""
        self._failures.setdefault(endpoint, []).extend([status] * count)

    def count(self, endpoint: str) -> int:
        """How many requests reached ``endpoint``."""
        return sum(1 for e, _ in self.requests if e == endpoint)

    # -- plumbing ------------------------------------------------------------------------------
    def _rate_headers(self, endpoint: str, consume: bool = True) -> dict[str, str]:
        now = int(self.clock())
        reset, used = self._windows.get(endpoint, (now + WINDOW, 0))
        if now >= reset:
            reset, used = now + WINDOW, 0
        if consume:
            used += 1
        self._windows[endpoint] = (reset, used)
        limit = self.limits[endpoint]
        return {"x-rate-limit-limit": str(limit), "x-rate-limit-remaining": str(max(0, limit - used)),
                "x-rate-limit-reset": str(reset)}

    def _problem(self, exc: _Problem, headers: dict[str, str] | None = None) -> web.Response:
        return web.Response(status=exc.status, text=json.dumps(exc.body), headers=headers,
                            content_type="application/problem+json")

    async def _serve(self, request: web.Request, endpoint: str, user_context: bool,
                     handler: Callable[[dict[str, str]], Any]) -> web.Response:
        self.requests.append((endpoint, dict(request.query)))
        storm = self._storms.get(endpoint)
        if storm and self._storm_after.get(endpoint, 0) > 0:
            self._storm_after[endpoint] -= 1
        elif storm:
            with_headers, reset_in = storm.pop(0)
            headers = None
            if with_headers:
                headers = {"x-rate-limit-limit": str(self.limits[endpoint]), "x-rate-limit-remaining": "0",
                           "x-rate-limit-reset": str(int(self.clock() + reset_in))}
            return self._problem(_Problem(429, "Too Many Requests", "Too Many Requests"), headers)
        try:
            auth = self._authenticate(request)
            if user_context and auth != "user":
                raise _Problem(403, "Unsupported Authentication",
                               "Authenticating with OAuth 2.0 Application-Only is forbidden for this endpoint.  "
                               "Supported authentication types are [OAuth 1.0a User Context, "
                               "OAuth 2.0 User Context].", PROBLEM + "unsupported-authentication")
        except _Problem as exc:
            return self._problem(exc)
        failures = self._failures.get(endpoint)
        if failures:
            status = failures.pop(0)
            title = {500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable"}.get(status, "Error")
            return self._problem(_Problem(status, title, title))
        headers = self._rate_headers(endpoint)
        if int(headers["x-rate-limit-remaining"]) == 0 and self._windows[endpoint][1] > self.limits[endpoint]:
            return self._problem(_Problem(429, "Too Many Requests", "Too Many Requests"), headers)
        try:
            status, body = await handler(dict(request.query))
        except _Problem as exc:
            return self._problem(exc, headers)
        return web.json_response(body, status=status, headers=headers)

    def _authenticate(self, request: web.Request) -> str:
        given = request.headers.get("Authorization", "")
        unauthorized = _Problem(401, "Unauthorized", "Unauthorized")
        if given.startswith("Bearer "):
            if given[7:] != self.bearer_token:
                raise unauthorized
            return "app"
        if not given.startswith("OAuth "):
            raise unauthorized
        oauth = {k: oauth_utils.unescape(v) for k, v in oauth_utils.parse_authorization_header(given)}
        if oauth.get("oauth_consumer_key") != self.consumer_key or oauth.get("oauth_token") != self.access_token:
            raise unauthorized
        query = request.raw_path.partition("?")[2]
        for origin in (REAL_HOST, self.base_url):  # a client may sign the real host and be redirected here
            uri = origin + request.raw_path
            signed = OAuthRequest(uri, request.method, headers={"Authorization": given})
            signed.params = oauth_signature.collect_parameters(uri_query=query, headers={"Authorization": given},
                                                               exclude_oauth_signature=True)
            signed.signature = oauth.get("oauth_signature", "")
            if oauth_signature.verify_hmac_sha1(signed, self.consumer_secret, self.access_token_secret):
                return "user"
        raise unauthorized

    @staticmethod
    def _fields(query: dict[str, str], name: str, allowed: set[str]) -> set[str]:
        values = {v for v in query.get(name, "").split(",") if v}
        for value in values - allowed:
            raise _invalid(name, value, f"The `{name}` query parameter value [{value}] is not one of "
                                        f"[{','.join(sorted(allowed))}]")
        return values

    def _render_user(self, user: dict[str, Any], fields: set[str]) -> dict[str, Any]:
        return {k: v for k, v in user.items() if k in {"id", "name", "username"} | fields}

    def _render_tweet(self, tweet: dict[str, Any], fields: set[str]) -> dict[str, Any]:
        return {k: v for k, v in tweet.items() if k in {"id", "text", "edit_history_tweet_ids"} | fields}

    def _page(self, wanted: Callable[[dict[str, Any]], bool], query: dict[str, str], token_param: str,
              bounds: tuple[int, int]) -> tuple[int, dict[str, Any]]:
        tweet_fields = self._fields(query, "tweet.fields", TWEET_FIELDS)
        user_fields = self._fields(query, "user.fields", USER_FIELDS)
        expansions = self._fields(query, "expansions", EXPANSIONS)
        media_fields = self._fields(query, "media.fields", MEDIA_FIELDS)
        max_results = query.get("max_results", "10")
        if not max_results.isdigit() or not bounds[0] <= int(max_results) <= bounds[1]:
            raise _invalid("max_results", max_results, f"The `max_results` query parameter value [{max_results}] "
                                                        f"is not between {bounds[0]} and {bounds[1]}")
        since = query.get("since_id")
        if since is not None and not since.isdigit():
            raise _invalid("since_id", since, f"The `since_id` query parameter value [{since}] is not valid")
        until: int | None = None
        token = query.get(token_param)
        if token is not None:
            if not re.fullmatch(r"sbx[0-9a-z]+", token):
                raise _invalid(token_param, token, f"The `{token_param}` query parameter value [{token}] is not valid")
            until = int(token[3:], 36)
        if "until_id" in query and query["until_id"].isdigit():
            until = min(until or 1 << 64, int(query["until_id"]))
        rows: list[dict[str, Any]] = []
        start = bisect.bisect_left(self._order, until) if until is not None else len(self._order)
        for index in range(start - 1, -1, -1):  # newest first
            tid = self._order[index]
            if (since is not None and tid <= int(since)) or len(rows) > int(max_results):
                break
            tweet = self.tweets[str(tid)]
            if wanted(tweet):
                rows.append(tweet)
        page, more = rows[:int(max_results)], len(rows) > int(max_results)
        if not page:
            return 200, {"meta": {"result_count": 0}}
        body: dict[str, Any] = {"data": [self._render_tweet(t, tweet_fields) for t in page]}
        users: dict[str, dict[str, Any]] = {}
        refs: dict[str, dict[str, Any]] = {}
        for tweet in page:
            if "author_id" in expansions:
                users[tweet["author_id"]] = self.users[tweet["author_id"]]
            if "in_reply_to_user_id" in expansions and tweet.get("in_reply_to_user_id") in self.users:
                users[tweet["in_reply_to_user_id"]] = self.users[tweet["in_reply_to_user_id"]]
            for ref in tweet.get("referenced_tweets", []):
                if "referenced_tweets.id" in expansions and ref["id"] in self.tweets:
                    refs[ref["id"]] = self.tweets[ref["id"]]
                    if "referenced_tweets.id.author_id" in expansions:
                        author = refs[ref["id"]]["author_id"]
                        users[author] = self.users[author]
        includes: dict[str, Any] = {}
        if "attachments.media_keys" in expansions:
            keys = [k for t in page for k in (t.get("attachments") or {}).get("media_keys", []) if k in self.media]
            if keys:
                includes["media"] = [self._render_media(k, media_fields) for k in keys]
        if users:
            includes["users"] = [self._render_user(u, user_fields) for u in users.values()]
        if refs:
            includes["tweets"] = [self._render_tweet(t, tweet_fields) for t in refs.values()]
        if includes:
            body["includes"] = includes
        meta = {"result_count": len(page), "newest_id": page[0]["id"], "oldest_id": page[-1]["id"]}
        if more:
            meta["next_token"] = "sbx" + base36(int(page[-1]["id"]))
        body["meta"] = meta
        return 200, body

    # -- endpoints -----------------------------------------------------------------------------
    async def _mentions(self, request: web.Request) -> web.Response:
        uid = request.match_info["id"]

        async def handle(query: dict[str, str]) -> tuple[int, dict[str, Any]]:
            if uid not in self.users:
                return 200, {"errors": [_not_found("user", "id", uid, f"Could not find user with id: [{uid}].")]}
            handle_re = re.compile(rf"(?<![\w@])@{re.escape(self.users[uid]['username'])}\b", re.IGNORECASE)
            return self._page(lambda t: bool(handle_re.search(t["text"]) or (t.get("in_reply_to_user_id") == uid
                                                                             and t["author_id"] != uid)),
                              query, "pagination_token", (5, 100))

        return await self._serve(request, "mentions", False, handle)

    async def _search(self, request: web.Request) -> web.Response:
        async def handle(query: dict[str, str]) -> tuple[int, dict[str, Any]]:
            text = query.get("query", "").strip()
            if not text:
                raise _invalid("query", "", "The `query` query parameter can not be empty")
            oldest = self.clock() - self.search_window
            since = query.get("since_id")
            if since in self.tweets and epoch(self.tweets[since]["created_at"]) < oldest:
                raise _invalid("since_id", since, f"Invalid 'since_id':'{since}'. 'since_id' must be a tweet id "
                                                  f"created after {iso(oldest)}.")
            match = query_matcher(text, self.users)
            return self._page(lambda t: epoch(t["created_at"]) >= oldest and match(t), query, "next_token", (10, 100))

        return await self._serve(request, "search", False, handle)

    async def _users_me(self, request: web.Request) -> web.Response:
        async def handle(query: dict[str, str]) -> tuple[int, dict[str, Any]]:
            return 200, {"data": self._render_user(self.users[self.account_id], set())}

        return await self._serve(request, "users_me", True, handle)

    async def _user_by_id(self, request: web.Request) -> web.Response:
        uid = request.match_info["id"]

        async def handle(query: dict[str, str]) -> tuple[int, dict[str, Any]]:
            if uid not in self.users:
                return 200, {"errors": [_not_found("user", "id", uid, f"Could not find user with id: [{uid}].")]}
            return 200, {"data": self._render_user(self.users[uid], self._fields(query, "user.fields", USER_FIELDS))}

        return await self._serve(request, "users", False, handle)

    async def _user_by_username(self, request: web.Request) -> web.Response:
        name = request.match_info["username"]

        async def handle(query: dict[str, str]) -> tuple[int, dict[str, Any]]:
            user = self.users.get(self._usernames.get(name.lower(), ""))
            if user is None:
                return 200, {"errors": [_not_found("user", "username", name,
                                                   f"Could not find user with username: [{name}].")]}
            return 200, {"data": self._render_user(user, self._fields(query, "user.fields", USER_FIELDS))}

        return await self._serve(request, "users", False, handle)

    async def _create_tweet(self, request: web.Request) -> web.Response:
        async def handle(query: dict[str, str]) -> tuple[int, dict[str, Any]]:
            try:
                body = await request.json()
            except (json.JSONDecodeError, UnicodeDecodeError):
                raise _Problem(400, "Invalid Request", "The request body is not valid JSON.",
                               PROBLEM + "invalid-request") from None
            text = body.get("text") if isinstance(body, dict) else None
            if not isinstance(text, str) or not text.strip():
                raise _invalid("text", "", "The `text` field is required when no media or poll is given")
            if len(text) > 280:
                raise _Problem(403, "Forbidden", "Your Tweet text is too long. For more information on how X "
                                                 "determines text length see https://github.com/twitter/twitter-text.")
            parent = (body.get("reply") or {}).get("in_reply_to_tweet_id")
            if parent is not None and str(parent) not in self.tweets:
                raise _Problem(403, "Forbidden",
                               "You attempted to reply to a Tweet that is deleted or not visible to you.")
            if any(t["author_id"] == self.account_id and t["text"] == text for t in self.tweets.values()):
                raise _Problem(403, "Forbidden", "You are not allowed to create a Tweet with duplicate content.")
            tweet = self.post_tweet(text, self.account_username, in_reply_to=str(parent) if parent else None,
                                    auto_mentions=False)
            self.replies.append({**tweet, "in_reply_to_tweet_id": str(parent) if parent else None})
            return 201, {"data": {"id": tweet["id"], "text": text, "edit_history_tweet_ids": [tweet["id"]]}}

        return await self._serve(request, "tweets", True, handle)


def _not_found(resource: str, parameter: str, value: str, detail: str) -> dict[str, Any]:
    return {"value": value, "detail": detail, "title": "Not Found Error", "resource_type": resource,
            "parameter": parameter, "resource_id": value, "type": PROBLEM + "resource-not-found"}
