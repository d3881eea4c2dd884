"""The command line a newcomer meets: help everywhere, global options anywhere, ``check`` and ``run`` without a config."""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import aiohttp
import pytest
import yaml

from omnichannel.cli import PACKAGED_CONFIG, build_parser, main
from tests.conftest import free_port

REPO = Path(__file__).resolve().parents[2]
SHIPPED = REPO / "config.yaml"


def _walk(parser: argparse.ArgumentParser, path: str = "omnichannel"):
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _walk(sub, f"{path} {name}")


def test_every_command_option_and_action_has_help_and_every_command_a_description() -> None:
    missing = []
    commands = 0
    for path, parser in _walk(build_parser()):
        commands += 1
        if not (parser.description or "").strip():
            missing.append(f"{path}: no description")
        for action in parser._actions:
            if isinstance(action, argparse._HelpAction):
                continue
            if isinstance(action, argparse._SubParsersAction):
                for choice in action._choices_actions:
                    if not (choice.help or "").strip():
                        missing.append(f"{path} {choice.dest}: no help in the list of {action.dest}")
                continue
            if not (action.help or "").strip() or action.help == argparse.SUPPRESS:
                missing.append(f"{path} {'/'.join(action.option_strings) or action.dest}: no help")
    assert commands >= 25  # the walk reached the extensions' nested commands (outbox, sandbox, quarantine)
    assert not missing, "\n".join(missing)


def test_the_top_level_help_reads_as_text(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    assert "``" not in out
    assert "Collect citizen complaints" in out and "before or after the command" in out
    for command in ("run", "init", "check", "db", "import", "export", "quarantine", "outbox", "eval", "sandbox",
                    "demo"):
        assert f"    {command} " in out


def test_readme_command_table_lists_every_command_and_action() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    table = readme[readme.index("## Commands"):readme.index("## Configuration")]
    for path, parser in _walk(build_parser()):
        words = path.split()[1:]
        if not words or words[0] == "sandbox" or any(
                isinstance(a, argparse._SubParsersAction) for a in parser._actions):
            continue
        assert words[-1] in table, f"README's command table does not mention `{path}`"


@pytest.mark.parametrize("argv", [
    ["check", "-c", "A.yaml"], ["-c", "A.yaml", "check"], ["check", "--config", "A.yaml"],
    ["--config", "B.yaml", "check", "-c", "A.yaml"], ["quarantine", "list", "-c", "A.yaml"],
    ["outbox", "dead", "--config", "A.yaml"], ["-c", "A.yaml", "outbox", "found", "TIK-2026-000001", "4107001"],
])
def test_global_options_are_accepted_before_or_after_the_command(argv: list[str]) -> None:
    args = build_parser().parse_args(argv)
    assert args.config == "A.yaml"
    assert args.log_level is None


def test_log_level_after_the_command_and_before_it() -> None:
    parser = build_parser()
    assert parser.parse_args(["run", "--log-level", "DEBUG"]).log_level == "DEBUG"
    assert parser.parse_args(["--log-level", "ERROR", "db", "current"]).log_level == "ERROR"
    assert parser.parse_args(["--log-level", "ERROR", "db", "current", "--log-level", "INFO"]).log_level == "INFO"
    args = parser.parse_args(["run"])
    assert args.config is None and args.log_level is None


def test_check_says_what_is_enabled_and_dumps_yaml_with_every_secret_masked(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEST_TG_TOKEN", "123456:telegram-secret-token")
    monkeypatch.setenv("TEST_DB_URL", "postgresql+asyncpg://omni:hunter2-db-password@db.example:5432/omni")
    config = tmp_path / "pemda.yaml"
    config.write_text(yaml.safe_dump({
        "data_dir": str(tmp_path / "data"), "store": {"url": "${TEST_DB_URL}"},
        "connectors": [{"name": "web", "kind": "webform"},
                       {"name": "tg", "kind": "telegram", "token": "${TEST_TG_TOKEN}"},
                       {"name": "wa", "kind": "whatsapp", "enabled": False}],
        "forwarders": [{"name": "queue", "kind": "db"}],
        "agencies": [{"code": "pupr", "name": "Dinas PUPR"}]}))
    assert main(["check", "--dump", "-c", str(config)]) == 0
    out = capsys.readouterr().out
    assert "3 connectors (2 enabled: web, tg; disabled: wa)" in out
    assert "1 forwarder (1 enabled: queue)" in out
    assert "hunter2" not in out and "telegram-secret-token" not in out
    assert "postgresql+asyncpg://omni:***@db.example:5432/omni" in out
    dump = yaml.safe_load(out[out.index("\n# "):])  # the YAML after the summary lines
    assert dump["store"]["url"] == "postgresql+asyncpg://omni:***@db.example:5432/omni"
    assert [c["name"] for c in dump["connectors"]] == ["web", "tg", "wa"]
    assert dump["connectors"][1]["token"] not in ("", "123456:telegram-secret-token")
    assert dump["connectors"][1]["long_poll_timeout"] == 20.0  # defaults are filled in


def test_check_connect_on_the_shipped_config(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    for var in [v for v in os.environ if v.startswith("OMNICHANNEL_")]:
        monkeypatch.delenv(var)
    assert main(["check", "--connect", "-c", str(SHIPPED)]) == 0
    out = capsys.readouterr().out
    assert "FAILED" not in out
    assert "queue: db queue queue: store reachable" in out and "web: web intake" in out


def _child_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OMNICHANNEL_")}
    return {**env, "PYTHONPATH": str(REPO), **(extra or {})}


async def test_check_connect_starts_probes_and_stops_every_plugin_of_the_demo(tmp_path: Path) -> None:
    """Every channel and destination against its sandbox: no failure, no session left open, no traceback."""
    from omnichannel.demo.runner import SHIPPED as DEMO_BASE
    from omnichannel.demo.runner import DemoWorld, derive_config

    world = await DemoWorld(free_port()).start()
    try:
        text, env, _ = derive_config(DEMO_BASE.read_text(encoding="utf-8"), world, tmp_path / "data")
        (tmp_path / "demo.yaml").write_text(text, encoding="utf-8")
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "omnichannel.cli", "check", "--connect", "-c", str(tmp_path / "demo.yaml"),
            cwd=tmp_path, env=_child_env(env), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        out, err = (b.decode() for b in await asyncio.wait_for(proc.communicate(), 120))
    finally:
        await world.stop()
    assert proc.returncode == 0, out + err
    demo = yaml.safe_load(text)
    enabled = [p["name"] for p in demo["connectors"] + demo["forwarders"] if p.get("enabled", True)]
    assert {"web", "telegram", "whatsapp", "x", "queue", "lapor", "grup-petugas"} <= set(enabled)
    assert ("email" in enabled) == (world.mail_skipped is None)
    for name in enabled:
        assert f"\n{name}: " in out and f"\n{name}: FAILED" not in out, out
    assert "LAPOR! http://127.0.0.1" in out and "topics" in out
    assert "Unclosed" not in err and "Traceback" not in err and "Task was destroyed" not in err, err
    assert not world.officer_bot.calls or all(method != "getupdates" for method, _ in world.officer_bot.calls)


async def _wait_ready(port: int, proc: subprocess.Popen[bytes], wait: float = 60) -> None:
    deadline = time.monotonic() + wait
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as http:
        while time.monotonic() < deadline:
            assert proc.poll() is None, f"the daemon exited with {proc.returncode}"
            try:
                async with http.get(f"http://127.0.0.1:{port}/readyz") as resp:
                    if resp.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.2)
    raise AssertionError("the daemon did not become ready")


async def test_run_without_a_config_file_runs_on_the_packaged_default_and_says_so(tmp_path: Path) -> None:
    port = free_port()
    log = tmp_path / "daemon.log"
    assert not (tmp_path / "config.yaml").exists()
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "omnichannel.cli", "run"], cwd=tmp_path,
                                env=_child_env({"OMNICHANNEL_HTTP_PORT": str(port)}), stdout=out,
                                stderr=subprocess.STDOUT)
    try:
        await _wait_ready(port, proc)
        async with aiohttp.ClientSession() as http, http.post(
                f"http://127.0.0.1:{port}/api/v1/complaints",
                json={"text": "Jalan di depan SDN 2 Tembalang berlubang besar"}) as resp:
            assert resp.status == 201, await resp.text()
    finally:
        proc.send_signal(signal.SIGTERM)
        code = await asyncio.to_thread(proc.wait, 60)
    lines = log.read_text(encoding="utf-8").splitlines()
    assert code == 0, "\n".join(lines[-30:])
    assert "packaged default config" in lines[0] and str(PACKAGED_CONFIG) in lines[0], lines[:3]
    assert "no config.yaml in" in lines[0]
    assert (tmp_path / "data" / "omnichannel.db").is_file()  # data_dir ./data of the working directory


