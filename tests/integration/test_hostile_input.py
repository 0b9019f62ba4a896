"""Hostile and broken input (issue #12): property-based tests of every way in.

``kb.search`` (every mode, with and without filters), ``Answerer.answer`` / ``.stream``, the ``kb``
CLI (``kb.cli.main`` in-process) and the app's API (/search, /ask through gradio_client) get empty,
blank, 100,000-character, control, zero-width, emoji, mixed-script, HTML/JS, Chroma-filter-like,
path-like and not-really-text input, invalid filter values, counts and chat histories.

The property everywhere: no crash. Each call gives a result or a clear bilingual message (a
``KBError`` with non-empty ``.ja`` and ``.en``, Japanese first where a person reads it), and
nothing unescaped comes back in the app's HTML.

Hypothesis runs few examples per property in the default suite (profile ``kb-hostile``,
derandomized so CI is repeatable) and many with ``-m slow`` (profile ``kb-hostile-slow``: 590
examples over the seven properties). The crashes it found in the library are kept as regression
tests at the end, with the malformed API values that Gradio's preprocessing used to choke on
(the app's handlers check them now).
"""

from __future__ import annotations

import contextlib
import html
import io
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from html.parser import HTMLParser
from typing import Any

import pytest
from gradio_client import Client
from helpers.servers import ApiError, app_in_process, call_api
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import kb.app
import kb.cli
from kb.answer import Answer, Answerer
from kb.config import Settings
from kb.errors import InvalidQueryError, KBError
from kb.knowledge import KnowledgeBase
from kb.query import validate_query
from kb.retrieve import MODES, Filters

# --- hypothesis profiles: few examples by default, many with -m slow --------------------------

_HEALTH = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much]
settings.register_profile(
    "kb-hostile", max_examples=20, deadline=None, derandomize=True, suppress_health_check=_HEALTH
)
settings.register_profile("kb-hostile-slow", deadline=None, suppress_health_check=_HEALTH)

#: Examples per property in the slow run (590 in all); the default run takes kb-hostile's 20 each.
SLOW_EXAMPLES = {
    "search": 150,
    "answer": 80,
    "stream": 60,
    "cli_search": 80,
    "cli_ask": 60,
    "app_search": 90,
    "app_ask": 70,
}

RUNS = [pytest.param("default", id="default"), pytest.param("slow", id="slow", marks=pytest.mark.slow)]


def profile(run: str, prop: str) -> settings:
    if run == "slow":
        return settings(settings.get_profile("kb-hostile-slow"), max_examples=SLOW_EXAMPLES[prop])
    return settings.get_profile("kb-hostile")


# --- hostile input -----------------------------------------------------------------------------

#: Named inputs every way in is tried with (the strategies below mix them with generated text).
SPECIMENS: dict[str, str] = {
    "empty": "",
    "spaces": "   ",
    "blank-mix": "\t\n\u3000 \r\n",
    "long-100k-kanji": "窓口" * 50_000,
    "long-100k-ascii": "a" * 100_000,
    "just-over-limit": "あ" * 2001,
    "nul": "\x00",
    "escape-seq": "RPA\x07\x1b[31m",
    "c1-controls": "\x85\x9f",
    "nul-inside": "書かない\x00窓口",
    "zero-width": "\u200b\u200c\u200d\ufeff",
    "zero-width-inside": "書か\u200bない窓口",
    "bidi-override": "\u202eRPA\u202c",
    "line-separator": "RPA\u2028DX\u2029",
    "emoji": "😀",
    "emoji-zwj": "👨\u200d👩\u200d👧\u200d👦 DX推進",
    "flag": "🇯🇵",
    "mixed-scripts": "窓口 window окно نافذة 창구 ｶﾞ ＡＩ",
    "script": "<script>alert(1)</script>",
    "script-question": "<script>alert(1)</script>書かない窓口とは？",
    "img-onerror": "<img src=x onerror=alert(1)>",
    "attribute-break": '"><svg onload=alert(1)>',
    "js-url": "javascript:alert(1)",
    "entities": "&lt;b&gt; &amp; &#x3C;script&#x3E;",
    "chroma-where": '{"$where": "sleep(1000)"}',
    "chroma-in": '{"kind": {"$in": ["plan"]}}',
    "dollar-in": "$in",
    "dollar-ne": '{"$ne": null}',
    "path": "../../etc/passwd",
    "path-windows": "..\\..\\windows\\win.ini",
    "file-url": "file:///etc/passwd",
    "encoded-path": "..%2f..%2fetc%2fpasswd",
    "sql": "'; DROP TABLE feedback; --",
    "format-strings": "{0} %s %(x)s {__class__} ${HOME}",
    "nfkc-expanding": "ﷺ" * 120,  # 120 characters, 2,160 after NFKC
    "fullwidth": "ＲＰＡ　ＡＩ－ＯＣＲ",
    "halfwidth-kana": "ﾏｲﾅﾝﾊﾞｰｶｰﾄﾞ",
    "surrogate": "\ud800",
    "surrogate-inside": "窓口\udcff",  # what `kb search $'\xff'` becomes in Python
}
SURROGATE_NAMES = {"surrogate", "surrogate-inside"}
_SURROGATE = re.compile(r"[\ud800-\udfff]")

