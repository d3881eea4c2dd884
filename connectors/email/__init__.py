"""The email channel: an IMAP mailbox read as a complaint channel, replies by SMTP."""
