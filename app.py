"""Web app for city staff: cited answers, passage search and a document reader (Gradio 6).

    python app.py [--host 127.0.0.1] [--port 7860] [--config kb.toml]

``build_app(settings)`` builds the UI without serving it (tests call it). When the index is
missing, built with other settings or older than the corpus, it is (re)built in a background
thread while the page shows a progress bar and the terminal prints the stages; a stale index
keeps answering until the new one is ready, and a failed build leaves the old one in place.
The UI holds no retrieval logic: answers, search and documents come from the ``kb`` library.
"""

from __future__ import annotations

import argparse
import logging
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gradio as gr

from kb import render
from kb.answer import Answerer
from kb.chunk import SectionRef
from kb.config import Settings, load_settings
from kb.corpus import Document
from kb.errors import IndexCorruptError, IndexMismatchError, IndexMissingError, KBError
from kb.feedback import FeedbackStore
from kb.knowledge import KnowledgeBase
from kb.query import QUESTION, validate_query
from kb.retrieve import Filters

log = logging.getLogger("kb.app")

TITLE = "枚方市 情報化計画ナビ"
EXAMPLES = [
    "書かない窓口って何をするの？",
    "EBPMとは？",
    "テレワークの取り組みはどうなっている？",
    "第3期の計画期間はいつまで？",
    "マイナンバーカードを使った手続きのオンライン化について教えて",
]
MODE_CHOICES = [
    ("ハイブリッド / hybrid", "hybrid"),
    ("キーワード / keyword", "keyword"),
    ("意味検索 / semantic", "semantic"),
]
KIND_CHOICES = [(f"{label} / {kind}", kind) for kind, label in render.KIND_LABELS.items() if kind != "other"]
ALL_CHAPTERS = ("（すべての章 / all chapters）", "")
HISTORY_TURNS = 3


class InternalError(KBError):
    """An unexpected failure, shown without a stack trace (the terminal log has it)."""

    def __init__(self) -> None:
        super().__init__(
            "内部エラーが発生しました。もう一度お試しください。続く場合は管理者に連絡してください。",
            "internal error: please try again; if it persists, tell the administrator (details in the server log)",
        )


# --- the knowledge base behind the UI ------------------------------------------------------


@dataclass
class Status:
    stage: str = "起動中 / starting"
    fraction: float = 0.0
    ready: bool = False
    building: bool = False
    error: KBError | None = None


class TerminalProgress:
    """Prints build stages and every 10 % to stderr, so a first run is never a long silence."""

    def __init__(self) -> None:
        self._last: tuple[str, int] = ("", -1)

    def __call__(self, stage: str, fraction: float) -> None:
        step = int(fraction * 10)
        if (stage, step) != self._last:
            self._last = (stage, step)
            print(f"[kb] {stage} {int(fraction * 100):3d}%", file=sys.stderr, flush=True)