#: Real words, so that many generated queries find something and reach the answer code.
WORDS = ["書かない窓口", "EBPM", "RPA", "テレワーク", "計画期間", "AI-OCR", "DX", "マイナンバーカード"]
FOLLOW_UPS = ["それはいつから？", "他には？", "それは？", "いつまで？"]
ODD_CHARS = list(
    "\x00\x07\x1b\x7f\x85\x9f\t\n\r\u3000\u200b\u200c\u200d\u2028\u2029\u202e\ufeff\ufffe\uffff"
    "<>&\"'$%/\\.{}[]:;=`~!?？。、「」😀ﷺ"
)
BAD_CHAPTERS = ["第9章 ない章", "../../etc/passwd", '{"$ne": ""}', "$in", "<script>alert(1)</script>", " "]
BAD_KINDS = ["bogus", "", "$in", "PLAN", "plan ", '{"$ne": ""}']
KINDS = ["plan", "glossary", "national_strategy", "other"]


def hostile_text(surrogates: bool = True, max_pieces: int = 6) -> st.SearchStrategy[str]:
    """Specimens, generated text, odd characters and real words, glued together; long runs."""
    specimens = [v for k, v in SPECIMENS.items() if surrogates or k not in SURROGATE_NAMES]
    short = [s for s in specimens if len(s) <= 200]
    odd = ODD_CHARS + (["\ud800", "\udcff"] if surrogates else [])
    piece = st.one_of(
        st.text(max_size=20),
        st.sampled_from(short),
        st.sampled_from(odd),
        st.sampled_from(WORDS + FOLLOW_UPS),
    )
    long_run = st.builds(
        lambda s, n: (s * n)[:n],
        st.text(min_size=1, max_size=3),
        st.sampled_from([1999, 2000, 2001, 100_000]),
    )
    text = st.one_of(st.lists(piece, max_size=max_pieces).map("".join), st.sampled_from(specimens), long_run)
    return text if surrogates else text.map(lambda s: _SURROGATE.sub("", s))


def filters_strategy(chapters: list[str]) -> st.SearchStrategy[Filters | None]:
    kinds = st.lists(st.sampled_from(KINDS + BAD_KINDS), max_size=3).map(tuple)
    chapter = st.one_of(st.none(), st.just(""), st.sampled_from(chapters + BAD_CHAPTERS))
    return st.one_of(st.none(), st.builds(Filters, kinds=kinds, chapter=chapter))


#: Counts a caller may pass: valid ones, and out-of-range ints (None and 0 mean "the default").
K_VALUES = st.one_of(st.integers(1, 100), st.sampled_from([None, 0, -1, 101, 10**9]))


def history_strategy() -> st.SearchStrategy[Any]:
    """Chat histories of every shape a caller might send (well-formed turns are (question, answer))."""
    text = hostile_text(surrogates=False, max_pieces=3).map(lambda s: s[:300])
    turn = st.one_of(
        st.tuples(text, text),
        st.tuples(st.sampled_from(WORDS + FOLLOW_UPS), text),
        st.tuples(text),
        st.tuples(text, text, text),
        st.tuples(text, st.none()),
        st.tuples(st.integers(), st.integers()),
        st.lists(text, max_size=3),
        st.none(),
        st.integers(),
        text,
        st.dictionaries(st.sampled_from(["role", "content"]), text, max_size=2),
    )
    return st.one_of(
        st.none(), st.just(()), st.lists(turn, max_size=4), text, st.dictionaries(text, text, max_size=2)
    )


