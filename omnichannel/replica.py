"""A replica name that survives a restart, so a killed process's claims are released by its successor.

``host:pid`` changed with every start: after a SIGKILL the outbox rows the dead process had claimed
stayed ``in_flight`` until their claim expired (timeout + grace, about a minute). Instead each
daemon takes the first free slot ``data_dir/replica-N.lock`` (an exclusive ``flock``, dropped by the
kernel when the process dies) and is called ``host:N``: the process started after a crash gets the
same name and takes its predecessor's claims back at once, while two daemons running side by side
on one machine still get different names.
"""

from __future__ import annotations

import fcntl
import logging
import socket
from pathlib import Path
from typing import IO

log = logging.getLogger(__name__)
SLOTS = 64


def take_slot(data_dir: Path) -> tuple[str, IO[bytes]] | None:
    """``(name, lock file)`` of the first free slot (keep the file open while running); None when none is."""
    locks = Path(data_dir) / "replicas"
    try:
        locks.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        log.warning("no stable replica name: cannot create %s: %s", locks, exc)
        return None
    host = socket.gethostname()
    for slot in range(SLOTS):
        handle = (locks / f"replica-{slot}.lock").open("ab")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            continue
        return f"{host}:{slot}", handle
    return None
