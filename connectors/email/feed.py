"""``email.feedparser.FeedParser`` for a message that is all there: the same steps, bodies found with ``str.find``.

FeedParser reads line by line through nested generators, a push-back buffer and a stack of "end of
part" matchers that every line is tested against: a 30 KB photo is 400 base64 lines, each a
``readline``, a boundary test and a list append. A mail that is fetched whole needs none of that
for the body of a leaf part: it runs up to the first line that starts a boundary in force, which
``str.find`` locates. This module is Python 3.11's ``FeedParser._parsegen`` step by step over a
string position (headers, preamble, boundaries and epilogue still go line by line), so it builds the
same tree (headers, payloads, preamble, epilogue, defects) that ``FeedParser(factory,
policy=compat32)`` builds for the same text. What it does not model exactly (a message/delivery-status
part, a misplaced mbox ``From`` line at the end of a header block, a boundary line followed by the end
of its part, a boundary containing a line break, runaway nesting) raises ``Unsupported`` and the
caller uses FeedParser itself. ``tests/connectors/email/test_feed.py`` compares both trees on the
shared corpus.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from email import errors
from email.message import Message
from email.policy import compat32

from connectors.email.mime import BoundaryPattern, CachedMessage, feedparser_tree

_HEADER = re.compile(r"^(From |[\041-\071\073-\176]*:|[\t ])")   # feedparser.headerRE
_NEWLINE = re.compile(r"\r\n|\r|\n")                             # feedparser.NLCRE (used with .match)
_BOL = re.compile(r"(\r\n|\r|\n)")                               # feedparser.NLCRE_bol (used with .match)
_PLAIN_ENCODINGS = ("7bit", "8bit", "binary")


class Unsupported(Exception):
    """This message takes a path the port does not model: parse it with FeedParser."""


class _Input:
    """The text with a read position and the boundaries that end the current part (FeedParser's input)."""

    __slots__ = ("ends", "pos", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.ends: list[BoundaryPattern] = []

    def _line_end(self, pos: int) -> int:
        """Where the line at ``pos`` ends, after its \\r\\n, \\r or \\n (two finds: cheaper than a regex)."""
        text = self.text
        newline = text.find("\n", pos)
        carriage = text.find("\r", pos, len(text) if newline < 0 else newline)
        if carriage < 0:
            return len(text) if newline < 0 else newline + 1
        return carriage + 2 if carriage + 1 == newline else carriage + 1

    def readline(self) -> str:
        """The next line with its line break; '' at the end of the text or of the current part."""
        pos = self.pos
        if pos >= len(self.text):
            return ""
        end = self._line_end(pos)
        line = self.text[pos:end]
        for pattern in self.ends:
            if pattern.match(line):
                return ""
        self.pos = end
        return line

    def read_rest(self) -> str:
        """Every line up to the end of the current part, joined (one ``find`` per boundary in force)."""
        text, start = self.text, self.pos
        stop = len(text)
        for pattern in self.ends:
            separator = pattern.separator
            found = text.find(separator, start, stop)
            while found >= 0:
                if (found == start or text[found - 1] in "\r\n") and pattern.match(
                        text[found:self._line_end(found)]):
                    stop = found
                    break
                found = text.find(separator, found + 1, stop)
        self.pos = stop
        return text[start:stop]


class _Parser:
    """One parse; the attribute names follow FeedParser's (``cur``, ``last``, ``stack``)."""

    def __init__(self, text: str, factory: Callable[..., Message]) -> None:
        self.input = _Input(text)
        self.factory = factory
        self.stack: list[Message] = []
        self.cur: Message | None = None
        self.last: Message | None = None

    def new_message(self) -> None:
        msg = self.factory(policy=compat32)
        if self.cur and self.cur.get_content_type() == "multipart/digest":  # `if self.cur`: as FeedParser
            msg.set_default_type("message/rfc822")
        if self.stack:
            self.stack[-1].attach(msg)
        self.stack.append(msg)
        self.cur = msg
        self.last = msg

    def pop_message(self) -> Message:
        msg = self.stack.pop()
        self.cur = self.stack[-1] if self.stack else None
        return msg

    def parse_part(self) -> None:
        self.new_message()
        cur, source = self.cur, self.input
        headers = []
        while True:
            start = source.pos
            line = source.readline()
            if not line:
                break
            if not _HEADER.match(line):
                if not _NEWLINE.match(line):
                    cur.defects.append(errors.MissingHeaderBodySeparatorDefect())
                    source.pos = start
                break
            headers.append(line)
        self.parse_headers(headers)
        ctype = cur.get_content_type()
        if ctype == "message/delivery-status":
            raise Unsupported("message/delivery-status")
        maintype = cur.get_content_maintype()
        if maintype == "message":
            self.parse_part()
            self.pop_message()
            return
        if maintype == "multipart":
            self.parse_multipart(cur)
            return
        cur.set_payload(source.read_rest())

    def parse_multipart(self, cur: Message) -> None:
        source = self.input
        boundary = cur.get_boundary()
        if boundary is None:
            cur.defects.append(errors.NoBoundaryInMultipartDefect())
            cur.set_payload(source.read_rest())
            return
        if str(cur.get("content-transfer-encoding", "8bit")).lower() not in _PLAIN_ENCODINGS:
            cur.defects.append(errors.InvalidMultipartContentTransferEncodingDefect())
        separator = "--" + boundary
        if "\r" in separator or "\n" in separator:
            raise Unsupported("line break in a boundary")
        boundary_line = BoundaryPattern(separator).match
        in_preamble = True
        preamble: list[str] = []
        linesep: str | None = None
        closed = False
        while True:
            start = source.pos
            line = source.readline()
            if not line:
                break
            found = boundary_line(line)
            if not found:
                if not in_preamble:
                    raise Unsupported("text between parts")  # FeedParser fails an assertion here
                preamble.append(line)
                continue
            if found.group("end"):
                closed = True
                linesep = found.group("linesep")
                break
            if in_preamble:
                if preamble:
                    preamble[-1] = _without_eol(preamble[-1])
                    cur.preamble = "".join(preamble)
                in_preamble = False
                source.pos = start
                continue
            while True:  # more boundary lines in a row open no part
                start = source.pos
                line = source.readline()
                if not line:
                    raise Unsupported("a boundary line ends its part")  # FeedParser pushes back ''
                if not boundary_line(line):
                    source.pos = start
                    break
            source.ends.append(BoundaryPattern(separator))
            self.parse_part()
            self.trim_last()
            source.ends.pop()
            self.pop_message()
            self.last = self.cur
        if in_preamble:
            cur.defects.append(errors.StartBoundaryNotFoundDefect())
            cur.set_payload("".join(preamble))
            source.read_rest()
            cur.epilogue = ""
            return
        if not closed:
            cur.defects.append(errors.CloseBoundaryNotFoundDefect())
            return
        rest = source.read_rest()
        if not linesep:
            first = _BOL.match(rest)
            if first:
                rest = rest[len(first.group(0)):]
        cur.epilogue = rest

    def trim_last(self) -> None:
        """The line break before a boundary belongs to the boundary (RFC 2046), not to the part before it."""
        last = self.last
        if last.get_content_maintype() == "multipart":
            epilogue = last.epilogue
            if epilogue == "":
                last.epilogue = None
            elif epilogue is not None:
                last.epilogue = _without_eol(epilogue)
        else:
            payload = last._payload
            if isinstance(payload, str):
                last._payload = _without_eol(payload)

    def parse_headers(self, lines: list[str]) -> None:
        cur = self.cur
        name = ""
        value: list[str] = []
        for number, line in enumerate(lines):
            if line[0] in " \t":
                if not name:
                    cur.defects.append(errors.FirstHeaderLineIsContinuationDefect(line))
                    continue
                value.append(line)
                continue
            if name:
                cur.set_raw(*compat32.header_source_parse(value))
                name, value = "", []
            if line.startswith("From "):
                if number == 0:
                    cur.set_unixfrom(_without_eol(line))
                    continue
                if number == len(lines) - 1:
                    raise Unsupported("mbox From line ends the header block")
                cur.defects.append(errors.MisplacedEnvelopeHeaderDefect(line))
                continue
            colon = line.find(":")
            if colon == 0:
                cur.defects.append(errors.InvalidHeaderDefect("Missing header name."))
                continue
            name = line[:colon]
            value = [line]
        if name:
            cur.set_raw(*compat32.header_source_parse(value))


def _without_eol(text: str) -> str:
    """``text`` less one final line break (FeedParser: ``NLCRE_eol.search``, which scans the whole text)."""
    if text.endswith("\r\n"):
        return text[:-2]
    return text[:-1] if text.endswith(("\r", "\n")) else text


def parse_text(text: str, factory: Callable[..., Message]) -> Message:
    """The tree ``FeedParser(factory, policy=compat32)`` makes of ``text``; raises ``Unsupported``."""
    parser = _Parser(text, factory)
    try:
        parser.parse_part()
    except RecursionError as exc:
        raise Unsupported("nested too deeply") from exc
    root = parser.pop_message()
    if root.get_content_maintype() == "multipart" and not root.is_multipart():
        root.defects.append(errors.MultipartInvariantViolationDefect())
    return root


def parse_bytes(data: bytes) -> Message:
    """``BytesParser(CachedMessage, policy=compat32).parsebytes(data)``: this port when it models the
    message, else FeedParser."""
    text = data.decode("ascii", "surrogateescape")
    try:
        return parse_text(text, CachedMessage)
    except Unsupported:
        return feedparser_tree(text)
