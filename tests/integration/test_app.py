"""The Gradio app (the ``kb.app`` package): built without serving, then served on a free
loopback port and asked through gradio_client with the app's own api_names (/ask, /search, ...)."""

from __future__ import annotations

import dataclasses
import html
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import gradio as gr
import pytest
from gradio_client import Client, handle_file
from helpers.documents import SMALL_DOC, make_image_only_pdf, small_settings
from helpers.servers import app_in_process
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

import kb.app
from kb.answer import Citation
from kb.app import cards, handlers, inputs
from kb.app.html import highlight_terms
from kb.app.outline import find_section, section_tree
from kb.config import Settings
from kb.errors import KBError
from kb.feedback import FeedbackStore
from kb.knowledge import KnowledgeBase
from kb.retrieve import Filters
from kb.text import query_terms


def text_of(message: dict[str, Any]) -> str:
    """A Chatbot message's text (gradio 6 returns content as a list of typed parts)."""
    content = message["content"]
    if isinstance(content, str):
        return content
    return "".join(part.get("text", "") for part in content if isinstance(part, dict))


@pytest.fixture(scope="module")
def served(built_kb, base_settings: Settings) -> Iterator[tuple[str, Settings]]:  # type: ignore[no-untyped-def]
    with app_in_process(base_settings, built_kb) as url:
        yield url, base_settings


@pytest.fixture
def client(served: tuple[str, Settings]) -> Client:
    """A new client: its own session (conversation state), as a new browser tab would have."""
    return Client(served[0], verbose=False)


def ask(client: Client, question: str) -> tuple[list[dict[str, Any]], str, str]:
    """(chat, notice next to the box, sources) after asking ``question`` after the chat so far."""
    chat, notice, sources, _box = client.predict(question, [], api_name="/ask")
    return chat, notice, sources


def test_build_app_builds_without_serving(base_settings: Settings, built_kb) -> None:  # type: ignore[no-untyped-def]
    demo = kb.app.build_app(base_settings, built_kb)
    assert isinstance(demo, gr.Blocks)
    names = {fn.api_name for fn in demo.fns.values()}
    assert {"ask", "search", "vote_up", "vote_down", "doc_sections", "read_section"} <= names


def test_answerable_question_comes_back_cited(client: Client) -> None:
    started = time.perf_counter()
    chat, notice, sources = ask(client, "書かない窓口って何をするの？")
    print(f"/ask latency: {time.perf_counter() - started:.2f} s")
    assert [m["role"] for m in chat] == ["user", "assistant"]
    answer = text_of(chat[-1])
    assert re.search(r'<a class="cite-ref" href="#cite-1-1"[^>]*>\[1\]</a>', answer), answer
    assert notice == ""
    assert 'data-answerable="true"' in sources and 'id="cite-1-1"' in sources
    assert 'class="cite-card"' in sources and '<mark class="quote">' in sources
    assert '<details class="cite-section">' in sources  # the whole section, expandable
    assert "検索した語" not in sources  # searched exactly what was typed: not repeated


def test_each_answer_keeps_its_own_sources(client: Client) -> None:
    """Issue 5: earlier answers keep their cards; [n] of answer k links to card cite-k-n."""
    first_chat, _, first = ask(client, "EBPMとは？")
    chat, _, sources, _ = client.predict("それはいつから？", first_chat, api_name="/ask")
    assert sources.count('<details class="turn"') == 2 == len(re.findall(r'data-turn="\d"', sources))
    ids = re.findall(r'id="(cite-\d+-\d+)"', sources)
    assert len(ids) == len(set(ids)) and any(i.startswith("cite-1-") for i in ids)
    for message in chat:
        for target in re.findall(r'class="cite-ref" href="#(cite-\d+-\d+)"', text_of(message)):
            assert f'id="{target}"' in sources, target
    assert "検索した語" in sources  # the follow-up was rewritten with its topic, so it is shown
    assert re.findall(r'id="(cite-1-\d+)"', first) == [i for i in ids if i.startswith("cite-1-")]


