"""A viewer who may not see personal data does not read the reporter's own name in the text either."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient
from sqlalchemy import update

from omnichannel.models import Case, Complaint, Identity
from tests.omnichannel.web.test_officer_api import COORD, PUPR, client  # noqa: F401  (the fixture)


async def name_the_reporter(store: Any) -> None:
    async with store.session() as s:
        s.add(Identity(reporter_id=1, channel="telegram", address="11", name="Siti Rahayu"))
        await s.exec(update(Complaint).where(Complaint.id == 1).values(
            text="Saya Siti Rahayu, warga RT 3: jalan rusak di depan rumah siti"))
        await s.exec(update(Case).where(Case.id == 1).values(title="Siti Rahayu: jalan rusak"))
        await s.commit()


async def test_coordinator_reads_no_reporter_name(client: TestClient, store: Any) -> None:  # noqa: F811
    await name_the_reporter(store)
    doc = await (await client.get("/api/v1/tickets/TIK-2026-000001", headers=COORD)).json()
    text = doc["complaints"][0]["text"]
    assert "Siti" not in text and "Rahayu" not in text and "siti" not in text and "[NAMA]" in text
    assert "Warga 2" not in str(doc)  # reporter 2's display name is not in a text, and stays out
    listing = await (await client.get("/api/v1/agencies/dpupr/tickets", headers=COORD)).json()
    assert "Siti" not in listing["tickets"][0]["title"]


async def test_the_owning_agency_reads_the_text_as_written(client: TestClient, store: Any) -> None:  # noqa: F811
    await name_the_reporter(store)
    doc = await (await client.get("/api/v1/tickets/TIK-2026-000001", headers=PUPR)).json()
    assert "Saya Siti Rahayu" in doc["complaints"][0]["text"]
