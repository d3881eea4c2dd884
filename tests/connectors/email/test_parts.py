"""Planning what of a large mail is read (BODYSTRUCTURE as imapclient returns it from Dovecot)."""

from __future__ import annotations

from imapclient.response_types import BodyData

from connectors.email.parts import PartLimits, assemble, items, leaves, plan

TEXT = (b"text", b"plain", (b"charset", b"utf-8"), None, None, b"7bit", 40, 1, None, None, None, None)
HTML = (b"text", b"html", (b"charset", b"utf-8"), None, None, b"7bit", 60, 1, None, None, None, None)
PHOTO = (b"image", b"jpeg", (b"name", b"foto.jpg"), None, None, b"base64", 4_000_000, None,
         (b"attachment", (b"filename", b"foto.jpg")), None, None)
LETTER = (b"application", b"pdf", (b"name", b"surat.pdf"), None, None, b"base64", 40_000, None,
          (b"attachment", (b"filename", b"surat.pdf")), None, None)
INNER = (b"message", b"rfc822", None, None, None, b"7bit", 500, (None,), TEXT, 10, None, None, None, None)
MAIL = BodyData.create([[BodyData.create([[TEXT, HTML], b"alternative", (b"boundary", b"b")]), PHOTO, LETTER, INNER],
                        b"mixed", (b"boundary", b"a")])


def test_sections_and_what_is_read():
    assert [(leaf.section, leaf.content_type, leaf.filename) for leaf in leaves(MAIL)] == [
        ("1.1", "text/plain", None), ("1.2", "text/html", None), ("2", "image/jpeg", "foto.jpg"),
        ("3", "application/pdf", "surat.pdf"), ("4", "message/rfc822", None)]
    limits = PartLimits(over=1000, max_attachment_bytes=1_000_000, attachment_types=("image/*", "application/pdf"))
    chosen = plan(MAIL, limits)
    assert [leaf.section for leaf in chosen.fetch] == ["1.1", "1.2", "3"]
    assert [(o.section, o.size, o.reason.split(":")[0]) for o in chosen.omitted] == [
        ("2", 3_000_000, "larger than 1000000 bytes"), ("4", 500, "type message/rfc822 not accepted")]
    assert items(chosen, limits) == [b"BODY.PEEK[1.1.MIME]", b"BODY.PEEK[1.1]", b"BODY.PEEK[1.2.MIME]",
                                     b"BODY.PEEK[1.2]", b"BODY.PEEK[3.MIME]", b"BODY.PEEK[3]"]


def test_a_single_part_mail_is_its_header_and_a_cut_body():
    big_text = (b"text", b"plain", (b"charset", b"utf-8"), None, None, b"8bit", 5_000_000, 9, None, None, None, None)
    limits = PartLimits(text_bytes=100)
    chosen = plan(big_text, limits)
    assert chosen.single and chosen.cut == {"1"} and items(chosen, limits) == [b"BODY.PEEK[1]<0.100>"]
    raw = assemble(b"From: a@b.id\r\nSubject: panjang\r\n\r\n", chosen, {b"BODY[1]<0>": b"x" * 100})
    assert raw == b"From: a@b.id\r\nSubject: panjang\r\n\r\n" + b"x" * 100


def test_the_parts_read_are_put_together_under_the_mails_header():
    chosen = plan(MAIL, PartLimits(attachment_types=("application/pdf",)))
    data = {b"BODY[1.1.MIME]": b"Content-Type: text/plain; charset=utf-8\r\n\r\n", b"BODY[1.1]": b"halo",
            b"BODY[1.2.MIME]": b"Content-Type: text/html\r\n\r\n", b"BODY[1.2]": b"<p>halo</p>",
            b"BODY[3.MIME]": b"Content-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n\r\n",
            b"BODY[3]": b"JVBERi0="}
    header = b"From: a@b.id\r\nSubject: besar\r\nContent-Type: multipart/mixed;\r\n boundary=a\r\n\r\n"
    raw = assemble(header, chosen, data)
    from connectors.email.parse import parse_message

    env = parse_message(raw, "INBOX/1/1")
    assert env.error is None and env.subject == "besar" and env.text == "halo"
    assert [(a.content_type, a.size) for a in env.attachments] == [("application/pdf", 5)]
    assert b"boundary=a" not in raw
