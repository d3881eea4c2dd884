"""A tweet's media into the attachment store: photos downloaded from the media CDN, videos kept as metadata."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import aiohttp

from connectors.x.config import XConfig
from omnichannel.attachments import keep_async, read_limited
from omnichannel.types import Attachment

log = logging.getLogger(__name__)


async def fetch_media(session: aiohttp.ClientSession, media: dict[str, Any], *, root: Path, config: XConfig,
                      where: str) -> Attachment:
    """Download a photo (no token: the CDN URL is public, and the API token must not travel to another host);
    a video or an animated GIF is kept as metadata, since X gives it as stream variants, not one file."""
    kind = str(media.get("type") or "media")
    key = str(media.get("media_key") or "x")
    att = Attachment(filename=f"{kind}-{key}.jpg" if kind == "photo" else f"{kind}-{key}")
    url = media.get("url")
    if kind != "photo" or not isinstance(url, str) or not url.startswith(("https://", "http://")):
        att.skipped_reason = f"{kind}: not downloaded (only photos are)"
        return att
    if not config.download_media:
        att.skipped_reason = "downloads disabled"
        return att
    limit = config.max_media_bytes
    try:
        async with session.get(url, allow_redirects=True, max_redirects=3) as resp:
            if resp.status >= 300:
                att.skipped_reason = f"media download failed: HTTP {resp.status}"
                return att
            data = await read_limited(resp.content, limit)
            declared = resp.headers.get("Content-Type")
    except (aiohttp.ClientError, TimeoutError) as exc:
        log.warning("%s: photo not fetched: %s", where, type(exc).__name__)
        att.skipped_reason = f"media download failed: {type(exc).__name__}"
        return att
    if len(data) > limit:
        att.skipped_reason = f"larger than {limit} bytes"
        return att
    return await keep_async(data, att.filename, declared, root=root, max_bytes=limit)