class KBService:
    """Owns the KnowledgeBase and Answerer for the app, (re)building the index when needed."""

    def __init__(self, settings: Settings, kb: KnowledgeBase | None = None) -> None:
        self.settings = settings
        self.status = Status()
        self.kb: KnowledgeBase | None = None
        self.answerer: Answerer | None = None
        self.documents: dict[str, Document] = {}
        self._thread: threading.Thread | None = None
        self._terminal = TerminalProgress()
        if kb is not None:
            self._install(kb)

    # Preparation -----------------------------------------------------------------------

    def start(self) -> None:
        """Open (or build) the index in a background thread; does nothing if already started."""
        if self.status.ready or self._thread is not None:
            return
        self._thread = threading.Thread(target=self._prepare, name="kb-prepare", daemon=True)
        self._thread.start()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until preparation finished (ready or failed); True when ready."""
        if self._thread is not None:
            self._thread.join(timeout)
        return self.status.ready

    def _report(self, stage: str, fraction: float) -> None:
        self.status.stage, self.status.fraction = stage, fraction
        self._terminal(stage, fraction)

    def _prepare(self) -> None:
        started = time.perf_counter()
        try:
            self._report("索引を開いています / opening the index", 0.0)
            try:
                kb: KnowledgeBase | None = KnowledgeBase.open(self.settings)
            except (IndexMissingError, IndexMismatchError, IndexCorruptError) as exc:
                print(f"[kb] {exc.ja}\n[kb] {exc.en}", file=sys.stderr, flush=True)
                kb = None
            if kb is not None and not kb.is_stale():
                self._install(self._warm_up(kb))
            else:
                self._build(stale=kb)
        except KBError as exc:
            self.status.error = exc
            print(f"[kb] エラー: {exc.ja}\n[kb] error: {exc.en}", file=sys.stderr, flush=True)
        except Exception:  # noqa: BLE001 - the app must stay up and say so
            log.exception("index preparation failed")
            self.status.error = InternalError()
        finally:
            self.status.building = False
            print(
                f"[kb] 準備時間 / prepared in {time.perf_counter() - started:.1f} s",
                file=sys.stderr,
                flush=True,
            )

    def _build(self, stale: KnowledgeBase | None) -> None:
        """Build the index; a stale one keeps answering meanwhile and stays if the build fails."""
        from indexer.build import build_index  # noqa: PLC0415 - only needed on first run

        self.status.building = True
        if stale is not None:
            print(
                "[kb] コーパスが変更されています。古い索引で回答しながら更新します / corpus changed: rebuilding",
                file=sys.stderr,
            )
            self._install(stale)
        build_index(self.settings, progress=self._report)
        self._report("索引を開いています / opening the index", 1.0)
        self._install(self._warm_up(KnowledgeBase.open(self.settings)))

    def _install(self, kb: KnowledgeBase) -> None:
        answerer = Answerer.from_settings(kb, self.settings)
        documents = {d.doc_id: d for d in kb.documents()}
        self.kb, self.answerer, self.documents = kb, answerer, documents
        self.status.ready, self.status.error = True, None

    def _warm_up(self, kb: KnowledgeBase) -> KnowledgeBase:
        """Load the embedding model now rather than on the first question."""
        self._report("モデルを読み込んでいます / loading the model", 1.0)
        kb.search("情報化計画", mode="hybrid", k=1)
        self._report("準備完了 / ready", 1.0)
        return kb

    # What the UI shows -------------------------------------------------------------------

    def require(self) -> tuple[KnowledgeBase, Answerer]:
        """The KB and answerer, or a bilingual KBError explaining why they are not there yet."""
        if self.kb is not None and self.answerer is not None:
            return self.kb, self.answerer
        if self.status.error is not None:
            raise self.status.error
        pct = int(self.status.fraction * 100)
        raise KBError(
            f"索引を準備しています（{self.status.stage} {pct}%）。完了までしばらくお待ちください。",
            f"the index is being prepared ({pct}%); please wait until it is ready",
        )

    def status_html(self) -> str:
        """Progress while preparing, the bilingual error if it failed, else a one-line summary."""
        s = self.status
        parts = []
        if s.building or (not s.ready and s.error is None):
            meanwhile = ("古い索引で回答を続けています。", "answering from the previous index meanwhile")
            parts.append(render.progress_html(s.stage, s.fraction, *(meanwhile if s.ready else ("", ""))))
        if s.error is not None:
            parts.append(render.error_html(s.error))
        if s.ready and self.kb is not None and not s.building:
            m = self.kb.manifest
            model_note = self.answerer.model_note if self.answerer else ""
            parts.append(render.ready_html(len(self.documents), m.chunk_count, m.built_at, model_note))
        return "".join(parts)

    def section_text(self, ref: SectionRef) -> str | None:
        """HTML of the text under a section (an abstention's suggestion)."""
        doc = self.documents.get(ref.doc_id)
        if doc is None:
            return None
        node = next((n for n in render.section_tree(doc) if n.heading_path == ref.heading_path), None)
        return render.passage_html(doc.text[node.start : node.end].strip("\n")) if node else None

    def section_view(self, citation: Any) -> render.SectionView | None:
        chunk = self.kb.chunk(citation.chunk_id) if self.kb else None
        doc = self.documents.get(citation.doc_id)
        return render.section_view(
            doc, citation.chunk_text, chunk.start if chunk else None, chunk.end if chunk else None
        )


# --- handlers --------------------------------------------------------------------------------


def _friendly(exc: BaseException) -> KBError:
    if isinstance(exc, KBError):
        return exc
    log.error("unexpected error in a UI handler", exc_info=exc)
    return InternalError()


def make_handlers(service: KBService, feedback: Callable[[], FeedbackStore]) -> dict[str, Callable[..., Any]]:
    """The event handlers, as plain functions over the service (tests can call them directly)."""

    def ask(question: str, chat: list[dict[str, Any]], history: list[tuple[str, str]]):  # type: ignore[no-untyped-def]
        """Stream an answer into the chat, then show the searched query, citations, suggestions.

        Outputs: chat, history, the panel under the chat (errors, searched query, suggestions,
        citation cards), the last answer (for feedback) and the question box.
        """
        chat = list(chat or [])
        history = list(history or [])
        try:
            _, answerer = service.require()
            question = validate_query(question, service.settings.max_query_chars, QUESTION)
        except Exception as exc:  # noqa: BLE001 - shown to the user, never a stack trace
            yield chat, history, render.error_html(_friendly(exc)), gr.skip(), gr.skip()
            return
        chat += [
            {"role": "user", "content": render.chat_text(question)},
            {"role": "assistant", "content": "🔎 資料を検索しています… / searching…"},
        ]
        yield chat, history, "", None, ""
        try:
            stream = answerer.stream(question, history[-HISTORY_TURNS:])
            for partial in stream:  # cumulative texts
                chat[-1] = {"role": "assistant", "content": render.chat_text(partial)}
                yield chat, history, gr.skip(), gr.skip(), gr.skip()
            ans = stream.answer
        except Exception as exc:  # noqa: BLE001
            err = _friendly(exc)
            chat[-1] = {"role": "assistant", "content": render.chat_text(f"⚠️ {err.ja}\n{err.en}")}
            yield chat, history, render.error_html(err), None, gr.skip()
            return
        chat[-1] = {"role": "assistant", "content": render.chat_text(ans.answer)}
        panel = render.searched_query_html(ans.query, ans.note)
        if not ans.answerable:
            panel += render.suggestions_html(
                [s.location for s in ans.suggestions], [service.section_text(s) for s in ans.suggestions]
            )
        cards = [render.citation_card(c, service.section_view(c)) for c in ans.citations]
        panel += render.citations_html(cards, ans.answerable)
        record = {"question": question, **ans.to_dict()}
        yield chat, history + [(question, ans.answer)], panel, record, gr.skip()

    def vote(value: int) -> Callable[[str, dict[str, Any] | None], tuple[str, str]]:
        def handler(comment: str, last: dict[str, Any] | None) -> tuple[str, str]:
            if not last:
                return render.notice_html("先に質問してください。", "ask a question first", "warn"), comment
            try:
                new_id = feedback().record(
                    question=last["question"],
                    answer=last.get("answer", ""),
                    citations=last.get("citations", []),
                    vote=value,
                    comment=comment or "",
                    query=last.get("query", ""),
                )
            except Exception as exc:  # noqa: BLE001
                return render.error_html(_friendly(exc)), comment
            thanks = (
                "ご協力ありがとうございます" if value > 0 else "ご意見ありがとうございます。改善に使います"
            )
            return render.notice_html(
                f"{thanks}（#{new_id}）", f"thank you — feedback #{new_id} saved", "ok"
            ), ""

        return handler

    def search(query: str, mode: str, kinds: list[str] | None, chapter: str | None, k: float) -> str:
        try:
            kb, _ = service.require()
            filters = Filters(kinds=tuple(kinds or ()), chapter=chapter or None)
            hits = kb.search(query, mode=mode, k=int(k), filters=filters)
            return render.search_results_html(query, hits, mode)
        except Exception as exc:  # noqa: BLE001
            return render.error_html(_friendly(exc))

    def doc_sections(doc_id: str | None) -> tuple[Any, str]:
        doc = service.documents.get(doc_id or "")
        if doc is None:
            return gr.update(choices=[], value=None), ""
        nodes = render.section_tree(doc)
        first = nodes[0]
        choices = [(n.label, n.key) for n in nodes]
        return gr.update(choices=choices, value=first.key), render.section_reader_html(doc, first)

    def read_section(doc_id: str | None, key: str | None) -> str:
        doc = service.documents.get(doc_id or "")
        if doc is None:
            return ""
        for node in render.section_tree(doc):
            if node.key == key:
                return render.section_reader_html(doc, node)
        return render.notice_html("節が見つかりません。", "section not found", "warn")

    return {
        "ask": ask,
        "vote_up": vote(1),
        "vote_down": vote(-1),
        "search": search,
        "doc_sections": doc_sections,
        "read_section": read_section,
    }


# --- layout ----------------------------------------------------------------------------------


def _choices(service: KBService) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    chapters = [ALL_CHAPTERS] + [(c, c) for c in (service.kb.chapters() if service.kb else [])]
    docs = [(d.title, d.doc_id) for d in service.documents.values()]
    return chapters, docs


def _header() -> None:
    gr.HTML(
        f'<div class="app-head"><h1>🏛️ {TITLE}</h1><p>「第2次枚方市情報化計画 情報化基本計画（第3期取組版）」'
        "について、資料の該当箇所を引用して答えます。<br><span class='en'>Answers about Hirakata City's "
        "IT/DX plan, quoting the plan itself.</span></p></div>"
    )


def _chat_tab() -> dict[str, Any]:
    c: dict[str, Any] = {}
    c["chat"] = gr.Chatbot(
        label="質問と回答 / conversation",
        height=300,
        elem_id="chat",
        feedback_options=None,
        buttons=["copy"],
        placeholder="下の欄に質問を入力してください。回答には資料の引用元 [1] が付きます。",
    )
    with gr.Row():
        c["question"] = gr.Textbox(
            label="質問 / question",
            placeholder="例: 書かない窓口って何をするの？（Enter で送信 / press Enter to ask）",
            scale=6,
            elem_id="question",
            autofocus=True,
        )
        c["send"] = gr.Button("送信 / Ask", variant="primary", scale=1, elem_id="ask")
    gr.Examples(EXAMPLES, inputs=c["question"], label="質問の例 / examples")
    c["panel"] = gr.HTML(elem_id="answer-panel")
    with gr.Row(elem_id="feedback", equal_height=True):
        c["comment"] = gr.Textbox(
            label="回答へのご意見（任意） / comment on the answer (optional)",
            placeholder="どこが違ったか、何を知りたかったか",
            scale=4,
            lines=1,
            elem_id="comment",
        )
        with gr.Column(scale=1, min_width=160):
            c["up"] = gr.Button("👍 役に立った", elem_id="vote-up", size="sm")
            c["down"] = gr.Button("👎 役に立たなかった", elem_id="vote-down", size="sm")
    c["feedback_msg"] = gr.HTML(elem_id="feedback-msg")
    c["clear"] = gr.Button("🗑️ 会話をクリア / clear", size="sm")
    c["history"] = gr.State([])
    c["last"] = gr.State(None)
    return c


def _search_tab(settings: Settings, chapters: list[tuple[str, str]]) -> dict[str, Any]:
    c: dict[str, Any] = {}
    with gr.Row():
        c["query"] = gr.Textbox(
            label="検索語 / query",
            placeholder="例: RPA、オープンデータ、GIGAスクール",
            scale=6,
            elem_id="query",
        )
        c["go"] = gr.Button("検索 / Search", variant="primary", scale=1, elem_id="search-button")
    with gr.Row():
        c["mode"] = gr.Radio(
            MODE_CHOICES, value=settings.default_mode, label="検索方法 / mode", elem_id="mode"
        )
        c["kinds"] = gr.CheckboxGroup(KIND_CHOICES, label="資料の種類 / kind（未選択＝すべて / none = all）")
    with gr.Row():
        c["chapter"] = gr.Dropdown(chapters, value="", label="章で絞り込む / chapter", scale=3)
        c["k"] = gr.Slider(1, 20, value=settings.default_k, step=1, label="表示件数 / results (k)", scale=1)
    c["results"] = gr.HTML(elem_id="results")
    return c


def _documents_tab(docs: list[tuple[str, str]]) -> dict[str, Any]:
    c: dict[str, Any] = {}
    with gr.Row():
        c["doc"] = gr.Dropdown(docs, value=None, label="資料 / document", scale=2, elem_id="doc")
        c["section"] = gr.Dropdown([], label="節（見出しの階層） / section", scale=3, elem_id="section")
    c["reader"] = gr.HTML(elem_id="reader")
    return c


def build_app(settings: Settings, kb: KnowledgeBase | None = None) -> gr.Blocks:
    """Build the UI (not served). Without ``kb``, the index is opened or built in the background."""
    service = KBService(settings, kb)
    service.start()
    stores: list[FeedbackStore] = []

    def feedback() -> FeedbackStore:
        if not stores:
            stores.append(FeedbackStore(settings.feedback_db))
        return stores[0]

    h = make_handlers(service, feedback)
    chapters, docs = _choices(service)

    with gr.Blocks(title=TITLE) as demo:
        _header()
        status = gr.HTML(service.status_html(), elem_id="kb-status")
        with gr.Tabs():
            with gr.Tab("💬 チャット / Chat", id="chat"):
                c = _chat_tab()
            with gr.Tab("🔎 検索 / Search", id="search"):
                s = _search_tab(settings, chapters)
            with gr.Tab("📖 資料 / Documents", id="documents"):
                d = _documents_tab(docs)

        # KB work shares one queue slot: the MeCab tagger and the model are not thread-safe.
        gr.on(
            [c["question"].submit, c["send"].click],
            h["ask"],
            [c["question"], c["chat"], c["history"]],
            [c["chat"], c["history"], c["panel"], c["last"], c["question"]],
            api_name="ask",
            concurrency_id="kb",
        )
        for name, button in (("vote_up", c["up"]), ("vote_down", c["down"])):
            button.click(h[name], [c["comment"], c["last"]], [c["feedback_msg"], c["comment"]], api_name=name)
        c["clear"].click(
            lambda: ([], [], "", None, ""),
            None,
            [c["chat"], c["history"], c["panel"], c["last"], c["feedback_msg"]],
            api_visibility="private",
        )
        gr.on(
            [s["query"].submit, s["go"].click],
            h["search"],
            [s["query"], s["mode"], s["kinds"], s["chapter"], s["k"]],
            s["results"],
            api_name="search",
            concurrency_id="kb",
        )
        d["doc"].change(h["doc_sections"], d["doc"], [d["section"], d["reader"]], api_name="doc_sections")
        d["section"].input(h["read_section"], [d["doc"], d["section"]], d["reader"], api_name="read_section")

        def watch_status():  # type: ignore[no-untyped-def]
            """Refresh the status area until the index is ready (or failed), then fill the menus."""
            while (not service.status.ready and service.status.error is None) or service.status.building:
                yield service.status_html(), gr.skip(), gr.skip()
                time.sleep(0.5)
            new_chapters, new_docs = _choices(service)
            yield service.status_html(), gr.update(choices=new_chapters), gr.update(choices=new_docs)

        demo.load(
            watch_status,
            None,
            [status, s["chapter"], d["doc"]],
            concurrency_limit=None,
            api_visibility="private",
            show_progress="hidden",
        )
    return demo


THEME = gr.themes.Soft(
    primary_hue="blue",
    neutral_hue="slate",
    # Local fonts only: the app runs on offline networks, so no web-font downloads.
    font=["IPAPGothic", "Noto Sans CJK JP", "Hiragino Kaku Gothic ProN", "Meiryo", "sans-serif"],
    font_mono=["IPAGothic", "Noto Sans Mono CJK JP", "monospace"],
)


def launch_app(
    demo: gr.Blocks, settings: Settings, host: str | None = None, port: int | None = None, **kwargs: Any
) -> Any:
    """Serve ``demo`` with the app's theme and CSS (login when a user and password are set)."""
    auth = None
    if settings.app_auth_user and settings.app_auth_password:
        auth = (settings.app_auth_user, settings.app_auth_password)
    return demo.queue(default_concurrency_limit=1).launch(
        server_name=host or settings.app_host,
        server_port=port or settings.app_port,
        auth=auth,
        auth_message=f"{TITLE}：職員用アカウントでログインしてください / please log in",
        theme=THEME,
        css=render.CSS,
        footer_links=[],
        **kwargs,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=f"{TITLE} — web app")
    parser.add_argument("--config", type=Path, help="settings TOML (default: $KB_CONFIG or ./kb.toml)")
    parser.add_argument("--host", help="address to listen on (default: settings.app_host = 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port (default: settings.app_port = 7860)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # Gradio's own startup requests
    try:
        settings = load_settings(args.config)
    except KBError as exc:
        print(f"エラー: {exc.ja}\nerror: {exc.en}", file=sys.stderr)
        return 2
    demo = build_app(settings)
    launch_app(demo, settings, args.host, args.port)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