def test_unanswerable_question_abstains_with_suggestions(client: Client) -> None:
    chat, _, sources = ask(client, "市役所の食堂のメニューは？")
    assert 'data-answerable="false"' in sources and 'class="cite-card"' not in sources
    assert "[1]" not in text_of(chat[-1])
    assert 'class="suggestions"' in sources and "<details>" in sources  # related sections, readable


def test_a_declined_question_shows_a_close_passage_as_related_not_as_a_source(client: Client) -> None:
    """Declined, yet an expected question close to it (ビデオ通話 ↔ 画面越しに相談) shows its passage,
    labelled as related: a card, counted as 参考, never as a source of an answer."""
    chat, _, sources = ask(client, "支所から本庁の人とビデオ通話で相談できますか？")
    answer = text_of(chat[-1])
    assert 'data-answerable="false"' in sources and "確からしさ" not in sources
    assert "参考（答えとは確認できませんでしたが" in answer and 'href="#cite-1-1"' in answer
    assert "参考 1 件 / 1 related" in sources and 'id="cite-1-1"' in sources
    assert "引用 1 件" not in sources


def test_script_in_question_comes_back_escaped(client: Client) -> None:
    chat, _, sources = ask(client, "<script>alert(1)</script>書かない窓口とは？")
    user = text_of(chat[0])
    assert "<script>" not in user and "&lt;script&gt;alert(1)&lt;/script&gt;" in user
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in sources  # the question heading its sources
    for html_out in (sources, text_of(chat[-1])):
        assert "<script>" not in html_out


@pytest.mark.parametrize(
    ("question", "expected"),
    [("", "質問が空です"), ("   ", "質問が空です"), ("窓口" * 3000, "質問が長すぎます"), ("\x00\x01", "空")],
)
def test_bad_input_shows_a_bilingual_message(client: Client, question: str, expected: str) -> None:
    """Issue 6: the chat's messages speak of 質問 (not 検索語), in the notice next to the box."""
    chat, notice, _ = ask(client, question)
    assert chat == []
    assert 'class="kb-notice kb-error"' in notice and expected in notice and "検索語" not in notice
    assert re.search(r'<div class="en">[a-z]', notice)  # English half
    assert "question" in notice and "Traceback" not in notice


def test_feedback_is_recorded_for_the_last_answer(client: Client, served: tuple[str, Settings]) -> None:
    ask(client, "EBPMとは？")
    message, comment = client.predict("定義だけでなく事例も知りたい", api_name="/vote_down")
    assert "#" in message and comment == ""
    row = FeedbackStore(served[1].feedback_db).records()[-1]
    assert row.question == "EBPMとは？" and row.vote == -1
    assert row.comment == "定義だけでなく事例も知りたい"
    assert row.citations and row.citations[0]["n"] == 1


def test_keyword_search_marks_terms(client: Client) -> None:
    html_out = client.predict("RPA", "keyword", [], "", 5, api_name="/search")
    assert html_out.count('class="hit"') == 5
    assert "<mark>RPA</mark>" in html_out or "<mark>rpa</mark>" in html_out.lower()
    assert 'data-rank="1"' in html_out and "score" in html_out


def test_search_filters_and_escaping(client: Client, built_kb) -> None:  # type: ignore[no-untyped-def]
    glossary = client.predict("AI", "hybrid", ["glossary"], "", 3, api_name="/search")
    assert glossary.count('class="hit"') >= 1 and "国の戦略" not in glossary and "計画本文" not in glossary
    chapter = built_kb.chapters()[-1]
    hits = client.predict("計画", "keyword", [], chapter, 3, api_name="/search")
    assert hits.count(chapter) == hits.count('class="hit"') >= 1
    evil = client.predict("<img src=x onerror=alert(1)>", "keyword", [], "", 3, api_name="/search")
    assert "<img" not in evil and "&lt;img" in evil


