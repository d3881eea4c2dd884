"""Saving downloaded attachment content in the attachment store (shared by the chat connectors)."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path


async def save_attachment(path: Path, data: bytes) -> Path:
    """Write content-addressed attachment bytes off the event loop (atomic rename, kept if present)."""

    def write() -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists():
            tmp = path.with_name(f"{path.name}.{os.getpid()}.{id(data):x}.part")
            tmp.write_bytes(data)
            tmp.replace(path)
        return path

    return await asyncio.to_thread(write)
