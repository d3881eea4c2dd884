"""The contract every connector runs. Subclass in your test module and provide the fixtures.

Pull connectors — subclass ``PullConnectorContract`` and define (function-scoped) fixtures:

- ``contract_make_connector``: an async callable ``make() -> connector`` returning a *fresh, not started*
  connector configured against your local server (use short long-poll timeouts, small batches).
- ``contract_feed``: an async callable ``feed(n)`` that makes the remote side hold ``n`` new messages,
  each a valid complaint with a distinct text.
- ``contract_channel``: the channel name stored with envelopes (e.g. ``"telegram"``).
- ``contract_secrets``: the secret strings that appear in the connector's config.

Push connectors — subclass ``PushConnectorContract`` and define:

- ``contract_make_connector`` as above;
- ``contract_request``: a callable ``request(n, signed=True) -> (method, path, headers, body_bytes)`` that
  builds the HTTP request delivering message ``n`` (correctly signed unless ``signed`` is False);
- ``contract_channel`` and ``contract_secrets`` as above.

The suites use the ``store`` fixture from ``tests/conftest.py`` and the real ingest path.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import func, select, text

from omnichannel.committer import GroupCommitter
from omnichannel.ingest import ingest_batch
from omnichannel.models import EnvelopeRow
from omnichannel.protocols import PluginContext
from omnichannel.store import Store
from omnichannel.templates import Templates
from omnichannel.types import Batch, IngestResult

NAME = "contract"


def make_context(store: Store, tmp_path: Path, channel: str) -> PluginContext:
    """A context whose ``submit`` stores through the real ingest path."""

    async def submit(batch: Batch) -> IngestResult:
        return await ingest_batch(store, NAME, channel, batch)

    async def status_lookup(ref: str, sender_id: str | None = None, **_: Any) -> dict[str, Any] | None:
        return None

    return PluginContext(name=NAME, data_dir=tmp_path, attachments_dir=tmp_path / "attachments",
                         submit=submit, status_lookup=status_lookup, templates=Templates(),
                         extra={"store": store})


def committer_context(store: Store, tmp_path: Path, channel: str) -> PluginContext:
    """A context whose ``submit`` goes through the daemon's group committer, as in production."""
    ctx = make_context(store, tmp_path, channel)
    ctx.submit = GroupCommitter(store, NAME, channel).submit
    return ctx


async def refuse_in_store(store: Store, condition: str) -> None:
    """Make SQLite itself refuse (``RAISE(ABORT)``) every envelope row matching ``condition`` that is
    not a quarantine record: a real refusal by the database, as PostgreSQL gives for NUL or NaN."""
    async with store.session() as s:
        await s.exec(text("CREATE TRIGGER contract_poison BEFORE INSERT ON envelopes "
                          f"WHEN NEW.outcome <> 'quarantined' AND ({condition}) "
                          "BEGIN SELECT RAISE(ABORT, 'refused by the contract test'); END"))
        await s.commit()


async def outcomes(store: Store) -> list[str]:
    """The outcome of every stored envelope of the contract connector, in storing order."""
    async with store.session() as s:
        q = select(EnvelopeRow.outcome).where(EnvelopeRow.connector == NAME).order_by(EnvelopeRow.id)
        return list((await s.exec(q)).scalars())


async def count_envelopes(store: Store) -> tuple[int, int]:
    """(rows, distinct external ids) stored for the contract connector."""
    async with store.session() as s:
        q = select(func.count(), func.count(func.distinct(EnvelopeRow.external_id))).where(
            EnvelopeRow.connector == NAME)
        total, distinct = (await s.exec(q)).one()
    return int(total), int(distinct)


async def drain(connector: Any, store: Store, channel: str, *, ack: bool = True, max_polls: int = 50) -> int:
    """Poll until an empty batch, storing each batch (and acking it unless ``ack`` is False)."""
    new = 0
    for _ in range(max_polls):
        batch = await connector.poll()
        if not batch.envelopes:
            if batch.checkpoint is not None:
                await ingest_batch(store, NAME, channel, batch)
            return new
        result = await ingest_batch(store, NAME, channel, batch)
        new += result.new
        if ack:
            await connector.ack(batch, result)
        else:
            return new
    raise AssertionError(f"connector still returned envelopes after {max_polls} polls")