def test_chapter_filter_by_name_through_the_api(client: Client, caplog: pytest.LogCaptureFixture) -> None:
    """Issue 1: the reported call works from a fresh client; an unknown chapter is a clear message."""
    chapter = "第4章 期別取り組み（第3期）"
    hits = client.predict("テレワーク", "hybrid", [], chapter, 3, api_name="/search")
    assert 1 <= hits.count('class="hit"') == hits.count(chapter), hits[:500]
    short = client.predict("テレワーク", "hybrid", [], "第4章", 3, api_name="/search")  # a unique part
    assert short.count('class="hit"') == short.count(chapter) >= 1
    unknown = client.predict("テレワーク", "hybrid", [], "第9章 ない章", 3, api_name="/search")
    assert "kb-error" in unknown and "という章はありません" in unknown and "unknown chapter" in unknown
    assert chapter in unknown  # the message lists the real choices
    assert "Traceback" not in caplog.text


def test_weak_hits_are_shown_apart_after_the_strong_ones(client: Client, built_kb) -> None:  # type: ignore[no-untyped-def]
    """Issue 11: hits found by meaning alone and below the floor come last, under their heading."""
    query = "ドローン"  # on this corpus its top 10 mixes strong and weak hits
    hits = built_kb.search(query, mode="hybrid", k=10)
    strong = [h.chunk_id for h in hits if not h.weak]
    weak = [h.chunk_id for h in hits if h.weak]
    assert strong and weak, "the query no longer mixes strong and weak hits: pick another"
    out = client.predict(query, "hybrid", [], "", 10, api_name="/search")
    shown = re.findall(r'<li class="hit"[^>]*data-chunk-id="([^"]+)"', out)
    assert shown == strong + weak  # strong first, each group in rank order
    head = out.index('<details class="weak-hits"')
    assert all(out.index(f'data-chunk-id="{c}"') > head for c in weak)
    assert all(out.index(f'data-chunk-id="{c}"') < head for c in strong)
    assert "関連が弱い結果" in out and "weakly related" in out
    assert f'<details class="weak-hits" data-count="{len(weak)}">' in out  # folded: no "open"
    assert f"検索結果 {len(strong)} 件" in out and "はっきり一致する箇所は見つかりませんでした" not in out


def test_only_weak_hits_say_so_first(client: Client, built_kb) -> None:  # type: ignore[no-untyped-def]
    """Issue 11: テレワーク in 第1章 (which never mentions it) first says no clear match was found."""
    chapter = next(c for c in built_kb.chapters() if c.startswith("第1章"))
    out = client.predict("テレワーク", "hybrid", [], chapter, 5, api_name="/search")
    notice = out.index("はっきり一致する箇所は見つかりませんでした")
    assert notice < out.index('<details class="weak-hits"') < out.index('class="hit"')
    assert 'data-strong="0"' in out and "検索結果" not in out
    assert out.count('class="hit"') == out.count('data-weak="true"') >= 1
    assert "No clearly matching passage" in out and 'data-count="' in out and '" open>' in out
    keyword = client.predict("テレワーク", "keyword", [], chapter, 5, api_name="/search")
    assert "見つかりませんでした" in keyword and "weak-hits" not in keyword


def test_chapter_and_document_choices_are_declared(base_settings: Settings, built_kb) -> None:  # type: ignore[no-untyped-def]
    config = kb.app.build_app(base_settings, built_kb).config
    dropdowns = {
        c["props"].get("elem_id"): [v for _, v in c["props"]["choices"]]
        for c in config["components"]
        if c["type"] == "dropdown"
    }
    assert set(built_kb.chapters()) <= set(dropdowns["chapter"])
    assert {d.doc_id for d in built_kb.documents()} == set(dropdowns["doc"])


def test_upload_can_be_turned_off(base_settings: Settings, built_kb) -> None:  # type: ignore[no-untyped-def]
    """app_allow_upload=False: no upload box on the page and no add_document API to call."""

    def upload_parts(settings: Settings) -> tuple[set[str], set[str]]:
        config = kb.app.build_app(settings, built_kb).config
        elem_ids = {c["props"].get("elem_id") for c in config["components"]}
        apis = {d.get("api_name") for d in config["dependencies"]}
        return elem_ids & {"upload-box", "upload", "add-doc"}, apis & {"add_document"}

    assert upload_parts(base_settings) == ({"upload-box", "upload", "add-doc"}, {"add_document"})
    assert upload_parts(base_settings.replace(app_allow_upload=False)) == (set(), set())