# --- what a good outcome looks like ------------------------------------------------------------

_JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")


def assert_bilingual(exc: KBError) -> None:
    assert exc.ja.strip() and exc.en.strip(), repr(exc)
    assert _JAPANESE.search(exc.ja), exc.ja
    assert re.search(r"[A-Za-z]{3}", exc.en), exc.en
    assert "Traceback" not in exc.ja + exc.en


def query_is_valid(text: Any, max_chars: int) -> bool:
    try:
        validate_query(text, max_chars)
    except InvalidQueryError:
        return False
    return True


def run_search(knowledge: KnowledgeBase, query: str, mode: str, filters: Filters | None, k: Any) -> str:
    """One kb.search call checked against the property; returns "result" or "message"."""
    k_valid = k is None or (isinstance(k, int) and not isinstance(k, bool) and 1 <= k <= 100)
    query_valid = query_is_valid(query, knowledge.settings.max_query_chars)
    try:
        hits = knowledge.search(query, mode=mode, k=k, filters=filters)
    except KBError as exc:
        assert_bilingual(exc)
        assert isinstance(exc, InvalidQueryError), repr(exc)  # not a store or model failure
        assert not (k_valid and query_valid), repr(exc)  # valid input never gets a message
        return "message"
    assert k_valid and query_valid, (k, query[:50])
    limit = k or knowledge.settings.default_k
    assert isinstance(hits, list) and len(hits) <= limit
    assert [h.rank for h in hits] == list(range(1, len(hits) + 1))
    for hit in hits:
        assert filters is None or filters.allows(hit.chunk), (hit.chunk.kind, hit.chunk.chapter, filters)
    return "result"


def check_answer(answer: Answer) -> None:
    assert isinstance(answer, Answer) and answer.answer.strip()
    for citation in answer.citations:
        assert citation.quote in citation.chunk.text
    if answer.answerable:
        assert answer.citations


def run_answer(answerer: Answerer, question: str, history: Any) -> str:
    try:
        answer = answerer.answer(question, history)
    except KBError as exc:
        assert_bilingual(exc)
        assert isinstance(exc, InvalidQueryError), repr(exc)
        return "message"
    check_answer(answer)
    return "result"


def run_stream(answerer: Answerer, question: str, history: Any) -> str:
    try:
        stream = answerer.stream(question, history)  # input errors are raised here, before any text
    except KBError as exc:
        assert_bilingual(exc)
        assert isinstance(exc, InvalidQueryError), repr(exc)
        return "message"
    parts = list(stream)
    assert parts and all(isinstance(p, str) for p in parts)
    assert parts[-1] == stream.answer.answer
    check_answer(stream.answer)
    return "result"


# --- library: kb.search, Answerer.answer, Answerer.stream ----------------------------------------


@pytest.fixture(scope="module")
def answerer(built_kb: KnowledgeBase) -> Answerer:
    return Answerer.from_settings(built_kb, built_kb.settings)


@pytest.mark.parametrize("name", list(SPECIMENS))
def test_every_specimen_in_every_mode(built_kb: KnowledgeBase, name: str) -> None:
    chapter = built_kb.chapters()[0]
    for mode in MODES:
        for filters in (None, Filters(kinds=("plan",), chapter=chapter), Filters(kinds=("bogus",))):
            run_search(built_kb, SPECIMENS[name], mode, filters, 5)


@pytest.mark.parametrize("name", list(SPECIMENS))
def test_every_specimen_as_a_question(answerer: Answerer, name: str) -> None:
    run_answer(answerer, SPECIMENS[name], ())
    run_stream(answerer, SPECIMENS[name], [("EBPMとは？", "…")])


@pytest.mark.parametrize("k", [0, None, -1, 101, 10**9])
def test_out_of_range_counts(built_kb: KnowledgeBase, k: Any) -> None:
    run_search(built_kb, "RPA", "keyword", None, k)


@pytest.mark.parametrize("run", RUNS)
def test_search_property(built_kb: KnowledgeBase, run: str) -> None:
    @profile(run, "search")
    @given(
        query=hostile_text(),
        mode=st.sampled_from(MODES),
        filters=filters_strategy(built_kb.chapters()),
        k=K_VALUES,
    )
    def prop(query: str, mode: str, filters: Filters | None, k: Any) -> None:
        event(run_search(built_kb, query, mode, filters, k))

    prop()


