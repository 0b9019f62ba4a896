"""The app's event handlers: plain functions over a :class:`KBService` (tests call them directly).

Each takes the service first; ``kb.app.layout`` binds it. No handler raises: library errors
come back as bilingual HTML messages and unexpected ones are logged and shown as an internal error.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any

import gradio as gr

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
from kb.app.service import InternalError, KBService
from kb.errors import KBError
from kb.feedback import FeedbackStore
from kb.query import QUESTION, validate_query
from kb.retrieve import Filters

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


def kind_choices() -> list[tuple[str, str]]:
    return [(f"{label} / {kind}", kind) for kind, label in KIND_LABELS.items() if kind != "other"]


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
) -> Iterator[tuple[Any, ...]]:
    """Stream an answer into the chat, then add its own sources block.

    Yields (chat, history, turns, notice next to the box, sources, last answer record, box).
    An empty chat starts a new conversation (history and sources are dropped with it).
    """
    chat = list(chat or [])
    history, turns = (list(history or []), list(turns or [])) if chat else ([], [])
    skip = gr.skip()
    try:
        _, answerer = service.require()
        question = validate_query(question, service.settings.max_query_chars, QUESTION)
    except Exception as exc:  # shown to the user, never a stack trace
        yield chat, history, turns, error_html(friendly(exc)), skip, skip, skip
        return
    chat += [
        {"role": "user", "content": cards.chat_text(question)},
        {"role": "assistant", "content": SEARCHING},
    ]
    yield chat, history, turns, "", skip, None, ""
    try:
        stream = answerer.stream(question, history[-HISTORY_TURNS:])
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
    service: KBService, query: Any, mode: str, kinds: list[str] | None, chapter: str | None, k: float
) -> str:
    """Ranked passages as HTML; ``chapter`` is a chapter heading ("" = all chapters).
    The query is checked by the library (kb.query.validate_query with QUERY)."""
    try:
        kb, _ = service.require()
        filters = Filters(kinds=tuple(kinds or ()), chapter=service.resolve_chapter(chapter))
        hits = kb.search(query, mode=mode, k=int(k), filters=filters)
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


def read_section(service: KBService, doc_name: str | None, section: str | None) -> str:
    """The text under a section, picked by its path, label or (unique) heading."""
    try:
        doc = service.resolve_document(doc_name)
        node = service.resolve_section(doc, section)
    except Exception as exc:  # shown to the user
        return error_html(friendly(exc))
    return section_reader_html(doc, node.heading_path, doc.text[node.start : node.end])
