"""The X (Twitter) channel: mentions, searches and direct messages through the X API v2."""
