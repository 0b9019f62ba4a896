"""Index build: save -> reload -> same results, incremental, atomic, self-describing.

(Versioned builds under concurrent readers, crashes and broken state: test_build_safety.py.)"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from indexer.build import build_index
from kb.config import Settings
from kb.embed import Embedder
from kb.errors import CorpusError, IndexCorruptError, IndexMismatchError, IndexMissingError, InvalidQueryError
from kb.knowledge import KnowledgeBase
from kb.manifest import read_current
from kb.retrieve import Filters

DOC_A = """---
title: テスト計画
kind: plan
---
# 第1章 窓口

## 1.1 書かない窓口

申請書を書かずに手続きができる「書かない窓口」を令和6年度に導入します。待ち時間を短縮します。

## 1.2 キャッシュレス

窓口でキャッシュレス決済を導入し、多様な支払方法を選べるようにしました。
"""

DOC_B = """---
title: 用語
kind: glossary
---
# 用語集

## ORDEN

ORDEN: 大阪広域データ連携基盤のこと。府内の自治体がデータを連携する仕組み。
"""


@pytest.fixture
def small_settings(tmp_path: Path, base_settings: Settings) -> Settings:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.md").write_text(DOC_A, encoding="utf-8")
    return base_settings.replace(corpus_dir=corpus, index_dir=tmp_path / "index")


def live_build(settings: Settings) -> Path:
    """The folder of the build CURRENT names."""
    build_id = read_current(settings.index_dir)
    assert build_id
    return settings.index_dir / "builds" / build_id


@pytest.fixture(scope="module")
def embedder(base_settings: Settings) -> Embedder:
    return Embedder(base_settings)


def test_build_reload_same_results(small_settings: Settings, embedder: Embedder) -> None:
    report = build_index(small_settings, embedder)
    assert report.chunks >= 2 and report.sentences >= 2
    assert report.embedded == report.chunks + report.sentences
    first = KnowledgeBase.open(small_settings, embedder)
    hits = {m: first.search("書かない窓口はいつから", mode=m, k=3) for m in ("keyword", "semantic", "hybrid")}
    assert all(hits.values())
    again = KnowledgeBase.open(small_settings, embedder)
    for mode, expected in hits.items():
        assert again.search("書かない窓口はいつから", mode=mode, k=3) == expected
    assert hits["hybrid"][0].section == "第1章 窓口 › 1.1 書かない窓口"
    assert (live_build(small_settings) / "manifest.json").is_file()
    assert first.build_id == again.build_id == read_current(small_settings.index_dir)


def test_incremental_and_unchanged(small_settings: Settings, embedder: Embedder) -> None:
    first = build_index(small_settings, embedder)
    unchanged = build_index(small_settings, embedder)
    assert unchanged.unchanged and unchanged.embedded == 0
    (small_settings.corpus_dir / "b.md").write_text(DOC_B, encoding="utf-8")
    second = build_index(small_settings, embedder)
    vectors = lambda r: r.chunks + r.sentences  # noqa: E731
    assert second.reused == vectors(first)
    assert second.embedded == vectors(second) - vectors(first) > 0
    kb = KnowledgeBase.open(small_settings, embedder)
    assert kb.search("ORDEN", mode="keyword", k=1)[0].doc_id == "b"
    assert kb.search("ORDEN", mode="hybrid", k=5, filters=Filters(kinds=("plan",)))[0].kind == "plan"


def test_vectors_are_reused_by_text(small_settings: Settings, embedder: Embedder) -> None:
    """A renamed file and a section repeated in another document keep their vectors: a vector
    depends on the text, not on the chunk id (which hashes the document and heading too)."""
    first = build_index(small_settings, embedder)
    corpus = small_settings.corpus_dir
    (corpus / "a.md").rename(corpus / "renamed.md")
    renamed = build_index(small_settings, embedder)
    assert renamed.embedded == 0 and renamed.reused == first.chunks + first.sentences
    # A new document that repeats one section word for word and adds one sentence of its own.
    (corpus / "c.md").write_text(
        DOC_A.replace("title: テスト計画", "title: 別の計画") + _NEW_SECTION, encoding="utf-8"
    )
    grown = build_index(small_settings, embedder)
    assert 0 < grown.embedded <= 3, grown  # the new section (chunk + its sentences), nothing repeated
    # The reused vectors are the ones the text gets when embedded afresh.
    kb = KnowledgeBase.open(small_settings, embedder)
    store = kb.retriever.store
    chunk = next(c for c in kb.retriever.chunks.values() if c.doc_id == "c" and "書かない窓口" in c.text)
    stored = store.get_vectors([chunk.chunk_id])[chunk.chunk_id]
    fresh = embedder.embed_passages([chunk.embed_text])[0]
    assert float(np.dot(stored, fresh)) > 0.9999


_NEW_SECTION = """
## 1.3 公衆無線LAN
市内の公民館に公衆無線LANを整備します。
"""


class _FailingEmbedder(Embedder):
    def embed_passages(self, texts, progress=None):  # type: ignore[no-untyped-def]
        raise RuntimeError("simulated crash while embedding")


def test_failed_build_keeps_previous_index(small_settings: Settings, embedder: Embedder) -> None:
    build_index(small_settings, embedder)
    before = KnowledgeBase.open(small_settings, embedder).search("キャッシュレス", mode="hybrid", k=2)
    (small_settings.corpus_dir / "b.md").write_text(DOC_B, encoding="utf-8")
    failing = _FailingEmbedder(small_settings)
    failing._model = embedder.model  # same model, so only the crash differs
    with pytest.raises(RuntimeError):
        build_index(small_settings, failing)
    after = KnowledgeBase.open(small_settings, embedder).search("キャッシュレス", mode="hybrid", k=2)
    assert after == before
    leftovers = [p.name for p in (small_settings.index_dir / "builds").iterdir()]
    assert leftovers == [live_build(small_settings).name]


def test_mismatch_says_what_to_rebuild(small_settings: Settings, embedder: Embedder) -> None:
    build_index(small_settings, embedder)
    other = small_settings.replace(chunk_target_chars=200)
    with pytest.raises(IndexMismatchError, match="chunk_target_chars"):
        KnowledgeBase.open(other, embedder)


def test_missing_and_corrupt_index(small_settings: Settings, embedder: Embedder) -> None:
    with pytest.raises(IndexMissingError, match="kb index"):
        KnowledgeBase.open(small_settings, embedder)
    build_index(small_settings, embedder)
    (live_build(small_settings) / "chunks.jsonl").write_text("{not json", encoding="utf-8")
    with pytest.raises(IndexCorruptError):
        KnowledgeBase.open(small_settings, embedder)
    (live_build(small_settings) / "manifest.json").write_text("garbage", encoding="utf-8")
    with pytest.raises(IndexCorruptError):
        KnowledgeBase.open(small_settings, embedder)


def test_non_utf8_file_is_skipped_not_fatal(small_settings: Settings, embedder: Embedder) -> None:
    (small_settings.corpus_dir / "broken.txt").write_bytes("第1章 壊れた\n".encode("cp932"))
    report = build_index(small_settings, embedder)
    assert any("broken.txt" in s for s in report.skipped_files)
    assert report.documents == 1


def test_empty_corpus_is_a_clear_error(tmp_path: Path, base_settings: Settings, embedder: Embedder) -> None:
    (tmp_path / "empty").mkdir()
    settings = base_settings.replace(corpus_dir=tmp_path / "empty", index_dir=tmp_path / "idx")
    with pytest.raises(CorpusError, match="no indexable documents"):
        build_index(settings, embedder)


def test_plain_text_headings_detected(small_settings: Settings, embedder: Embedder) -> None:
    (small_settings.corpus_dir / "memo.txt").write_text(
        "第1章 概要\n\nこのメモはテストです。\n\n1.1 目的\n\n電子申請を広げることが目的です。\n",
        encoding="utf-8",
    )
    build_index(small_settings, embedder)
    kb = KnowledgeBase.open(small_settings, embedder)
    hit = kb.search("電子申請を広げる", mode="keyword", k=1)[0]
    assert hit.doc_id == "memo" and hit.section == "第1章 概要 › 1.1 目的"


@pytest.mark.parametrize("query", ["", "   \n\t ", "\x00\x01\x02", "あ" * 100_000])
def test_bad_queries_raise_clear_errors(built_kb: KnowledgeBase, query: str) -> None:
    with pytest.raises(InvalidQueryError) as info:
        built_kb.search(query, mode="hybrid")
    assert info.value.ja and info.value.en


def test_vectors_are_unit_length(built_kb: KnowledgeBase) -> None:
    vec = built_kb.retriever.embedder.embed_queries(["テスト"])  # type: ignore[union-attr]
    assert np.isclose(np.linalg.norm(vec[0]), 1.0, atol=1e-4)


def test_index_dir_can_be_copied(small_settings: Settings, embedder: Embedder, tmp_path: Path) -> None:
    """An index folder is self-contained: a copy opens and answers the same."""
    build_index(small_settings, embedder)
    copy = tmp_path / "copy"
    shutil.copytree(small_settings.index_dir, copy)
    original = KnowledgeBase.open(small_settings, embedder).search("窓口", mode="semantic", k=2)
    copied = KnowledgeBase.open(small_settings.replace(index_dir=copy), embedder).search(
        "窓口", mode="semantic", k=2
    )
    assert [h.chunk_id for h in copied] == [h.chunk_id for h in original]


def test_backends_share_an_index(small_settings: Settings, embedder: Embedder) -> None:
    """The backend is not in the index contract: ONNX and torch vectors agree to a cosine of 2e-7
    (eval/experiments/onnx.md), so an index built with one answers the same through the other."""
    assert embedder.backend == "onnx"
    build_index(small_settings, embedder)
    torch_settings = small_settings.replace(embedding_backend="torch")
    with_torch = KnowledgeBase.open(torch_settings, Embedder(torch_settings))
    with_onnx = KnowledgeBase.open(small_settings, embedder)
    for mode in ("semantic", "hybrid"):
        got = with_torch.search("書かない窓口はいつから", mode=mode, k=3)
        want = with_onnx.search("書かない窓口はいつから", mode=mode, k=3)
        assert [h.chunk_id for h in got] == [h.chunk_id for h in want]
        assert [h.score for h in got] == pytest.approx([h.score for h in want], abs=1e-4)


def test_in_memory_search_gives_chromas_hits(small_settings: Settings, embedder: Embedder) -> None:
    build_index(small_settings, embedder)
    exact = KnowledgeBase.open(small_settings, embedder)
    chroma = KnowledgeBase.open(small_settings.replace(exact_search_max=0), embedder)
    assert exact.retriever.store is not None and exact.retriever.store.exact_index() is not None
    assert chroma.retriever.store is not None and chroma.retriever.store.exact_index() is None
    for filters in (
        None,
        Filters(kinds=("plan",)),
        Filters(chapter="第1章 窓口"),
        Filters(kinds=("glossary",)),
    ):
        for mode in ("semantic", "hybrid"):
            got = exact.search("キャッシュレス決済", mode=mode, k=5, filters=filters)
            want = chroma.search("キャッシュレス決済", mode=mode, k=5, filters=filters)
            assert [(h.chunk_id, h.best_sentence) for h in got] == [
                (h.chunk_id, h.best_sentence) for h in want
            ]
            assert [h.score for h in got] == pytest.approx([h.score for h in want], abs=1e-5)


def test_thesaurus_words_find_their_term_and_a_change_rebuilds(
    small_settings: Settings, embedder: Embedder
) -> None:
    """Everyday words in corpus/plain_words.tsv reach the chunks holding their term (keyword
    side), the hit says which word stood for which term, and editing the file re-indexes."""
    (small_settings.corpus_dir / "b.md").write_text(DOC_B, encoding="utf-8")
    build_index(small_settings, embedder)
    kb = KnowledgeBase.open(small_settings, embedder)
    assert not any(h.plain_words for h in kb.search("現金を使わずに払える？", mode="keyword", k=3))
    thesaurus = small_settings.corpus_dir / "plain_words.tsv"
    thesaurus.write_text(
        "キャッシュレス決済\t現金を使わずに払う\t電子マネー\n存在しない用語\t何かの言い換え\n",
        encoding="utf-8",
    )
    assert kb.is_stale()
    report = build_index(small_settings, embedder)
    assert not report.unchanged and report.embedded == 0  # only the keyword side changed
    # A term no passage holds does nothing; the report names it, so a typo is seen.
    assert report.plain_words_terms == 2 and report.plain_words_unused == ["存在しない用語"]
    kb = KnowledgeBase.open(small_settings, embedder)
    assert not kb.is_stale()
    top = kb.search("現金を使わずに払える？", mode="keyword", k=1)[0]
    assert "キャッシュレス決済" in top.text
    assert [(m.alias, m.term) for m in top.plain_words] == [("現金を使わずに払う", "キャッシュレス決済")]
    assert top.to_dict()["plain_words"] == [{"alias": "現金を使わずに払う", "term": "キャッシュレス決済"}]
    # The alias is not content: the chunk's text, and so every quote, is the document's own.
    assert "現金を使わずに" not in top.text
    # A broken thesaurus stops the build with the line to fix; the built index stays usable.
    thesaurus.write_text("キャッシュレス決済\n", encoding="utf-8")
    assert kb.is_stale()
    with pytest.raises(CorpusError, match="line 1"):
        build_index(small_settings, embedder)
    assert KnowledgeBase.open(small_settings, embedder).search("電子マネー", mode="keyword", k=1)


def test_expected_questions_reach_their_passage_and_a_change_rebuilds(
    small_settings: Settings, embedder: Embedder
) -> None:
    """A question in corpus/expected_questions.tsv lands on the chunk holding its anchor: its
    words on the keyword side, its vector on the semantic side (raising that chunk's score), the
    hit names it; the questions are part of the corpus hash and their vectors are reused."""
    (small_settings.corpus_dir / "b.md").write_text(DOC_B, encoding="utf-8")
    build_index(small_settings, embedder)
    kb = KnowledgeBase.open(small_settings, embedder)
    asked = "財布を忘れてもスマホで払える？"
    before = {h.chunk_id: h.score for h in kb.search(asked, mode="semantic", k=3)}
    other = "府内の自治体でデータをつなぐ仕組みは？"  # answered by b.md, which gets no questions
    other_before = kb.search(other, mode="semantic", k=1)[0]
    assert not any(h.similar_question for h in kb.search(asked, mode="semantic", k=3))
    questions = small_settings.corpus_dir / "expected_questions.tsv"
    questions.write_text(
        "キャッシュレス決済を導入\t財布を忘れてもスマホで払える？\t小銭がなくても払える？\n"
        "存在しない本文の抜き書き\t何かの質問ですか？\n",
        encoding="utf-8",
    )
    assert kb.is_stale()
    report = build_index(small_settings, embedder)
    # Chunk and sentence vectors are reused; embedded now: the two questions whose anchor is found,
    # and the sentences of the chunks without questions, which stand in for them.
    assert not report.unchanged and report.expected_questions == 2
    assert report.stand_in_questions >= 2 and report.embedded == 2 + report.stand_in_questions
    assert report.expected_unused == ["存在しない本文の抜き書き"]
    assert report.documents_without_questions == ["b"]  # b.md: no anchor in it
    kb = KnowledgeBase.open(small_settings, embedder)
    assert not kb.is_stale()
    top = kb.search(asked, mode="semantic", k=1)[0]
    assert "キャッシュレス決済を導入" in top.text and top.score > before[top.chunk_id]
    match = top.similar_question
    assert match is not None and match.question == "財布を忘れてもスマホで払える?"
    assert match.cosine > 0.99 and top.text[match.start : match.end] == "キャッシュレス決済を導入"
    # A passage without questions keeps its place (its sentences stand in); nothing is shown for it.
    other_after = kb.search(other, mode="semantic", k=1)[0]
    assert other_after.chunk_id == other_before.chunk_id and other_after.score >= other_before.score
    assert other_after.similar_question is None
    # The keyword side reads the question's words; the chunk's text stays the document's own.
    assert "キャッシュレス" in kb.search("小銭がなくても", mode="keyword", k=1)[0].text
    assert "小銭" not in top.text
    # Their vectors are reused by text when something else changes.
    (small_settings.corpus_dir / "plain_words.tsv").write_text(
        "キャッシュレス決済\t電子マネー\n", encoding="utf-8"
    )
    assert build_index(small_settings, embedder).embedded == 0
    # A broken file stops the build with the line to fix; the built index stays usable.
    questions.write_text("キャッシュレス決済を導入\n", encoding="utf-8")
    with pytest.raises(CorpusError, match="line 1"):
        build_index(small_settings, embedder)
    assert KnowledgeBase.open(small_settings, embedder).search("小銭がなくても", mode="keyword", k=1)
