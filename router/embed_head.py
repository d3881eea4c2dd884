"""A learned layer over sentence embeddings (the ``embed`` extra): kind and agency from a text's e5 vector.

Two softmax heads on the 384 numbers of a text's passage embedding, fitted like ``router.model``'s (full
batch gradient descent from zeros, classes weighed alike, a temperature fitted on two fixed folds), on the
same rows: every labelled city's routing messages and every agency's remit. It is small (a few
thousand numbers) and is written beside the model by ``omnichannel train --embeddings``
(``router/data/embed_head.npz``); the training texts' vectors themselves stay in the embedder's cache.

The classifier consults it exactly where it consults the n-gram model (where the rules are weak) and
mixes the two beliefs (``routing.embeddings.weight``): a text in words the n-grams never saw can still land
near the messages and remits of its agency and kind.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from router.config import KINDS
from router.model import descend

HEAD_PATH = Path(__file__).with_name("data") / "embed_head.npz"
_TEMPERATURES = (0.25, 0.35, 0.5, 0.7, 1.0, 1.4, 2.0, 3.0)


@dataclass
class DenseHead:
    """One softmax layer over a dense vector: labels, weights (dim × labels), bias, temperature."""

    labels: list[str]
    weights: np.ndarray
    bias: np.ndarray
    temperature: float = 1.0

    def probabilities(self, x: np.ndarray) -> np.ndarray:
        """Calibrated class probabilities of one or many vectors."""
        logits = (x.astype(np.float32) @ self.weights + self.bias) / self.temperature
        logits = logits - logits.max(axis=-1, keepdims=True)
        exp = np.exp(logits)
        return exp / exp.sum(axis=-1, keepdims=True)


def _fit(x: np.ndarray, y: np.ndarray, n_labels: int, epochs: int = 300, rate: float = 4.0,
         l2: float = 1e-3) -> tuple[np.ndarray, np.ndarray]:
    """Multinomial logistic regression by full-batch gradient descent from zeros (deterministic)."""
    w, b = descend(x.astype(np.float64), y, n_labels, epochs, rate, l2)
    return w.astype(np.float32), b.astype(np.float32)


def _calibrate(head: DenseHead, x: np.ndarray, y: np.ndarray) -> float:
    best, best_loss = 1.0, float("inf")
    for temperature in _TEMPERATURES:
        head.temperature = temperature
        p = head.probabilities(x)
        loss = -float(np.mean(np.log(p[np.arange(len(y)), y] + 1e-9)))
        if loss < best_loss:
            best, best_loss = temperature, loss
    return best


@dataclass
class EmbeddingHead:
    """The kind and agency heads over embeddings, and the mean vector they were centred on."""

    kind: DenseHead
    agency: DenseHead
    centre: np.ndarray
    sources: dict[str, Any]

    def predict(self, vector: np.ndarray) -> tuple[dict[str, float], dict[str, float]]:
        """(kind → probability, agency → probability) of one embedding."""
        x = (vector.astype(np.float32) - self.centre) * _SCALE
        kind = self.kind.probabilities(x)
        agency = self.agency.probabilities(x)
        return (dict(zip(self.kind.labels, kind.tolist(), strict=True)),
                dict(zip(self.agency.labels, agency.tolist(), strict=True)))

    def save(self, path: Path) -> None:
        """Write the heads as one compressed .npz."""
        meta = {"kind_labels": self.kind.labels, "agency_labels": self.agency.labels,
                "kind_temperature": self.kind.temperature, "agency_temperature": self.agency.temperature,
                "sources": self.sources}
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as handle:
            np.savez_compressed(handle, kind_weights=self.kind.weights, kind_bias=self.kind.bias,
                                agency_weights=self.agency.weights, agency_bias=self.agency.bias,
                                centre=self.centre,
                                meta=np.frombuffer(json.dumps(meta, sort_keys=True).encode("utf-8"), dtype=np.uint8))

    @classmethod
    def load(cls, path: Path) -> EmbeddingHead:
        """Read heads written by ``save``."""
        with np.load(path) as data:
            meta = json.loads(bytes(data["meta"]).decode("utf-8"))
            kind = DenseHead(meta["kind_labels"], data["kind_weights"], data["kind_bias"], meta["kind_temperature"])
            agency = DenseHead(meta["agency_labels"], data["agency_weights"], data["agency_bias"],
                               meta["agency_temperature"])
            return cls(kind, agency, data["centre"], meta["sources"])


# centred e5 vectors have entries of about 0.02: scaled so that the optimiser's step suits them
_SCALE = 20.0


def train_head(rows: list[dict[str, Any]], vectors: np.ndarray, remits: list[dict[str, str]],
               remit_vectors: np.ndarray, sources: dict[str, Any] | None = None) -> EmbeddingHead:
    """Heads from labelled rows (``text``, ``kind``, ``agency``) with their vectors, and remits with theirs."""
    order = sorted(range(len(rows)), key=lambda i: (str(rows[i].get("id", "")), rows[i]["text"]))
    rows = [rows[i] for i in order]
    x = vectors[order].astype(np.float32)
    centre = x.mean(axis=0) if len(x) else np.zeros(vectors.shape[1], dtype=np.float32)
    # e5 vectors share a large common direction (any two complaints have a cosine of 0.8 to 0.95): centred on
    # the training texts' mean, the features are what differs between texts
    x = (x - centre) * _SCALE
    kind_labels = [k for k in KINDS if any(r["kind"] == k for r in rows)]
    agency_labels = sorted({r["agency"] for r in rows} | {r["code"] for r in remits if r.get("remit")})
    remit_order = sorted((i for i, r in enumerate(remits) if r.get("remit")),
                         key=lambda i: (remits[i]["code"], remits[i]["remit"]))
    agency_x = np.vstack([x, (remit_vectors[remit_order].astype(np.float32) - centre) * _SCALE]) \
        if remit_order else x
    agency_y = np.array([agency_labels.index(r["agency"]) for r in rows]
                        + [agency_labels.index(remits[i]["code"]) for i in remit_order])
    kind_y = np.array([kind_labels.index(r["kind"]) for r in rows])
    heads = []
    for labels, feats, y in ((kind_labels, x, kind_y), (agency_labels, agency_x, agency_y)):
        fold = np.array([hashlib.sha1(str(i).encode()).digest()[0] % 2 for i in range(len(feats))])
        temperatures = []
        for k in (0, 1):
            train_idx, test_idx = np.flatnonzero(fold != k), np.flatnonzero(fold == k)
            w, b = _fit(feats[train_idx], y[train_idx], len(labels))
            temperatures.append(_calibrate(DenseHead(labels, w, b), feats[test_idx], y[test_idx]))
        w, b = _fit(feats, y, len(labels))
        heads.append(DenseHead(labels, w, b, float(np.mean(temperatures))))
    return EmbeddingHead(heads[0], heads[1], centre.astype(np.float32), sources or {})