class PullConnectorContract:
    """Replay and resume: no gaps, no duplicates; empty polls keep the checkpoint; secrets hidden."""

    async def test_resume_from_checkpoint_without_gaps_or_duplicates(self, store, tmp_path, contract_make_connector,
                                                                     contract_feed, contract_channel):
        await contract_feed(5)
        first = await contract_make_connector()
        await first.start(make_context(store, tmp_path, contract_channel), await store.load_checkpoint(NAME))
        try:
            assert await drain(first, store, contract_channel) == 5
        finally:
            await first.stop()
        await contract_feed(3)
        second = await contract_make_connector()
        await second.start(make_context(store, tmp_path, contract_channel), await store.load_checkpoint(NAME))
        try:
            assert await drain(second, store, contract_channel) == 3
        finally:
            await second.stop()
        assert await count_envelopes(store) == (8, 8)

    async def test_crash_before_ack_redelivers_and_is_absorbed(self, store, tmp_path, contract_make_connector,
                                                               contract_feed, contract_channel):
        await contract_feed(4)
        first = await contract_make_connector()
        await first.start(make_context(store, tmp_path, contract_channel), await store.load_checkpoint(NAME))
        try:
            stored = await drain(first, store, contract_channel, ack=False)  # "crash" after the commit
        finally:
            await first.stop()
        assert stored >= 1
        second = await contract_make_connector()
        await second.start(make_context(store, tmp_path, contract_channel), await store.load_checkpoint(NAME))
        try:
            await drain(second, store, contract_channel)
        finally:
            await second.stop()
        assert await count_envelopes(store) == (4, 4)

    async def test_empty_poll_keeps_the_checkpoint(self, store, tmp_path, contract_make_connector, contract_feed,
                                                   contract_channel):
        await contract_feed(2)
        connector = await contract_make_connector()
        await connector.start(make_context(store, tmp_path, contract_channel), None)
        try:
            await drain(connector, store, contract_channel)
            before = await store.load_checkpoint(NAME)
            batch = await connector.poll()
            assert batch.envelopes == []
            assert batch.checkpoint is None or batch.checkpoint == before
        finally:
            await connector.stop()

    async def test_config_dump_hides_secrets(self, contract_make_connector, contract_secrets):
        connector = await contract_make_connector()
        config = connector.config
        dumped = json.dumps(config.model_dump(mode="json")) + repr(config) + str(config)
        for secret in contract_secrets:
            assert secret and secret not in dumped


    async def test_poison_message_is_quarantined_and_the_connector_moves_on(
            self, store, tmp_path, contract_make_connector, contract_feed, contract_channel):
        await contract_feed(4)
        connector = await contract_make_connector()
        ctx = committer_context(store, tmp_path, contract_channel)
        await connector.start(ctx, None)
        try:
            polls = 0
            while polls < 50:
                polls += 1
                batch = await connector.poll()
                if polls == 1:  # the store will refuse the first message of the first batch
                    assert batch.envelopes
                    poison = batch.envelopes[0].external_id.replace("'", "''")
                    await refuse_in_store(store, f"NEW.external_id = '{poison}'")
                if not batch.envelopes:
                    break
                result = await ctx.submit(batch)  # as the runner does: store, then ack
                await connector.ack(batch, result)
        finally:
            await connector.stop()
        stored = await outcomes(store)
        assert len(stored) == 4 and stored.count("quarantined") == 1, stored
        assert await store.load_checkpoint(NAME) is not None


class PushConnectorContract:
    """Signed deliveries stored once; unsigned or tampered ones refused and not stored; secrets hidden."""

    async def _client(self, store: Store, tmp_path: Path, make: Any, channel: str) -> tuple[Any, TestClient]:
        connector = await make()
        await connector.start(make_context(store, tmp_path, channel), None)
        app = web.Application()
        app.router.add_routes(connector.routes())
        client = TestClient(TestServer(app))
        await client.start_server()
        return connector, client

    async def test_delivery_is_stored_once_even_when_repeated(self, store, tmp_path, contract_make_connector,
                                                              contract_request, contract_channel):
        connector, client = await self._client(store, tmp_path, contract_make_connector, contract_channel)
        try:
            for _ in range(3):
                method, path, headers, body = contract_request(1)
                resp = await client.request(method, path, headers=headers, data=body)
                assert resp.status < 300, await resp.text()
            method, path, headers, body = contract_request(2)
            assert (await client.request(method, path, headers=headers, data=body)).status < 300
        finally:
            await client.close()
            await connector.stop()
        assert await count_envelopes(store) == (2, 2)

    async def test_poison_delivery_is_quarantined_and_the_next_is_stored(
            self, store, tmp_path, contract_make_connector, contract_request, contract_channel):
        await refuse_in_store(store, "NOT EXISTS (SELECT 1 FROM envelopes WHERE connector = NEW.connector)")
        connector = await contract_make_connector()
        await connector.start(committer_context(store, tmp_path, contract_channel), None)
        app = web.Application()
        app.router.add_routes(connector.routes())
        client = TestClient(TestServer(app))
        await client.start_server()
        try:
            for n in (1, 2):
                method, path, headers, body = contract_request(n)
                resp = await client.request(method, path, headers=headers, data=body)
                assert resp.status < 300, await resp.text()
        finally:
            await client.close()
            await connector.stop()
        assert await outcomes(store) == ["quarantined", "complaint"]

    async def test_unsigned_delivery_is_refused_and_not_stored(self, store, tmp_path, contract_make_connector,
                                                               contract_request, contract_channel):
        connector, client = await self._client(store, tmp_path, contract_make_connector, contract_channel)
        try:
            method, path, headers, body = contract_request(1, signed=False)
            resp = await client.request(method, path, headers=headers, data=body)
            assert 400 <= resp.status < 500
        finally:
            await client.close()
            await connector.stop()
        assert await count_envelopes(store) == (0, 0)

    async def test_config_dump_hides_secrets(self, contract_make_connector, contract_secrets):
        connector = await contract_make_connector()
        config = connector.config
        dumped = json.dumps(config.model_dump(mode="json")) + repr(config) + str(config)
        for secret in contract_secrets:
            assert secret and secret not in dumped
