"""Settings of the Facebook Page (kind ``facebook``) and Instagram (kind ``instagram``) connectors.

Where each credential comes from (Meta app dashboard, developers.facebook.com → your app):

- ``app_secret``: App settings → Basic → App secret; it signs every webhook delivery.
- ``verify_token``: any string you choose and type into Webhooks → Page / Instagram → Callback URL.
- ``access_token``: a Page access token (a system user's token in Business settings, with
  ``pages_messaging``, ``pages_read_engagement``, ``pages_manage_metadata``, ``pages_manage_engagement``;
  for Instagram also ``instagram_basic``, ``instagram_manage_messages``, ``instagram_manage_comments``).
- ``page_id``: the Page's id (Page → About → Page transparency, or ``GET /me`` with the Page token).
- ``instagram_account_id``: the Instagram professional account linked to that Page
  (``GET /{page-id}?fields=instagram_business_account``).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from connectors.meta.graph_settings import GraphApiConfig
from omnichannel.config import ConnectorConfig, RequiredSecret


class MetaAccount(ConnectorConfig):
    """The webhook and the Page: the keys the reference lists before the Graph API settings."""

    path: str | None = Field(None, description="webhook route; default /webhooks/<kind>/<name>")
    verify_token: RequiredSecret = Field(description="the token typed into the Meta app's webhook settings")
    app_secret: RequiredSecret = Field(description="the Meta app secret that signs deliveries (X-Hub-Signature-256)")
    access_token: RequiredSecret = Field(description="Page access token for the Graph API")
    page_id: str = Field(pattern=r"^\d{5,25}$", description="the Facebook Page (for Instagram: the linked Page)")


class MetaConfig(GraphApiConfig, MetaAccount):
    """What the Facebook and Instagram connectors share: webhook, Graph API, replies and catch-up."""

    # the Messenger Platform's own words for two of the shared settings
    max_media_bytes: int = Field(16 * 1024 * 1024, gt=0, description="larger attachments are not downloaded")
    window_hours: float = Field(24.0, gt=0, description="standard messaging window after the citizen's last message")
    human_agent_tag: bool = Field(False, description="the app has Human Agent permission: answer up to 7 days "
                                                     "after the citizen's last message with the HUMAN_AGENT tag")
    human_agent_days: float = Field(7.0, gt=0)
    comment_replies: Literal["public_and_private", "private", "none"] = Field(
        "public_and_private", description="answer a comment with a short public reply (ref only) and a private "
                                          "message with the details; or privately only; or not at all")
    catch_up: bool = Field(True, description="after downtime, read conversations and comments that arrived "
                                             "meanwhile through the Graph API (checkpointed)")
    catch_up_lookback_hours: float = Field(24.0, gt=0, description="how far back the very first catch-up reads")
    catch_up_posts: int = Field(25, gt=0, le=100, description="recent posts / media whose comments catch-up reads")
    batch_size: int = Field(100, gt=0, le=1000, description="most envelopes one catch-up poll returns")
    retry_after: float = Field(60.0, gt=0, description="seconds to wait after a rate-limit error without a hint")
    poll_interval: float = Field(300.0, gt=0, description="seconds between catch-up polls")


class FacebookConfig(MetaConfig):
    """A Facebook Page: Messenger conversations, comments on the Page's posts, mentions of the Page."""

    kind: Literal["facebook"] = "facebook"


class InstagramConfig(MetaConfig):
    """An Instagram professional account linked to a Page: DMs, comments on its media, @mentions."""

    kind: Literal["instagram"] = "instagram"
    instagram_account_id: str = Field(pattern=r"^\d{5,25}$", description="the Instagram professional account id")
