"""The X API v2 sandbox speaks the wire format tweepy's AsyncClient expects (pages, errors, rate limits)."""

from __future__ import annotations

import aiohttp
import pytest
import tweepy
from tweepy.asynchronous import AsyncClient

from connectors.x.http import RedirectingSession
from omnichannel.sandbox.x import XSandbox

FIELDS = {"tweet_fields": ["created_at", "author_id", "conversation_id", "referenced_tweets", "in_reply_to_user_id"],
          "expansions": ["author_id", "referenced_tweets.id"], "user_fields": ["username"]}


class Clock:
    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def sandbox():
    sb = XSandbox(clock=Clock())
    await sb.start()
    yield sb
    await sb.stop()


@pytest.fixture
async def client(sandbox):
    c = AsyncClient(bearer_token=sandbox.bearer_token, consumer_key=sandbox.consumer_key,
                    consumer_secret=sandbox.consumer_secret, access_token=sandbox.access_token,
                    access_token_secret=sandbox.access_token_secret)
    c.session = RedirectingSession(sandbox.base_url, timeout=10)
    yield c
    await c.session.close()


async def test_mentions_pages_newest_first_with_since_id_and_includes(sandbox, client):
    first = sandbox.post_mention("jalan berlubang di RT 03", "budi")
    ids = [sandbox.post_mention(f"lampu jalan mati nomor {i}", "sari")["id"] for i in range(11)]
    page = await client.get_users_mentions(sandbox.account_id, since_id=first["id"], max_results=5, **FIELDS)
    assert [t.id for t in page.data] == [int(i) for i in reversed(ids[-5:])]
    assert page.meta["newest_id"] == ids[-1] and page.meta["oldest_id"] == ids[-5]
    assert page.meta["result_count"] == 5 and page.includes["users"][0].username == "sari"
    seen = [t.id for t in page.data]
    token = page.meta["next_token"]
    while token:
        page = await client.get_users_mentions(sandbox.account_id, since_id=first["id"], max_results=5,
                                               pagination_token=token, **FIELDS)
        seen += [t.id for t in page.data]
        token = page.meta.get("next_token")
    assert seen == [int(i) for i in reversed(ids)]  # the since_id tweet itself is excluded
    empty = await client.get_users_mentions(sandbox.account_id, since_id=ids[-1])
    assert empty.data is None and empty.meta == {"result_count": 0}


async def test_search_matches_hashtags_and_operators(sandbox, client):
    hit = sandbox.post_tweet("Banjir lagi di Jalan Merdeka #LaporWalikota", "andi")
    sandbox.post_tweet("tidak ada tagar di sini", "andi")
    rt = sandbox.post_tweet("", "cici", retweet_of=hit["id"])
    page = await client.search_recent_tweets("#laporwalikota", max_results=10)
    assert {t.id for t in page.data} == {int(hit["id"]), int(rt["id"])}
    page = await client.search_recent_tweets("#LaporWalikota -is:retweet", max_results=10)
    assert [t.id for t in page.data] == [int(hit["id"])]
    page = await client.search_recent_tweets("from:andi", max_results=10)
    assert page.meta["result_count"] == 2


async def test_search_window_and_old_since_id(sandbox, client):
    old = sandbox.post_tweet("#LaporWalikota lama", "andi", created_at=sandbox.clock() - 8 * 86400)
    new = sandbox.post_tweet("#LaporWalikota baru", "andi")
    page = await client.search_recent_tweets("#LaporWalikota", max_results=10)
    assert [t.id for t in page.data] == [int(new["id"])]
    with pytest.raises(tweepy.BadRequest) as exc:
        await client.search_recent_tweets("#LaporWalikota", since_id=old["id"], max_results=10)
    assert "since_id" in exc.value.api_messages[0]


async def test_validation_errors_have_the_real_shape(sandbox):
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{sandbox.base_url}/2/users/{sandbox.account_id}/mentions?max_results=1",
                            headers={"Authorization": f"Bearer {sandbox.bearer_token}"}) as resp:
            body = await resp.json()
            assert resp.status == 400 and resp.content_type == "application/problem+json"
        assert body["title"] == "Invalid Request" and body["type"].endswith("/invalid-request")
        assert body["errors"][0]["parameters"] == {"max_results": ["1"]}
        async with http.get(f"{sandbox.base_url}/2/tweets/search/recent?query=x") as resp:
            assert resp.status == 401
            assert await resp.json() == {"title": "Unauthorized", "detail": "Unauthorized", "type": "about:blank",
                                         "status": 401}


async def test_bearer_token_is_checked(sandbox, client):
    client.bearer_token = "wrong"
    with pytest.raises(tweepy.Unauthorized):
        await client.get_users_mentions(sandbox.account_id)


