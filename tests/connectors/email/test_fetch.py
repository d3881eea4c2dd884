"""The FETCH shortcut against a real Dovecot: what imapclient answers, or imapclient's own parser."""

from __future__ import annotations

from imapclient.imapclient import join_message_ids, seq_to_parenstr_upper
from imapclient.response_parser import parse_fetch_response

from connectors.email import fetch as imap_fetch
from tests.connectors.email import dovecot
from tests.connectors.email.test_connector import complaint

dovecot_server = dovecot.dovecot_server  # pytest fixtures
mailbox = dovecot.mailbox
ITEMS = [b"RFC822.SIZE", b"INTERNALDATE", b"BODY.PEEK[]<0.100001>"]


def raw_fetch_response(client, uids: list[int]) -> list:
    """The untagged FETCH data imaplib collected, before any parsing."""
    imap = client._imap
    tag = imap._command("UID", "FETCH", join_message_ids(uids), seq_to_parenstr_upper(ITEMS))
    typ, data = imap._command_complete("FETCH", tag)
    return imap._untagged_response(typ, data, "FETCH")[1]


def test_fetch_shortcut_answers_what_imapclient_answers(mailbox):
    mailbox.append([complaint(i) for i in range(30)] + [b"Subject: x\r\n\r\n" + b"y" * 200_000])
    client, other = mailbox.client(), mailbox.client()
    try:
        client.select_folder("INBOX")
        uids = client.search(["ALL"])
        assert imap_fetch.fetch(client, uids, ITEMS) == client.fetch(uids, ITEMS)
        assert imap_fetch.fetch(client, uids[:2] + [9999], ITEMS) == client.fetch(uids[:2] + [9999], ITEMS)
        usual = raw_fetch_response(client, uids)
        assert imap_fetch._parse(usual, False) == parse_fetch_response(usual, False, True)
        other.select_folder("INBOX")
        other.add_flags(uids[3:5], [b"\\Flagged"])          # unsolicited FETCH FLAGS: left to imapclient
        unusual = raw_fetch_response(client, uids)
        assert imap_fetch._parse(unusual, False) is None
    finally:
        client.logout()
        other.logout()


def test_the_protocol_trace_is_built_only_for_a_logger_that_keeps_it(mailbox, caplog):
    """imaplib formats every line and literal of the trace imapclient turns on; the session turns it off while
    ``imapclient.imaplib`` would drop it, and leaves it on (the mails in the DEBUG log) when that logger keeps it."""
    import logging
    import threading

    from connectors.email.session import ImapSession
    from tests.connectors.email.test_connector import make_config

    mailbox.append([complaint(1)])
    traced: list[str] = []

    def run() -> int:
        session = ImapSession(make_config(mailbox), threading.Event())
        session.connect()
        try:
            session.client._imap._mesg = traced.append  # what imaplib hands the logger, formatted or not
            session.select("INBOX")
            session.fetch(session.uids_after(0), 1_000_000, None)
            return session.client._imap.debug
        finally:
            session.close()

    caplog.set_level(logging.INFO, logger="imapclient.imaplib")
    assert run() == 0 and traced == []
    caplog.set_level(logging.DEBUG, logger="imapclient.imaplib")
    assert run() == 5 and any("Jalan" in line or "FETCH" in line for line in traced)
