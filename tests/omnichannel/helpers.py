"""Small helpers shared by the core's tests."""

from __future__ import annotations

from pathlib import Path
from textwrap import dedent

from omnichannel.config import Config, parse_config


def minimal_config(tmp_path: Path, extra: str = "", url: str | None = None, port: int = 0) -> Config:
    """A config with the web intake only, a temp data dir and an ephemeral port."""
    text = dedent(f"""
        data_dir: {tmp_path}/data
        store:
          url: "{url or ''}"
        http: {{host: 127.0.0.1, port: {port}}}
        daemon: {{router_interval: 0.2, shutdown_deadline: 5}}
        connectors:
          - {{name: web, kind: webform, acknowledge: false}}
        """) + dedent(extra)
    return parse_config(text, env={})
