"""The WhatsApp channel: WhatsApp Cloud API webhooks and replies."""
