"""The page: header, status, the チャット / 検索 / 資料 tabs, their wiring, theme and launch.

``build_app(settings, kb=None)`` builds the UI without serving it (tests call it);
``launch_app`` serves it with the theme, ``static/app.css`` and ``static/app.js``.
"""

from __future__ import annotations

import time
from functools import partial
from pathlib import Path
from typing import Any

import gradio as gr
from starlette.middleware import Middleware

from kb.app import handlers as h
from kb.app.components import chat_history, unchecked
from kb.app.middleware import LoginPageWithoutApi, NoRemoteFiles
from kb.app.service import KBService
from kb.config import Settings
from kb.feedback import FeedbackStore
from kb.knowledge import KnowledgeBase

TITLE = "枚方市 情報化計画ナビ"
STATIC = Path(__file__).resolve().parent / "static"
CSS_PATH = STATIC / "app.css"
JS_PATH = STATIC / "app.js"
EXAMPLES = [
    "書かない窓口って何をするの？",
    "EBPMとは？",
    "標準準拠システムへの移行はいつまで？",
    "RPAでどんな業務を自動化している？",
    "マイナンバーカードを使った手続きのオンライン化について教えて",
]
MODE_CHOICES = [
    ("ハイブリッド / hybrid", "hybrid"),
    ("キーワード / keyword", "keyword"),
    ("意味検索 / semantic", "semantic"),
]
THEME = gr.themes.Soft(
    primary_hue="blue",
    neutral_hue="slate",
    # Local fonts only: the app runs on offline networks, so no web-font downloads.
    font=["IPAPGothic", "Noto Sans CJK JP", "Hiragino Kaku Gothic ProN", "Meiryo", "sans-serif"],
    font_mono=["IPAGothic", "Noto Sans Mono CJK JP", "monospace"],
)


def _header() -> None:
    gr.HTML(
        f'<div class="app-head"><h1>🏛️ {TITLE}</h1><p>「第2次枚方市情報化計画 情報化基本計画（第3期取組版）」'
        "について、資料の該当箇所を引用して答えます。<span class='en'> Answers about Hirakata City's "
        "IT/DX plan, quoting the plan itself.</span></p></div>"
    )


def _years_box(elem_id: str) -> gr.Textbox:
    """The year filter: a range of Western years typed as text (checked by the handler)."""
    return gr.Textbox(
        value="",
        label="年で絞り込む（西暦） / years",
        placeholder="例: 2024-2027（空欄＝すべて）",
        scale=1,
        min_width=150,
        max_lines=1,
        elem_id=elem_id,
    )


def _chat_tab() -> dict[str, Any]:
    c: dict[str, Any] = {}
    with gr.Row(elem_id="chat-row", equal_height=False):
        with gr.Column(scale=3, min_width=300, elem_id="chat-col"):
            c["chat"] = chat_history(
                label="質問と回答 / conversation",
                height=360,
                elem_id="chat",
                feedback_options=None,
                buttons=["copy"],
                placeholder="下の欄に質問を入力してください。回答には資料の引用元 [1] が付きます。",
            )
            with gr.Row(elem_id="ask-row", equal_height=True):
                c["question"] = gr.Textbox(
                    label="質問 / question",
                    placeholder="例: 書かない窓口って何をするの？（Enter で送信 / press Enter to ask）",
                    scale=6,
                    elem_id="question",
                    autofocus=True,
                )
                c["send"] = gr.Button("送信 / Ask", variant="primary", scale=1, min_width=72, elem_id="ask")
            c["notice"] = gr.HTML(elem_id="ask-notice")
            with gr.Accordion("絞り込み / filter", open=False, elem_id="chat-filters"):
                c["years"] = _years_box("chat-years")
            with gr.Row(elem_id="examples"):
                c["examples"] = [
                    gr.Button(ex, size="sm", elem_classes=["example"], min_width=0, scale=0)
                    for ex in EXAMPLES
                ]
            with gr.Row(elem_id="feedback", equal_height=True):
                c["comment"] = gr.Textbox(
                    label="回答へのご意見（任意） / comment on the answer (optional)",
                    placeholder="どこが違ったか、何を知りたかったか",
                    scale=4,
                    lines=1,
                    elem_id="comment",
                )
                with gr.Column(scale=1, min_width=150):
                    c["up"] = gr.Button("👍 役に立った", elem_id="vote-up", size="sm")
                    c["down"] = gr.Button("👎 役に立たなかった", elem_id="vote-down", size="sm")
            c["feedback_msg"] = gr.HTML(elem_id="feedback-msg")
            c["clear"] = gr.Button("🗑️ 会話をクリア / clear", size="sm", elem_id="clear")
        with gr.Column(scale=2, min_width=300, elem_id="sources-col"):
            c["sources"] = gr.HTML(elem_id="answer-panel")
    c["history"] = gr.State([])
    c["turns"] = gr.State([])
    c["last"] = gr.State(None)
    return c