def test_section_picker_by_name_through_the_api(client: Client, served: tuple[str, Settings]) -> None:
    """Issue 1: documents and sections are picked by id, title or heading from fresh clients."""
    sections, reader = client.predict("plan", api_name="/doc_sections")
    labels = [label for label, _ in sections["choices"]]
    assert any(label.startswith("■ 第1章") for label in labels)
    assert any(label.startswith("\u3000└ 1.1") for label in labels)
    key = next(value for label, value in sections["choices"] if "1.3 計画期間" in label)
    by_key = Client(served[0], verbose=False).predict("plan", key, api_name="/read_section")
    assert "1.3 計画期間" in by_key and 'class="passage"' in by_key
    title = "補足説明（用語集・個別の制度・技術等についての解説）"
    sections, reader = Client(served[0], verbose=False).predict(title, api_name="/doc_sections")
    assert sections["choices"] and "i 用語集" in reader
    by_heading = Client(served[0], verbose=False).predict(title, "EBPM", api_name="/read_section")
    assert "EBPM (Evidence Based Policy Makingの略)" in by_heading and "kb-error" not in by_heading
    assert "kb-error" in Client(served[0], verbose=False).predict("nope", "x", api_name="/read_section")


def test_reader_keeps_the_first_sub_heading(client: Client, built_kb) -> None:  # type: ignore[no-untyped-def]
    """Issue 2: a chapter's text starts with its first sub-heading (「本章の内容」, 「i 用語集」)."""
    chapter1 = client.predict("plan", "第1章 計画の概要", api_name="/read_section")
    assert "本章の内容" in chapter1.split('class="passage"')[1]
    glossary = client.predict("glossary", "補足説明", api_name="/read_section")
    body = glossary.split('class="passage"')[1]
    assert "i 用語集" in body and "オープンシステム" in body
    for doc in built_kb.documents():  # every heading's text shows every heading under it
        nodes = section_tree(doc)
        for node in (n for n in nodes if n.heading_path):  # the front matter has no heading
            text = doc.text[node.start : node.end]
            for child in nodes:
                if (
                    len(child.heading_path) > len(node.heading_path)
                    and child.heading_path[: len(node.heading_path)] == node.heading_path
                ):
                    assert child.heading_path[-1] in text, (doc.doc_id, node.key, child.key)


def test_documents_tab_lists_every_document(base_settings: Settings, built_kb) -> None:  # type: ignore[no-untyped-def]
    """Issue 9: title, kind, issuer, source and date of every document."""
    listing = handlers.documents_html(kb.app.KBService(base_settings, built_kb))
    for doc in built_kb.documents():
        row = re.search(rf'<tr data-doc-id="{doc.doc_id}">(.*?)</tr>', listing)
        assert row, doc.doc_id
        assert html.escape(doc.title) in row.group(1) and doc.date in row.group(1)
        assert {"plan": "計画本文", "glossary": "用語集", "national_strategy": "国の戦略"}[
            doc.kind
        ] in row.group(1)
        assert doc.path.name in row.group(1) or str(getattr(doc, "source", "")) in row.group(1)


