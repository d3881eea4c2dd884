"""The names a writer gives for themselves in the text ("saya Yusuf yang WA tadi", "Pelapor Zulkifli"): a
capitalised common word after "saya" is no name, or two strangers who both write "Saya Mohon …" are one citizen."""

from __future__ import annotations

import pytest

from router.dedup.features import _self_names

SELF_NAMES = [
    ("saya Yusuf yang WA tadi siang soal lampu mati", ["Yusuf"]),
    ("Hormat saya, Wawan", ["Wawan"]),
    ("Pelapor Zulkifli, RT 03", ["Zulkifli"]),
    ("Saya Mohon bantuan pak, air mati 3 hari", []),
    ("Saya Sudah WA kemarin tapi belum dibalas", []),
    ("Saya Mohon Bantuan segera", []),
]


@pytest.mark.parametrize(("text", "names"), SELF_NAMES)
def test_self_names(text, names):
    assert _self_names(text)[0] == names


SELF_REFERENCES = [
    ("saya Yusuf yang WA tadi siang soal lampu", True),
    ("saya Agus dari Sangkrah RT 03/RW 10 yang tadi malam telepon dan WA", True),
    ("saya minta nomor petugas yang bisa di WA", False),   # who can be reached is no report of one's own
    ("aku ngadu nang grup WA RT tapi ora ditanggapi", False),
]


@pytest.mark.parametrize(("text", "refers"), SELF_REFERENCES)
def test_the_writers_own_earlier_message(text, refers):
    from router.dedup.concepts import _SELF_REF

    assert bool(_SELF_REF.search(text)) == refers


SETTLED = [
    ("Terima kasih atas perbaikan atap kelas 5 kemarin. Namun toilet siswa rusak", True),
    # thanks in advance closing a new complaint: nothing was done yet
    ("Jalan berlubang di Jl Melati, sekarang makin parah. Mohon segera diperbaiki. Terima kasih atas penanganannya.",
     False),
]


@pytest.mark.parametrize(("text", "settled"), SETTLED)
def test_thanks_for_what_was_done_then_another_problem(text, settled):
    from router.dedup.concepts import FIXED

    assert bool(FIXED.search(text)) == settled
