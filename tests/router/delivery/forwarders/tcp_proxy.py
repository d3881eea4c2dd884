"""A TCP proxy on 127.0.0.1 in front of a real service, to show a broker that hangs or is down."""

from __future__ import annotations

import asyncio
import contextlib


class TcpProxy:
    """Forwards to ``host:port``; ``mode`` ``hang`` holds every byte, ``down`` closes the listener."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.mode = "ok"
        self.port = 0
        self.server: asyncio.base_events.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                while self.mode == "hang":
                    await asyncio.sleep(0.05)
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            writer.close()

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.close()
            return
        self._writers |= {writer, up_writer}
        await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))

    async def start(self) -> TcpProxy:
        self.server = await asyncio.start_server(self._client, "127.0.0.1", self.port)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        """Stop listening and cut every open connection."""
        if self.server is not None:
            self.server.close()
            self.server = None
        for w in self._writers:
            with contextlib.suppress(Exception):
                w.close()
        self._writers.clear()

    async def set_mode(self, mode: str) -> None:
        self.mode = mode
        if mode == "down":
            await self.stop()
        elif self.server is None:
            await self.start()
