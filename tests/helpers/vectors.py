"""Passage vectors reused by text, so a test or benchmark builds an index without embedding
again what the session's index already embedded (same texts, same model, same vectors)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial

import numpy as np

from indexer.reuse import question_vectors
from kb.chunk import chunk_sentences
from kb.config import Settings
from kb.embed import Embedder
from kb.progress import Progress


class ReusingEmbedder(Embedder):
    """The given embedder's model, plus passage vectors already computed, by text.

    Texts it has not seen are embedded once and remembered (``computed`` counts them), so
    identical texts in many documents cost one embedding.
    """

    def __init__(
        self,
        settings: Settings,
        inner: Embedder,
        known: dict[str, np.ndarray],
        known_questions: dict[str, np.ndarray] | None = None,
    ) -> None:
        super().__init__(settings)
        self._inner = inner
        self.known = known
        self.known_questions = known_questions if known_questions is not None else {}
        self.computed = 0

    @property
    def model(self):  # type: ignore[no-untyped-def]
        return self._inner.model

    def _reused(
        self,
        texts: Sequence[str],
        known: dict[str, np.ndarray],
        embed: Callable[[Sequence[str]], np.ndarray],
    ) -> np.ndarray:
        """``texts``' vectors from ``known``, embedding (and remembering, counting) the rest."""
        missing = [t for t in dict.fromkeys(texts) if t not in known]
        if missing:
            known.update(zip(missing, embed(missing), strict=True))
            self.computed += len(missing)
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.stack([known[t] for t in texts])

    def embed_passages(self, texts: Sequence[str], progress: Progress | None = None) -> np.ndarray:
        return self._reused(texts, self.known, partial(super().embed_passages, progress=progress))

    def embed_query(self, text: str) -> np.ndarray:
        """A search's vector, from the inner embedder: ``computed`` counts what builds embed."""
        return self._inner.embed_query(text)

    def embed_queries(self, texts: Sequence[str], progress: Progress | None = None) -> np.ndarray:
        """The index's expected questions (embedded as queries), reused the same way."""
        return self._reused(texts, self.known_questions, partial(super().embed_queries, progress=progress))


def known_question_vectors(knowledge) -> dict[str, np.ndarray]:  # type: ignore[no-untyped-def]
    """Every expected question's vector in an open KnowledgeBase, by question text."""
    store = knowledge.retriever.question_store
    return question_vectors(store) if store is not None else {}


def known_vectors(knowledge, settings: Settings) -> dict[str, np.ndarray]:  # type: ignore[no-untyped-def]
    """Every passage vector of an open KnowledgeBase (chunks and sentences), by the text embedded."""
    retriever = knowledge.retriever
    chunks = knowledge.chunks
    sentences = chunk_sentences(chunks, settings.sentence_min_chars)
    chunk_vectors = retriever.store.get_vectors([c.chunk_id for c in chunks])
    sentence_vectors = retriever.sentence_store.get_vectors([s.sentence_id for s in sentences])
    known = {c.embed_text: chunk_vectors[c.chunk_id] for c in chunks}
    known |= {s.text: sentence_vectors[s.sentence_id] for s in sentences}
    return known
