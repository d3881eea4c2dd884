"""Shared by the grouping tests: a text's problem classes, and a stream of messages replayed through the index."""

from __future__ import annotations

from router.dedup.concepts import class_names, problem_mask
from router.dedup.config import DedupConfig
from router.dedup.features import make_features, stem
from router.dedup.index import DedupIndex, Lookup
from router.normalise import normalise, tokens

HOUR = 3600.0


def classes(text: str) -> list[str]:
    """The problem classes of a text as the grouping reads them."""
    return class_names(problem_mask(tokens(normalise(text)), stem))


class Stream:
    """Messages replayed in order through features → lookup → add, as the router and the eval do."""

    def __init__(self) -> None:
        self.index = DedupIndex(DedupConfig())
        self.n = 0

    def send(self, text: str, *, person: int, channel: str = "whatsapp", hours: float = 0.0,
             name: str | None = None, handle: str | None = None, agency: str | None = None,
             location: dict[str, str] | None = None) -> Lookup:
        self.n += 1
        f = make_features(tokens(normalise(text)), text, location=location, agency=agency, person=person,
                          channel=channel, ts=hours * HOUR, names=[name], handles=[handle])
        found = self.index.lookup(f)
        match = found.match
        root = match.root if match and match.level in ("resend", "cross_channel") else self.n
        self.index.add(f, self.n, root, None, joined=match)
        self.index.commit()
        return found

    def level(self, text: str, **kwargs) -> str:
        found = self.send(text, **kwargs)
        return found.match.level if found.match else "new"
