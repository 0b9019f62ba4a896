"""The Gradio app: built without serving, then served on a free loopback port and asked
through gradio_client with the app's own api_names (/ask, /search, /vote_down, ...)."""

from __future__ import annotations

import html
import re
import socket
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import gradio as gr
import pytest
from gradio_client import Client
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from kb import render
from kb.config import Settings
from kb.feedback import FeedbackStore

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))  # app.py lives at the repository root

import app  # noqa: E402

SMALL_DOC = """---
title: テスト用の計画
kind: plan
---

# 第1章 概要

## 1.1 目的

書かない窓口は、申請書を手で書かずに手続きできる窓口です。職員が聞き取りながら申請書を作成します。

## 1.2 期間

計画期間は令和6年度から令和8年度までの3年間です。
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def text_of(message: dict[str, Any]) -> str:
    """A Chatbot message's text (gradio 6 returns content as a list of typed parts)."""
    content = message["content"]
    if isinstance(content, str):
        return content
    return "".join(part.get("text", "") for part in content if isinstance(part, dict))


@pytest.fixture(scope="module")
def served(built_kb, base_settings: Settings) -> Iterator[tuple[Client, Settings]]:  # type: ignore[no-untyped-def]
    demo = app.build_app(base_settings, built_kb)
    port = free_port()
    app.launch_app(demo, base_settings, "127.0.0.1", port, prevent_thread_lock=True, quiet=True)
    try:
        client = Client(f"http://127.0.0.1:{port}/", verbose=False)
        yield client, base_settings
    finally:
        demo.close()


def ask(client: Client, question: str) -> tuple[list[dict[str, Any]], str]:
    """(chat, html of the panel under the chat) after asking ``question`` in a fresh chat."""
    chat, panel, _box = client.predict(question, [], api_name="/ask")
    return chat, panel


def test_build_app_builds_without_serving(base_settings: Settings, built_kb) -> None:  # type: ignore[no-untyped-def]
    demo = app.build_app(base_settings, built_kb)
    assert isinstance(demo, gr.Blocks)
    names = {fn.api_name for fn in demo.fns.values()}
    assert {"ask", "search", "vote_up", "vote_down", "doc_sections", "read_section"} <= names


def test_answerable_question_comes_back_cited(served: tuple[Client, Settings]) -> None:
    client, _ = served
    started = time.perf_counter()
    chat, panel = ask(client, "書かない窓口って何をするの？")
    print(f"/ask latency: {time.perf_counter() - started:.2f} s")
    assert [m["role"] for m in chat] == ["user", "assistant"]
    answer = text_of(chat[-1])
    assert re.search(r"\[1\]", answer), answer
    assert 'data-answerable="true"' in panel
    assert 'class="cite-card"' in panel and '<mark class="quote">' in panel
    assert '<details class="cite-section">' in panel  # the whole section, expandable
    assert "検索した語" in panel


def test_definition_question_is_cited(served: tuple[Client, Settings]) -> None:
    client, _ = served
    chat, panel = ask(client, "EBPMとは？")
    assert "[1]" in text_of(chat[-1])
    assert 'data-answerable="true"' in panel


def test_unanswerable_question_abstains_with_suggestions(served: tuple[Client, Settings]) -> None:
    client, _ = served
    chat, panel = ask(client, "市役所の食堂のメニューは？")
    assert 'data-answerable="false"' in panel and 'class="cite-card"' not in panel
    assert "[1]" not in text_of(chat[-1])
    assert 'class="suggestions"' in panel and "<details>" in panel  # related sections, readable


def test_script_in_question_comes_back_escaped(served: tuple[Client, Settings]) -> None:
    client, _ = served
    chat, panel = ask(client, "<script>alert(1)</script>書かない窓口とは？")
    user = text_of(chat[0])
    assert "<script>" not in user and "&lt;script&gt;alert(1)&lt;/script&gt;" in user
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in panel  # the searched query
    for html_out in (panel, text_of(chat[-1])):
        assert "<script>" not in html_out