@pytest.mark.parametrize("run", RUNS)
def test_answer_property(answerer: Answerer, run: str) -> None:
    @profile(run, "answer")
    @given(question=hostile_text(), history=history_strategy())
    def prop(question: str, history: Any) -> None:
        event(run_answer(answerer, question, history))

    prop()


@pytest.mark.parametrize("run", RUNS)
def test_stream_property(answerer: Answerer, run: str) -> None:
    @profile(run, "stream")
    @given(question=hostile_text(), history=history_strategy())
    def prop(question: str, history: Any) -> None:
        event(run_stream(answerer, question, history))

    prop()


# --- the kb CLI, in-process ----------------------------------------------------------------------


def run_cli(argv: list[str]) -> tuple[int, str, str]:
    """(exit code, stdout, stderr) of kb.cli.main(argv); any other exception escapes (a crash)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = kb.cli.main(argv)
        except SystemExit as exc:  # argparse: bad arguments
            code = exc.code if isinstance(exc.code, int) else 1
    return code, out.getvalue(), err.getvalue()


def assert_cli_outcome(code: int, out: str, err: str) -> None:
    assert code in (0, 2), (code, err)
    assert "Traceback" not in out + err
    if code == 0:
        assert out.strip()
    else:  # the bilingual message, Japanese first
        assert "エラー" in err and "error:" in err, err
        assert err.index("エラー") < err.index("error:"), err
        ja = err[err.index("エラー") :].split("\n", 1)[0]
        assert _JAPANESE.search(ja.replace("エラー", "")), err


@contextlib.contextmanager
def cli_on(knowledge: KnowledgeBase) -> Iterator[None]:
    """The CLI on the session index: KnowledgeBase.open would load the embedding model on every
    call (6 s each here), so it returns the already open one; arguments, validation, search and
    output are the CLI's own. Environment settings (KB_*) are cleared."""
    with pytest.MonkeyPatch.context() as mp:
        for key in [k for k in os.environ if k.startswith("KB_")]:
            mp.delenv(key)
        mp.setattr(KnowledgeBase, "open", classmethod(lambda cls, *a, **kw: knowledge))
        yield


K_ARGS = st.one_of(
    st.integers(1, 20).map(str),
    st.integers(-3, 120).map(str),
    st.sampled_from(["abc", "", "1e3", "３", " 5", "0x10", "5.0", "-0"]),
)


@pytest.mark.parametrize("run", RUNS)
def test_cli_search_property(built_kb: KnowledgeBase, run: str) -> None:
    @profile(run, "cli_search")
    @given(
        # Mostly well-formed options, so that many examples get as far as searching.
        query=hostile_text(),
        mode=st.sampled_from([*MODES, *MODES, *MODES, "fuzzy"]),
        k=K_ARGS,
        kinds=st.one_of(
            st.just([]),
            st.lists(st.sampled_from(KINDS), max_size=2),
            st.lists(st.sampled_from(BAD_KINDS), max_size=1),
        ),
        chapter=st.one_of(
            st.none(), st.sampled_from(built_kb.chapters()), st.sampled_from(BAD_CHAPTERS), hostile_text()
        ),
        as_json=st.booleans(),
    )
    def prop(query: str, mode: str, k: str, kinds: list[str], chapter: str | None, as_json: bool) -> None:
        argv = ["--index-dir", str(built_kb.settings.index_dir), "search", "--mode", mode, "--k", k]
        for kind in kinds:
            argv += ["--kind", kind]
        if chapter is not None:
            argv.append(f"--chapter={chapter}")  # one argument, even when it starts with "-"
        argv += ["--json"] * as_json + ["--", query]
        code, out, err = run_cli(argv)
        assert_cli_outcome(code, out, err)
        event(f"exit {code}")

    with cli_on(built_kb):
        prop()


@pytest.mark.parametrize("run", RUNS)
def test_cli_ask_property(built_kb: KnowledgeBase, run: str) -> None:
    @profile(run, "cli_ask")
    @given(question=hostile_text(), as_json=st.booleans(), separator=st.booleans())
    def prop(question: str, as_json: bool, separator: bool) -> None:
        argv = ["--index-dir", str(built_kb.settings.index_dir), "ask", *["--json"] * as_json]
        argv += ["--", question] if separator else [question]  # without "--", "-x" is an unknown option
        code, out, err = run_cli(argv)
        assert_cli_outcome(code, out, err)
        event(f"exit {code}")

    with cli_on(built_kb):
        prop()


