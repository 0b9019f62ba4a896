"""Expected questions (想定質問): the questions people ask that a passage of the plan answers.

A FAQ system keeps, beside each answer, the ways people ask for it. Staff ask 「窓口に行かずに
手続きできる？」 where the plan writes 「オンライン完結が可能な仕組みづくり」: no single word
maps onto another (the thesaurus, kb/plain_words.py, bridges words), the whole phrase is said
differently. ``corpus/expected_questions.tsv`` lists, per answer spot, a verbatim excerpt of the
plan (the *anchor*) and the questions it answers, written in everyday words. At index time every
chunk whose text holds the anchor gets those questions in its *keyword* text (document expansion,
like the thesaurus), and each question is embedded as a query (:class:`QuestionUnit`, a Chroma
collection of their own); search lifts a chunk whose question is close to the query
(kb/retrieve.py). Quotes and answers still come only from the plan's own text.

File format (UTF-8): ``ANCHOR<TAB>question<TAB>question…`` per line; ``#`` starts a comment line.
An anchor is 6-60 characters copied from the corpus; one that no passage holds does nothing, and
``kb index`` / ``kb expected-questions`` list it so it can be fixed after the corpus changes.
Measured in eval/experiments/expected_questions.md.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from kb.chunk import Chunk
from kb.corpus import KeyedTable, read_table_file
from kb.errors import CorpusError
from kb.text import find_normalized, normalize, sentence_units

FILE_NAME = "expected_questions.tsv"
MIN_ANCHOR_CHARS = 6
MAX_ANCHOR_CHARS = 60
MAX_QUESTION_CHARS = 80


@dataclass(frozen=True)
class QuestionUnit:
    """One expected question attached to one chunk that holds its anchor: embedded on its own
    (as a query), stored with the chunk's id and the anchor's offsets in ``chunk.text``.

    A *stand-in* is one of the chunk's own sentences, in place of questions for a chunk that has
    none (see :func:`stand_in_units`)."""

    chunk: Chunk
    question: str
    start: int  # the anchor's (or the sentence's) offsets in chunk.text (0, 0: not placed)
    end: int
    stand_in: bool = False

    @property
    def unit_id(self) -> str:
        # Chunk ids are content hashes: this id is stable across rebuilds.
        if self.stand_in:
            return f"{self.chunk.chunk_id}:s:{self.start}:{self.end}"
        return f"{self.chunk.chunk_id}:q:{hashlib.sha256(self.question.encode('utf-8')).hexdigest()[:16]}"


def stand_in_units(chunks: Iterable[Chunk], min_chars: int) -> list[QuestionUnit]:
    """The sentences of ``chunks`` (those without expected questions) as stand-in questions.

    Expected questions lift the passages that have them, so a document without any (one just
    added with ``kb add``) would lose to documents with them even on questions in its own words:
    measured on dev with the glossary's questions removed, its plan-worded hit@1 fell from 0.861
    (no questions anywhere) to 0.722. Its own sentences, embedded as questions and discounted
    more (``Settings.question_fallback_discount``), give it back: 0.861 (national strategies:
    0.774 → 0.698 → 0.736); eval/experiments/expected_questions.md."""
    return [
        QuestionUnit(chunk, chunk.text[a:b], a, b, stand_in=True)
        for chunk in chunks
        for a, b in sentence_units(chunk.text, min_chars)
    ]


@dataclass(frozen=True)
class QuestionMatch:
    """The expected question of a chunk closest in meaning to a query, and where its answer is."""

    question: str
    cosine: float
    start: int  # the anchor's offsets in the chunk's text (0, 0: not placed)
    end: int
    stand_in: bool = False  # one of the chunk's own sentences (stand_in_units), not a question

    def to_dict(self) -> dict[str, object]:
        return {"question": self.question, "cosine": round(self.cosine, 4), "anchor": [self.start, self.end]}


@dataclass(frozen=True)
class ExpectedQuestions(KeyedTable):
    """Anchors (normalised excerpts of the corpus) and their questions, in file order."""

    question_count = KeyedTable.value_count
    anchors_in = KeyedTable.keys_in  # the anchors a chunk's body holds
    questions_of = KeyedTable.values_of
    unused_anchors = KeyedTable.unused_keys  # anchors whose questions reach no passage

    def units(
        self, chunks: Sequence[Chunk], held: Sequence[Sequence[str]] | None = None
    ) -> list[QuestionUnit]:
        """Every (question, chunk holding its anchor) pair, in chunk order; ``held``: the
        :meth:`anchors_in` of each chunk, when the caller has them already."""
        out: list[QuestionUnit] = []
        for chunk, anchors in zip(chunks, held or [self.anchors_in(c.text) for c in chunks], strict=True):
            seen: set[str] = set()  # a question under two anchors of one chunk is one unit
            for anchor in anchors:
                start, end = find_normalized(chunk.text, anchor) or (0, 0)
                fresh = [q for q in self._questions[anchor] if q not in seen]
                seen.update(fresh)
                out.extend(QuestionUnit(chunk, q, start, end) for q in fresh)
        return out

    @cached_property
    def _questions(self) -> dict[str, tuple[str, ...]]:
        return dict(self.entries)


def _problem(source: str, number: int, ja: str, en: str) -> CorpusError:
    return CorpusError(
        f"想定質問 {source} の {number} 行目が読めません: {ja}", f"{source} line {number}: {en}"
    )


def parse_expected_questions(text: str, source: str = FILE_NAME) -> ExpectedQuestions:
    """Read an expected-questions file; a malformed line is a CorpusError naming the line."""
    entries: dict[str, list[str]] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        cells = [normalize(c.strip()) for c in line.split("\t")]
        anchor, questions = cells[0], [c for c in cells[1:] if c]
        if not anchor or not questions:
            raise _problem(
                source,
                number,
                "本文の抜き書きと質問をタブで区切ってください",
                "expected an excerpt of the corpus and at least one question, tab-separated",
            )
        if not MIN_ANCHOR_CHARS <= len(anchor) <= MAX_ANCHOR_CHARS:
            raise _problem(
                source,
                number,
                f"抜き書きは {MIN_ANCHOR_CHARS}〜{MAX_ANCHOR_CHARS} 字です",
                f"the excerpt must be {MIN_ANCHOR_CHARS}-{MAX_ANCHOR_CHARS} characters",
            )
        if any(len(q) > MAX_QUESTION_CHARS for q in questions):
            raise _problem(
                source,
                number,
                f"質問は {MAX_QUESTION_CHARS} 字以内です",
                f"a question is longer than {MAX_QUESTION_CHARS} characters",
            )
        merged = entries.setdefault(anchor, [])
        merged.extend(q for q in questions if q not in merged)
    return ExpectedQuestions(tuple((a, tuple(q)) for a, q in entries.items()), text)


def load_expected_questions(path: Path | None) -> ExpectedQuestions:
    """The file at ``path``; an empty table when the path is None or no file is there."""
    if (
        path is None
        or (text := read_table_file(path, "想定質問のファイル", "expected-questions file")) is None
    ):
        return ExpectedQuestions()
    return parse_expected_questions(text, path.name)
