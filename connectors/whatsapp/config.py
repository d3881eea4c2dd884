"""Settings of the WhatsApp Cloud API connector (kind ``whatsapp``)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from connectors.meta.graph_settings import GraphApiConfig
from omnichannel.config import ConnectorConfig, RequiredSecret


class WhatsAppAccount(ConnectorConfig):
    """The webhook and the number: the keys the reference lists before the Graph API settings."""

    path: str | None = Field(None, description="webhook route; default /webhooks/whatsapp/<name>")
    verify_token: RequiredSecret = Field(description="the token typed into the Meta app's webhook settings")
    app_secret: RequiredSecret = Field(description="the Meta app secret that signs deliveries (X-Hub-Signature-256)")
    access_token: RequiredSecret = Field(description="system user access token for the Graph API")
    phone_number_id: str = Field(pattern=r"^\d{5,20}$")


class WhatsAppConfig(GraphApiConfig, WhatsAppAccount):
    """A WhatsApp Business number on the Cloud API: webhook intake plus replies through the Graph API."""

    kind: Literal["whatsapp"] = "whatsapp"
    reply_template: str | None = Field(None, description="approved template sent outside the window")
    reply_template_language: str = "id"
    reply_template_params: list[str] = Field(default_factory=lambda: ["complaint"],
                                             description="reply payload keys filled into the template body")
    retry_after: float = Field(60.0, gt=0, description="seconds to wait after a throughput error (130429)")