@pytest.mark.parametrize(
    ("question", "expected"),
    [("", "質問が空です"), ("   ", "質問が空です"), ("窓口" * 3000, "長すぎます"), ("\x00\x01", "空")],
)
def test_bad_input_shows_a_bilingual_message(
    served: tuple[Client, Settings], question: str, expected: str
) -> None:
    client, _ = served
    chat, panel = ask(client, question)
    assert chat == []
    assert 'class="kb-notice kb-error"' in panel and expected in panel
    assert re.search(r'<div class="en">[a-z]', panel)  # English half
    assert "Traceback" not in panel


def test_feedback_is_recorded_for_the_last_answer(served: tuple[Client, Settings]) -> None:
    client, settings = served
    ask(client, "EBPMとは？")
    message, comment = client.predict("定義だけでなく事例も知りたい", api_name="/vote_down")
    assert "#" in message and comment == ""
    rows = FeedbackStore(settings.feedback_db).records()
    row = rows[-1]
    assert row.question == "EBPMとは？" and row.vote == -1
    assert row.comment == "定義だけでなく事例も知りたい"
    assert row.citations and row.citations[0]["n"] == 1


def test_keyword_search_marks_terms(served: tuple[Client, Settings]) -> None:
    client, _ = served
    html_out = client.predict("RPA", "keyword", [], "", 5, api_name="/search")
    assert html_out.count('class="hit"') == 5
    assert "<mark>RPA</mark>" in html_out or "<mark>rpa</mark>" in html_out.lower()
    assert 'data-rank="1"' in html_out and "score" in html_out


def test_search_filters_and_escaping(served: tuple[Client, Settings], built_kb) -> None:  # type: ignore[no-untyped-def]
    client, _ = served
    glossary = client.predict("AI", "hybrid", ["glossary"], "", 3, api_name="/search")
    assert glossary.count('class="hit"') >= 1 and "国の戦略" not in glossary and "計画本文" not in glossary
    chapter = built_kb.chapters()[-1]
    hits = client.predict("計画", "keyword", [], chapter, 3, api_name="/search")
    assert hits.count(chapter) == hits.count('class="hit"') >= 1
    evil = client.predict("<img src=x onerror=alert(1)>", "keyword", [], "", 3, api_name="/search")
    assert "<img" not in evil and "&lt;img" in evil


