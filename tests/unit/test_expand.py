"""Synonym expansion (kb/expand.py), the keyword side's expansion weight and the fusion ramp."""

from __future__ import annotations

import pytest

from kb.config import load_settings
from kb.errors import ConfigError
from kb.expand import SynonymTable, default_table, expand_query, rewrite_query
from kb.keyword import KeywordIndex
from kb.retrieve import adaptive_keyword_weight


def table(*lines: str) -> SynonymTable:
    groups = []
    for line in lines:
        cells = line.split("\t")
        groups.append(
            (tuple(c.lstrip("*") for c in cells), frozenset(c for c in cells if not c.startswith("*")))
        )
    return SynonymTable(groups)


def test_a_word_the_corpus_lacks_is_searched_through_its_corpus_synonyms() -> None:
    found = expand_query(
        "家から打ち合わせに参加できる？", {"会議", "参加"}, table("会議\t打ち合わせ\tミーティング")
    )
    assert [(e.typed, e.synonyms, e.tokens) for e in found] == [("打ち合わせ", ("会議",), ("会議",))]


def test_a_word_the_corpus_has_is_never_expanded() -> None:
    assert expand_query("会議に参加する", {"会議", "参加"}, table("会議\t打ち合わせ")) == []


def test_target_only_words_never_trigger() -> None:
    # Sudachi's expandControl 1: 「AI」 may be added for 人工知能 but is ambiguous on its own.
    synonyms = table("人工知能\t*ai", "人工授精\t*ai")
    assert expand_query("AIを入れるとミスは減る", {"人工知能"}, synonyms) == []
    [found] = expand_query("人工知能を入れる", {"ai"}, synonyms)
    assert found.tokens == ("ai",)


def test_a_word_whose_groups_offer_different_corpus_words_is_left_alone() -> None:
    synonyms = table("網\tネット", "インターネット\tネット")
    assert expand_query("ネットで予約", {"網", "インターネット", "予約"}, synonyms) == []
    assert expand_query("ネットで予約", {"インターネット", "予約"}, synonyms)[0].synonyms == (
        "インターネット",
    )


def test_packaged_dictionary_keeps_the_flags() -> None:
    synonyms = default_table()
    assert synonyms.corpus_synonyms("ai", {"人工知能", "人工授精"}) == []
    assert [s for s, _ in synonyms.corpus_synonyms("打ち合わせ", {"会議"})] == ["会議"]
    # A synonym that only matches through another word's lemma is not offered (かかり → 掛かる).
    assert all(s != "かかり" for s, _ in synonyms.corpus_synonyms("スタッフ", {"掛かる", "担当者"}))


def test_rewrite_puts_the_first_synonym_in_place() -> None:
    found = expand_query("家から打ち合わせに参加できる？", {"会議"}, table("会議\t打ち合わせ"))
    assert rewrite_query("家から打ち合わせに参加できる？", found) == "家から会議に参加できる?"
    assert rewrite_query("会議", []) == "会議"


def test_expansion_tokens_count_below_typed_words() -> None:
    index = KeywordIndex.build(["a", "b", "c"], ["会議の記録", "準備の手順", "予算の話"], 1.2, 0.5, 0.0)
    scores = index.scores("会議", expansion=["準備"], expansion_weight=0.5)
    assert scores[0] > scores[1] > 0 == scores[2]
    assert index.scores("会議", expansion=["準備"], expansion_weight=0.0)[1] == 0


def test_keyword_weight_ramps_with_coverage() -> None:
    s = load_settings(env={})
    weights = [adaptive_keyword_weight(c / 10, s) for c in range(11)]
    assert weights[0] == s.adaptive_keyword_min and weights[-1] == pytest.approx(s.adaptive_keyword_max)
    assert weights == sorted(weights)
    with pytest.raises(ConfigError):
        load_settings(env={"KB_ADAPTIVE_COVERAGE_LOW": "0.9", "KB_ADAPTIVE_COVERAGE_HIGH": "0.5"})


def test_keyword_search_reports_what_it_searched() -> None:
    from kb.chunk import Chunk
    from kb.retrieve import Retriever

    texts = ["在宅勤務のための会議システムを整備しました。", "窓口の待ち時間を短くします。"]
    chunks = [Chunk(f"c{i}", "plan", "計画", "plan", ("第1章",), 0, len(t), t) for i, t in enumerate(texts)]
    index = KeywordIndex.build([c.chunk_id for c in chunks], [c.index_text for c in chunks], 1.2, 0.5, 0.0)
    retriever = Retriever(chunks, index, None, None, load_settings(env={}))
    [hit] = retriever.search("家から打ち合わせに参加できる？", mode="keyword", k=5)
    assert hit.chunk_id == "c0"
    assert [e.typed for e in hit.expansions] == ["打ち合わせ"]
    data = hit.to_dict()
    assert data["searched_query"] == "家から会議に参加できる?"
    assert data["expansions"][0]["synonyms"][0] == "会議"
    # Off: the typed word alone finds nothing.
    off = Retriever(chunks, index, None, None, load_settings(env={}).replace(expansion_weight=0.0))
    assert off.search("家から打ち合わせに参加できる？", mode="keyword", k=5) == []


def test_the_search_page_names_the_synonyms_it_searched() -> None:
    from kb.app.html import search_results_html
    from kb.chunk import Chunk
    from kb.retrieve import Hit

    chunk = Chunk("c1", "plan", "計画", "plan", ("第1章",), 0, 6, "会議の進め方")
    [found] = expand_query("打ち合わせの<b>やり方", {"会議"}, table("会議\t打ち合わせ"))
    page = search_results_html("打ち合わせの<b>やり方", [Hit(1, 0.5, chunk, expansions=(found,))], "hybrid")
    assert "打ち合わせ → 会議" in page and "also searched as" in page
    assert "<b>" not in page  # typed text is escaped everywhere
    assert "also searched as" not in search_results_html("会議", [Hit(1, 0.5, chunk)], "hybrid")
