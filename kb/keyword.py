"""Keyword search: BM25 (bm25s) over content-word lemmas, plus a character-bigram BM25.

Word BM25 gives precise matches of terms and acronyms; the bigram index catches words the
dictionary splits badly and partial matches. Their scores are combined after scaling each
by its best score, so neither dominates by its raw range.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import bm25s
import numpy as np

from kb.errors import IndexCorruptError
from kb.text import char_bigrams, word_tokens

# Weight of the bigram scores against word scores (tuned on the dev questions, see eval/).
BIGRAM_WEIGHT = 0.5


def _build(token_lists: list[list[str]]) -> bm25s.BM25:
    # b=0.5: milder length normalisation, so one-line glossary pointers ("次節のとおり")
    # do not outrank the passages they point to (swept on the dev questions; flat around here).
    index = bm25s.BM25(k1=1.2, b=0.5, method="lucene")
    # An empty document would break bm25s' vocabulary; give it a placeholder token.
    index.index([tokens or ["\x00"] for tokens in token_lists], show_progress=False)
    return index


def _scores(index: bm25s.BM25, tokens: Sequence[str]) -> np.ndarray:
    vocab = index.vocab_dict
    known = [t for t in tokens if t in vocab]
    if not known:
        return np.zeros(index.scores["num_docs"], dtype=np.float32)
    return np.asarray(index.get_scores(known), dtype=np.float32)


class KeywordIndex:
    """Two BM25 indices over the same chunks, in chunk order."""

    def __init__(self, chunk_ids: list[str], words: bm25s.BM25, bigrams: bm25s.BM25):
        self.chunk_ids = chunk_ids
        self._words = words
        self._bigrams = bigrams

    @classmethod
    def build(cls, chunk_ids: list[str], texts: Sequence[str]) -> KeywordIndex:
        return cls(
            list(chunk_ids),
            _build([word_tokens(t) for t in texts]),
            _build([char_bigrams(t) for t in texts]),
        )

    def scores(self, query: str) -> np.ndarray:
        """Combined score per chunk (same order as ``chunk_ids``), 0 where nothing matched."""
        words = _scores(self._words, word_tokens(query))
        bigrams = _scores(self._bigrams, char_bigrams(query))
        combined = np.zeros(len(self.chunk_ids), dtype=np.float32)
        if words.max(initial=0.0) > 0:
            combined += words / words.max()
        if bigrams.max(initial=0.0) > 0:
            combined += BIGRAM_WEIGHT * bigrams / bigrams.max()
        return combined

    def search(self, query: str, k: int, allowed: np.ndarray | None = None) -> list[tuple[str, float]]:
        """Top-k (chunk id, score) with score > 0; ``allowed`` is a boolean mask for filters."""
        scores = self.scores(query)
        if allowed is not None:
            scores = np.where(allowed, scores, 0.0)
        order = np.argsort(-scores, kind="stable")[:k]
        return [(self.chunk_ids[i], float(scores[i])) for i in order if scores[i] > 0]

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self._words.save(str(directory / "words"), show_progress=False)
        self._bigrams.save(str(directory / "bigrams"), show_progress=False)
        (directory / "chunk_ids.json").write_text(json.dumps(self.chunk_ids), encoding="utf-8")

    @classmethod
    def load(cls, directory: Path) -> KeywordIndex:
        try:
            chunk_ids = json.loads((directory / "chunk_ids.json").read_text(encoding="utf-8"))
            words = bm25s.BM25.load(str(directory / "words"), show_progress=False)
            bigrams = bm25s.BM25.load(str(directory / "bigrams"), show_progress=False)
        except (OSError, ValueError, KeyError) as exc:
            raise IndexCorruptError(
                f"キーワード索引が壊れています: {directory}（`kb index --rebuild` で作り直してください）",
                f"keyword index is corrupt at {directory} (run `kb index --rebuild`): {exc}",
            ) from exc
        return cls(chunk_ids, words, bigrams)
