"""Keyword search: BM25 (bm25s) over content-word lemmas, plus a character-bigram BM25.

Word BM25 gives precise matches of terms and acronyms; the bigram index catches words the
dictionary splits badly and partial matches. Their scores are combined after scaling each
by its best score, so neither dominates by its raw range.

The word stream also carries each year mention in both its era and Western forms
(:func:`kb.era.year_tokens`), so 2024年度 in a query matches 令和6年度 in a passage and the
reverse. Passages and queries go through the same :func:`index_tokens`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import bm25s
import numpy as np

from kb.era import year_tokens
from kb.errors import IndexCorruptError
from kb.text import char_bigrams, word_tokens


def index_tokens(text: str) -> list[str]:
    """The word-index tokens of a passage or a query: word tokens, then both forms of each year
    (令和6年度 → 2024年度 and 令和6年度), so either spelling finds the other. Part of the index
    contract through kb.manifest.KEYWORD_FORMAT."""
    return word_tokens(text) + year_tokens(text)


def _build(token_lists: list[list[str]], k1: float, b: float) -> bm25s.BM25:
    index = bm25s.BM25(k1=k1, b=b, method="lucene")
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
    """Two BM25 indices over the same chunks, in chunk order. BM25 k1/b and the bigram weight
    are Settings (bm25_k1, bm25_b, bigram_weight), recorded in the index manifest."""

    def __init__(
        self, chunk_ids: list[str], words: bm25s.BM25, bigrams: bm25s.BM25, bigram_weight: float = 0.5
    ):
        self.chunk_ids = chunk_ids
        self.words = words
        self.bigrams = bigrams
        self.bigram_weight = bigram_weight

    @classmethod
    def build(
        cls, chunk_ids: list[str], texts: Sequence[str], k1: float, b: float, bigram_weight: float
    ) -> KeywordIndex:
        return cls(
            list(chunk_ids),
            _build([index_tokens(t) for t in texts], k1, b),
            _build([char_bigrams(t) for t in texts], k1, b),
            bigram_weight,
        )

    def vocabulary(self) -> dict[str, int]:
        """The word index's terms (lemmas, compounds, Latin runs) and their ids."""
        return dict(self.words.vocab_dict)

    def scores(self, query: str, expansion: Sequence[str] = (), expansion_weight: float = 0.0) -> np.ndarray:
        """Combined score per chunk (same order as ``chunk_ids``), 0 where nothing matched.

        ``expansion``: extra word tokens (synonyms of typed words, kb/expand.py) whose BM25 counts
        ``expansion_weight`` of a typed word's.
        """
        words = _scores(self.words, index_tokens(query))
        if expansion and expansion_weight > 0:
            words = words + expansion_weight * _scores(self.words, expansion)
        bigrams = _scores(self.bigrams, char_bigrams(query))
        combined = np.zeros(len(self.chunk_ids), dtype=np.float32)
        if words.max(initial=0.0) > 0:
            combined += words / words.max()
        if bigrams.max(initial=0.0) > 0:
            combined += self.bigram_weight * bigrams / bigrams.max()
        return combined

    def search(
        self,
        query: str,
        k: int,
        allowed: np.ndarray | None = None,
        expansion: Sequence[str] = (),
        expansion_weight: float = 0.0,
    ) -> list[tuple[str, float]]:
        """Top-k (chunk id, score) with score > 0; ``allowed`` is a boolean mask for filters."""
        scores = self.scores(query, expansion, expansion_weight)
        if allowed is not None:
            scores = np.where(allowed, scores, 0.0)
        order = np.argsort(-scores, kind="stable")[:k]
        return [(self.chunk_ids[i], float(scores[i])) for i in order if scores[i] > 0]

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.words.save(str(directory / "words"), show_progress=False)
        self.bigrams.save(str(directory / "bigrams"), show_progress=False)
        (directory / "chunk_ids.json").write_text(json.dumps(self.chunk_ids), encoding="utf-8")

    @classmethod
    def load(cls, directory: Path, bigram_weight: float = 0.5) -> KeywordIndex:
        try:
            chunk_ids = json.loads((directory / "chunk_ids.json").read_text(encoding="utf-8"))
            words = bm25s.BM25.load(str(directory / "words"), show_progress=False)
            bigrams = bm25s.BM25.load(str(directory / "bigrams"), show_progress=False)
        except (OSError, ValueError, KeyError) as exc:
            raise IndexCorruptError(
                f"キーワード索引が壊れています: {directory}（`kb index --rebuild` で作り直してください）",
                f"keyword index is corrupt at {directory} (run `kb index --rebuild`): {exc}",
            ) from exc
        return cls(chunk_ids, words, bigrams, bigram_weight)
