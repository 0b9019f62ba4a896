"""The app's event handlers: plain functions over a :class:`KBService` (tests call them directly).

Each takes the service first; ``kb.app.layout`` binds it. No handler raises: library errors
come back as bilingual HTML messages and unexpected ones are logged and shown as an internal error.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import gradio as gr

from kb import ingest
from kb.app import cards
from kb.app.html import (
    KIND_LABELS,
    documents_table_html,
    error_html,
    notice_html,
    progress_html,
    ready_html,
    search_results_html,
    section_reader_html,
)
from kb.app.inputs import check_chat, make_filters
from kb.app.service import InternalError, KBService
from kb.corpus import KINDS
from kb.errors import IngestError, KBError
from kb.feedback import FeedbackStore
from kb.ingest import SUPPORTED_SUFFIXES
from kb.query import QUESTION, validate_k, validate_query

log = logging.getLogger("kb.app")

HISTORY_TURNS = 3
ALL_CHAPTERS = ("（すべての章 / all chapters）", "")
SEARCHING = "🔎 資料を検索しています… / searching…"


def friendly(exc: BaseException) -> KBError:
    """The bilingual error to show for ``exc`` (unexpected ones are logged with their traceback)."""
    if isinstance(exc, KBError):
        return exc
    log.error("unexpected error in a UI handler", exc_info=exc)
    return InternalError()


# --- status and choices ----------------------------------------------------------------------


def status_html(service: KBService) -> str:
    """Progress while preparing, the bilingual error if it failed, else a one-line summary."""
    s = service.status
    parts = []
    if s.building or (not s.ready and s.error is None):
        meanwhile = ("古い索引で回答を続けています。", "answering from the previous index meanwhile")
        parts.append(progress_html(s.stage, s.fraction, *(meanwhile if s.ready else ("", ""))))
    if s.error is not None:
        parts.append(error_html(s.error))
    if s.ready and service.kb is not None and not s.building:
        m = service.kb.manifest
        note = service.answerer.model_note if service.answerer else ""
        parts.append(ready_html(len(service.documents), m.chunk_count, m.built_at, note))
    return "".join(parts)


def chapter_choices(service: KBService) -> list[tuple[str, str]]:
    return [ALL_CHAPTERS] + [(c, c) for c in service.chapters()]


def document_choices(service: KBService) -> list[tuple[str, str]]:
    return [(d.title, d.doc_id) for d in service.documents.values()]


def kind_choices(include_other: bool = False) -> list[tuple[str, str]]:
    """Document kinds as (label, kind); "other" only where a document is added."""
    return [
        (f"{label} / {kind}", kind) for kind, label in KIND_LABELS.items() if include_other or kind != "other"
    ]


def documents_html(service: KBService) -> str:
    """The 資料 tab's list of documents (kind, issuer, source, date, passages)."""
    return documents_table_html(list(service.documents.values()), service.chunk_counts())


# --- chat ------------------------------------------------------------------------------------


def ask(
    service: KBService,
    question: Any,
    chat: list[dict[str, Any]] | None,
    history: list[tuple[str, str]] | None,
    turns: list[str] | None,
    years: Any = None,
) -> Iterator[tuple[Any, ...]]:
    """Stream an answer into the chat, then add its own sources block.

    Yields (chat, history, turns, notice next to the box, sources, last answer record, box).
    An empty chat starts a new conversation (history and sources are dropped with it).
    ``years`` (「2024-2027」) restricts the passages the answer may use.
    """
    chat_value = chat
    skip = gr.skip()
    chat = list(chat) if isinstance(chat, list) else []  # a malformed chat is refused below
    history, turns = (list(history or []), list(turns or [])) if chat else ([], [])
    try:
        check_chat(chat_value)
        _, answerer = service.require()
        question = validate_query(question, service.settings.max_query_chars, QUESTION)
        filters = make_filters(years=years, service=service)
    except Exception as exc:  # shown to the user, never a stack trace
        yield chat, history, turns, error_html(friendly(exc)), skip, skip, skip
        return
    chat += [
        {"role": "user", "content": cards.chat_text(question)},
        {"role": "assistant", "content": SEARCHING},
    ]
    yield chat, history, turns, "", skip, None, ""
    try:
        stream = answerer.stream(question, history[-HISTORY_TURNS:], filters=filters)
        for partial in stream:  # cumulative texts
            chat[-1] = {"role": "assistant", "content": cards.chat_text(partial)}
            yield chat, history, turns, skip, skip, skip, skip
        ans = stream.answer
        turn = len(turns) + 1
        merged = cards.merge_citations(ans.citations, service.section_view)
        bodies = [service.section_text(s) for s in ans.suggestions] if not ans.answerable else []
        block = cards.turn_html(turn, question, ans, merged, bodies)
    except Exception as exc:  # any failure becomes a message in the chat
        err = friendly(exc)
        chat[-1] = {"role": "assistant", "content": cards.chat_text(f"⚠️ {err.ja}\n{err.en}")}
        yield chat, history, turns, error_html(err), skip, None, skip
        return
    numbers = [c.n for c in ans.citations]
    chat[-1] = {"role": "assistant", "content": cards.linked_answer(ans.answer, turn, numbers)}
    turns.append(block)
    record = {"question": question, "turn": turn, **ans.to_dict()}
    yield chat, history + [(question, ans.answer)], turns, "", cards.sources_html(turns), record, skip


