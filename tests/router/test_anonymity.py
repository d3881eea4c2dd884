"""A citizen who asks for anonymity in their own words: no identity in what leaves for agencies or LAPOR!."""

from __future__ import annotations

from sqlalchemy import select

from omnichannel.models import Complaint, OutboxRow
from omnichannel.pii import anonymity_request, mask
from omnichannel.templates import Templates
from omnichannel.types import Envelope, Sender
from router.pipeline import RouterPipeline
from tests.router.test_pipeline import ingest, make_config


def test_anonymity_requests_in_informal_indonesian():
    assert anonymity_request("jalan rusak parah, nama saya mohon dirahasiakan") == (True, True)
    assert anonymity_request("lapor anonim aja ya min") == (True, False)
    assert anonymity_request("jgn sebut nama sy ya") == (True, False)
    assert anonymity_request("identitas pelapor tolong dirahasiakan") == (True, True)
    assert anonymity_request("jalan rusak di Jl. Pemuda") == (False, False)
    assert anonymity_request(None) == (False, False)


def test_names_are_masked_whole_and_by_word():
    text = "Saya Budi Santoso warga RT 3. Pak budi sudah lapor, hub 081234567890"
    assert mask(text, names=["Budi Santoso"]) == "Saya [NAMA] warga RT 3. Pak [NAMA] sudah lapor, hub [TELEPON]"
    assert mask("Bu Ani dan Anita", names=["Ani"]) == "Bu [NAMA] dan Anita"  # whole words only


async def test_anonymous_chat_complaint_leaves_without_identity(store):
    pipe = RouterPipeline(make_config(), store, Templates())
    await pipe.start()
    await ingest(store, "tg", "telegram", Envelope(
        external_id="1", raw="{}", sender=Sender(id="777", name="Budi Santoso", phone="+6281234567890"),
        text="Saya Budi Santoso, jalan berlubang besar depan SD, mohon nama saya dirahasiakan. Hub 081234567890"))
    assert await pipe.process_pending() == 1
    async with store.session() as s:
        complaint = (await s.exec(select(Complaint))).scalars().one()
        assert complaint.anonymous and complaint.confidential
        rows = (await s.exec(select(OutboxRow).where(OutboxRow.item_type == "ticket"))).scalars().all()
    assert rows
    for row in rows:
        assert row.payload["reporter"] is None and row.payload["anonymous"] is True
        masked = row.payload["text_masked"]
        assert "Budi" not in masked and "Santoso" not in masked and "081234567890" not in masked
