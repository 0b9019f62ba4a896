"""Query expansion with Sudachi's synonym dictionary, for words the corpus never uses.

Staff ask in their own words (「打ち合わせ」, 「土台」) where the plan writes 会議 and 基盤. A typed word
that the keyword index does not know can find nothing there; if Sudachi lists it with synonyms
the index does know, those are searched in its place, at a lower weight than typed words
(``Settings.expansion_weight``). Words the index knows are never expanded: naive expansion of
every word measured worse (issue #8).

The dictionary (kb/data/sudachi_synonyms.txt, derived by eval/experiments/sudachi_synonyms.py)
keeps Sudachi's expandControl flags: an ambiguous word such as 「AI」 (人工知能, 人工授精, 鳥インフル
エンザ …) never triggers an expansion, and a word whose groups disagree on the corpus words they
offer is left alone.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from kb.text import morphemes, normalize, word_tokens

SYNONYMS_FILE = Path(__file__).resolve().parent / "data" / "sudachi_synonyms.txt"


@dataclass(frozen=True)
class Expansion:
    """One typed word the corpus lacks, its synonyms the corpus has, and their index tokens."""

    typed: str
    synonyms: tuple[str, ...]  # as Sudachi writes them, its group order (the first is the
    tokens: tuple[str, ...]  # group's representative word when the corpus has it)

    def to_dict(self) -> dict[str, object]:
        return {"typed": self.typed, "synonyms": list(self.synonyms), "tokens": list(self.tokens)}


class SynonymTable:
    """Synonym groups, looked up by the words allowed to trigger an expansion."""

    def __init__(self, groups: list[tuple[tuple[str, ...], frozenset[str]]]):
        # groups: (all words, the words that may trigger)
        self.groups = groups
        self._by_trigger: dict[str, list[int]] = {}
        for number, (_, triggers) in enumerate(groups):
            for word in triggers:
                self._by_trigger.setdefault(word, []).append(number)

    @classmethod
    def load(cls, path: Path = SYNONYMS_FILE) -> SynonymTable:
        groups = []
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line or line.startswith("#"):
                continue
            cells = line.split("\t")
            words = tuple(c.lstrip("*") for c in cells)
            groups.append((words, frozenset(c for c in cells if not c.startswith("*"))))
        return cls(groups)

    def corpus_synonyms(
        self, word: str, vocabulary: Mapping[str, int] | Collection[str]
    ) -> list[tuple[str, list[str]]]:
        """``word``'s synonyms the corpus has, each with its index tokens; [] when none or when
        the word's groups offer different corpus words (two senses: leave it alone)."""
        offers: dict[tuple[str, ...], list[tuple[str, list[str]]]] = {}
        for number in self._by_trigger.get(word, ()):
            found: list[tuple[str, list[str]]] = []
            for synonym in self.groups[number][0]:
                if synonym == word:
                    continue
                tokens = [synonym] if synonym in vocabulary else _plain_tokens(synonym)
                if tokens and all(t in vocabulary for t in tokens):
                    found.append((synonym, tokens))
            if found:
                offers[tuple(s for s, _ in found)] = found
        return next(iter(offers.values())) if len(offers) == 1 else []


def _plain_tokens(phrase: str) -> list[str]:
    """The index tokens of a synonym written as plain words (スマートフォン → スマート, フォン);
    [] when a word is inflected or respelled by its lemma (かかり → 掛かる is another word)."""
    words = morphemes(phrase)
    if any(w.lemma != w.surface for w in words):
        return []
    return word_tokens(phrase)


@lru_cache(maxsize=1)
def default_table() -> SynonymTable:
    """The packaged Sudachi table (read once per process)."""
    return SynonymTable.load()


def expand_query(
    query: str, vocabulary: Mapping[str, int] | Collection[str], table: SynonymTable
) -> list[Expansion]:
    """Expansions for the query's content words that ``vocabulary`` lacks, in query order."""
    tokens = word_tokens(query)
    words = [w for w in morphemes(query) if w.lemma in tokens]
    lemmas = {w.lemma for w in words}
    # Noun compounds first (人工知能 before 人工), then each word: the dictionary holds dictionary
    # forms and unidic's lemma is sometimes a kanji spelling (遣る for やる), so the surface too.
    candidates: list[tuple[str, ...]] = [(t,) for t in dict.fromkeys(tokens) if t not in lemmas]
    candidates += [(w.lemma, w.surface) for w in words]
    expansions: list[Expansion] = []
    seen: set[str] = set()
    for forms in candidates:
        for form in forms:
            if form in seen:
                continue
            seen.add(form)
            if form in vocabulary:
                break
            found = table.corpus_synonyms(form, vocabulary)
            if found:
                added = tuple(dict.fromkeys(t for _, ts in found for t in ts))
                expansions.append(Expansion(form, tuple(s for s, _ in found), added))
                break
    return expansions


def rewrite_query(query: str, expansions: list[Expansion]) -> str:
    """The normalised query with each expanded word, where it appears as typed, replaced by its
    first synonym (「家から打ち合わせに参加」 → 「家から会議に参加」); the query itself when none does."""
    text = normalize(query)
    rewritten = text
    for expansion in expansions:
        rewritten = rewritten.replace(expansion.typed, expansion.synonyms[0])
    return rewritten if rewritten != text else query
