"""Question terms against the corpus: word boundaries from the tokenizer (so ネット does not match
inside ネットワーク) and each term's rarity over the chunks (TermStats)."""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Sequence

from kb.answer import patterns as P
from kb.answer.quotes import quotable_sentences
from kb.chunk import Chunk
from kb.text import morphemes, normalize

_HIRAGANA = re.compile(r"[ぁ-ゖ]+")


class Words:
    """Where the words of a (normalised) text begin and end, as MeCab cuts it.

    A question term matches a text only as one of its words or a run of them (a part of a
    compound the tokenizer yields: マイナンバー in マイ/ナンバー/カード), never inside a word:
    ネット is not in ネットワーク, 人 is not in 個人. A term may end before the okurigana the
    text writes and the question leaves out (取組 in 取組み).
    """

    __slots__ = ("starts", "ends", "word_end", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        starts: set[int] = set()
        ends: set[int] = set()
        word_end = list(range(1, len(text) + 1))  # the end of the word holding each character
        pos = 0
        for m in morphemes(text, normalise=False):
            pos += len(m.space_before)
            start, pos = pos, pos + len(m.surface)
            if text[start:pos] != m.surface:  # the tagger did not keep the text as it was
                starts, ends = set(range(len(text) + 1)), set(range(len(text) + 1))
                break
            starts.add(start)
            ends.add(pos)
            word_end[start:pos] = [pos] * (pos - start)
        self.starts, self.ends, self.word_end = frozenset(starts), frozenset(ends), tuple(word_end)

    def at(self, start: int, end: int) -> bool:
        """Does ``text[start:end]`` begin at a word and end at one (or before its okurigana)?"""
        if start not in self.starts:
            return False
        return end in self.ends or bool(_HIRAGANA.fullmatch(self.text[end : self.word_end[end - 1]]))

    def find(self, term: str) -> Iterator[int]:
        """Start offsets where ``term`` occurs as words of the text."""
        if not term:
            return
        i = self.text.find(term)
        while i >= 0:
            if self.at(i, i + len(term)):
                yield i
            i = self.text.find(term, i + 1)

    def has(self, term: str) -> bool:
        return next(self.find(term), None) is not None

    def search(self, pattern: re.Pattern[str]) -> bool:
        """Does ``pattern`` match somewhere as words of the text?"""
        return any(self.at(m.start(), m.end()) for m in pattern.finditer(self.text) if m.end() > m.start())


class TermStats:
    """How many chunks contain a question term (counted as substrings of normalised text), and
    whether a text holds one as words (``Words``).

    Counts stay substring counts: as word counts (session 10, eval/experiments/answer_signals.md)
    a one-kanji frame word (下 of 「…の下にある」) became rare and a question's typed clipping
    (デジ田, ネット) unknown, and three plan-worded questions were declined. Question terms are surface nouns (「書かない窓口」), not the keyword index's lemmas, so the
    counts come from the chunk texts (with their heading paths) rather than from BM25's vocabulary.
    Built once per index; the per-term memo and the per-text word cuts are pure caches (the
    corpus is fixed, so they stop growing), safe to share between requests.
    """

    def __init__(self, chunks: Sequence[Chunk]) -> None:
        # Heading path and body, not the document title: a title shared by every chunk of a
        # document (「…（第3期取組版）」) would make its words look common everywhere.
        self._words: dict[str, Words] = {}
        self._texts = [normalize(f"{c.section}\n{c.text}") for c in chunks]
        self._df: dict[str, int] = {}
        #: The last sentence of the chunk before each chunk in the same section (normalised): what a
        #: chunk's first sentence goes on from (「またこの間、…」 can open a chunk).
        self.before: dict[str, str] = {}
        ordered = sorted(chunks, key=lambda c: (c.doc_id, c.start))
        for prev, chunk in zip(ordered, ordered[1:], strict=False):
            last = quotable_sentences(prev.text)
            if prev.doc_id == chunk.doc_id and prev.heading_path == chunk.heading_path and last:
                self.before[chunk.chunk_id] = normalize(last[-1][0])
        #: Every heading of the corpus: a sentence that is one of them names a part, it says nothing of it.
        self.headings = frozenset(
            form for c in chunks for h in c.heading_path for form in P.heading_forms(normalize(h))
        )

    def words(self, text: str) -> Words:
        """The word cuts of a normalised text, cached."""
        found = self._words.get(text)
        if found is None:
            if len(self._words) > 200_000:  # texts a long-running app never saw before
                self._words.clear()
            found = self._words[text] = Words(text)
        return found

    def has(self, term: str, *texts: str) -> bool:
        """Does ``term`` occur as words of one of the (normalised) ``texts``?"""
        return any(term in t and self.words(t).has(term) for t in texts)

    def names_a_part(self, sentence: str) -> bool:
        """Is this (normalised) sentence one of the corpus's headings (「取組2-2 円滑な…の整備」)?"""
        return sentence.removesuffix("。") in self.headings

    def df(self, term: str) -> int:
        if term not in self._df:
            if len(self._df) > 100_000:  # a long-running app sees many distinct terms
                self._df.clear()
            self._df[term] = sum(term in t for t in self._texts)
        return self._df[term]

    def idf(self, term: str) -> float:
        return math.log((len(self._texts) + 1) / (self.df(term) + 0.5))

    def coverage(self, terms: Sequence[str], *texts: str) -> float:
        """IDF-weighted share of ``terms`` that occur as words of one of the normalised ``texts``."""
        total = sum(self.idf(t) for t in terms)
        if total <= 0:
            return 0.0  # a question without one content noun names nothing to look for
        return sum(self.idf(t) for t in terms if self.has(t, *texts)) / total
