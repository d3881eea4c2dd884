"""Child process of the memory test: drains one mailbox through the connector and the real ingest, then
prints its peak RSS (``resource.getrusage``) in KiB. Usage: ``python -m tests.connectors.email.memory_probe
HOST PORT USER PASSWORD DATA_DIR``, started through ``tests.connectors.email.fresh`` (the password may also come in OMNI_PROBE_PASSWORD).

(see there why)."""

from __future__ import annotations

import asyncio
import os
import resource
import sys
from pathlib import Path

from connectors.email.config import ImapConfig
from connectors.email.connector import ImapConnector
from omnichannel.ingest import ingest_batch
from omnichannel.protocols import PluginContext
from omnichannel.store import Store


async def main(host: str, port: int, user: str, password: str, data: Path) -> None:
    store = Store(f"sqlite+aiosqlite:///{data}/store.db")
    await store.open(migrate=True)
    config = ImapConfig(name="mail", host=host, port=port, security="none", username=user, password=password,
                        idle=False, timeout=30)
    connector = ImapConnector("mail", config)
    await connector.start(PluginContext(name="mail", data_dir=data, attachments_dir=data / "attachments",
                                        extra={"store": store}), None)
    stored = 0
    try:
        while True:
            batch = await connector.poll()
            if not batch.envelopes and batch.checkpoint is None:
                break
            result = await ingest_batch(store, "mail", "email", batch)
            stored += len(result.items)
            await connector.ack(batch, result)
            del batch, result
    finally:
        await connector.stop()
        await store.close()
    print(f"stored {stored}")
    print(f"maxrss_kib {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}")


if __name__ == "__main__":
    host, port, user, password, data = sys.argv[1:6]
    asyncio.run(main(host, int(port), user, password or os.environ.get("OMNI_PROBE_PASSWORD", ""), Path(data)))
