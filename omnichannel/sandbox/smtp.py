"""An SMTP sink: a small RFC 5321 server on a loopback port that keeps every message it accepts.

The demo and the end-to-end test send the answers to e-mail citizens through it, so ``omnichannel
demo`` shows email with a plain ``pip install -e .`` (no dev-only SMTP server package). It speaks
what a real submission server answers to an unauthenticated client on a trusted network: ``EHLO``/
``HELO`` (advertising ``8BITMIME``, ``SMTPUTF8``, ``PIPELINING`` and ``SIZE``), ``MAIL FROM``,
``RCPT TO``, ``DATA`` with dot-unstuffing, ``RSET``, ``NOOP``, ``VRFY``, ``QUIT``; no TLS, no AUTH
(``502``), so clients must be configured with ``security: none``.
"""

from __future__ import annotations

import asyncio
import contextlib
import email
import email.policy
import re
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Self

MAX_LINE = 1000 * 8   # RFC 5321 allows 1000 octets a line; be lenient with clients that are not
ADDRESS = re.compile(r"^\s*<(?P<addr>[^>]*)>(?P<params>.*)$")


@dataclass
class Delivery:
    """One accepted message: the envelope sender, its recipients and the message as sent."""

    sender: str
    recipients: list[str]
    data: bytes
    message: EmailMessage = field(init=False)

    def __post_init__(self) -> None:
        text = self.data.replace(b"\r\n", b"\n")  # as a mailbox would store it
        self.message = email.message_from_bytes(text, policy=email.policy.default)  # type: ignore[assignment]


