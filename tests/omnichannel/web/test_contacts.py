"""Reporter contacts on the ticket, per role: the owning agency's officer reads name, phone, email and handle to
call back; a coordinator with a personal account reads them too; a machine coordinator token and a PPID of
every agency read them masked (and names in the texts masked); an officer of another agency cannot open the
ticket at all; a reporter who asked for anonymity is masked for everybody."""

from __future__ import annotations

import json
from typing import Any

from omnichannel.models import Complaint, EnvelopeRow, Identity
from omnichannel.web.contacts import mask_value
from tests.omnichannel.web.test_desk_api import desk, login  # noqa: F401 (the fixture)
from tests.omnichannel.web.test_officer_api import COORD

TG_RAW = {"update_id": 7, "message": {"message_id": 5, "chat": {"id": 11},
                                      "from": {"id": 11, "first_name": "Warga", "username": "warga_satu"},
                                      "text": "Jalan rusak"}}


async def add_contacts(store: Any) -> None:
    async with store.session() as s:
        for rid, channel, address in ((1, "telegram", "11"), (1, "phone", "+6281234567890"),
                                      (1, "email", "warga.satu@contoh.id"), (2, "x", "99"), (3, "webform", "s1"),
                                      (2, "whatsapp", "6289912345678")):
            s.add(Identity(reporter_id=rid, channel=channel, address=address, name=f"Warga {rid}"))
        env = await s.get(EnvelopeRow, 1)
        env.raw = json.dumps(TG_RAW).encode()
        s.add(env)
        c3 = await s.get(Complaint, 3)
        c3.anonymous = True  # "identitas saya mohon dirahasiakan"
        c3.text = "Jalan berlubang, saya Warga 3, identitas saya mohon dirahasiakan"
        s.add(c3)
        await s.commit()


def by_ref(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["ref"]: c for c in doc["complaints"]}


async def ticket_as(server: Any, who: str | None) -> tuple[int, dict[str, Any]]:
    if who is None:  # the machine coordinator token
        from tests.omnichannel.web.test_desk_api import Client

        client: Any = Client(server)
        resp = await client.get("/api/v1/tickets/TIK-2026-000001", headers=COORD)
    else:
        client, _ = await login(server, who)
        resp = await client.get("/api/v1/tickets/TIK-2026-000001")
    try:
        return resp.status, (await resp.json())
    finally:
        await client.close()


async def test_the_owning_agency_reads_contacts_to_call_back(desk) -> None:  # noqa: F811
    server, store = desk
    await add_contacts(store)
    status, doc = await ticket_as(server, "ani")
    assert status == 200 and doc["personal_data"] == "full"
    c = by_ref(doc)
    first = c["ADU-2026-000001"]["reporter"]
    assert first["name"] == "Warga 1" and not first["masked"]
    assert {(k["kind"], k["value"]) for k in first["contacts"]} == {
        ("telegram", "11"), ("telepon", "+6281234567890"), ("email", "warga.satu@contoh.id"),
        ("telegram", "@warga_satu")}
    second = c["ADU-2026-000002"]["reporter"]
    assert ("whatsapp", "+6289912345678") in {(k["kind"], k["value"]) for k in second["contacts"]}
    anonymous = c["ADU-2026-000003"]["reporter"]
    assert anonymous["masked"] and anonymous["name"] == "W**** 3" and anonymous["contacts"] == []  # webform: none
    assert "Warga 3" not in c["ADU-2026-000003"]["text"]


async def test_a_coordinator_person_reads_them_a_token_or_a_ppid_reads_them_masked(desk) -> None:  # noqa: F811
    server, store = desk
    await add_contacts(store)
    _, kora = await ticket_as(server, "kora")
    assert kora["personal_data"] == "full"
    assert "+6281234567890" in json.dumps(kora)
    _, token = await ticket_as(server, None)
    assert token["personal_data"] == "masked"
    first = by_ref(token)["ADU-2026-000001"]["reporter"]
    assert first["masked"] and first["name"] == "W**** 1"
    values = {k["value"] for k in first["contacts"]}
    assert values == {"***********890", "***", "w***@contoh.id", "@w***"}
    dump = json.dumps(token)
    for secret in ("6281234567890", "warga.satu", "warga_satu", "Warga 1", "6289912345678", "081234567890"):
        assert secret not in dump, secret
    status, _ = await ticket_as(server, "budi")  # dinkes: not their ticket, not even its existence
    assert status == 404


async def test_a_ppid_of_every_agency_reads_an_information_request_masked(desk) -> None:  # noqa: F811
    server, store = desk
    async with store.session() as s:
        s.add(Identity(reporter_id=2, channel="phone", address="+6285700001111", name="Warga 2"))
        await s.commit()
    client, _ = await login(server, "dewi")
    try:
        doc = await (await client.get("/api/v1/tickets/TIK-2026-000003")).json()
    finally:
        await client.close()
    reporter = doc["complaints"][0]["reporter"]
    assert doc["personal_data"] == "masked" and reporter["masked"] and "+6285700001111" not in json.dumps(doc)
    client, _ = await login(server, "budi")  # dinkes owns it: full
    try:
        doc = await (await client.get("/api/v1/tickets/TIK-2026-000003")).json()
    finally:
        await client.close()
    assert doc["complaints"][0]["reporter"]["contacts"] == [{"kind": "telepon", "value": "+6285700001111"}]


def test_masks_keep_just_enough_to_recognise() -> None:
    assert mask_value("telepon", "+6281234567890") == "***********890"
    assert mask_value("email", "budi@contoh.id") == "b***@contoh.id"
    assert mask_value("telegram", "@budi_s") == "@b***"
    assert mask_value("telepon", "12") == "***"
