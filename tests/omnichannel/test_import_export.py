"""Import backlogs through the ingest path; export one record per envelope."""

from __future__ import annotations

import csv
import io
import json

from omnichannel.cli import main
from omnichannel.store import Store
from omnichannel.transfer import export, import_file

CHANNELS = ["whatsapp", "telegram", "email", "webform", "sms"]


def write_backlog(path, n: int, bad: int = 0) -> None:
    with path.open("w", encoding="utf-8") as fh:
        for i in range(n):
            rec = {"channel": CHANNELS[i % len(CHANNELS)], "external_id": f"row-{i}",
                   "sender": {"id": f"citizen-{i % 700}", "phone": f"+62812{i % 700:07d}"},
                   "received_at": f"2026-03-{1 + i % 28:02d}T08:00:00+07:00",
                   "text": f"Aduan nomor {i}: saluran air mampet di RT {i % 20} RW {i % 7}"}
            fh.write(json.dumps(rec) + "\n")
        for j in range(bad):
            fh.write(f"{{not json at all {j}\n" if j % 2 else json.dumps({"channel": "sms", "text": f"tanpa {j}"}) + "\n")


async def test_import_10k_counts_and_reimport_adds_nothing(tmp_path, any_store):
    path = tmp_path / "backlog.jsonl"
    write_backlog(path, 10_000, bad=4)
    first = await import_file(any_store, path)
    assert first["records"] == 10_004
    assert first["new"] == 10_004 and first["duplicate"] == 0
    assert first["quarantined"] == 4
    assert first["complaint"] + first["follow_up"] + first["skipped"] == 10_000
    again = await import_file(any_store, path)
    assert again["new"] == 0 and again["duplicate"] == 10_004


async def test_csv_import_and_export_formats(tmp_path):
    store = Store(f"sqlite+aiosqlite:///{tmp_path}/s.db")
    await store.open()
    path = tmp_path / "backlog.csv"
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["channel", "external_id", "sender.id", "sender.email", "received_at", "subject", "text"])
        w.writerow(["email", "m1", "warga@example.id", "warga@example.id", "2026-01-05T10:00:00Z", "Sampah",
                    "Sampah tidak diangkut seminggu di Jl. Kenanga"])
        w.writerow(["email", "m2", "", "", "2026-01-05T10:00:00Z", "", "tanpa pengirim"])
    tally = await import_file(store, path)
    assert tally["complaint"] == 1 and tally["quarantined"] == 1
    out = io.StringIO()
    assert await export(store, out, "jsonl") == 2
    rows = [json.loads(line) for line in out.getvalue().splitlines()]
    assert {r["outcome"] for r in rows} == {"complaint", "quarantined"}
    assert all({"external_id", "channel", "complaint", "kind", "agency", "case", "duplicate_of", "dedup",
                "similarity", "location", "confidence", "explanation", "status", "sla_due"} <= set(r) for r in rows)
    out = io.StringIO()
    await export(store, out, "csv")
    assert out.getvalue().splitlines()[0].startswith("external_id,")
    await store.close()


def test_cli_import_prints_summary(tmp_path, capsys):
    path = tmp_path / "backlog.jsonl"
    write_backlog(path, 20, bad=1)
    config = tmp_path / "config.yaml"
    config.write_text(f"data_dir: {tmp_path}/data\nconnectors: []\nlogging: {{level: WARNING}}\n")
    assert main(["-c", str(config), "import", str(path)]) == 0
    out = capsys.readouterr().out
    assert "imported 21 records: 21 new" in out and "1 quarantined" in out and "0 duplicate" in out
    assert main(["-c", str(config), "import", str(path)]) == 0
    assert "0 new" in capsys.readouterr().out
    assert main(["-c", str(config), "quarantine", "list"]) == 0
    assert "1 quarantined" in capsys.readouterr().out
    assert main(["-c", str(config), "export", "-o", str(tmp_path / "out.jsonl")]) == 0
    assert len((tmp_path / "out.jsonl").read_text().splitlines()) == 21


async def test_import_routes_in_received_at_order_across_channels(tmp_path):
    """A file grouped by channel (all email, then all WhatsApp) is stored and routed in time order."""
    from sqlalchemy import select

    from omnichannel.config import parse_config
    from omnichannel.models import Complaint, EnvelopeRow
    from router.pipeline import RouterPipeline

    store = Store(f"sqlite+aiosqlite:///{tmp_path}/s.db")
    await store.open()
    path = tmp_path / "grouped.jsonl"
    times = {"email": [1, 4, 5], "whatsapp": [2, 3, 6], "telegram": [0, 7]}
    with path.open("w", encoding="utf-8") as fh:
        for channel, hours in times.items():
            for hour in hours:
                fh.write(json.dumps({"channel": channel, "external_id": f"{channel}-{hour}",
                                     "sender": {"id": f"{channel}-citizen-{hour}"},
                                     "received_at": f"2026-03-02T{8 + hour:02d}:00:00+07:00",
                                     "text": f"Jalan rusak berlubang di RT {hour} dekat pasar"}) + "\n")
        fh.write("{broken\n")
    config = parse_config("connectors: []\n", env={})
    pipeline = RouterPipeline(config, store, None)
    tally = await import_file(store, path, pipeline, batch_size=3)
    assert tally["records"] == 9 and tally["complaint"] == 8 and tally["quarantined"] == 1
    async with store.session() as session:
        rows = (await session.exec(select(Complaint.id, Complaint.status, EnvelopeRow.received_at, EnvelopeRow.channel)
                                   .join(EnvelopeRow, EnvelopeRow.id == Complaint.envelope_id)
                                   .order_by(Complaint.id))).all()
    stamps = [received for _, _, received, _ in rows]
    assert stamps == sorted(stamps)
    assert [channel for *_, channel in rows][:3] == ["telegram", "email", "whatsapp"]
    assert all(status != "received" for _, status, _, _ in rows)  # every one routed
    await store.close()


async def test_the_record_format_in_import_help_imports_as_it_says(tmp_path):
    """The JSON Lines example and the CSV header of `import --help` are what import reads."""
    from omnichannel.cli import IMPORT_FORMAT

    lines = IMPORT_FORMAT.splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip().startswith('{"channel"'))
    record = json.loads(lines[start].strip() + " " + lines[start + 1].strip())
    header = next(line.strip() for line in lines if line.strip().startswith("channel,sender.id"))
    jsonl, table = tmp_path / "help.jsonl", tmp_path / "help.csv"
    jsonl.write_text(json.dumps(record) + "\n")
    with table.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header.split(","))
        w.writerow(["telegram", "777", "Budi", "Sampah menumpuk di TPS", "2026-03-02T09:00:00+07:00", "tg-1"])
    store = Store(f"sqlite+aiosqlite:///{tmp_path}/s.db")
    await store.open()
    try:
        for path in (jsonl, table):
            tally = await import_file(store, path)
            assert tally["new"] == 1 and tally["quarantined"] == 0, (path.name, tally)
        again = await import_file(store, jsonl)
        assert again["duplicate"] == 1  # external_id given: the same message again
    finally:
        await store.close()
