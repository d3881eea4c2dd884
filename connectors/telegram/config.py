"""Settings of the Telegram connector (kind ``telegram``); importing this never imports the library."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr, model_validator

from omnichannel.config import ConnectorConfig, RequiredSecret

UPDATE_TYPES = ["message", "edited_message"]


class TelegramConfig(ConnectorConfig):
    """A Telegram bot that citizens write to (long polling by default, webhook as an alternative)."""

    kind: Literal["telegram"] = "telegram"
    token: RequiredSecret = Field(description="bot token from @BotFather, as ${TELEGRAM_BOT_TOKEN}")
    base_url: str = Field("https://api.telegram.org", description="Bot API server (the sandbox in tests)")
    mode: Literal["polling", "webhook"] = "polling"
    long_poll_timeout: float = Field(20.0, ge=0, le=50, description="getUpdates timeout in seconds")
    batch_size: int = Field(100, ge=1, le=100, description="getUpdates limit")
    allowed_updates: list[str] = Field(default_factory=lambda: list(UPDATE_TYPES))
    private_only: bool = Field(True, description="skip (with a reason) messages from groups and channels")
    max_file_bytes: int = Field(20 * 1024 * 1024, gt=0, description="larger photos/documents are not downloaded")
    download_files: bool = True
    request_timeout: float = Field(15.0, gt=0, description="timeout of every Bot API call besides the long poll")
    service_name: str = Field("Pemerintah Daerah", description="fills {pemda} in the /start help text")
    webhook_path: str | None = Field(None, description="route in webhook mode; default /webhooks/telegram/<name>")
    webhook_url: str | None = Field(None, description="public URL registered with setWebhook at start")
    webhook_secret: SecretStr | None = Field(None, description="X-Telegram-Bot-Api-Secret-Token, as ${VAR}")

    @model_validator(mode="after")
    def _consistent(self) -> TelegramConfig:
        if self.mode == "webhook" and not (self.webhook_secret and self.webhook_secret.get_secret_value().strip()):
            raise ValueError("webhook mode needs webhook_secret (1-256 characters A-Z a-z 0-9 _ -)")
        if self.mode == "polling" and self.long_poll_timeout + self.request_timeout >= self.poll_timeout:
            raise ValueError("long_poll_timeout + request_timeout must stay below poll_timeout")
        return self