def _search_tab(settings: Settings, service: KBService) -> dict[str, Any]:
    c: dict[str, Any] = {}
    with gr.Row():
        c["query"] = gr.Textbox(
            label="検索語 / query",
            placeholder="例: RPA、オープンデータ、GIGAスクール",
            scale=6,
            elem_id="query",
        )
        c["go"] = gr.Button(
            "検索 / Search", variant="primary", scale=1, min_width=72, elem_id="search-button"
        )
    with gr.Row():
        c["mode"] = gr.Radio(
            MODE_CHOICES, value=settings.default_mode, label="検索方法 / mode", elem_id="mode"
        )
        c["kinds"] = gr.CheckboxGroup(
            h.kind_choices(), label="資料の種類 / kind（未選択＝すべて / none = all）"
        )
    with gr.Row():
        # Free text is accepted too (the handler checks it): API callers name a chapter, and the
        # chapters are only known once the index is open.
        c["chapter"] = gr.Dropdown(
            h.chapter_choices(service),
            value="",
            label="章で絞り込む / chapter",
            scale=3,
            elem_id="chapter",
            allow_custom_value=True,
        )
        c["years"] = _years_box("search-years")
        c["k"] = gr.Slider(1, 20, value=settings.default_k, step=1, label="表示件数 / results (k)", scale=1)
    c["results"] = gr.HTML(elem_id="results")
    return c


def _upload_box(service: KBService) -> dict[str, Any]:
    """「資料を追加」: file, kind, title and the add button (only when Settings.app_allow_upload)."""
    c: dict[str, Any] = {}
    limit_mb = f"{service.settings.max_ingest_mb:g}"  # the limit kb.ingest.add_document applies
    with gr.Accordion("➕ 資料を追加 / add a document", open=False, elem_id="upload-box"):
        c["file"] = unchecked(
            gr.File(
                label=f"PDF・Word (.docx)・テキスト (.txt / .md)、{limit_mb} MB まで / up to {limit_mb} MB",
                file_types=list(h.UPLOAD_SUFFIXES),
                file_count="single",
                elem_id="upload",
                height=110,
            )
        )
        with gr.Row(equal_height=True):
            c["kind"] = gr.Dropdown(
                h.kind_choices(include_other=True),
                value="other",
                label="種類 / kind",
                scale=1,
                min_width=140,
                elem_id="upload-kind",
            )
            c["title"] = gr.Textbox(
                label="題名（任意） / title (optional)",
                placeholder="空欄なら文書の題名かファイル名",
                scale=2,
                elem_id="upload-title",
            )
        c["add"] = gr.Button("追加して索引を更新 / add and re-index", variant="primary", elem_id="add-doc")
        c["add_msg"] = gr.HTML(elem_id="add-msg")
    return c


