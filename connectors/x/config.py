"""Settings of the X (Twitter) connector; kept apart from ``connectors.x.connector`` so validating never imports tweepy."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, SecretStr, field_validator, model_validator

from omnichannel.config import ConnectorConfig

USER_CREDENTIALS = ("consumer_key", "consumer_secret", "access_token", "access_token_secret")


class XConfig(ConnectorConfig):
    """One X account: its mentions timeline and any number of recent-search queries; optional public replies."""

    kind: Literal["x"] = "x"
    bearer_token: SecretStr = Field(description="app bearer token (developer portal → project → keys)")
    consumer_key: SecretStr | None = Field(None, description="OAuth 1.0a user context, needed to post replies")
    consumer_secret: SecretStr | None = None
    access_token: SecretStr | None = None
    access_token_secret: SecretStr | None = None
    account_user_id: str | None = Field(None, pattern=r"^\d{1,20}$", description="resolved from the username if unset")
    account_username: str | None = Field(None, pattern=r"^@?[A-Za-z0-9_]{1,15}$")
    mentions: bool = Field(True, description="poll the account's mentions timeline")
    search_queries: list[str] = Field(default_factory=list, description="recent-search queries, e.g. #LaporWalikota")
    max_results: int = Field(100, ge=10, le=100, description="tweets per page")
    max_pages: int = Field(10, ge=1, le=100, description="pages per source per poll; the rest next poll")
    reply_mode: Literal["none", "public"] = Field("none", description="public: reply with the ref only")
    api_base_url: str = Field("https://api.twitter.com", description="the sandbox URL in tests and the demo")
    timeout: float = Field(30.0, gt=0, description="seconds per HTTP request")
    rate_limit_backoff_initial: float = Field(60.0, gt=0, description="first wait after a 429 without headers")
    rate_limit_backoff_max: float = Field(900.0, gt=0)
    download_media: bool = Field(True, description="download a tweet's photos into the attachment store")
    max_media_bytes: int = Field(16 * 1024 * 1024, gt=0, description="larger photos are kept as metadata only")

    @model_validator(mode="before")
    @classmethod
    def _acknowledge_follows_reply_mode(cls, data: Any) -> Any:
        # acknowledgements on X are public replies: without reply_mode public they could never be sent
        if isinstance(data, dict) and "acknowledge" not in data:
            data = {**data, "acknowledge": data.get("reply_mode") == "public"}
        return data

    @field_validator("account_username")
    @classmethod
    def _strip_at(cls, value: str | None) -> str | None:
        return value.lstrip("@") if value else value

    @field_validator("search_queries")
    @classmethod
    def _queries(cls, value: list[str]) -> list[str]:
        cleaned = [q.strip() for q in value]
        if any(not q or len(q) > 512 for q in cleaned):
            raise ValueError("each query must have 1 to 512 characters")
        if len(set(cleaned)) != len(cleaned):
            raise ValueError("queries must be distinct")
        return cleaned

    @field_validator("api_base_url")
    @classmethod
    def _base_url(cls, value: str) -> str:
        if not value.startswith(("https://", "http://")) or "?" in value:
            raise ValueError("use https://host[:port] (no path)")
        return value.rstrip("/")

    @model_validator(mode="after")
    def _consistent(self) -> XConfig:
        if not self.mentions and not self.search_queries:
            raise ValueError("nothing to poll: enable mentions or give search_queries")
        if not self.account_user_id and not self.account_username:
            raise ValueError("give account_username or account_user_id (mentions and own posts need it)")
        given = [name for name in USER_CREDENTIALS if getattr(self, name) is not None]
        if given and len(given) != len(USER_CREDENTIALS):
            raise ValueError(f"OAuth 1.0a needs all of {', '.join(USER_CREDENTIALS)}")
        if self.reply_mode == "public" and not given:
            raise ValueError(f"reply_mode public needs the OAuth 1.0a user credentials {', '.join(USER_CREDENTIALS)}")
        if self.acknowledge and self.reply_mode == "none":
            raise ValueError("acknowledge needs reply_mode public (acknowledgements on X are public replies)")
        return self

    def has_user_context(self) -> bool:
        """True when the OAuth 1.0a user credentials are all given."""
        return all(getattr(self, name) is not None for name in USER_CREDENTIALS)