async def test_rate_limit_headers_count_down_and_429_when_exhausted(sandbox, client):
    sandbox.limits["search"] = 2
    client.return_type = aiohttp.ClientResponse
    first = await client.search_recent_tweets("x", max_results=10)
    second = await client.search_recent_tweets("x", max_results=10)
    assert first.headers["x-rate-limit-limit"] == "2"
    assert (first.headers["x-rate-limit-remaining"], second.headers["x-rate-limit-remaining"]) == ("1", "0")
    with pytest.raises(tweepy.TooManyRequests) as exc:
        await client.search_recent_tweets("x", max_results=10)
    assert exc.value.reset_time == int(second.headers["x-rate-limit-reset"])
    ok = await client.get_users_mentions(sandbox.account_id)  # another endpoint has its own window
    assert ok.headers["x-rate-limit-remaining"] == str(sandbox.limits["mentions"] - 1)
    sandbox.clock.now += 901
    again = await client.search_recent_tweets("x", max_results=10)
    assert again.status == 200


async def test_injected_storms_with_and_without_headers(sandbox, client):
    sandbox.rate_limit_storm("mentions", 1, headers=True, reset_in=120)
    sandbox.rate_limit_storm("mentions", 1, headers=False)
    with pytest.raises(tweepy.TooManyRequests) as with_headers:
        await client.get_users_mentions(sandbox.account_id)
    assert with_headers.value.reset_time == int(sandbox.clock() + 120)
    with pytest.raises(tweepy.TooManyRequests) as without:
        await client.get_users_mentions(sandbox.account_id)
    assert without.value.reset_time is None and "x-rate-limit-reset" not in without.value.response.headers
    assert (await client.get_users_mentions(sandbox.account_id)).meta == {"result_count": 0}
    sandbox.fail("mentions", 503)
    with pytest.raises(tweepy.TwitterServerError):
        await client.get_users_mentions(sandbox.account_id)


async def test_reply_needs_user_context_and_is_recorded(sandbox, client):
    mention = sandbox.post_mention("sampah menumpuk", "budi")
    with pytest.raises(tweepy.Forbidden) as app_only:
        await client.create_tweet(text="Aduan ADU-2026-000001", in_reply_to_tweet_id=mention["id"], user_auth=False)
    assert "Application-Only is forbidden" in app_only.value.api_messages[0]
    created = await client.create_tweet(text="Aduan ADU-2026-000001", in_reply_to_tweet_id=mention["id"],
                                        user_auth=True)
    assert sandbox.replies[0]["in_reply_to_tweet_id"] == mention["id"]
    assert sandbox.replies[0]["id"] == created.data["id"]
    assert sandbox.replies[0]["conversation_id"] == mention["conversation_id"]
    with pytest.raises(tweepy.Forbidden) as duplicate:
        await client.create_tweet(text="Aduan ADU-2026-000001", in_reply_to_tweet_id=mention["id"], user_auth=True)
    assert "duplicate content" in duplicate.value.api_messages[0]
    with pytest.raises(tweepy.Forbidden):
        await client.create_tweet(text="Aduan ADU-2026-000002", in_reply_to_tweet_id="42", user_auth=True)
    me = await client.get_me(user_auth=True)
    assert me.data.username == sandbox.account_username


async def test_oauth_signature_is_verified(sandbox, client):
    client.consumer_secret = "not-the-secret"
    with pytest.raises(tweepy.Unauthorized):
        await client.get_me(user_auth=True)
    assert sandbox.replies == []


async def test_user_lookup_and_not_found(sandbox, client):
    user = await client.get_user(username=sandbox.account_username)
    assert str(user.data.id) == sandbox.account_id
    missing = await client.get_user(username="tidak_ada")
    assert missing.data is None and missing.errors[0]["type"].endswith("/resource-not-found")


async def test_control_api_drives_the_sandbox(sandbox, client):
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{sandbox.base_url}/_sandbox/x/mention",
                             json={"text": "jalan rusak", "author": "budi"}) as resp:
            posted = await resp.json()
        async with http.post(f"{sandbox.base_url}/_sandbox/x/storm", json={"endpoint": "mentions", "count": 1}):
            pass
        with pytest.raises(tweepy.TooManyRequests):
            await client.get_users_mentions(sandbox.account_id)
        page = await client.get_users_mentions(sandbox.account_id)
        assert [str(t.id) for t in page.data] == [posted["id"]]
        async with http.get(f"{sandbox.base_url}/_sandbox/x/state") as resp:
            state = await resp.json()
    assert state["requests"]["mentions"] == 2 and state["tweets"] == 1
