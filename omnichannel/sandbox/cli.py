"""``omnichannel sandbox ...``: run the sandboxes and drive them by hand.

    omnichannel sandbox serve          # Telegram :8081, WhatsApp :8082, LAPOR! :8083, X :8084, Meta :8085
    omnichannel sandbox telegram say "jalan rusak di Jl. Merdeka" --chat 42
    omnichannel sandbox telegram sent
    omnichannel sandbox whatsapp say "lampu jalan mati" --from 6281234567890 --webhook http://127.0.0.1:8080/webhooks/whatsapp/wa
    omnichannel sandbox whatsapp sent
    omnichannel sandbox meta dm "jalan rusak di Jl. Pemuda" --platform facebook --name Budi
    omnichannel sandbox meta comment "sampah menumpuk" --platform instagram --name rina_smg
    omnichannel sandbox meta sent
    omnichannel sandbox x mention "@pemkot_contoh sampah menumpuk di pasar" --author warga_bdg
    omnichannel sandbox x replies
    omnichannel sandbox lapor reports
    omnichannel sandbox lapor advance --days 3
    omnichannel sandbox lapor force 4107001 ditindaklanjuti --text "Sudah kami perbaiki."
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import Callable
from typing import Any

import aiohttp

TELEGRAM_URL = os.environ.get("OMNI_SANDBOX_TELEGRAM_URL", "http://127.0.0.1:8081")
WHATSAPP_URL = os.environ.get("OMNI_SANDBOX_WHATSAPP_URL", "http://127.0.0.1:8082")
LAPOR_URL = os.environ.get("OMNI_SANDBOX_LAPOR_URL", "http://127.0.0.1:8083")
X_URL = os.environ.get("OMNI_SANDBOX_X_URL", "http://127.0.0.1:8084")
META_URL = os.environ.get("OMNI_SANDBOX_META_URL", "http://127.0.0.1:8085")


async def _serve(args: argparse.Namespace) -> int:
    from omnichannel.sandbox.base import serve_until_signal
    from omnichannel.sandbox.lapor import LaporSandbox
    from omnichannel.sandbox.meta import MetaSandbox
    from omnichannel.sandbox.telegram import DEFAULT_TOKEN, TelegramSandbox
    from omnichannel.sandbox.whatsapp import DEFAULT_ACCESS_TOKEN, DEFAULT_APP_SECRET, WhatsAppSandbox
    from omnichannel.sandbox.x import XSandbox

    telegram = TelegramSandbox(args.telegram_token or DEFAULT_TOKEN, host=args.host, port=args.telegram_port)
    whatsapp = WhatsAppSandbox(host=args.host, port=args.whatsapp_port, webhook_url=args.whatsapp_webhook,
                               access_token=args.whatsapp_token or DEFAULT_ACCESS_TOKEN,
                               app_secret=args.whatsapp_secret or DEFAULT_APP_SECRET)
    lapor = LaporSandbox(host=args.host, port=args.lapor_port)
    x = XSandbox(host=args.host, port=args.x_port, account_username=args.x_account)
    meta = MetaSandbox(host=args.host, port=args.meta_port, username=args.x_account)

    def banner() -> None:
        print(f"telegram sandbox: base_url {telegram.base_url}  token {telegram.token}")
        print(f"whatsapp sandbox: graph_base_url {whatsapp.base_url}  phone_number_id {whatsapp.phone_number_id}  "
              f"access token {whatsapp.access_token}  app secret {whatsapp.app_secret}")
        print(f"lapor sandbox:    base_url {lapor.base_url}  token {', '.join(sorted(lapor.tokens))}  "
              f"KEYTOKEN {lapor.keytoken}")
        print(f"x sandbox:        api_base_url {x.base_url}  account @{x.account_username}  "
              f"bearer {x.bearer_token}  consumer {x.consumer_key}/{x.consumer_secret}  "
              f"access {x.access_token}/{x.access_token_secret}")
        print(f"meta sandbox:     graph_base_url {meta.base_url}  page_id {meta.page_id}  "
              f"instagram_account_id {meta.instagram_id}  access token {meta.access_token}  "
              f"app secret {meta.app_secret}")
        print("drive them with: omnichannel sandbox {telegram,whatsapp,x,lapor,meta} ...  (Ctrl-C stops)", flush=True)

    await serve_until_signal([telegram, whatsapp, lapor, x, meta], banner)
    return 0


async def _control(method: str, url: str, body: dict[str, Any] | None = None) -> tuple[int, Any]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:
        async with session.request(method, url, json=body) as resp:
            return resp.status, await resp.json(content_type=None)


async def _show(url: str, key: str, line: Callable[[dict[str, Any]], str]) -> tuple[int, dict[str, Any]]:
    """GET a control ``state`` and print one line per item under ``key``; returns (exit code, body)."""
    status, body = await _control("GET", url)
    for item in body.get(key, []):
        print(line(item))
    return (0 if status == 200 else 1), body


async def _post(url: str, request: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """POST a control command and print its JSON answer; returns (exit code, body)."""
    status, body = await _control("POST", url, request)
    print(json.dumps(body, ensure_ascii=False))
    return (0 if status == 200 else 1), body


def _read(path: str | None) -> str | None:
    if not path:
        return None
    import base64
    from pathlib import Path

    return base64.b64encode(Path(path).read_bytes()).decode()


async def _telegram(args: argparse.Namespace) -> int:
    base = args.url.rstrip("/") + "/_sandbox/telegram"
    if args.action == "sent":
        code, body = await _show(f"{base}/state", "sent", lambda m: f"[{m['chat']['id']}#{m['message_id']}] {m['text']}")
        print(f"({body.get('pending', 0)} updates not yet confirmed)")
        return code
    request: dict[str, Any] = {"chat_id": args.chat, "text": args.text, "first_name": args.name}
    if args.photo:
        request.update(photo_b64=_read(args.photo), caption=args.text, text=None)
    if args.reply_to:
        request["reply_to"] = args.reply_to
    return (await _post(f"{base}/say", request))[0]


def _wa_line(message: dict[str, Any]) -> str:
    content = (message.get("text") or {}).get("body") or (message.get("template") or {}).get("name")
    return f"[to {message['to']}] {message['type']}: {content}"


async def _whatsapp(args: argparse.Namespace) -> int:
    base = args.url.rstrip("/") + "/_sandbox/whatsapp"
    if args.action == "sent":
        return (await _show(f"{base}/state", "sent", _wa_line))[0]
    request = {"wa_id": args.sender, "text": args.text, "name": args.name, "url": args.webhook}
    code, body = await _post(f"{base}/say", request)
    return 0 if code == 0 and body.get("status", 500) < 300 else 1


async def _x(args: argparse.Namespace) -> int:
    base = args.url.rstrip("/") + "/_sandbox/x"
    if args.action == "replies":
        return (await _show(f"{base}/state", "replies",
                            lambda r: f"[{r['id']} → {r.get('in_reply_to_tweet_id')}] {r['text']}"))[0]
    request: dict[str, Any] = {"text": args.text, "author": args.author}
    if args.in_reply_to:
        request["in_reply_to"] = args.in_reply_to
    return (await _post(f"{base}/{args.action}", request))[0]


def _meta_line(message: dict[str, Any]) -> str:
    to = message.get("to") or next(iter((message.get("recipient") or {}).values()), "?")
    return f"[{message.get('platform')} → {to} {message.get('kind')}] {(message.get('message') or {}).get('text')}"


async def _meta(args: argparse.Namespace) -> int:
    base = args.url.rstrip("/") + "/_sandbox/meta"
    if args.action == "sent":
        code, body = await _show(f"{base}/state", "sent", _meta_line)
        for item in body.get("public", []):
            print(f"[{item['platform']} public under {item['object_id']}] {item['message']}")
        return code
    if args.webhook:
        await _control("POST", f"{base}/webhook", {"platform": args.platform, "url": args.webhook})
    request: dict[str, Any] = {"platform": args.platform, "name": args.name, "text": args.text}
    if args.user:
        request["user"] = args.user
    code, body = await _post(f"{base}/{args.action}", request)
    status = body.get("status")  # the daemon's answer to the delivery; 0 when it was down
    return 0 if code == 0 and status != 0 and (status is None or status < 300) else 1


def _lapor_line(report: dict[str, Any]) -> str:
    return (f"#{report['tracking_id']} {report['status']:<20} ref {report.get('referensi') or '-'}  "
            f"{len(report.get('followups', []))} tindak lanjut")


async def _lapor(args: argparse.Namespace) -> int:
    base = args.url.rstrip("/") + "/_sandbox/lapor"
    if args.action == "reports":
        return (await _show(f"{base}/reports", "reports", _lapor_line))[0]
    if args.action == "advance":
        return (await _post(f"{base}/advance", {"days": args.days}))[0]
    request: dict[str, Any] = {"tracking_id": args.tracking_id, "status": args.status}
    if args.text:
        request["text"] = args.text
    return (await _post(f"{base}/force", request))[0]


def _missing(args: argparse.Namespace) -> str | None:
    """What a command lacks that argparse cannot express, or None."""
    action = getattr(args, "action", None)
    if args.sandbox in ("telegram", "whatsapp") and action == "say" and not args.text and not getattr(
            args, "photo", None):
        return "say needs a text"
    if args.sandbox == "meta" and action in ("dm", "comment", "mention") and not args.text:
        return f"{action} needs a text"
    if args.sandbox == "x" and action in ("mention", "tweet") and not args.text:
        return f"{action} needs a text"
    if args.sandbox == "lapor" and action == "force" and not (args.tracking_id and args.status):
        return "force needs TRACKING_ID and STATUS"
    return None


def run(args: argparse.Namespace) -> int:
    """Dispatch a parsed ``sandbox`` command."""
    problem = _missing(args)
    if problem:
        print(f"omnichannel sandbox {args.sandbox}: {problem}", file=sys.stderr)
        return 2
    target = {"serve": _serve, "telegram": _telegram, "whatsapp": _whatsapp, "x": _x, "lapor": _lapor,
              "meta": _meta}[args.sandbox]
    try:
        return asyncio.run(target(args))
    except aiohttp.ClientError as exc:
        print(f"omnichannel sandbox: cannot reach the sandbox ({exc}); is `omnichannel sandbox serve` running?",
              file=sys.stderr)
        return 1


def _fill(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="sandbox", required=True, metavar="SANDBOX", title="sandboxes")
    serve = sub.add_parser("serve", help="run the Telegram, WhatsApp, LAPOR!, X and Meta sandboxes until Ctrl-C")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    serve.add_argument("--telegram-port", type=int, default=8081, help="Telegram Bot API port (default: 8081)")
    serve.add_argument("--whatsapp-port", type=int, default=8082, help="WhatsApp Cloud API port (default: 8082)")
    serve.add_argument("--lapor-port", type=int, default=8083, help="SP4N-LAPOR! port (default: 8083)")
    serve.add_argument("--x-port", type=int, default=8084, help="X API port (default: 8084)")
    serve.add_argument("--meta-port", type=int, default=8085,
                       help="Facebook Page + Instagram (Graph API) port (default: 8085)")
    serve.add_argument("--x-account", default="pemkot_contoh", help="username of the government's X account")
    serve.add_argument("--telegram-token", help="bot token the sandbox accepts")
    serve.add_argument("--whatsapp-token", help="Graph API access token the sandbox accepts")
    serve.add_argument("--whatsapp-secret", help="app secret that signs webhook deliveries")
    serve.add_argument("--whatsapp-webhook", help="where WhatsApp deliveries go (the daemon's webhook URL)")
    telegram = sub.add_parser("telegram", help="talk to a running Telegram sandbox")
    telegram.add_argument("action", choices=["say", "sent"],
                          help="say: a citizen sends TEXT to the bot; sent: what the bot has sent")
    telegram.add_argument("text", nargs="?", default="", help="say: the message")
    telegram.add_argument("--chat", type=int, default=42, help="chat id of the citizen (default 42)")
    telegram.add_argument("--name", default="Warga", help="the citizen's display name (default: Warga)")
    telegram.add_argument("--photo", help="attach this image file (the text becomes its caption)")
    telegram.add_argument("--reply-to", type=int, help="message id this one replies to")
    telegram.add_argument("--url", default=TELEGRAM_URL, help="the sandbox (default: %(default)s)")
    whatsapp = sub.add_parser("whatsapp", help="talk to a running WhatsApp sandbox")
    whatsapp.add_argument("action", choices=["say", "sent"],
                          help="say: a citizen sends TEXT (a signed webhook delivery); sent: what was sent to citizens")
    whatsapp.add_argument("text", nargs="?", default="", help="say: the message")
    whatsapp.add_argument("--from", dest="sender", default="6281234567890", help="the citizen's wa_id")
    whatsapp.add_argument("--name", default="Warga", help="the citizen's profile name (default: Warga)")
    whatsapp.add_argument("--webhook", help="deliver to this URL (default: the sandbox's configured one)")
    whatsapp.add_argument("--url", default=WHATSAPP_URL, help="the sandbox (default: %(default)s)")
    x = sub.add_parser("x", help="talk to a running X sandbox")
    x.add_argument("action", choices=["mention", "tweet", "replies"],
                   help="mention: a citizen's post that mentions the account; tweet: a post the search "
                        "queries find; replies: what the account has replied")
    x.add_argument("text", nargs="?", default="", help="mention, tweet: the post")
    x.add_argument("--author", default="warga", help="username of the citizen posting")
    x.add_argument("--in-reply-to", help="tweet id this one replies to")
    x.add_argument("--url", default=X_URL, help="the sandbox (default: %(default)s)")
    meta = sub.add_parser("meta", help="talk to a running Meta (Facebook Page + Instagram) sandbox")
    meta.add_argument("action", choices=["dm", "comment", "mention", "sent"],
                      help="dm: a citizen's private message; comment: a comment under the Page's or account's "
                           "post; mention: a post that mentions the account; sent: what was sent to citizens")
    meta.add_argument("text", nargs="?", default="", help="dm, comment, mention: the message")
    meta.add_argument("--platform", choices=["facebook", "instagram"], default="facebook",
                      help="which platform the citizen writes on (default: facebook)")
    meta.add_argument("--name", default="Warga", help="the citizen's name (Facebook) or username (Instagram)")
    meta.add_argument("--user", help="the citizen's page- or Instagram-scoped id (default: a new one)")
    meta.add_argument("--webhook", help="deliver to this URL from now on (the daemon's webhook for the platform)")
    meta.add_argument("--url", default=META_URL, help="the sandbox (default: %(default)s)")
    lapor = sub.add_parser("lapor", help="drive a running LAPOR! sandbox (reports, clock, status)")
    lapor.add_argument("action", choices=["reports", "advance", "force"],
                       help="reports: list the reports received; advance: move the clock --days; force: set a "
                            "report's STATUS (and --text)")
    lapor.add_argument("tracking_id", nargs="?", help="force: the report's tracking id")
    lapor.add_argument("status", nargs="?", help="force: belum terverifikasi … selesai")
    lapor.add_argument("--days", type=float, default=1.0, help="advance: days to move the clock")
    lapor.add_argument("--text", help="force: a tindak lanjut to add")
    lapor.add_argument("--url", default=LAPOR_URL, help="the sandbox (default: %(default)s)")


def add_cli(subparsers: Any) -> None:
    """Register ``sandbox`` on the ``omnichannel`` command."""
    parser = subparsers.add_parser("sandbox", help="local Telegram/WhatsApp/X/LAPOR!/Meta stand-ins for demos and tests",
                                   description="Run local stand-ins of the Telegram Bot API, WhatsApp Cloud API, "
                                               "Meta Graph API (Facebook Page, Instagram), X API and SP4N-LAPOR!, "
                                               "and drive them by hand:\n" + __doc__.split("\n", 1)[1].rstrip(),
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
    _fill(parser)
    parser.set_defaults(func=run)


def main(argv: list[str] | None = None) -> int:
    """``omnichannel sandbox`` as a standalone entry point."""
    parser = argparse.ArgumentParser(prog="omnichannel sandbox", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    _fill(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
