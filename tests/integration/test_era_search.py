"""Years in either form: 2024年度 in a query finds 令和6年度 (and back), and the year filter
(``Filters.years``, ``--year``) keeps only passages naming or spanning a year in its range.

Sections 1.3 and 1.4 are decoys that share the query's digits and characters (2024件, 年度,
2016件, 28年) without naming the year: on characters and plain word tokens they outrank
the right section, so only the era/Western year tokens put it first. The filter tests run on
the session's index of the real corpus.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from indexer.build import build_index
from kb.config import Settings
from kb.embed import Embedder
from kb.knowledge import KnowledgeBase
from kb.retrieve import MODES, Filters, chunk_years, years_by_chunk

DOC = """---
title: 年の書き方
kind: plan
---
# 第1章 計画

## 1.1 新しい窓口

市民窓口の新しい仕組みを令和6年度から4年間かけて整えます。

## 1.2 以前の計画

前の情報化計画は2016年3月に策定し、市民サービスの向上を図りました。

## 1.3 申請の件数

電子申請の件数は2024件となり、年度ごとに増えています。

## 1.4 これまでの歩み

計画の策定から28年が経ち、2016件の申請を受け付けた年もありました。
"""


@pytest.fixture(scope="module")
def embedder(base_settings: Settings) -> Embedder:
    return Embedder(base_settings)


@pytest.fixture(scope="module")
def era_kb(
    tmp_path_factory: pytest.TempPathFactory, base_settings: Settings, embedder: Embedder
) -> KnowledgeBase:
    root: Path = tmp_path_factory.mktemp("era")
    corpus = root / "corpus"
    corpus.mkdir()
    (corpus / "years.md").write_text(DOC, encoding="utf-8")
    settings = base_settings.replace(corpus_dir=corpus, index_dir=root / "index")
    build_index(settings, embedder)
    return KnowledgeBase.open(settings, embedder)


def _sections(kb: KnowledgeBase, query: str) -> list[str]:
    return [hit.section for hit in kb.search(query, mode="keyword", k=3)]


def test_western_query_finds_era_passage(era_kb: KnowledgeBase) -> None:
    assert _sections(era_kb, "2024年度")[0].endswith("1.1 新しい窓口")
    assert _sections(era_kb, "２０２４年度から始まる取り組み")[0].endswith("1.1 新しい窓口")


def test_era_query_finds_western_passage(era_kb: KnowledgeBase) -> None:
    assert _sections(era_kb, "平成28年")[0].endswith("1.2 以前の計画")
    assert _sections(era_kb, "H28年の計画")[0].endswith("1.2 以前の計画")
    assert _sections(era_kb, "2016年に策定")[0].endswith("1.2 以前の計画")


# -- the year filter, on the real corpus ---------------------------------------------------------


def _in_range(kb: KnowledgeBase, years: tuple[int, int]) -> set[str]:
    """Chunk ids whose text or heading path names or spans a year in ``years`` (or, naming none,
    whose chapter states a period that does)."""
    start, end = years
    by_chunk = years_by_chunk(kb.chunks)
    return {cid for cid, found in by_chunk.items() if any(start <= y <= end for y in found)}


@pytest.mark.parametrize("mode", MODES)
def test_year_filter_keeps_only_passages_in_range_and_still_fills_k(
    built_kb: KnowledgeBase, mode: str
) -> None:
    years = (2024, 2027)
    allowed = _in_range(built_kb, years)
    assert len(allowed) >= 10  # the plan's third period and the national plans it cites
    hits = built_kb.search("窓口のデジタル化", mode=mode, k=5, filters=Filters(years=years))
    assert len(hits) == 5
    assert all(h.chunk_id in allowed for h in hits)
    assert [h.rank for h in hits] == [1, 2, 3, 4, 5]


@pytest.mark.parametrize("mode", ["semantic", "hybrid"])
def test_semantic_side_asks_for_more_when_few_candidates_are_in_range(
    built_kb: KnowledgeBase, mode: str
) -> None:
    """No chunk naming 2019 is among the query's 20 nearest, yet all of them come back."""
    query, years = "ペーパーレス会議", (2019, 2019)
    allowed = _in_range(built_kb, years)
    nearest = built_kb.retriever.semantic_scores(query, 20).scores
    assert 0 < len(allowed) <= 8 and not allowed & {cid for cid, _ in nearest}
    hits = built_kb.search(query, mode=mode, k=len(allowed), filters=Filters(years=years))
    assert {h.chunk_id for h in hits} == allowed
    # Asking for more than there are gives what there is.
    more = built_kb.search(query, mode=mode, k=len(allowed) + 5, filters=Filters(years=years))
    assert {h.chunk_id for h in more} == allowed


def test_a_year_inside_a_period_finds_the_period(built_kb: KnowledgeBase) -> None:
    """2026 is written nowhere in 「第3期（令和6年度から4年間）」, but the period spans it."""
    hits = built_kb.search("第3期の取り組み", mode="keyword", k=10, filters=Filters(years=(2026, 2026)))
    assert any("令和6年度から4年間" in h.text for h in hits), [h.section for h in hits]
    assert not any("2026" in h.text for h in hits if "令和6年度から4年間" in h.text)


def test_measures_without_a_year_inherit_their_chapters_period(built_kb: KnowledgeBase) -> None:
    """第4章 states 「第3期（令和6年度から4年間）」 once; its measures name no year, yet a 2026
    filter finds them. A chapter opening with a list of dates (a history) passes nothing on."""
    hits = built_kb.search("RPA", mode="keyword", k=10, filters=Filters(years=(2026, 2026)))
    inherited = [h for h in hits if not chunk_years(h.chunk)]
    assert inherited and all(h.chunk.chapter.startswith("第4章") for h in inherited), [
        h.section for h in hits
    ]
    by_chunk = years_by_chunk(built_kb.chunks)
    national = [c for c in built_kb.chunks if c.kind == "national_strategy" and not chunk_years(c)]
    assert national and all(not by_chunk[c.chunk_id] for c in national)


def test_a_western_year_filter_finds_era_passages(built_kb: KnowledgeBase) -> None:
    hits = built_kb.search("計画の策定", mode="hybrid", k=10, filters=Filters(years=(2016, 2016)))
    assert hits
    era_only = [h for h in hits if "平成28年" in h.text and "2016" not in h.text]
    assert era_only, [h.text[:60] for h in hits]


def test_year_filter_combines_with_kind_and_is_empty_out_of_range(built_kb: KnowledgeBase) -> None:
    both = Filters(kinds=("national_strategy",), years=(2021, 2022))
    for mode in MODES:
        hits = built_kb.search("デジタル", mode=mode, k=5, filters=both)
        assert hits and all(both.allows(h.chunk) for h in hits), mode
        assert built_kb.search("デジタル", mode=mode, k=5, filters=Filters(years=(2090, 2099))) == []
