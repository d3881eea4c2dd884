"""Both Meta connector kinds run the shared push and pull contract suites against the sandbox."""

from __future__ import annotations

import pytest

from omnichannel.sandbox.meta import DEFAULT_ACCESS_TOKEN, DEFAULT_APP_SECRET, MetaSandbox
from tests.connectors.meta.helpers import VERIFY, make_connector
from tests.contract.connector_contract import PullConnectorContract, PushConnectorContract


class _Secrets:
    @pytest.fixture
    def contract_secrets(self):
        return [VERIFY, DEFAULT_APP_SECRET, DEFAULT_ACCESS_TOKEN]


class _Push(_Secrets, PushConnectorContract):
    platform = "facebook"

    @pytest.fixture
    def contract_channel(self):
        return self.platform

    @pytest.fixture
    def contract_make_connector(self):
        async def make():
            return make_connector(self.platform)
        return make

    @pytest.fixture
    def contract_request(self):
        builder = MetaSandbox()
        citizen = builder.user(self.platform, "Siti")
        path = f"/webhooks/{self.platform}/test"

        def request(n, signed=True):
            if n % 2:
                payload = builder.dm_payload(self.platform, citizen, f"Sampah menumpuk di pasar nomor {n}",
                                             mid=f"m_contract-{n}")
            else:
                payload = builder.comment_payload(self.platform, citizen, f"Jalan berlubang di RT {n}")
            body = builder.body(payload)
            return "POST", path, builder.headers(body, "auto" if signed else None), body
        return request


class TestFacebookPush(_Push):
    platform = "facebook"


class TestInstagramPush(_Push):
    platform = "instagram"


class _Pull(_Secrets, PullConnectorContract):
    platform = "facebook"

    @pytest.fixture
    async def sandbox(self):
        async with MetaSandbox() as sb:
            yield sb

    @pytest.fixture
    def contract_channel(self):
        return self.platform

    @pytest.fixture
    def contract_make_connector(self, sandbox):
        async def make():
            return make_connector(self.platform, sandbox.base_url, batch_size=3)
        return make

    @pytest.fixture
    def contract_feed(self, sandbox):
        counter = iter(range(1, 10_000))

        async def feed(n):
            for _ in range(n):
                k = next(counter)
                citizen = sandbox.user(self.platform, f"Warga {k}")
                if k % 2:
                    await sandbox.dm(self.platform, citizen, f"Lampu jalan mati di gang {k}", deliver=False)
                else:
                    await sandbox.comment(self.platform, citizen, f"Drainase tersumbat di blok {k}", deliver=False)
        return feed


class TestFacebookPull(_Pull):
    platform = "facebook"


class TestInstagramPull(_Pull):
    platform = "instagram"