class SmtpSink:
    """``start()`` listens on ``host:port`` (0: a free port); every accepted message lands in ``deliveries``.

    ``messages`` (the parsed ``EmailMessage`` of each delivery) may be given to share a list with a caller.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0, hostname: str = "smtp.sandbox.local",
                 max_size: int = 10 * 1024 * 1024, messages: list[EmailMessage] | None = None) -> None:
        self.host, self.port, self.hostname, self.max_size = host, port, hostname, max_size
        self.deliveries: list[Delivery] = []
        self.messages: list[EmailMessage] = messages if messages is not None else []
        self._server: asyncio.Server | None = None
        self._sessions: set[asyncio.Task[None]] = set()

    async def start(self) -> Self:
        """Listen; the chosen port is in ``self.port``."""
        self._server = await asyncio.start_server(self._serve, self.host, self.port, limit=MAX_LINE)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        """Stop listening and end open sessions; safe twice."""
        if self._server is not None:
            self._server.close()
            for task in list(self._sessions):
                task.cancel()
            await asyncio.gather(*self._sessions, return_exceptions=True)
            await self._server.wait_closed()
            self._server = None

    async def __aenter__(self) -> Self:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._sessions.add(task)
        try:
            await Session(self, reader, writer).run()
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError):
            pass  # the client went away or sent a line longer than any SMTP client would
        except asyncio.CancelledError:
            pass  # stop(): the session ends with the server
        finally:
            self._sessions.discard(task)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    def _accept(self, sender: str, recipients: list[str], data: bytes) -> None:
        delivery = Delivery(sender, recipients, data)
        self.deliveries.append(delivery)
        self.messages.append(delivery.message)


class Session:
    """One client connection: the SMTP command loop."""

    def __init__(self, sink: SmtpSink, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.sink, self.reader, self.writer = sink, reader, writer
        self.greeted = False
        self.sender: str | None = None
        self.recipients: list[str] = []

    async def reply(self, *lines: str) -> None:
        """Send a (possibly multi-line) reply: ``250-first`` … ``250 last``."""
        out = []
        for n, line in enumerate(lines):
            code, text = line[:3], line[4:]
            out.append(f"{code}{' ' if n == len(lines) - 1 else '-'}{text}\r\n")
        self.writer.write("".join(out).encode())
        await self.writer.drain()

    def reset(self) -> None:
        self.sender, self.recipients = None, []

    async def run(self) -> None:
        await self.reply(f"220 {self.sink.hostname} ESMTP omnichannel sandbox sink")
        while True:
            raw = await self.reader.readline()
            if not raw:
                return
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            verb, _, arg = line.partition(" ")
            verb = verb.upper()
            if verb == "QUIT":
                await self.reply(f"221 {self.sink.hostname} closing")
                return
            handler = getattr(self, f"cmd_{verb.lower()}", None) if verb.isalpha() else None
            if handler is None:
                await self.reply(f"500 5.5.2 command not recognised: {verb[:20]}")
            else:
                await handler(arg.strip())

    async def cmd_ehlo(self, arg: str) -> None:
        if not arg:
            await self.reply("501 5.5.4 EHLO needs a domain")
            return
        self.greeted = True
        self.reset()
        await self.reply(f"250 {self.sink.hostname} greets {arg}", "250 8BITMIME", "250 SMTPUTF8",
                         "250 PIPELINING", f"250 SIZE {self.sink.max_size}")

    async def cmd_helo(self, arg: str) -> None:
        if not arg:
            await self.reply("501 5.5.4 HELO needs a domain")
            return
        self.greeted = True
        self.reset()
        await self.reply(f"250 {self.sink.hostname}")

    async def cmd_mail(self, arg: str) -> None:
        if not self.greeted:
            await self.reply("503 5.5.1 send EHLO or HELO first")
            return
        if self.sender is not None:
            await self.reply("503 5.5.1 sender already given")
            return
        match = ADDRESS.match(arg[5:]) if arg.upper().startswith("FROM:") else None
        if match is None:
            await self.reply("501 5.5.4 syntax: MAIL FROM:<address>")
            return
        size = re.search(r"\bSIZE=(\d+)", match.group("params"), re.IGNORECASE)
        if size and int(size.group(1)) > self.sink.max_size:
            await self.reply("552 5.3.4 message too big")
            return
        self.sender = match.group("addr")
        await self.reply("250 2.1.0 OK")

    async def cmd_rcpt(self, arg: str) -> None:
        if self.sender is None:
            await self.reply("503 5.5.1 need MAIL before RCPT")
            return
        match = ADDRESS.match(arg[3:]) if arg.upper().startswith("TO:") else None
        if match is None or not match.group("addr"):
            await self.reply("501 5.5.4 syntax: RCPT TO:<address>")
            return
        self.recipients.append(match.group("addr"))
        await self.reply("250 2.1.5 OK")

    async def cmd_data(self, arg: str) -> None:
        if self.sender is None or not self.recipients:
            await self.reply("503 5.5.1 need MAIL and RCPT before DATA")
            return
        await self.reply("354 end data with <CR><LF>.<CR><LF>")
        lines: list[bytes] = []
        size, too_big = 0, False
        while True:
            raw = await self.reader.readline()
            if not raw:
                raise ConnectionError("connection closed during DATA")
            if raw in (b".\r\n", b".\n"):
                break
            if raw.startswith(b"."):
                raw = raw[1:]  # dot-stuffing (RFC 5321 4.5.2)
            size += len(raw)
            if size > self.sink.max_size:
                too_big = True
            elif not too_big:
                lines.append(raw)
        if too_big:
            await self.reply("552 5.3.4 message too big")
        else:
            self.sink._accept(self.sender, list(self.recipients), b"".join(lines))
            await self.reply(f"250 2.0.0 OK queued as {len(self.sink.deliveries)}")
        self.reset()

    async def cmd_rset(self, arg: str) -> None:
        self.reset()
        await self.reply("250 2.0.0 OK")

    async def cmd_noop(self, arg: str) -> None:
        await self.reply("250 2.0.0 OK")

    async def cmd_vrfy(self, arg: str) -> None:
        await self.reply("252 2.1.5 cannot verify, but will accept the message")

    async def cmd_starttls(self, arg: str) -> None:
        await self.reply("502 5.5.1 TLS is not offered by this sandbox (security: none)")

    async def cmd_auth(self, arg: str) -> None:
        await self.reply("502 5.5.1 AUTH is not offered by this sandbox")