def _documents_tab(service: KBService) -> dict[str, Any]:
    c: dict[str, Any] = {}
    c["list"] = gr.HTML(h.documents_html(service), elem_id="doc-list")
    if service.settings.app_allow_upload:
        c.update(_upload_box(service))
    with gr.Row():
        c["doc"] = gr.Dropdown(
            h.document_choices(service),
            value=None,
            label="資料 / document",
            scale=2,
            elem_id="doc",
            allow_custom_value=True,
        )
        c["section"] = gr.Dropdown(
            [], label="節（見出しの階層） / section", scale=3, elem_id="section", allow_custom_value=True
        )
    c["reader"] = gr.HTML(elem_id="reader")
    return c


class CheckedBlocks(gr.Blocks):
    """Blocks whose API calls with too few values get a bilingual message, not a blank error.

    Gradio raises a plain ValueError there, which reaches a plain-HTTP caller as
    ``{"error": null}`` and writes the caller's whole input (up to the query limit) into the
    log with a traceback. A :class:`gr.Error` is shown to the caller and is not logged as a crash.
    """

    def validate_inputs(self, block_fn: Any, inputs: list[Any]) -> None:
        wanted = list(getattr(block_fn, "inputs", []) or [])
        if len(inputs) >= len(wanted):
            return
        # Session state is filled in by Gradio, not sent by the caller: name only what is sent.
        sent = [block for block in wanted if not isinstance(block, gr.State)]
        received = len(inputs) if len(inputs) <= len(sent) else len(inputs) - (len(wanted) - len(sent))
        names = ", ".join(_input_name(block) for block in sent)
        api = getattr(block_fn, "api_name", None) or getattr(block_fn, "name", "")
        raise gr.Error(
            f"入力値が足りません（{api}: {len(sent)} 個必要、{received} 個受信）。順に {names} を送ってください。"
            f" / Not enough input values for {api}: {len(sent)} needed, {received} received."
            f" Send, in order: {names}.",
            title="入力エラー / Input error",
            print_exception=False,
        )


def _input_name(block: Any) -> str:
    """How an input is named in the API description: its label, else its component type."""
    label = getattr(block, "label", None)
    return str(label) if label else type(block).__name__.lower()


