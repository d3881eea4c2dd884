"""The Meta channels: Facebook Page and Instagram (direct messages, comments, mentions) and what WhatsApp shares."""