@pytest.mark.parametrize(
    "argv",
    [
        ["search", "--k", "0", "RPA"],  # was: 5 results (k=0 read as "the default")
        ["search", "--k", "101", "RPA"],
        ["search", "--k", "abc", "RPA"],  # argparse, now in both languages
        ["search", "--chapter", "窓口\udcff", "RPA"],  # was: Chroma "Invalid where clause"
        ["search", "--", "窓口\udcff"],  # was: UnicodeEncodeError
        ["ask", "--", "\ud800"],  # was: UnicodeEncodeError
        ["search", "--mode", "fuzzy", "RPA"],
        ["nonsense"],
        [],
    ],
)
def test_cli_rejects_bad_arguments_in_both_languages(built_kb: KnowledgeBase, argv: list[str]) -> None:
    with cli_on(built_kb):
        code, out, err = run_cli(["--index-dir", str(built_kb.settings.index_dir), *argv])
    assert code == 2
    assert_cli_outcome(code, out, err)


def test_cli_config_that_is_a_folder(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Was: IsADirectoryError with a traceback."""
    code, out, err = run_cli(["--config", str(tmp_path), "stats"])
    assert code == 2 and str(tmp_path) in err
    assert_cli_outcome(code, out, err)


def test_cli_argument_that_is_not_utf8(built_kb: KnowledgeBase) -> None:
    """A shell passes bytes: `kb search $'\\xff窓口'` reaches Python as a lone surrogate."""
    result = subprocess.run(
        [sys.executable, "-m", "kb.cli", "--index-dir", str(built_kb.settings.index_dir), "search", b"\xff"],
        capture_output=True,
        timeout=300,
        env={**os.environ, "LC_ALL": "C.UTF-8", "HF_HUB_OFFLINE": "1"},
    )
    err = result.stderr.decode("utf-8", "replace")
    assert result.returncode == 2, err
    assert "Traceback" not in err and "エラー" in err and "error:" in err


# --- the app's API through gradio_client ---------------------------------------------------------


@pytest.fixture(scope="module")
def app_client(built_kb: KnowledgeBase, base_settings: Settings) -> Iterator[Client]:
    """One served app for the module, on a free loopback port, and one client of it."""
    with app_in_process(base_settings, built_kb) as url:
        yield Client(url, verbose=False)


@pytest.mark.parametrize(
    ("api", "data", "needed"),
    [
        ("search", ["RPA"], "6 個必要、1 個受信"),
        ("ask", [], "3 個必要、0 個受信"),
        ("ask", ["RPA", []], "3 個必要、2 個受信"),
    ],
)
def test_too_few_values_over_plain_http_get_a_message(
    app_client: Client, api: str, data: list[Any], needed: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Gradio answered these with ``{"error": null}`` and logged a traceback with the input."""
    with pytest.raises(ApiError) as caught:
        call_api(app_client.src.rstrip("/"), api, data)
    message = json.loads(str(caught.value))["error"]
    assert needed in message and "Not enough input values" in message, message
    assert "Traceback" not in caplog.text


#: Every tag and attribute the app itself writes; anything else came from the input, unescaped.
ALLOWED_TAGS = {
    "a", "b", "br", "code", "details", "div", "h1", "h3", "li", "mark", "ol", "p", "progress",
    "span", "summary", "table", "tbody", "td", "th", "thead", "tr", "ul",
}  # fmt: skip


class _Markup(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in ALLOWED_TAGS:
            self.problems.append(f"<{tag}>")
        for name, value in attrs:
            if name.startswith("on") or name in ("src", "style", "srcdoc", "formaction"):
                self.problems.append(f"<{tag} {name}=>")
            if name == "href" and not (value or "").startswith("#"):
                self.problems.append(f"<{tag} href={value!r}>")

    handle_startendtag = handle_starttag


def assert_safe_html(markup: str) -> None:
    """Only the app's own tags and attributes: input shows as text, never as markup."""
    parser = _Markup()
    parser.feed(markup)
    parser.close()
    assert not parser.problems, (parser.problems, markup[:500])


_ERROR = re.compile(
    r'class="kb-notice kb-error"[^>]*><div class="ja">(.*?)</div><div class="en">(.*?)</div>', re.S
)


def assert_message_or_result(markup: str, *result_markers: str) -> str:
    """A bilingual message (Japanese first, never the internal-error one) or a result."""
    assert "Traceback" not in markup
    found = _ERROR.search(markup)
    if found:
        ja, en = found.group(1).replace("⚠️", "").strip(), found.group(2).strip()
        assert ja and en and _JAPANESE.search(ja), markup[:300]
        assert "内部エラー" not in ja, (ja, en)  # the handler caught something unexpected: a crash
        return "message"
    assert any(marker in markup for marker in result_markers), markup[:300]
    return "result"


def message_text(message: dict[str, Any]) -> str:
    content = message["content"]
    if isinstance(content, str):
        return content
    return "".join(part.get("text", "") for part in content if isinstance(part, dict))


def app_search(client: Client, query: str, mode: str, kinds: list[str], chapter: str, k: int) -> str:
    markup = client.predict(query, mode, kinds, chapter, k, api_name="/search")
    assert isinstance(markup, str)
    assert_safe_html(markup)
    # Results, or "nothing found" (an info notice, not an error).
    return assert_message_or_result(markup, 'class="hits"', 'class="kb-notice kb-info"')


def app_ask(client: Client, question: str, chat: list[dict[str, Any]] | None = None) -> str:
    before = len(chat or [])
    new_chat, notice, sources, _box = client.predict(question, chat or [], api_name="/ask")
    added = new_chat[before:]
    for html_out in (notice, sources, *(message_text(m) for m in added)):
        if isinstance(html_out, str):  # else a "no change" update (gr.skip())
            assert_safe_html(html_out)
    if notice:
        assert added == [], added
        return assert_message_or_result(notice)
    assert [m["role"] for m in added] == ["user", "assistant"]
    assert message_text(added[-1]).strip() and 'class="turn"' in sources
    return "result"


@pytest.mark.parametrize("name", [n for n in SPECIMENS if n not in SURROGATE_NAMES])
def test_every_specimen_through_the_api(app_client: Client, name: str) -> None:
    text = SPECIMENS[name]
    app_search(app_client, text, "hybrid", [], "", 3)
    app_ask(app_client, text)
    if text.startswith("<"):  # shown as text: the escaped form is there
        markup = app_client.predict(text, "keyword", [], "", 3, api_name="/search")
        assert html.escape(text, quote=True) in markup


@pytest.mark.parametrize("chapter", BAD_CHAPTERS)
def test_unknown_chapters_through_the_api(app_client: Client, chapter: str) -> None:
    outcome = app_search(app_client, "RPA", "keyword", [], chapter, 3)
    assert outcome == ("result" if not chapter.strip() else "message")


def test_chat_history_of_odd_but_valid_shape(app_client: Client) -> None:
    """Messages the client sends back are its own; the new ones are escaped and well-formed."""
    chat = [
        {"role": "bogus", "content": [{"type": "text", "text": "<script>alert(1)</script>"}]},
        {"role": "assistant", "content": [{"type": "text", "text": "<img src=x onerror=alert(1)>"}]},
        {"role": "user", "content": [{"type": "text", "text": "EBPMとは？"}]},
    ]
    assert app_ask(app_client, "それはいつから？", chat) == "result"
    assert app_ask(app_client, "<b>他には？</b>", None) == "result"


@pytest.mark.parametrize("run", RUNS)
def test_app_search_property(app_client: Client, built_kb: KnowledgeBase, run: str) -> None:
    @profile(run, "app_search")
    @given(
        query=hostile_text(surrogates=False),  # JSON over HTTP cannot carry lone surrogates
        mode=st.sampled_from(MODES),
        kinds=st.lists(st.sampled_from(["plan", "glossary", "national_strategy"]), max_size=3, unique=True),
        chapter=st.one_of(st.just(""), st.sampled_from(built_kb.chapters() + BAD_CHAPTERS)),
        k=st.integers(1, 20),  # the slider's range; other values never reach the app (see below)
    )
    def prop(query: str, mode: str, kinds: list[str], chapter: str, k: int) -> None:
        event(app_search(app_client, query, mode, kinds, chapter, k))

    prop()


@pytest.mark.parametrize("run", RUNS)
def test_app_ask_property(app_client: Client, run: str) -> None:
    @profile(run, "app_ask")
    @given(question=hostile_text(surrogates=False))
    def prop(question: str) -> None:
        event(app_ask(app_client, question))

    prop()


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("RPA", "keyword", [], "", 0), "件数 k は"),
        (("RPA", "keyword", [], "", 101), "件数 k は"),
        (("RPA", "keyword", [], "", 2.5), "件数 k は"),
        (("RPA", "fuzzy", [], "", 3), "検索モード"),
        (("RPA", "keyword", ["bogus"], "", 3), "資料の種類は"),
        (("RPA", "keyword", [{"$ne": 1}], "", 3), "資料の種類は"),
        (("RPA", "keyword", "plan", "", 3), "資料の種類は"),
        (("RPA", "keyword", [], {"$ne": ""}, 3), "章は見出しの文字列で"),
    ],
)
def test_values_outside_the_components_get_a_message(
    app_client: Client, args: tuple[Any, ...], expected: str
) -> None:
    """The handler, not Gradio, checks mode, kinds, chapter and k: a bilingual message, no traceback."""
    markup = app_client.predict(*args, api_name="/search")
    assert assert_message_or_result(markup) == "message" and expected in markup, markup[:300]


