"""Broken configurations exit 2 with a message that names the key; secrets stay masked."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from omnichannel.cli import main
from omnichannel.config import load_config, parse_config
from omnichannel.errors import ConfigError

REPO = Path(__file__).resolve().parents[2]
WEB = "connectors:\n  - {name: web, kind: webform}\n"

BROKEN = [
    ("bad yaml", "connectors: [\n  - {name: web\n", "invalid YAML at line"),
    ("tab indentation", "http:\n\tport: 8080\n", "invalid YAML"),
    ("top level list", "- a\n- b\n", "top level must be a mapping"),
    ("unknown top-level key", "bogus: 1\n" + WEB, "bogus: Extra inputs are not permitted"),
    ("unknown connector key", "connectors:\n  - {name: web, kind: webform, pol_interval: 3}\n",
     "connectors[0].pol_interval: Extra inputs are not permitted"),
    ("wrong type", "http: {port: eighty}\n", "http.port: Input should be a valid integer"),
    ("out of range", "http: {port: 70000}\n", "http.port: Input should be less than or equal to 65535"),
    ("zero interval", "connectors:\n  - {name: web, kind: webform, poll_interval: 0}\n",
     "connectors[0].poll_interval: Input should be greater than 0"),
    ("missing env var", "connectors:\n  - {name: web, kind: webform, auth: bearer, token: '${OMNI_NOPE_TOKEN}'}\n",
     "connectors[0].token: environment variable OMNI_NOPE_TOKEN is not set"),
    ("duplicate names", "connectors:\n  - {name: web, kind: webform}\n  - {name: web, kind: webform}\n",
     "connectors[1].name: duplicate name 'web'"),
    ("unknown kind", "connectors:\n  - {name: fax, kind: fax}\n", "connectors[0].kind: unknown kind 'fax'"),
    ("missing kind", "connectors:\n  - {name: web}\n", "connectors[0].kind: is required"),
    ("inline secret", "connectors:\n  - {name: web, kind: webform, auth: bearer, token: hunter2}\n",
     "connectors[0].token: secrets must come from the environment"),
    ("bad store driver", "store: {url: 'mysql://x'}\n", "store.url:"),
    ("bad log level", "logging: {level: LOUD}\n", "logging.level:"),
    ("connectors not a list", "connectors: {name: web}\n", "connectors: must be a list"),
    ("bad name", "connectors:\n  - {name: 'Web Form!', kind: webform}\n", "connectors[0].name:"),
    ("duplicate agency", "agencies:\n  - {code: pupr, name: A}\n  - {code: pupr, name: B}\n",
     "agencies[1].code: duplicate agency code"),
]


@pytest.mark.parametrize("label,text,expected", BROKEN, ids=[b[0] for b in BROKEN])
def test_broken_config_exits_2_naming_the_key(tmp_path, capsys, label, text, expected):
    path = tmp_path / "config.yaml"
    path.write_text(text)
    assert main(["-c", str(path), "check"]) == 2
    err = capsys.readouterr().err
    assert expected in err, err
    assert "Traceback" not in err


def test_missing_file_exits_2(tmp_path, capsys):
    assert main(["-c", str(tmp_path / "nope.yaml"), "check"]) == 2
    assert "not found" in capsys.readouterr().err


def test_real_process_exit_status_is_2(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text("connectors:\n  - {name: web, kind: webform, poll_interval: -1}\n")
    proc = subprocess.run([sys.executable, "-m", "omnichannel.cli", "-c", str(path), "check"],
                          capture_output=True, text=True, cwd=tmp_path, timeout=60)
    assert proc.returncode == 2
    assert "connectors[0].poll_interval" in proc.stderr and "Traceback" not in proc.stderr


def test_env_interpolation_defaults_and_masking():
    text = ("connectors:\n  - {name: web, kind: webform, auth: bearer, token: '${OMNI_T}'}\n"
            "http: {port: '${OMNI_PORT:-9090}'}\n")
    config = parse_config(text, env={"OMNI_T": "very-secret-value"})
    assert config.http.port == 9090
    assert config.connectors[0].token.get_secret_value() == "very-secret-value"
    assert "very-secret-value" not in str(config.redacted()) + repr(config)


def test_disabled_connector_may_lack_its_env_var():
    text = ("connectors:\n  - {name: web, kind: webform, enabled: false, auth: bearer, token: '${OMNI_ABSENT}'}\n")
    config = parse_config(text, env={})
    assert config.connectors[0].enabled is False


def test_shipped_config_loads_without_secrets(monkeypatch):
    for key in list(os.environ):
        if key.endswith(("_TOKEN", "_SECRET", "_PASSWORD")):
            monkeypatch.delenv(key, raising=False)
    monkeypatch.chdir(REPO)
    config = load_config(REPO / "config.yaml")
    assert config.store.url.startswith("sqlite+aiosqlite:///")
    assert any(c.kind == "webform" and c.enabled for c in config.connectors)
    assert all(not c.enabled for c in config.connectors if c.kind in ("telegram", "whatsapp", "x", "imap"))


def test_config_error_carries_path():
    with pytest.raises(ConfigError) as info:
        parse_config("daemon: {shutdown_deadline: -1}\n", env={})
    assert info.value.path == "daemon.shutdown_deadline"


def test_disabled_entry_values_are_checked_when_enabled_but_keys_always():
    bad_value = "connectors:\n  - {name: web, kind: webform, enabled: false, max_body_bytes: -5}\n"
    assert parse_config(bad_value, env={}).connectors[0].enabled is False
    with pytest.raises(ConfigError, match=r"connectors\[0\].max_body_bytes"):
        parse_config(bad_value.replace("enabled: false", "enabled: true"), env={})
    with pytest.raises(ConfigError, match=r"connectors\[0\].nonsense"):
        parse_config("connectors:\n  - {name: web, kind: webform, enabled: false, nonsense: 1}\n", env={})


def test_configuration_reference_in_docs_is_current():
    from omnichannel.config_reference import reference

    documented = (REPO / "docs" / "configuration.md").read_text(encoding="utf-8")
    assert documented == reference(), "regenerate: omnichannel check --reference > docs/configuration.md"