def vote(
    feedback: Callable[[], FeedbackStore], value: int, comment: str | None, last: dict[str, Any] | None
) -> tuple[str, str | None]:
    """Record 👍 (+1) / 👎 (-1) for the last answer. Returns (message, comment box)."""
    if not last:
        return notice_html("先に質問してください。", "ask a question first", "warn"), comment
    try:
        new_id = feedback().record(
            question=last["question"],
            answer=last.get("answer", ""),
            citations=last.get("citations", []),
            vote=value,
            comment=comment or "",
            query=last.get("query", ""),
        )
    except Exception as exc:  # shown to the user
        return error_html(friendly(exc)), comment
    thanks = "ご協力ありがとうございます" if value > 0 else "ご意見ありがとうございます。改善に使います"
    return notice_html(f"{thanks}（#{new_id}）", f"thank you — feedback #{new_id} saved", "ok"), ""


# --- search and documents --------------------------------------------------------------------


def search(
    service: KBService,
    query: Any,
    mode: Any,
    kinds: Any,
    chapter: Any,
    k: Any,
    years: Any = None,
) -> str:
    """Ranked passages as HTML; ``chapter`` is a chapter heading ("" = all chapters), ``years`` a
    range typed as text (「2024-2027」, "" = all years). Values come unchecked from Gradio
    (preprocess=False) and are checked here; the query by the library (kb.query.validate_query)."""
    try:
        kb, _ = service.require()
        filters = make_filters(kinds, chapter, years, service=service)
        hits = kb.search(query, mode=mode, k=validate_k(k), filters=filters)
        return search_results_html(query, hits, mode)
    except Exception as exc:  # shown to the user
        return error_html(friendly(exc))


def doc_sections(service: KBService, doc_name: str | None) -> tuple[Any, str]:
    """The section picker's choices for a document (by id or title) and its first section."""
    if not doc_name:
        return gr.update(choices=[], value=None), ""
    try:
        doc = service.resolve_document(doc_name)
    except Exception as exc:  # shown to the user
        return gr.update(choices=[], value=None), error_html(friendly(exc))
    nodes = service.outline(doc)
    first = nodes[0]
    choices = [(n.label, n.key) for n in nodes]
    text = doc.text[first.start : first.end]
    return gr.update(choices=choices, value=first.key), section_reader_html(doc, first.heading_path, text)


# --- adding a document (the 資料 tab) ---------------------------------------------------------


#: Gradio shows the progress of an event whose handler has a gr.Progress default; the tracker
#: reports to whichever event is running (Gradio's per-event context), so one serves all users.
UPLOAD_PROGRESS = gr.Progress()


#: What the upload accepts: what ``kb add`` accepts.
UPLOAD_SUFFIXES = tuple(SUPPORTED_SUFFIXES)


def _uploaded_path(file: Any) -> Path:
    """The server-side path of an uploaded file (Gradio's FileData as a dict), which must be in
    Gradio's upload folder: an API caller could otherwise name any file on the server."""
    path = file.get("path") if isinstance(file, dict) else None
    if not isinstance(path, str) or not path.strip():
        raise IngestError(
            "ファイルを選んでから「追加」を押してください", "choose a file first, then press add"
        )
    resolved = Path(path).resolve()
    if not resolved.is_relative_to(Path(gr.utils.get_upload_folder()).resolve()):
        raise IngestError(
            "アップロードされたファイルではありません。ファイルを選んで送ってください",
            "not an uploaded file: upload the file itself",
        )
    return resolved


def add_document(
    service: KBService, file: Any, kind: Any, title: Any, progress: gr.Progress = UPLOAD_PROGRESS
) -> tuple[Any, ...]:
    """Add an uploaded PDF / Word / text / Markdown file the way ``kb add`` does (kb.ingest), then
    move the app to the new build. Returns (message, document list, document picker, chapter
    filter, status, upload box); on a refused file only the message changes and the upload box
    is emptied (a value, never an update: see kb.app.components.unchecked)."""
    skip = gr.skip()
    try:
        kb, _ = service.require()
        path = _uploaded_path(file)
        kind = kind if kind else "other"
        if not isinstance(kind, str) or not isinstance(title, str | None):
            raise IngestError(
                f"種類は {' / '.join(KINDS)} のいずれか、題名は文字列で指定してください",
                f"kind must be one of {', '.join(KINDS)} and the title a string",
            )

        def report(stage: str, fraction: float) -> None:
            progress(fraction, desc=stage)

        report("資料を読み込んでいます / reading the file", 0.0)
        added = ingest.add_document(  # the kb add code path
            path,
            service.settings,
            kind=kind,
            title=(title or "").strip() or None,
            embedder=kb.retriever.embedder,  # the model already loaded, not a second copy
            progress=report,
        )
        service.follow_current(force=True)  # the new build answers from the next request on
    except Exception as exc:  # shown to the user
        return error_html(friendly(exc)), skip, skip, skip, skip, None
    pages = f"、{added.pages} ページ" if added.pages else ""
    passages = service.chunk_counts().get(added.doc_id, 0)
    message = notice_html(
        f"追加しました: 「{added.title}」（{added.source}{pages}、{passages} 区画）。検索とチャットで使えます。",
        f"added {added.source} as {added.doc_id} ({passages} passages); search and chat use it now",
        "ok",
    )
    for warning in added.warnings:  # kb.ingest writes them as "日本語 / English"
        ja, _, en = warning.partition(" / ")
        message += notice_html(ja, en, "warn")
    return (
        message,
        documents_html(service),
        gr.update(choices=document_choices(service)),
        gr.update(choices=chapter_choices(service)),
        status_html(service),
        None,
    )


def read_section(service: KBService, doc_name: str | None, section: str | None) -> str:
    """The text under a section, picked by its path, label or (unique) heading."""
    try:
        doc = service.resolve_document(doc_name)
        node = service.resolve_section(doc, section)
    except Exception as exc:  # shown to the user
        return error_html(friendly(exc))
    return section_reader_html(doc, node.heading_path, doc.text[node.start : node.end])
