"""Settings every Meta connector shares (WhatsApp Cloud API, Facebook Page, Instagram): Graph API and webhook limits."""

from __future__ import annotations

from pydantic import Field

from omnichannel.config import ConnectorConfig


class GraphApiConfig(ConnectorConfig):
    """The Graph API a Meta connector answers through, and what its webhook and media downloads accept.

    A connector lists its webhook and account keys first in the reference: it declares them on a base that
    comes after this one, ``class WhatsAppConfig(GraphApiConfig, WhatsAppAccount)``, since pydantic orders
    fields from the last base to the first. That base declares only new keys: a key both bases inherit
    (``kind``, ``poll_interval``) is taken from this one, so the connector's own class overrides those.
    """

    graph_base_url: str = "https://graph.facebook.com"
    graph_version: str = Field("v21.0", pattern=r"^v\d+\.\d+$")
    max_body_bytes: int = Field(1_048_576, gt=0, description="larger webhook bodies are refused (413)")
    max_media_bytes: int = Field(16 * 1024 * 1024, gt=0, description="larger media are not downloaded")
    download_media: bool = True
    request_timeout: float = Field(15.0, gt=0)
    window_hours: float = Field(24.0, gt=0, description="customer-service window for free-form replies")
