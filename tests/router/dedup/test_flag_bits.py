"""The reference flags of router.dedup.concepts are distinct bits: two branches once chose the same bit for two
flags (HABITUAL and FRESH in stop 30), which only a reading of the merge caught."""

from __future__ import annotations

from router.dedup import concepts

FLAGS = ("SELF_REF", "AGAIN", "FOLLOW", "OTHER", "LASTING", "ALSO", "RECUR", "SETTLED", "SHORT", "FRESH",
         "SETTLED_BUT", "HABITUAL")


def test_reference_flags_are_distinct_single_bits():
    values = [getattr(concepts, name) for name in FLAGS]
    assert all(v > 0 and v & (v - 1) == 0 for v in values), dict(zip(FLAGS, values, strict=True))
    assert len(set(values)) == len(values), dict(zip(FLAGS, values, strict=True))
    # the stored ones fit the index's int16 flag array
    assert max(values) < 1 << 15
