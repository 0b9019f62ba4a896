"""What a search may be restricted to (document kinds, a chapter, a range of years), and the
years each chunk is matched on. Used by kb.retrieve; importable from there too."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from kb.chunk import Chunk
from kb.era import check_year_range, years_covered
from kb.errors import InvalidQueryError


def chunk_years(chunk: Chunk) -> frozenset[int]:
    """The Western years a chunk's text or heading path mentions or spans (kb.era.years_covered)."""
    return frozenset(years_covered(chunk.text) | years_covered("\n".join(chunk.heading_path)))


def years_by_chunk(chunks: Iterable[Chunk]) -> dict[str, frozenset[int]]:
    """Each chunk's years (:func:`chunk_years`), or its chapter's period when it names none.

    A chapter that opens by stating its period (第4章: 「第3期（令和6年度から4年間）に取り組む…」)
    covers its measures, which rarely repeat a year: a chunk without a year of its own inherits
    the years of its chapter's first chunk when those form one unbroken span of two or more years
    (a period, not a list of dates such as a history's).
    """
    ordered = sorted(chunks, key=lambda c: (c.doc_id, c.start))
    own = {c.chunk_id: chunk_years(c) for c in ordered}
    period: dict[tuple[str, str], frozenset[int]] = {}
    for c in ordered:
        chapter = (c.doc_id, c.chapter)
        if chapter not in period:
            years = own[c.chunk_id]
            spans = len(years) >= 2 and max(years) - min(years) + 1 == len(years)
            period[chapter] = years if spans and chapter[1] else frozenset()
    return {c.chunk_id: own[c.chunk_id] or period[(c.doc_id, c.chapter)] for c in ordered}


@dataclass(frozen=True)
class Filters:
    """Restrict a search to document kinds, one top-level chapter and/or a range of years.

    ``years`` is an inclusive (start, end) of Western years: a chunk matches when its text or
    heading path mentions a year in it, in either form (令和6年度 is 2024) or spans one
    (令和6年度からの4年間 covers 2024-2027; rules in kb.era). Chroma cannot filter on it, so
    the semantic side asks for more candidates and keeps those in range.
    """

    kinds: tuple[str, ...] = ()
    chapter: str | None = None
    years: tuple[int, int] | None = None

    def __post_init__(self) -> None:
        # Filter values reach Chroma's `where`: only plain strings, never an operator dict.
        if not isinstance(self.kinds, tuple) or not all(isinstance(k, str) for k in self.kinds):
            raise InvalidQueryError("資料の種類の指定が不正です", f"invalid document kinds: {self.kinds!r}")
        if self.chapter is not None and not isinstance(self.chapter, str):
            raise InvalidQueryError("章の指定が不正です", f"invalid chapter: {self.chapter!r}")
        if self.years is not None:
            check_year_range(self.years)

    @property
    def is_empty(self) -> bool:
        return not self.kinds and not self.chapter and self.years is None

    def allows(self, chunk: Chunk, years: frozenset[int] | None = None) -> bool:
        """Whether ``chunk`` passes; ``years`` are its :func:`chunk_years` when already known."""
        if self.kinds and chunk.kind not in self.kinds:
            return False
        if self.chapter and chunk.chapter != self.chapter:
            return False
        return self.years is None or self.in_years(chunk_years(chunk) if years is None else years)

    def in_years(self, years: frozenset[int]) -> bool:
        """Whether any of ``years`` is in the range (True when no range is set)."""
        if self.years is None:
            return True
        start, end = self.years
        return any(start <= year <= end for year in years)

    def chroma_where(self) -> dict[str, Any] | None:
        """The kinds and chapter as a Chroma ``where`` (the years are applied after the query)."""
        clauses: list[dict[str, Any]] = []
        if self.kinds:
            clauses.append({"kind": {"$in": list(self.kinds)}})
        if self.chapter:
            clauses.append({"chapter": self.chapter})
        if not clauses:
            return None
        return clauses[0] if len(clauses) == 1 else {"$and": clauses}