def build_app(settings: Settings, kb: KnowledgeBase | None = None) -> gr.Blocks:
    """Build the UI (not served). Without ``kb``, the index is opened or built in the background."""
    service = KBService(settings, kb)
    service.start()
    stores: list[FeedbackStore] = []

    def feedback() -> FeedbackStore:
        if not stores:
            stores.append(FeedbackStore.from_settings(settings))
        return stores[0]

    with CheckedBlocks(title=TITLE) as demo:
        _header()
        status = gr.HTML(h.status_html(service), elem_id="kb-status")
        with gr.Tabs(elem_id="tabs"):
            with gr.Tab("💬 チャット / Chat", id="chat"):
                c = _chat_tab()
            with gr.Tab("🔎 検索 / Search", id="search"):
                s = _search_tab(settings, service)
            with gr.Tab("📖 資料 / Documents", id="documents"):
                d = _documents_tab(service)

        ask = partial(h.ask, service)
        ask_in = [c["question"], c["chat"], c["history"], c["turns"], c["years"]]
        ask_out = [c["chat"], c["history"], c["turns"], c["notice"], c["sources"], c["last"], c["question"]]
        # Questions and searches share one queue, Settings.app_concurrency at a time (1 by default:
        # on two cores more only wait for each other; docs/deployment.md). An upload re-indexes in
        # a queue of its own ("index"), so that chat and search go on answering from the current
        # build meanwhile (the library is thread-safe).
        gr.on(
            [c["question"].submit, c["send"].click],
            ask,
            ask_in,
            ask_out,
            api_name="ask",
            concurrency_id="kb",
            concurrency_limit=settings.app_concurrency,
        )
        for button in c["examples"]:  # an example is asked at once
            button.click(
                lambda text: text, button, c["question"], queue=False, api_visibility="private"
            ).then(
                ask,
                ask_in,
                ask_out,
                concurrency_id="kb",
                concurrency_limit=settings.app_concurrency,
                api_visibility="private",
            )
        for name, value, button in (("vote_up", 1, c["up"]), ("vote_down", -1, c["down"])):
            button.click(
                partial(h.vote, feedback, value),
                [c["comment"], c["last"]],
                [c["feedback_msg"], c["comment"]],
                api_name=name,
            )
        reset = [c["chat"], c["history"], c["turns"], c["notice"], c["sources"], c["last"], c["feedback_msg"]]
        c["clear"].click(lambda: ([], [], [], "", "", None, ""), None, reset, api_visibility="private")
        c["chat"].clear(lambda: ([], [], "", "", None), None, reset[1:6], api_visibility="private")
        gr.on(
            [s["query"].submit, s["go"].click],
            partial(h.search, service),
            [s["query"], s["mode"], s["kinds"], s["chapter"], s["k"], s["years"]],
            s["results"],
            api_name="search",
            concurrency_id="kb",
            concurrency_limit=settings.app_concurrency,
            # Raw values reach the handler, which checks them with a bilingual message: Gradio's
            # own choice and range checks would fail with a traceback and an English-only error.
            preprocess=False,
        )
        if "add" in d:
            d["add"].click(
                partial(h.add_document, service),
                [d["file"], d["kind"], d["title"]],
                [d["add_msg"], d["list"], d["doc"], s["chapter"], status, d["file"]],
                api_name="add_document",
                concurrency_id="index",  # one upload at a time; questions are not held up by it
                concurrency_limit=1,
                preprocess=False,  # the handler checks the file and says why it cannot be added
            )
        d["doc"].change(
            partial(h.doc_sections, service),
            d["doc"],
            [d["section"], d["reader"]],
            api_name="doc_sections",
            preprocess=False,
        )
        d["section"].input(
            partial(h.read_section, service),
            [d["doc"], d["section"]],
            d["reader"],
            api_name="read_section",
            preprocess=False,
        )

        def watch_status():  # type: ignore[no-untyped-def]
            """Refresh the status area until the index is ready (or failed), then fill the menus."""
            while (not service.status.ready and service.status.error is None) or service.status.building:
                yield h.status_html(service), gr.skip(), gr.skip(), gr.skip()
                time.sleep(0.5)
            yield (
                h.status_html(service),
                gr.update(choices=h.chapter_choices(service)),
                gr.update(choices=h.document_choices(service)),
                h.documents_html(service),
            )

        demo.load(
            watch_status,
            None,
            [status, s["chapter"], d["doc"], d["list"]],
            concurrency_limit=None,
            api_visibility="private",
            show_progress="hidden",
        )
    return demo


def launch_app(
    demo: gr.Blocks, settings: Settings, host: str | None = None, port: int | None = None, **kwargs: Any
) -> Any:
    """Serve ``demo`` with the app's theme, CSS and script (login when a user and password are set),
    never fetching remote files and with no API description on the login page."""
    guards = [Middleware(NoRemoteFiles), Middleware(LoginPageWithoutApi)]
    app_kwargs = dict(kwargs.pop("app_kwargs", None) or {})
    app_kwargs["middleware"] = [*app_kwargs.get("middleware", []), *guards]
    auth = None
    if settings.app_auth_user and settings.app_auth_password:
        auth = (settings.app_auth_user, settings.app_auth_password)
    return demo.queue(default_concurrency_limit=1).launch(
        server_name=host or settings.app_host,
        server_port=port or settings.app_port,
        auth=auth,
        auth_message=f"{TITLE}：職員用アカウントでログインしてください / please log in",
        theme=THEME,
        css_paths=[CSS_PATH],
        js=JS_PATH.read_text(encoding="utf-8"),
        footer_links=[],
        app_kwargs=app_kwargs,
        **kwargs,
    )