def test_handlers_turn_library_errors_into_messages(
    base_settings: Settings, built_kb, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    service = kb.app.KBService(base_settings, built_kb)
    # Values the UI cannot send (Gradio checks radio choices) still get a bilingual message.
    bad_mode = handlers.search(service, "RPA", "fuzzy", [], "", 3)
    assert "kb-error" in bad_mode and "検索モード" in bad_mode
    bad_k = handlers.search(service, "RPA", "keyword", [], "", 500)
    assert "kb-error" in bad_k and "k must be between" in bad_k
    not_text = handlers.search(service, None, "keyword", [], "", 3)
    assert "kb-error" in not_text and "Traceback" not in not_text
    store = FeedbackStore(tmp_path / "fb.sqlite3")
    assert "先に質問" in handlers.vote(lambda: store, -1, "", None)[0]


def test_same_passage_cited_twice_gets_one_card(built_kb) -> None:  # type: ignore[no-untyped-def]
    """Issue 8: citations of one chunk share a card; both quotes marked, both [n] anchored."""
    chunk = next(c for c in built_kb.chunks if c.text.count("。") >= 3)
    first, second = (s + "。" for s in chunk.text.split("。")[:2])
    other = next(c for c in built_kb.chunks if c.chunk_id != chunk.chunk_id)
    citations = [
        Citation(1, chunk, first.strip()),
        Citation(2, other, other.text[:10]),
        Citation(3, chunk, second.strip()),
    ]
    merged = cards.merge_citations(citations)
    assert [c.numbers for c in merged] == [(1, 3), (2,)]
    out = cards.card_html(merged[0], turn=4)
    assert out.count('class="cite-card"') == 1 and 'id="cite-4-1"' in out and 'id="cite-4-3"' in out
    assert out.count('<mark class="quote">') == 2 and "[1][3]" in out


def test_searched_query_only_when_rewritten() -> None:
    assert cards.searched_query_html("EBPMとは？", "EBPMとは？") == ""
    assert cards.searched_query_html("ＥＢＰＭとは？", " ebpmとは? ") == ""  # same after normalising
    shown = cards.searched_query_html("それはいつから？", "EBPM いつから？")
    assert "検索した語" in shown and "EBPM いつから？" in shown


# --- first run: the index is built in the background with visible progress ----------------


def test_missing_index_is_built_with_progress(base_settings: Settings, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    settings = small_settings(base_settings, tmp_path)
    seen: list[str] = []
    service = kb.app.KBService(
        settings, progress=lambda stage, fraction: seen.append(handlers.status_html(service))
    )
    with pytest.raises(Exception) as waiting:
        service.require()
    assert "準備" in waiting.value.ja  # type: ignore[attr-defined]
    service.start()
    assert service.wait(timeout=300)
    assert any("<progress" in html_out for html_out in seen)
    assert 'data-ready="true"' in handlers.status_html(service)
    assert (settings.index_dir / "CURRENT").is_file()
    err = capsys.readouterr().err
    assert "[kb]" in err and "100%" in err
    knowledge, _ = service.require()
    assert knowledge.search("書かない窓口", mode="keyword", k=1)[0].doc_id == "small"
    assert service.chapters() == ["第1章 概要"]


def test_failed_build_shows_a_bilingual_error(base_settings: Settings, tmp_path: Path) -> None:
    settings = small_settings(base_settings, tmp_path, text=None)  # empty corpus: nothing to index
    service = kb.app.KBService(settings)
    service.start()
    assert not service.wait(timeout=120)
    status = handlers.status_html(service)
    assert (
        "kb-error" in status and "索引できる文書がありません" in status and "no indexable documents" in status
    )
    outputs = list(handlers.ask(service, "EBPMとは？", [], [], []))
    assert "索引できる文書がありません" in outputs[-1][3]


def test_failed_rebuild_keeps_the_stale_index(
    base_settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import indexer.build
    from kb.errors import CorpusError

    settings = small_settings(base_settings, tmp_path)
    indexer.build.build_index(settings)
    (settings.corpus_dir / "small.md").write_text(SMALL_DOC + "\n追記です。\n", encoding="utf-8")

    def broken(*args: Any, **kwargs: Any) -> None:
        raise CorpusError("テスト用の失敗です", "failure for the test")

    monkeypatch.setattr(indexer.build, "build_index", broken)
    service = kb.app.KBService(settings)
    service.start()
    assert service.wait(timeout=120)  # still ready: the old index answers
    status = handlers.status_html(service)
    assert "テスト用の失敗です" in status and "failure for the test" in status
    knowledge, _ = service.require()
    assert knowledge.search("計画期間", mode="keyword", k=1)


def test_login_is_required_when_configured(base_settings: Settings, built_kb) -> None:  # type: ignore[no-untyped-def]
    settings = base_settings.replace(app_auth_user="staff", app_auth_password="s3cret")
    with app_in_process(settings, built_kb) as url:
        with pytest.raises(Exception):  # noqa: B017 - gradio_client raises different types per version
            Client(url, verbose=False).predict("RPA", "keyword", [], "", 1, api_name="/search")
        client = Client(url, auth=("staff", "s3cret"), verbose=False)
        assert 'class="hit"' in client.predict("RPA", "keyword", [], "", 1, api_name="/search")


def test_main_reports_a_bad_config_without_a_traceback(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    assert kb.app.main(["--config", str(tmp_path / "missing.toml")]) == 2
    err = capsys.readouterr().err
    assert "設定ファイルがありません" in err and "config file not found" in err and "Traceback" not in err


# --- HTML rendering (kb.app.html, kb.app.outline) ---------------------------------------------

_MARK = re.compile(r"</?mark[^>]*>")


@given(st.text(max_size=200), st.lists(st.text(min_size=1, max_size=5), max_size=4))
@hypothesis_settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_highlighting_only_adds_marks_and_escapes_everything(text: str, terms: list[str]) -> None:
    out = highlight_terms(text, terms)
    assert html.unescape(_MARK.sub("", out)) == text
    assert "<" not in _MARK.sub("", out)


def test_highlighting_matches_full_width_and_inflected_forms() -> None:
    out = highlight_terms("ＲＰＡや「書かない」窓口、<b>", query_terms("書かない窓口とRPA"))
    assert "<mark>ＲＰＡ</mark>" in out and "<mark>書か</mark>" in out and "<mark>窓口</mark>" in out
    assert "&lt;b&gt;" in out


def test_section_tree_covers_every_section(built_kb) -> None:  # type: ignore[no-untyped-def]
    for doc in built_kb.documents():
        nodes = section_tree(doc)
        keys = [n.key for n in nodes]
        assert len(keys) == len(set(keys))
        for section in doc.sections:
            node = next(n for n in nodes if n.heading_path == section.heading_path)
            assert node.start <= section.start and section.end <= node.end
            assert find_section(doc, section.start, section.end) == section


# --- the year filter (search and chat) ---------------------------------------------------------

YEARS_SUPPORTED = "years" in {f.name for f in dataclasses.fields(Filters)}


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("", None),
        ("  ", None),
        (None, None),
        ("2025", (2025, 2025)),
        (2025, (2025, 2025)),
        ("2024-2027", (2024, 2027)),
        ("２０２４〜２０２７年度", (2024, 2027)),
        ("2024年から2027年まで", (2024, 2027)),
        ("令和6年度〜令和9年度", (2024, 2027)),
        ("平成31年", (2019, 2019)),
    ],
)
def test_year_range_is_read_from_what_was_typed(typed: Any, expected: tuple[int, int] | None) -> None:
    assert inputs.checked_years(typed) == expected


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("abc", "西暦"),
        ("2027-2024", "範囲が逆"),
        ("1800", "西暦"),
        ("2024-2025-2026", "西暦"),
        ([2024], "西暦"),
    ],
)
def test_bad_year_range_is_a_bilingual_message(typed: Any, expected: str) -> None:
    with pytest.raises(KBError) as refused:
        inputs.checked_years(typed)
    assert expected in refused.value.ja and re.search(r"[a-z]{3}", refused.value.en)


