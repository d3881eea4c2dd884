"""The FeedParser port builds the stdlib's tree: compared part by part on the shared corpus and on edge cases."""

from __future__ import annotations

from email.message import Message

import pytest

from connectors.email import feed as mail_feed
from connectors.email.mime import CachedMessage, feedparser_tree
from tests.conftest import SHARED_TESTDATA

CORPUS = SHARED_TESTDATA / "mail"


def shape(msg: Message) -> tuple:
    """Everything FeedParser decides about a tree, comparable with ``==``."""
    payload = msg._payload
    children = tuple(shape(p) for p in payload) if isinstance(payload, list) else payload
    return (type(msg).__name__, msg.get_unixfrom(), tuple(msg._headers), msg.get_default_type(),
            msg.preamble, msg.epilogue, tuple((type(d).__name__, str(d)) for d in msg.defects), children)


def port(text: str) -> tuple | None:
    try:
        return shape(mail_feed.parse_text(text, CachedMessage))
    except mail_feed.Unsupported:
        return None


EDGE_CASES = [
    "",
    "no header at all\r\n",
    "Subject: only headers",
    "Subject: x\r\n\r\nbody without final newline",
    "Subject: x\r\nnot a header line\r\nbody\r\n",
    " folded first\r\nSubject: x\r\n\r\nb\r\n",
    ": no name\r\nSubject: x\r\n\r\nb\r\n",
    "From someone Mon Jan 1\r\nSubject: x\r\nFrom misplaced\r\nTo: a@b\r\n\r\nb\r\n",
    "Subject: x\rTo: bare-cr@example.id\r\rbody\rwith\rCRs\r",
    "Content-Type: multipart/mixed\r\n\r\nno boundary\r\n",
    'Content-Type: multipart/mixed; boundary="b"\r\n\r\nonly preamble\r\n',
    'Content-Type: multipart/mixed; boundary="b"\r\n\r\npre\r\n--b\r\n\r\npart\r\n',
    'Content-Type: multipart/mixed; boundary="b"\r\nContent-Transfer-Encoding: base64\r\n\r\n--b\r\n\r\np\r\n--b--',
    'Content-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\n--b\r\nX: 1\r\n\r\np\r\n--b--\r\nepi\r\n',
    'Content-Type: multipart/mixed; boundary="b"\r\n\r\n--b  \r\n\r\np\r\n--b--\t\r\n\r\nepi\r\n',
    'Content-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\nContent-Type: multipart/alternative; boundary="c"\r\n'
    '\r\n--c\r\n\r\nplain\r\n--c\r\nContent-Type: text/html\r\n\r\n<p>x</p>\r\n--b\r\n\r\nafter\r\n--b--\r\n',
    'Content-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\nContent-Type: message/rfc822\r\n\r\n'
    'Subject: inner\r\n\r\ninner body\r\n--b--\r\n',
    'Content-Type: multipart/digest; boundary="d"\r\n\r\n--d\r\n\r\nSubject: in digest\r\n\r\nx\r\n--d--\r\n',
    'Content-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\n\r\nx--b\r\n --b\r\n--bx\r\n--b--\r\n',
    'Content-Type: multipart/mixed; boundary="b"\n\n--b\n\nlf only\n--b--\n',
]


@pytest.mark.parametrize("text", EDGE_CASES)
def test_port_builds_the_stdlib_tree(text):
    assert port(text) in (None, shape(feedparser_tree(text)))


@pytest.mark.skipif(not CORPUS.is_dir(), reason=f"the shared mail corpus is not here ({CORPUS})")
def test_port_builds_the_stdlib_tree_for_the_corpus():
    files = [p for p in sorted(CORPUS.rglob("*")) if p.is_file() and p.name not in ("INDEX.tsv", "SOURCES.md")]
    unsupported = 0
    for path in files:
        text = path.read_bytes().decode("ascii", "surrogateescape")
        got = port(text)
        unsupported += got is None
        assert got is None or got == shape(feedparser_tree(text)), path
    assert unsupported < len(files) // 10  # the port is the usual path, not the exception
