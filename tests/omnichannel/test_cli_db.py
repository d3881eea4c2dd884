"""``omnichannel db upgrade|current|backup``."""

from __future__ import annotations

import sqlite3

from alembic.script import ScriptDirectory

from omnichannel.cli import main
from omnichannel.migrate import alembic_config

HEAD = ScriptDirectory.from_config(alembic_config()).get_current_head()


def test_db_upgrade_current_and_backup(tmp_path, capsys):
    config = tmp_path / "config.yaml"
    config.write_text(f"data_dir: {tmp_path}/data\nconnectors: []\nstore: {{migrate_on_start: false}}\n")
    assert main(["-c", str(config), "db", "upgrade"]) == 0
    assert f"store at revision {HEAD}" in capsys.readouterr().out
    assert main(["-c", str(config), "db", "current"]) == 0
    assert HEAD in capsys.readouterr().out
    target = tmp_path / "backup.db"
    assert main(["-c", str(config), "db", "backup", str(target)]) == 0
    tables = {r[0] for r in sqlite3.connect(target).execute("select name from sqlite_master where type='table'")}
    assert {"envelopes", "complaints", "outbox", "alembic_version"} <= tables


def test_init_writes_the_shipped_config_once(tmp_path, capsys):
    from pathlib import Path

    shipped = (Path(__file__).resolve().parents[2] / "config.yaml").read_text()
    assert main(["init", str(tmp_path)]) == 0
    assert (tmp_path / "config.yaml").read_text() == shipped
    assert main(["init", str(tmp_path)]) == 1  # never overwrites
    assert "exists" in capsys.readouterr().err