def test_year_filter_through_the_api(client: Client, built_kb) -> None:  # type: ignore[no-untyped-def]
    """The search page's year range reaches kb.retrieve.Filters(years=...): the same hits as the
    library gives (once Filters has ``years``; until then a clear message, never ignored)."""
    everything = client.predict("DX推進", "hybrid", [], "", 5, "", api_name="/search")
    assert everything == client.predict("DX推進", "hybrid", [], "", 5, api_name="/search")  # "" = all years
    ranged = client.predict("DX推進", "hybrid", [], "", 5, "2024-2027", api_name="/search")
    bad = client.predict("DX推進", "hybrid", [], "", 5, "2027-2024", api_name="/search")
    assert "kb-error" in bad and "範囲が逆" in bad and "reversed" in bad
    chat, notice, _sources, _box = client.predict("DXの取り組みは？", [], "2024-2027", api_name="/ask")
    if not YEARS_SUPPORTED:
        for refused in (ranged, notice):
            assert "年での絞り込みにまだ対応していません" in refused and "cannot filter by year" in refused
        assert chat == []
        return
    expected = built_kb.search("DX推進", mode="hybrid", k=5, filters=Filters(years=(2024, 2027)))
    shown = re.findall(r'<li class="hit"[^>]*data-chunk-id="([^"]+)"', ranged)
    assert sorted(shown) == sorted(h.chunk_id for h in expected) and shown != []
    assert notice == "" and len(chat) == 2


