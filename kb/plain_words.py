"""The everyday-words thesaurus (言い換え辞書): a plan term and the words people use for it instead.

Staff and residents ask 「体育館の予約ってネットでできる？」 where the plan writes 施設予約システム.
``corpus/plain_words.tsv`` lists, per plan term, the everyday words and phrases meaning it
(施設予約システム → 体育館の予約, 公共施設をネットで予約 …). At index time every chunk that holds a
term (in its body or heading path) gets that term's aliases added to its *keyword* text, so a
question in everyday words finds the chunk on the keyword side (document expansion). Quotes and
answers still come from the plan's own text only; the aliases never appear as content.

Measured on the dev questions (eval/experiments/plain_words.md; hit@1 / hit@5 / MRR@10, hybrid):
everyday-words questions 0.468 / 0.702 / 0.569 → 0.511 / 0.809 / 0.622, plan-worded 0.824 /
0.985 / 0.893 → 0.828 / 0.985 / 0.899. Alias vectors on the semantic side and a separate alias
field scored apart measured no better, and cost index-build time or plan-worded hit@1.

File format (UTF-8): ``PLAN TERM<TAB>alias<TAB>alias…`` per line; ``#`` starts a comment line.
The table is copied into each index build, so a search explains its matches with the very table
the index was built from.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from kb.corpus import KeyedTable, read_table_file
from kb.errors import CorpusError
from kb.text import morphemes, normalize, word_tokens

FILE_NAME = "plain_words.tsv"
MAX_ALIAS_CHARS = 40


@dataclass(frozen=True)
class PlainWordMatch:
    """An alias found in a query, and the plan term it stands for."""

    alias: str
    term: str

    def to_dict(self) -> dict[str, str]:
        return {"alias": self.alias, "term": self.term}

    def __str__(self) -> str:
        """As shown to people: 「体育館の予約 → 施設予約システム」."""
        return f"{self.alias} → {self.term}"


def held_in(matches: Iterable[PlainWordMatch], text: str) -> tuple[PlainWordMatch, ...]:
    """The matches whose plan term ``text`` holds (a hit's chunk, an answer's sentence)."""
    found = normalize(text)
    return tuple(m for m in matches if m.term in found)


@dataclass(frozen=True)
class PlainWords(KeyedTable):
    """Plan terms (normalised) and their aliases, in file order."""

    alias_count = KeyedTable.value_count
    terms_in = KeyedTable.keys_in  # the table's terms a text contains
    aliases_of = KeyedTable.values_of
    unused_terms = KeyedTable.unused_keys  # terms no passage holds

    def aliases_in(self, text: str) -> list[str]:
        """The aliases of every term that ``text`` contains."""
        return self.aliases_of(self.terms_in(text))

    @cached_property
    def _alias_words(self) -> list[tuple[str, str, frozenset[str]]]:
        return [
            (alias, term, frozenset(word_tokens(alias)))
            for term, aliases in self.entries
            for alias in aliases
        ]

    def matches(self, query: str, within: str | None = None) -> list[PlainWordMatch]:
        """Aliases the query says in full (as typed, or all of their two or more words) whose term
        it does not name itself; ``within``: only terms this text holds (:func:`held_in`)."""
        typed = normalize(query)
        words = set(word_tokens(query))
        found: dict[str, PlainWordMatch] = {}
        for alias, term, alias_words in self._alias_words:
            if term in found or term in typed:
                continue
            # Word by word only for aliases of two words or more: 「いつまでの計画」 is one word
            # (計画) to the index and would match every question about the plan.
            if alias in typed or (len(alias_words) >= 2 and alias_words <= words):
                found[term] = PlainWordMatch(alias, term)
        return list(found.values()) if within is None else list(held_in(found.values(), within))


#: A noun phrase worth an entry: three or more kanji, katakana or Latin characters
#: (施設予約システム, クラウド, RPA), not starting with a digit (2024年度, 3期).
_TERM_LIKE = re.compile(r"[\u4e00-\u9fff\u30a0-\u30ffa-z][\u4e00-\u9fff\u30a0-\u30ffa-z0-9・ー]{2,}")


#: Noun runs that are not things one asks about: adjectival 〜的, 〜等 / 〜性 endings, era dates,
#: page references (p28).
_NOT_A_TERM = re.compile(r"(的|等|性)$|^(令和|平成|昭和)[0-9元]|^p[0-9]")


def noun_phrases(text: str) -> set[str]:
    """The runs of nouns in ``text`` as written (施設予約システム, not its parts or their lemmas)."""
    found: set[str] = set()
    run: list[str] = []
    for word in [*morphemes(text), None]:
        if word is not None and (word.pos1 in {"名詞", "接頭辞"} or (word.pos1 == "接尾辞" and run)):
            run.append(word.surface)
            continue
        phrase = "".join(run)
        if _TERM_LIKE.fullmatch(phrase) and not _NOT_A_TERM.search(phrase):
            found.add(phrase)
        run.clear()
    return found


def uncovered_terms(texts: Sequence[str], table: PlainWords, top: int = 30) -> list[tuple[str, int]]:
    """The corpus's noun phrases with no thesaurus entry, by how many of ``texts`` (passages)
    hold them, most first: where everyday words are most worth adding. A phrase counts as
    covered when a term contains it or it contains a term (施設予約 and 施設予約システム)."""
    counts: dict[str, int] = {}
    for text in texts:
        for phrase in noun_phrases(text):
            counts[phrase] = counts.get(phrase, 0) + 1
    terms = [term for term, _ in table.entries]
    open_phrases = [(p, n) for p, n in counts.items() if not any(p in t or t in p for t in terms)]
    return sorted(open_phrases, key=lambda pn: (-pn[1], pn[0]))[:top]


def keyword_text(index_text: str, aliases: Iterable[str]) -> str:
    """What the keyword index reads for a chunk: its text, then its terms' aliases."""
    extra = "\n".join(aliases)
    return f"{index_text}\n{extra}" if extra else index_text


def parse_plain_words(text: str, source: str = FILE_NAME) -> PlainWords:
    """Read a thesaurus; a malformed line is a CorpusError naming the line."""
    entries: dict[str, list[str]] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        cells = [normalize(c.strip()) for c in line.split("\t")]
        term, aliases = cells[0], [c for c in cells[1:] if c]
        problem = None
        if not term or not aliases:
            problem = (
                "語とその言い換えをタブで区切ってください",
                "expected a term and at least one alias, tab-separated",
            )
        elif any(len(a) > MAX_ALIAS_CHARS for a in aliases):
            problem = (
                f"言い換えは {MAX_ALIAS_CHARS} 字以内です",
                f"an alias is longer than {MAX_ALIAS_CHARS} characters",
            )
        if problem:
            raise CorpusError(
                f"言い換え辞書 {source} の {number} 行目が読めません: {problem[0]}",
                f"{source} line {number}: {problem[1]}",
            )
        merged = entries.setdefault(term, [])
        merged.extend(a for a in aliases if a != term and a not in merged)
    return PlainWords(tuple((t, tuple(a)) for t, a in entries.items() if a), text)


def load_plain_words(path: Path | None) -> PlainWords:
    """The thesaurus at ``path``; an empty table when the path is None or no file is there."""
    if path is None or (text := read_table_file(path, "言い換え辞書", "thesaurus")) is None:
        return PlainWords()
    return parse_plain_words(text, path.name)
