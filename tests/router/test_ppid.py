"""Information requests (UU 14/2008): to the PPID pelaksana of the agency the text is about, else the PPID
utama; the information SLA clock either way."""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import select

from omnichannel.config import AgencyConfig, Config
from omnichannel.models import Complaint, Ticket
from omnichannel.sla import SlaConfig, WorkingCalendar
from omnichannel.store import Store
from omnichannel.transfer import import_file
from router.config import KindRules, RoutingConfig, RuleSet
from router.pipeline import RouterPipeline

ROUTING = RoutingConfig(
    agencies={"pdam": RuleSet(words={"pdam": 3, "pipa": 2}, phrases={"tagihan air": 3}),
              "diskominfo": RuleSet(words={"ppid": 3, "website": 2}, phrases={"informasi publik": 3})},
    kinds=KindRules(rules={"informasi": RuleSet(words={"berapa": 2, "tanya": 2}, phrases={"informasi publik": 3,
                                                                                          "mohon salinan": 2})}),
)


async def test_information_requests_go_to_the_holder_or_the_ppid_utama_with_the_information_sla(tmp_path):
    config = Config(agencies=[AgencyConfig(code=c, name=n, remit=r) for c, n, r in [
        ("triage", "Koordinator", ""),
        ("pdam", "Perumda Air Minum", "Pelayanan air minum: sambungan, pipa, meteran dan tagihan rekening air."),
        ("diskominfo", "Diskominfo (PPID Utama)", "PPID utama: informasi publik Pemkot, APBD, situs web.")]],
        routing=ROUTING, sla=SlaConfig(deadlines={"pengaduan": 5, "informasi": 10}))
    store = Store(f"sqlite+aiosqlite:///{tmp_path}/s.db")
    await store.open()
    backlog = tmp_path / "in.jsonl"
    texts = {"holder": "min mau tanya berapa tagihan air pdam untuk rumah tangga sekarang?",
             "utama": "Dengan hormat, mohon salinan informasi publik berupa LKPJ Wali Kota tahun 2025."}
    with backlog.open("w", encoding="utf-8") as fh:
        for key, text in texts.items():
            fh.write(json.dumps({"channel": "webform", "external_id": key, "sender": {"id": f"w-{key}"},
                                 "received_at": "2026-03-02T09:00:00+07:00", "text": text}) + "\n")
    pipeline = RouterPipeline(config, store, None)
    await import_file(store, backlog, pipeline)
    async with store.session() as session:
        rows = (await session.exec(select(Complaint, Ticket).join(Ticket, Ticket.case_id == Complaint.case_id)
                                   .order_by(Complaint.id))).all()
    assert [(c.kind, c.agency, t.agency) for c, t in rows] == [("informasi", "pdam", "pdam"),
                                                               ("informasi", "diskominfo", "diskominfo")]
    assert [c.explanation["agency"]["chosen_by"] for c, _ in rows] == ["ppid_pelaksana", "ppid_utama"]
    due = WorkingCalendar(config.sla).deadline("informasi", datetime.fromisoformat("2026-03-02T09:00:00+07:00"))
    for _, ticket in rows:
        got = ticket.sla_due if ticket.sla_due.tzinfo else ticket.sla_due.replace(tzinfo=due.tzinfo)
        assert got.date() == due.astimezone(got.tzinfo).date()
    await store.close()