# --- crashes this suite found, fixed in the library (kept as regression tests) ----------------


@pytest.mark.parametrize("k", ["abc", 3.5])
def test_non_integer_k_is_a_message(built_kb: KnowledgeBase, k: Any) -> None:
    with pytest.raises(InvalidQueryError):
        built_kb.search("RPA", mode="keyword", k=k)


def test_k_zero_is_a_message_not_the_default(built_kb: KnowledgeBase) -> None:
    with pytest.raises(InvalidQueryError):
        built_kb.search("RPA", mode="keyword", k=0)


def test_history_that_is_not_a_sequence(answerer: Answerer) -> None:
    run_answer(answerer, "それはいつから？", 5)


def test_history_turn_that_is_not_text(answerer: Answerer) -> None:
    run_answer(answerer, "それはいつから？", [("EBPM\udcff", "…")])


def test_filter_value_is_never_a_chroma_operator(built_kb: KnowledgeBase) -> None:
    try:
        filters = Filters(chapter={"$ne": "x"})  # type: ignore[arg-type]
        hits = built_kb.search("RPA", mode="semantic", k=3, filters=filters)
    except KBError as exc:
        assert_bilingual(exc)
        return
    assert hits == []  # no chunk's chapter is that dict


# --- values of the wrong type for the components' schema ------------------------------------


