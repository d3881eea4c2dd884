"""The Telegram channel: a bot (long polling or webhook) and its replies."""
