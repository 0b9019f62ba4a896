"""What the answer stage returns: Answer, its Citations, and a stream of partial texts."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from kb.answer.question import Question
from kb.chunk import Chunk, ChunkView, SectionRef
from kb.plain_words import PlainWordMatch
from kb.retrieve import Hit


@dataclass(frozen=True)
class Citation(ChunkView):
    """One cited passage [n]; ``quote`` is verbatim in ``chunk.text`` (checked on creation)."""

    n: int
    chunk: Chunk
    quote: str

    def __post_init__(self) -> None:
        if not self.quote or self.quote not in self.chunk.text:
            raise ValueError(f"quote is not verbatim in chunk {self.chunk.chunk_id}: {self.quote!r}")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready; ``page`` is None except for paged documents (PDFs added with `kb add`)."""
        return {
            "n": self.n,
            "chunk_id": self.chunk_id,
            "doc_title": self.doc_title,
            "section": self.section,
            "quote": self.quote,
            "page": self.chunk.page,
        }


@dataclass(frozen=True)
class Answer:
    """An answer with its citations, or an abstention (``answerable=False``) with suggestions."""

    answer: str
    answerable: bool
    query: str
    citations: tuple[Citation, ...]
    suggestions: tuple[SectionRef, ...]
    confidence: float
    generated: bool = False
    note: str = ""  # why generation was skipped or fell back ("" when nothing to say)
    confidence_label: str = ""  # 高 / 中 / 低 ("" when abstaining)
    confidence_reason: str = ""  # e.g. 「質問の語句がすべて一致」

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict for ``kb ask --json`` (chunk texts left out)."""
        return {
            "answer": self.answer,
            "answerable": self.answerable,
            "query": self.query,
            "citations": [c.to_dict() for c in self.citations],
            "suggestions": [s.location for s in self.suggestions],
            "confidence": self.confidence,
            "confidence_label": self.confidence_label,
            "confidence_reason": self.confidence_reason,
            "generated": self.generated,
            "note": self.note,
        }

    def to_text(self) -> str:
        """Plain text for the terminal: the answer, then ``[n] doc › section（p. 12）「quote」``."""
        lines = [self.answer]
        if self.confidence_label:
            lines.append(f"（確からしさ / confidence: {self.confidence_label} — {self.confidence_reason}）")
        if self.citations:
            lines.append("")
        for c in self.citations:
            page = f"（p. {c.chunk.page}）" if c.chunk.page is not None else ""
            lines.append(f"[{c.n}] {c.location}{page}\n    「{c.quote}」")
        return "\n".join(lines)


class AnswerStream(Iterator[str]):
    """Iterator over the growing answer text; ``.answer`` is the final Answer.

    Each item is the whole text so far (cumulative: a Gradio chat message is replaced on every
    yield). The last item is always ``answer.answer``; when a generated answer fails the
    citation check, that last item replaces the streamed text with the extractive fallback.
    The stream belongs to one request: it holds that request's state and nothing else does.
    """

    def __init__(self, parts: Iterator[str | Answer]) -> None:
        self._parts = parts
        self._answer: Answer | None = None

    def __next__(self) -> str:
        if self._answer is not None:
            raise StopIteration
        item = next(self._parts)
        if isinstance(item, Answer):
            self._answer = item
            return item.answer
        return item

    @property
    def answer(self) -> Answer:
        """The final Answer (consumes whatever was not iterated yet)."""
        for _ in self:
            pass
        if self._answer is None:  # pragma: no cover - the parts always end with an Answer
            raise RuntimeError("answer stream ended without an Answer")
        return self._answer


@dataclass(frozen=True)
class Candidate:
    """A sentence of a retrieved passage, scored for the question."""

    hit: Hit
    quote: str
    score: float  # selection score (which sentence to quote)
    support: float  # how strongly it supports an answer of the asked type, in [0, 1]
    lexical: float = 0.0  # share of the question's terms in the sentence and its heading
    typed: bool = True  # has the asked answer shape (a date for いつ, a count for 何人 …)
    agrees: bool = True  # is about the asked subject (focus present, city vs nation)
    #: The sentence that led here by naming this one's numbered item (「取り組み3-1に掲げる…」),
    #: quoted after it so the answer shows the link; None for a sentence of the passages.
    via: tuple[Hit, str] | None = None
    #: The passage's expected question, close to the asked one, whose words counted as this
    #: sentence's (kb/expected_questions.py); "" when its own words were all that counted.
    paraphrase: str = ""
    #: The question's everyday words that this sentence's plan terms stand for (「学童 → 留守家庭
    #: 児童会室」, kb/plain_words.py), when they raised its cover; () otherwise.
    aliases: tuple[PlainWordMatch, ...] = ()

    def quoted(self) -> list[tuple[Hit, str]]:
        """(passage, quote) pairs to cite for this candidate: itself, then what referred to it."""
        return [(self.hit, self.quote), *([self.via] if self.via else [])]


@dataclass(frozen=True)
class Draft:
    """Everything decided before any writer runs: the question, passages, and the extractive answer."""

    question: Question
    hits: tuple[Hit, ...]
    answer: Answer
    candidates: tuple[Candidate, ...] = ()
