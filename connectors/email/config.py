"""Settings of the email connector (kind ``imap``): the IMAP mailbox it reads and the SMTP server it answers by.

Kept apart from ``connectors/email/connector.py`` so validating a config never imports imapclient.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator

from connectors.email.parts import PartLimits
from omnichannel.config import ConnectorConfig, Model

Security = Literal["none", "tls", "starttls"]

# what a citizen plausibly attaches: photos, scans, documents, short audio/video
DEFAULT_ATTACHMENT_TYPES = [
    "image/*", "application/pdf", "text/plain", "text/csv", "audio/*", "video/*",
    "application/msword", "application/vnd.openxmlformats-officedocument.*", "application/vnd.ms-excel",
    "application/vnd.oasis.opendocument.*", "application/zip",
]


class SmtpConfig(Model):
    """The SMTP server answers to citizens go out through (its own credentials)."""

    host: str
    port: int = Field(587, ge=1, le=65535)
    security: Security = "starttls"
    username: str | None = None
    password: SecretStr | None = Field(None, description="from the environment: ${SMTP_PASSWORD}")
    from_address: str = Field(description="the address citizens see and answer to, e.g. pengaduan@kab.go.id")
    from_name: str | None = Field(None, description='display name, e.g. "Layanan Pengaduan Kab. Contoh"')
    timeout: float = Field(30.0, gt=0)


class ImapConfig(ConnectorConfig):
    """One IMAP mailbox read as a complaint channel."""

    kind: Literal["imap"] = "imap"
    host: str
    port: int | None = Field(None, ge=1, le=65535, description="default 993 with tls, else 143")
    security: Security = "tls"
    username: str
    password: SecretStr = Field(description="from the environment: ${IMAP_PASSWORD}")
    timeout: float = Field(30.0, gt=0, description="seconds for connecting and for each IMAP command")
    folders: list[str] = Field(default_factory=lambda: ["INBOX"], min_length=1)
    batch_size: int = Field(200, gt=0, le=5000, description="messages per poll")
    parse_workers: int = Field(0, ge=0, le=16,
                               description="processes that fetch (own read-only IMAP login) and parse mail "
                                           "(0: the daemon does it); pays only with idle CPU cores: on a busy "
                                           "2-core host it was slower")
    prefetch: bool = Field(True, description="fetch and parse the next batch while the last one is stored")
    poll_interval: float = Field(5.0, gt=0, description="seconds between polls when IDLE is off or unavailable")
    idle: bool = Field(True, description="wait with IMAP IDLE when the server offers it")
    idle_timeout: float = Field(1500.0, gt=0, le=1740,
                                description="seconds one IDLE lasts before it is re-issued (RFC 2177: < 29 min); "
                                            "IDLE stays open all the time on a connection of its own per folder")
    ack: Literal["seen", "move"] = Field("seen", description="after the commit: set \\Seen, or MOVE away")
    processed_folder: str | None = Field(None, description="where ack: move puts processed mail")
    quarantine_folder: str | None = Field("Quarantine", description="where mail that cannot be processed goes")
    own_addresses: list[str] = Field(default_factory=list,
                                     description="our own addresses: mail from them is skipped (no loops)")
    max_message_bytes: int = Field(50 * 1024 * 1024, gt=0, description="larger mail is quarantined unread")
    read_in_parts_over: int = Field(1024 * 1024, gt=0,
                                    description="larger mail is read in parts (its text, and the attachments within "
                                                "max_attachment_bytes), so memory stays bounded by the limits")
    max_attachment_bytes: int = Field(10 * 1024 * 1024, ge=0, description="larger attachments: metadata only")
    attachment_types: list[str] = Field(default_factory=lambda: list(DEFAULT_ATTACHMENT_TYPES),
                                        description="MIME types whose content is saved (type/* allowed)")
    reconnect_attempts: int = Field(3, ge=0, description="reconnects inside one poll before giving up")
    smtp: SmtpConfig | None = Field(None, description="answers to citizens; none = this connector cannot reply")

    @field_validator("own_addresses")
    @classmethod
    def _lower(cls, value: list[str]) -> list[str]:
        return [v.strip().lower() for v in value if v.strip()]

    @model_validator(mode="after")
    def _consistent(self) -> ImapConfig:
        if self.ack == "move" and not self.processed_folder:
            raise ValueError("ack: move needs processed_folder")
        watched = set(self.folders)
        for key in ("processed_folder", "quarantine_folder"):
            if getattr(self, key) in watched:
                raise ValueError(f"{key} must not be one of the folders read")
        return self

    def part_limits(self) -> PartLimits:
        """When and how much of a large mail is read (``connectors.email.parts``)."""
        return PartLimits(over=self.read_in_parts_over, max_attachment_bytes=self.max_attachment_bytes,
                          attachment_types=tuple(self.attachment_types),
                          budget=max(self.read_in_parts_over, self.max_attachment_bytes + 1024 * 1024))

    @property
    def effective_port(self) -> int:
        """The port to connect to."""
        return self.port or (993 if self.security == "tls" else 143)
