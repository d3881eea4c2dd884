"""Logs: connector and external id on every record; personal data masked above DEBUG."""

from __future__ import annotations

import io
import json
import logging

import pytest

from omnichannel.logs import log_context, setup_logging


@pytest.fixture(autouse=True)
def restore_root_logger():
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for h in list(root.handlers):
        root.removeHandler(h)
    for h in handlers:
        root.addHandler(h)
    root.setLevel(level)


SECRET_BITS = ["3173014101900001", "081234567890", "+6281234567890", "budi.santoso@example.id"]


def capture(fmt: str, level: str = "DEBUG") -> tuple[io.StringIO, logging.Logger]:
    stream = io.StringIO()
    setup_logging(level, fmt, stream=stream)
    return stream, logging.getLogger("omnichannel.test")


def test_text_logs_mask_personal_data_and_carry_context():
    stream, log = capture("text")
    with log_context(connector="wa-pemkot", external_id="wamid.ABC"):
        log.info("reply to %s failed: NIK %s, HP %s", "budi.santoso@example.id", "3173014101900001",
                 "081234567890")
        log.warning("number +6281234567890 unreachable")
    out = stream.getvalue()
    for bit in SECRET_BITS:
        assert bit not in out, out
    assert "[wa-pemkot wamid.ABC]" in out and "[EMAIL]" in out and "[NIK]" in out and "[TELEPON]" in out


def test_debug_records_keep_details_for_local_troubleshooting():
    stream, log = capture("text")
    log.debug("raw sender %s", "081234567890")
    assert "081234567890" in stream.getvalue()


def test_json_logs_are_one_object_per_line_and_masked():
    stream, log = capture("json", "INFO")
    with log_context(connector="mail", external_id="INBOX/1/7"):
        log.error("could not parse mail from budi.santoso@example.id")
        try:
            raise ValueError("bad header for 081234567890")
        except ValueError:
            log.exception("parser crashed")
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [rec["connector"] for rec in lines] == ["mail", "mail"]
    assert lines[0]["external_id"] == "INBOX/1/7"
    assert all(bit not in stream.getvalue() for bit in SECRET_BITS)
    assert "ValueError" in lines[1]["exc"]


async def test_expected_long_poll_skips_are_not_logged():
    import asyncio

    from apscheduler.schedulers.asyncio import AsyncIOScheduler

    stream, _ = capture("text", "INFO")

    async def long_poll():
        await asyncio.sleep(0.4)

    scheduler = AsyncIOScheduler(job_defaults={"max_instances": 1})
    scheduler.add_job(long_poll, "interval", seconds=0.05, id="poll:tg", name="poll:tg")
    scheduler.add_job(long_poll, "interval", seconds=0.05, id="other", name="other")
    scheduler.start()
    await asyncio.sleep(0.6)
    scheduler.shutdown(wait=False)
    await asyncio.sleep(0)
    out = stream.getvalue()
    assert "poll:tg" not in out
    assert 'job "other' in out  # other jobs' skips still show