@pytest.mark.parametrize(
    ("api", "args"),
    [
        ("/search", ("RPA", "keyword", [], "", "abc")),
        ("/search", ("RPA", "keyword", [], "", None)),
        ("/search", ("RPA", "keyword", None, "", 3)),
        ("/search", (["RPA"], ["keyword"], [], [], [3])),
        ("/ask", ("EBPMとは？", "abc")),
        ("/ask", ("EBPMとは？", 5)),
        ("/ask", ("EBPMとは？", [None])),
        ("/ask", ("EBPMとは？", [["EBPMとは？", "…"]])),
        ("/doc_sections", (["plan"],)),
        ("/read_section", ({"doc": "plan"}, 3)),
        ("/add_document", ("abc", "other", "")),
        ("/add_document", (5, ["plan"], "")),
        ("/add_document", ({"path": "/etc/hostname"}, "other", "")),
    ],
)
def test_malformed_api_values_get_a_message(
    app_client: Client, api: str, args: tuple[Any, ...], caplog: pytest.LogCaptureFixture
) -> None:
    """Gradio's preprocessing used to raise on these (a traceback in the server log, and only
    "The upstream Gradio app has raised an exception" for the caller); the handler answers now."""
    out = app_client.predict(*args, api_name=api)
    if api == "/ask":
        chat, notice, _sources, _box = out
        assert chat == [] and assert_message_or_result(notice) == "message" and "会話" in notice
    else:
        markup = out if isinstance(out, str) else out[0 if api == "/add_document" else -1]
        outcome = assert_message_or_result(markup, 'class="hits"', 'class="reader"')
        assert outcome == ("result" if args[2:3] == (None,) else "message"), markup[:300]
    assert "Traceback" not in caplog.text
