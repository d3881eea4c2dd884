"""``omnichannel sandbox ...``: run the chat sandboxes and drive them by hand.

    omnichannel sandbox serve                                  # Telegram on :8081, WhatsApp on :8082
    omnichannel sandbox telegram say "jalan rusak di Jl. Merdeka" --chat 42
    omnichannel sandbox telegram sent
    omnichannel sandbox whatsapp say "lampu jalan mati" --from 6281234567890 --webhook http://127.0.0.1:8080/webhooks/whatsapp/wa
    omnichannel sandbox whatsapp sent
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
from typing import Any

import aiohttp

TELEGRAM_URL = os.environ.get("OMNI_SANDBOX_TELEGRAM_URL", "http://127.0.0.1:8081")
WHATSAPP_URL = os.environ.get("OMNI_SANDBOX_WHATSAPP_URL", "http://127.0.0.1:8082")


async def _serve(args: argparse.Namespace) -> int:
    from omnichannel.sandbox.telegram import DEFAULT_TOKEN, TelegramSandbox
    from omnichannel.sandbox.whatsapp import DEFAULT_ACCESS_TOKEN, DEFAULT_APP_SECRET, WhatsAppSandbox

    telegram = TelegramSandbox(args.telegram_token or DEFAULT_TOKEN, host=args.host, port=args.telegram_port)
    whatsapp = WhatsAppSandbox(host=args.host, port=args.whatsapp_port, webhook_url=args.whatsapp_webhook,
                               access_token=args.whatsapp_token or DEFAULT_ACCESS_TOKEN,
                               app_secret=args.whatsapp_secret or DEFAULT_APP_SECRET)
    await telegram.start()
    await whatsapp.start()
    print(f"telegram sandbox: base_url {telegram.base_url}  token {telegram.token}")
    print(f"whatsapp sandbox: graph_base_url {whatsapp.base_url}  phone_number_id {whatsapp.phone_number_id}  "
          f"access token {whatsapp.access_token}  app secret {whatsapp.app_secret}")
    print("drive them with: omnichannel sandbox telegram say ... / omnichannel sandbox whatsapp say ...  (Ctrl-C stops)")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await whatsapp.stop()
        await telegram.stop()
    return 0


async def _control(method: str, url: str, body: dict[str, Any] | None = None) -> tuple[int, Any]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:
        async with session.request(method, url, json=body) as resp:
            return resp.status, await resp.json(content_type=None)


def _read(path: str | None) -> str | None:
    if not path:
        return None
    import base64
    from pathlib import Path

    return base64.b64encode(Path(path).read_bytes()).decode()


async def _telegram(args: argparse.Namespace) -> int:
    base = args.url.rstrip("/") + "/_sandbox/telegram"
    if args.action == "sent":
        status, body = await _control("GET", f"{base}/state")
        for message in body.get("sent", []):
            print(f"[{message['chat']['id']}#{message['message_id']}] {message['text']}")
        print(f"({body.get('pending', 0)} updates not yet confirmed)")
        return 0 if status == 200 else 1
    request: dict[str, Any] = {"chat_id": args.chat, "text": args.text, "first_name": args.name}
    if args.photo:
        request.update(photo_b64=_read(args.photo), caption=args.text, text=None)
    if args.reply_to:
        request["reply_to"] = args.reply_to
    status, body = await _control("POST", f"{base}/say", request)
    print(json.dumps(body, ensure_ascii=False))
    return 0 if status == 200 else 1


async def _whatsapp(args: argparse.Namespace) -> int:
    base = args.url.rstrip("/") + "/_sandbox/whatsapp"
    if args.action == "sent":
        status, body = await _control("GET", f"{base}/state")
        for message in body.get("sent", []):
            content = (message.get("text") or {}).get("body") or (message.get("template") or {}).get("name")
            print(f"[to {message['to']}] {message['type']}: {content}")
        return 0 if status == 200 else 1
    request = {"wa_id": args.sender, "text": args.text, "name": args.name, "url": args.webhook}
    status, body = await _control("POST", f"{base}/say", request)
    print(json.dumps(body, ensure_ascii=False))
    return 0 if status == 200 and body.get("status", 500) < 300 else 1


def run(args: argparse.Namespace) -> int:
    """Dispatch a parsed ``sandbox`` command."""
    target = {"serve": _serve, "telegram": _telegram, "whatsapp": _whatsapp}[args.sandbox]
    try:
        return asyncio.run(target(args))
    except aiohttp.ClientError as exc:
        print(f"omnichannel sandbox: cannot reach the sandbox ({exc}); is `omnichannel sandbox serve` running?",
              file=sys.stderr)
        return 1


def _fill(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="sandbox", required=True)
    serve = sub.add_parser("serve", help="run the Telegram and WhatsApp sandboxes until Ctrl-C")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--telegram-port", type=int, default=8081)
    serve.add_argument("--whatsapp-port", type=int, default=8082)
    serve.add_argument("--telegram-token", help="bot token the sandbox accepts")
    serve.add_argument("--whatsapp-token", help="Graph API access token the sandbox accepts")
    serve.add_argument("--whatsapp-secret", help="app secret that signs webhook deliveries")
    serve.add_argument("--whatsapp-webhook", help="where WhatsApp deliveries go (the daemon's webhook URL)")
    telegram = sub.add_parser("telegram", help="talk to a running Telegram sandbox")
    telegram.add_argument("action", choices=["say", "sent"])
    telegram.add_argument("text", nargs="?", default="")
    telegram.add_argument("--chat", type=int, default=42, help="chat id of the citizen (default 42)")
    telegram.add_argument("--name", default="Warga")
    telegram.add_argument("--photo", help="attach this image file (the text becomes its caption)")
    telegram.add_argument("--reply-to", type=int, help="message id this one replies to")
    telegram.add_argument("--url", default=TELEGRAM_URL)
    whatsapp = sub.add_parser("whatsapp", help="talk to a running WhatsApp sandbox")
    whatsapp.add_argument("action", choices=["say", "sent"])
    whatsapp.add_argument("text", nargs="?", default="")
    whatsapp.add_argument("--from", dest="sender", default="6281234567890", help="the citizen's wa_id")
    whatsapp.add_argument("--name", default="Warga")
    whatsapp.add_argument("--webhook", help="deliver to this URL (default: the sandbox's configured one)")
    whatsapp.add_argument("--url", default=WHATSAPP_URL)


def add_cli(subparsers: Any) -> None:
    """Register ``sandbox`` on the ``omnichannel`` command."""
    parser = subparsers.add_parser("sandbox", help="local Telegram/WhatsApp API stand-ins for demos and tests")
    _fill(parser)
    parser.set_defaults(func=run)


def main(argv: list[str] | None = None) -> int:
    """``omnichannel sandbox`` as a standalone entry point."""
    parser = argparse.ArgumentParser(prog="omnichannel sandbox", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    _fill(parser)
    args = parser.parse_args(argv)
    if args.sandbox in ("telegram", "whatsapp") and args.action == "say" and not args.text and not getattr(
            args, "photo", None):
        parser.error("say needs a text")
    return run(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