def test_an_explicit_config_that_does_not_exist_stays_an_error(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("OMNICHANNEL_CONFIG", raising=False)
    assert main(["run", "-c", str(tmp_path / "nope.yaml")]) == 2
    assert f"config file {tmp_path / 'nope.yaml'} not found" in capsys.readouterr().err
    monkeypatch.setenv("OMNICHANNEL_CONFIG", str(tmp_path / "gone.yaml"))
    assert main(["check"]) == 2
    assert "gone.yaml not found" in capsys.readouterr().err


def test_a_config_yaml_in_the_working_directory_wins_over_the_packaged_default(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("OMNICHANNEL_CONFIG", raising=False)
    (tmp_path / "config.yaml").write_text("connectors: []\n")
    assert main(["check"]) == 0
    assert capsys.readouterr().out.startswith("config OK: config.yaml\n  0 connectors (0 enabled)")
    (tmp_path / "config.yaml").unlink()
    assert main(["check"]) == 0
    assert "the packaged default" in capsys.readouterr().out


def test_commands_that_read_the_store_refuse_a_store_that_is_not_there(tmp_path, monkeypatch, capsys) -> None:
    """Run from another directory than the daemon's, a relative data_dir names a file that does not exist:
    reading commands say so and create nothing; `db upgrade` and the first `users add` create it."""
    config = tmp_path / "etc" / "config.yaml"
    config.parent.mkdir()
    config.write_text("data_dir: ./data\nagencies: [{code: pupr, name: Dinas PUPR}]\n")
    elsewhere = tmp_path / "home"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    for argv in (["db", "current"], ["export"], ["quarantine", "list"], ["users", "list"],
                 ["tickets", "reassign", "TIK-2026-000001", "pupr", "--reason", "x"],
                 ["report", "--from", "2026-01-01", "--to", "2026-01-31"]):
        assert main(["-c", str(config), *argv]) == 1, argv
        err = capsys.readouterr().err
        assert f"no store at {elsewhere / 'data' / 'omnichannel.db'}" in err and "OMNICHANNEL_DATA_DIR" in err, argv
    assert not (elsewhere / "data").exists()
    assert main(["-c", str(config), "db", "upgrade"]) == 0
    assert (elsewhere / "data" / "omnichannel.db").is_file()
    assert main(["-c", str(config), "db", "current"]) == 0
    assert "store at revision" in capsys.readouterr().out