# --- adding a document from the 資料 tab ---------------------------------------------------------

ADDED_TXT = """第1章 追加資料の概要

1.1 目的

この追加資料は、庁内の会議室予約をオンラインで行う取り組みを説明します。ふれあい会議室予約システムは令和7年度に導入します。
"""


@pytest.fixture
def small_served(base_settings: Settings, built_kb, tmp_path: Path) -> Iterator[tuple[str, Settings]]:  # type: ignore[no-untyped-def]
    """The app over a one-document corpus of its own (an upload changes the corpus and the index)."""
    import indexer.build

    # A 1 MB upload limit (Settings.max_ingest_mb), so the over-size case needs only a 3 MB file.
    settings = small_settings(base_settings, tmp_path).replace(max_ingest_mb=1)
    embedder = built_kb.retriever.embedder  # the session's model, not a second copy
    indexer.build.build_index(settings, embedder=embedder)
    with app_in_process(settings, KnowledgeBase.open(settings, embedder=embedder)) as url:
        yield url, settings


def corpus_state(settings: Settings) -> tuple[list[str], str]:
    return sorted(p.name for p in settings.corpus_dir.iterdir()), (settings.index_dir / "CURRENT").read_text()


def test_upload_adds_a_document_and_the_app_moves_to_the_new_build(
    small_served: tuple[str, Settings], tmp_path: Path
) -> None:
    url, settings = small_served
    client = Client(url, verbose=False)
    before = corpus_state(settings)
    source = tmp_path / "会議室予約.txt"
    source.write_text(ADDED_TXT, encoding="utf-8")
    message, listing, doc_picker, _chapters, status, file_box = client.predict(
        handle_file(str(source)), "other", "会議室予約の資料", api_name="/add_document"
    )
    assert 'class="kb-notice kb-ok"' in message and "追加しました" in message and "added" in message
    assert "会議室予約の資料" in message and "会議室予約の資料" in listing
    assert any("会議室予約の資料" in label for label, _ in doc_picker["choices"])
    after = corpus_state(settings)
    assert len(after[0]) == len(before[0]) + 1 and after[1] != before[1]  # a new build is CURRENT
    assert 'data-ready="true"' in status and file_box is None
    hits = Client(url, verbose=False).predict("会議室予約", "keyword", [], "", 3, api_name="/search")
    assert "システムは令和7年度に導入します" in hits  # served from the new build at once
    again = client.predict(handle_file(str(source)), "other", "", api_name="/add_document")[0]
    assert "kb-error" in again and "追加済み" in again and "already" in again
    assert corpus_state(settings) == after


