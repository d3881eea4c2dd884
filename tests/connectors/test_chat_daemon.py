"""Telegram and WhatsApp through the whole daemon: message in, complaint stored, acknowledgement back."""

from __future__ import annotations

from tests.connectors.chat import both_write, chat_daemon


async def test_both_chat_channels_are_acknowledged_on_the_same_chat(tmp_path):
    async with chat_daemon(tmp_path) as (tg, wa):
        await both_write(tg, wa)
    assert [m["chat"]["id"] for m in tg.sent] == [42] and "ADU-" in tg.sent[0]["text"]
    assert tg.sent[0]["reply_to_message"]["message_id"] == 1 and tg.pending == []
    assert [m["to"] for m in wa.sent] == ["6281234567890"] and "ADU-" in wa.sent[0]["text"]["body"]