def test_handlers_turn_library_errors_into_messages(
    base_settings: Settings, built_kb, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    service = app.KBService(base_settings, built_kb)
    handlers = app.make_handlers(service, lambda: FeedbackStore(tmp_path / "fb.sqlite3"))
    # Values the UI cannot send (Gradio checks radio choices) still get a bilingual message.
    bad_mode = handlers["search"]("RPA", "fuzzy", [], "", 3)
    assert "kb-error" in bad_mode and "検索モード" in bad_mode
    bad_k = handlers["search"]("RPA", "keyword", [], "", 500)
    assert "kb-error" in bad_k and "k must be between" in bad_k
    not_text = handlers["search"](None, "keyword", [], "", 3)
    assert "kb-error" in not_text and "Traceback" not in not_text
    assert "先に質問" in handlers["vote_down"]("", None)[0]


def test_documents_tab_shows_the_section_tree(served: tuple[Client, Settings]) -> None:
    client, _ = served
    sections, reader = client.predict("plan", api_name="/doc_sections")
    labels = [label for label, _ in sections["choices"]]
    assert any(label.startswith("■ 第1章") for label in labels)
    assert any(label.startswith("\u3000└ 1.1") for label in labels)
    key = next(value for label, value in sections["choices"] if "1.3 計画期間" in label)
    text = client.predict("plan", key, api_name="/read_section")
    assert "1.3 計画期間" in text and 'class="passage"' in text


# --- first run: the index is built in the background with visible progress ----------------


def small_settings(base_settings: Settings, tmp_path: Path, text: str | None = SMALL_DOC) -> Settings:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    if text is not None:
        (corpus / "small.md").write_text(text, encoding="utf-8")
    return base_settings.replace(corpus_dir=corpus, index_dir=tmp_path / "index")


def test_missing_index_is_built_with_progress(base_settings: Settings, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    settings = small_settings(base_settings, tmp_path)
    service = app.KBService(settings)
    seen: list[str] = []
    original = service._report

    def spy(stage: str, fraction: float) -> None:
        seen.append(service.status_html())
        original(stage, fraction)

    service._report = spy  # type: ignore[method-assign]
    with pytest.raises(Exception) as waiting:
        service.require()
    assert "準備" in waiting.value.ja  # type: ignore[attr-defined]
    service.start()
    assert service.wait(timeout=300)
    assert any("<progress" in html_out for html_out in seen)
    assert 'data-ready="true"' in service.status_html()
    assert (settings.index_dir / "manifest.json").is_file()
    err = capsys.readouterr().err
    assert "[kb]" in err and "100%" in err
    kb, _ = service.require()
    assert kb.search("書かない窓口", mode="keyword", k=1)[0].doc_id == "small"


def test_failed_build_shows_a_bilingual_error(base_settings: Settings, tmp_path: Path) -> None:
    settings = small_settings(base_settings, tmp_path, text=None)  # empty corpus: nothing to index
    service = app.KBService(settings)
    service.start()
    assert not service.wait(timeout=120)
    status = service.status_html()
    assert (
        "kb-error" in status and "索引できる文書がありません" in status and "no indexable documents" in status
    )
    handlers = app.make_handlers(service, lambda: FeedbackStore(tmp_path / "fb.sqlite3"))
    outputs = list(handlers["ask"]("EBPMとは？", [], []))
    assert "索引できる文書がありません" in outputs[-1][2]


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
    service = app.KBService(settings)
    service.start()
    assert service.wait(timeout=120)  # still ready: the old index answers
    status = service.status_html()
    assert "テスト用の失敗です" in status and "failure for the test" in status
    kb, _ = service.require()
    assert kb.search("計画期間", mode="keyword", k=1)


def test_login_is_required_when_configured(base_settings: Settings, built_kb) -> None:  # type: ignore[no-untyped-def]
    settings = base_settings.replace(app_auth_user="staff", app_auth_password="s3cret")
    demo = app.build_app(settings, built_kb)
    port = free_port()
    app.launch_app(demo, settings, "127.0.0.1", port, prevent_thread_lock=True, quiet=True)
    try:
        url = f"http://127.0.0.1:{port}/"
        with pytest.raises(Exception):  # noqa: B017 - gradio_client raises different types per version
            Client(url, verbose=False).predict("RPA", "keyword", [], "", 1, api_name="/search")
        client = Client(url, auth=("staff", "s3cret"), verbose=False)
        assert 'class="hit"' in client.predict("RPA", "keyword", [], "", 1, api_name="/search")
    finally:
        demo.close()


def test_main_reports_a_bad_config_without_a_traceback(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    assert app.main(["--config", str(tmp_path / "missing.toml")]) == 2
    err = capsys.readouterr().err
    assert "設定ファイルがありません" in err and "config file not found" in err and "Traceback" not in err


# --- HTML rendering (kb/render.py) ----------------------------------------------------------

_MARK = re.compile(r"</?mark[^>]*>")


@given(st.text(max_size=200), st.lists(st.text(min_size=1, max_size=5), max_size=4))
@hypothesis_settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_highlighting_only_adds_marks_and_escapes_everything(text: str, terms: list[str]) -> None:
    out = render.highlight_terms(text, terms)
    assert html.unescape(_MARK.sub("", out)) == text
    assert "<" not in _MARK.sub("", out)


def test_highlighting_matches_full_width_and_inflected_forms() -> None:
    terms = render.query_terms("書かない窓口とRPA")
    out = render.highlight_terms("ＲＰＡや「書かない」窓口、<b>", terms)
    assert "<mark>ＲＰＡ</mark>" in out and "<mark>書か</mark>" in out and "<mark>窓口</mark>" in out
    assert "&lt;b&gt;" in out


def test_section_tree_covers_every_section(built_kb) -> None:  # type: ignore[no-untyped-def]
    for doc in built_kb.documents():
        nodes = render.section_tree(doc)
        keys = [n.key for n in nodes]
        assert len(keys) == len(set(keys))
        for section in doc.sections:
            node = next(n for n in nodes if n.heading_path == section.heading_path)
            assert node.start <= section.start and section.end <= node.end
            assert render.find_section(doc, section.start, section.end) == section