def test_questions_are_answered_while_an_upload_is_indexed(
    small_served: tuple[str, Settings], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An upload re-indexes in a queue slot of its own: chat and search go on answering from the
    current build meanwhile, and move to the new build when it is done."""
    from indexer.build import FAULT_ENV

    url, settings = small_served
    # The build pauses after its keyword index is written (the fault hook of indexer/build.py),
    # long enough to ask while it runs.
    monkeypatch.setenv(FAULT_ENV, "keyword:sleep=8")
    current = (settings.index_dir / "CURRENT").read_text()
    source = tmp_path / "会議室予約.txt"
    source.write_text(ADDED_TXT, encoding="utf-8")
    upload = Client(url, verbose=False).submit(
        handle_file(str(source)), "other", "", api_name="/add_document"
    )
    deadline = time.monotonic() + 60
    while (
        not (settings.index_dir / "builds").is_dir()
        or len(list((settings.index_dir / "builds").iterdir())) < 2
    ):
        assert time.monotonic() < deadline and not upload.done(), "the upload's build never started"
        time.sleep(0.1)
    chat, _notice, sources = ask(Client(url, verbose=False), "計画期間はいつまで？")
    hits = Client(url, verbose=False).predict("書かない窓口", "keyword", [], "", 3, api_name="/search")
    assert not upload.done()  # both answered while the upload was still being indexed
    assert "令和8年度" in text_of(chat[-1]) and "書かない窓口" in hits
    assert (settings.index_dir / "CURRENT").read_text() == current
    assert "追加しました" in upload.result(timeout=120)[0]
    hits = Client(url, verbose=False).predict("会議室予約", "keyword", [], "", 3, api_name="/search")
    assert "システムは令和7年度に導入します" in hits


def test_app_concurrency_lets_a_second_question_start(
    base_settings: Settings,
    built_kb,  # type: ignore[no-untyped-def]
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Settings.app_concurrency: with 2, a second question starts while a slow first one (an LLM
    answer streaming, say) is still running; with the default 1 it waits its turn."""
    spans: list[tuple[float, float]] = []
    real_ask = handlers.ask

    def slow_ask(*args: Any, **kwargs: Any) -> Iterator[tuple[Any, ...]]:
        started = time.monotonic()
        yield from real_ask(*args, **kwargs)
        time.sleep(1.5)
        spans.append((started, time.monotonic()))

    monkeypatch.setattr(handlers, "ask", slow_ask)  # before build_app, which binds it

    def overlapped(limit: int) -> bool:
        spans.clear()
        with app_in_process(base_settings.replace(app_concurrency=limit), built_kb) as url:
            jobs = [Client(url, verbose=False).submit("RPAとは", [], api_name="/ask") for _ in range(2)]
            for job in jobs:
                job.result(timeout=60)
        (_, first_end), (second_start, _) = sorted(spans)
        return second_start < first_end

    assert overlapped(2)
    assert not overlapped(1)


def test_bad_uploads_get_a_message_and_change_nothing(
    small_served: tuple[str, Settings], tmp_path: Path
) -> None:
    url, settings = small_served
    client = Client(url, verbose=False)
    before = corpus_state(settings)
    wrong_type = tmp_path / "表.csv"
    wrong_type.write_text("a,b\n1,2\n", encoding="utf-8")
    scanned = tmp_path / "スキャン.pdf"
    make_image_only_pdf(scanned)
    big = tmp_path / "大きい.txt"
    big.write_text("計画" * 500_000, encoding="utf-8")  # 3 MB, over small_served's 1 MB limit
    assert scanned.stat().st_size < 2**20 < big.stat().st_size
    cases = [
        (wrong_type, "対応していない形式です", "unsupported file type"),
        (scanned, "OCR", "no text layer"),
        (big, "大きすぎます（2.9 MB、上限 1.0 MB）", "file too large"),
    ]
    for path, ja, en in cases:
        message = client.predict(handle_file(str(path)), "other", "", api_name="/add_document")[0]
        assert 'class="kb-notice kb-error"' in message and ja in message and en in message, message
        assert "Traceback" not in message and "内部エラー" not in message
    nothing = client.predict(None, "other", "", api_name="/add_document")[0]
    assert "ファイルを選んでから" in nothing and "choose a file" in nothing
    # A file on the server, named by an API caller. (gradio_client would upload a local file
    # given with Gradio's file marker, so the marked case is checked on the handler itself.)
    server_file = {"path": str(settings.corpus_dir / "small.md"), "meta": {"_type": "gradio.FileData"}}
    unmarked = client.predict({"path": server_file["path"]}, "other", "", api_name="/add_document")[0]
    assert "アップロードされたファイルではありません" in unmarked and "not an uploaded file" in unmarked
    service = kb.app.KBService(settings, KnowledgeBase.open(settings))
    named = handlers.add_document(service, server_file, "other", "")[0]
    assert "アップロードされたファイルではありません" in named and "not an uploaded file" in named
    assert corpus_state(settings) == before
