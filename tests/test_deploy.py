"""The multi-replica deployment (deploy/replicas/) hangs together: one schema upgrade for all, replicas
with their own names on one store, shared attachments, a proxy that knows every replica, and the
shipped config reading what the compose file sets."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
import yaml

from omnichannel.config import load_config
from tests.conftest import REPO

DEPLOY = REPO / "deploy" / "replicas"


def compose() -> dict:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text())


def replicas(doc: dict) -> dict[str, dict]:
    return {name: svc for name, svc in doc["services"].items() if name.startswith("replica-")}


def test_replicas_share_one_store_and_attachments_and_never_migrate_themselves():
    doc = compose()
    reps = replicas(doc)
    assert len(reps) >= 2
    ids = [svc["environment"]["OMNICHANNEL_REPLICA_ID"] for svc in reps.values()]
    assert len(set(ids)) == len(ids), "two replicas with one name would share claims and leases"
    for svc in reps.values():
        env = svc["environment"]
        assert env["OMNICHANNEL_MIGRATE_ON_START"] == "false"
        assert env["OMNICHANNEL_STORE_URL"].startswith("postgresql+asyncpg://")
        assert svc["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
        assert any(v.startswith("attachments:") and v.endswith("/data/attachments") for v in svc["volumes"])
    assert doc["services"]["migrate"]["command"][-2:] == ["db", "upgrade"]
    assert len({svc["environment"]["OMNICHANNEL_STORE_URL"] for svc in reps.values()}) == 1


def test_the_proxy_knows_every_replica():
    upstream = set(re.findall(r"server (replica-\d+):8080", (DEPLOY / "nginx.conf").read_text()))
    assert upstream == set(replicas(compose()))


def test_the_shipped_config_takes_what_the_compose_file_sets(tmp_path):
    env = {k: str(v) for k, v in replicas(compose())["replica-2"]["environment"].items()}
    env["POSTGRES_PASSWORD"] = "x"
    env["OMNICHANNEL_STORE_URL"] = env["OMNICHANNEL_STORE_URL"].replace("${POSTGRES_PASSWORD}", "x")
    config = load_config(REPO / "config.yaml", env=env)
    assert config.daemon.replica_id == "replica-2"
    assert config.store.migrate_on_start is False
    assert str(config.data_dir) == "/var/lib/omnichannel/data"
    assert config.store.url.startswith("postgresql+asyncpg://omnichannel:x@postgres/")
    assert (config.http.host, config.http.port) == ("0.0.0.0", 8080)


@pytest.mark.skipif(shutil.which("nginx") is None, reason="nginx is not installed (apt-get install nginx-light)")
def test_the_proxy_config_is_valid_nginx(tmp_path):
    conf = (DEPLOY / "nginx.conf").read_text()
    # the replicas' names resolve only inside compose's network: point them at loopback for the check
    conf = re.sub(r"server replica-\d+:8080", "server 127.0.0.1:8080", conf)
    path = tmp_path / "nginx.conf"
    path.write_text(f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\n" + conf)
    done = subprocess.run(["nginx", "-t", "-c", str(path), "-p", str(tmp_path)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
