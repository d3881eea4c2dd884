"""Settings of the three deduplication levels and of the near-duplicate index (``dedup:`` in config)."""

from __future__ import annotations

from pydantic import Field, model_validator

from omnichannel.config import Model


class LevelConfig(Model):
    """One dedup level: the similarity a candidate must reach and how far back it may look."""

    threshold: float = Field(ge=0.0, le=1.0, description="minimum similarity (0..1) to merge")
    window_days: float = Field(gt=0, description="only complaints this recent (by received time) match")


class DedupConfig(Model):
    """Three levels (resend, cross_channel, incident), each with its threshold and window, plus LSH knobs."""

    enabled: bool = True
    # 0.60 from tests/data/dedup_labelled.jsonl: the highest pair of two different complaints of one reporter
    # (letters sharing greeting, address and sign-off) scored 0.599, the lowest resend kept 0.606
    # 14 days: an unanswered complaint is recalled for weeks ("surat ketiga kami … surat 4 dan 7 Mei"); a
    # problem that is back after a quiet spell ("banjir lagi") is told apart by recurrence_days instead
    resend: LevelConfig = Field(default_factory=lambda: LevelConfig(threshold=0.60, window_days=14))
    cross_channel: LevelConfig = Field(default_factory=lambda: LevelConfig(threshold=0.55, window_days=14))
    incident: LevelConfig = Field(default_factory=lambda: LevelConfig(threshold=0.45, window_days=14))
    place_weight: float = Field(0.3, ge=0.0, le=1.0,
                                description="share of the incident similarity given by an agreeing place")
    problem_weight: float = Field(0.2, ge=0.0, le=1.0,
                                  description="share of the incident similarity given by a shared problem class "
                                              "(router.dedup.concepts: a leak is a leak in any words)")
    unknown_problem: float = Field(0.25, ge=0.0, le=1.0,
                                   description="the share of the problem weight given when one side's problem "
                                               "class is unknown and the rules chose one agency for both (a "
                                               "vocabulary gap is weak evidence: 0.5 merged look-alikes)")
    recurrence_days: float = Field(3.0, ge=0.0,
                                   description="a message saying the problem is back (lagi, deui, kembali) this "
                                               "many days or more after a complaint is a new occurrence, not a reminder")
    identity_links: bool = Field(True, description="link one citizen's messages on two channels without a shared "
                                                   "contact: a name or handle that meets, a self-reference or the "
                                                   "same place and problem")
    num_perm: int = Field(32, ge=4, le=512, description="MinHash permutations")
    bands: int = Field(16, ge=1, description="LSH bands")
    rows: int = Field(2, ge=1, description="rows (permutations) per band")
    bucket_whole: int = Field(64, ge=1, description="LSH buckets up to this size are read whole")
    bucket_cap: int = Field(8, ge=1, description="newest entries read from a larger (crowded) LSH bucket")
    max_candidates: int = Field(8, ge=1, description="candidates verified exactly per lookup")
    per_person: int = Field(16, ge=1, description="recent complaints kept per person for resend checks")
    compact_ratio: float = Field(0.25, gt=0, description="merge the insert buffer when it reaches this share")
    seed: int = 20260417

    @model_validator(mode="after")
    def _bands_fit(self) -> DedupConfig:
        if self.bands * self.rows > self.num_perm:
            raise ValueError(f"bands * rows ({self.bands * self.rows}) exceeds num_perm ({self.num_perm})")
        return self

    def max_window_days(self) -> float:
        """The longest window of the three levels (how much history the index keeps)."""
        return max(self.resend.window_days, self.cross_channel.window_days, self.incident.window_days)
