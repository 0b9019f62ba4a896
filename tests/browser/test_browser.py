"""The app in a real browser: Debian's headless Chromium driven by Playwright (sync API).

Run with ``pytest -m browser``. Needs /usr/bin/chromium (``scripts/install-browser.sh``);
never ``playwright install``. One app server per module, over the session's built index.
Every test runs at desktop size (1280x900) and most also at phone size (390x844).
Screenshots of every step go to ``test-artifacts/`` (gitignored). With ``UPDATE_SCREENSHOTS=1``
the tests also rewrite ``docs/screenshots/{chat,search,documents,phone}.png`` for the README.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers.documents import make_image_only_pdf, small_settings
from helpers.servers import app_in_process

import kb.app
from kb.config import Settings

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = ROOT / "test-artifacts"
README_SHOTS = ROOT / "docs" / "screenshots"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
VIEWPORTS = {"desktop": DESKTOP, "phone": PHONE}
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TAB_NAMES = ["💬 チャット / Chat", "🔎 検索 / Search", "📖 資料 / Documents"]

if not CHROMIUM.exists():
    pytest.skip(
        "no /usr/bin/chromium: run scripts/install-browser.sh (Debian chromium + fonts-ipafont-gothic)",
        allow_module_level=True,
    )
sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright Python package is not installed")


@pytest.fixture(scope="module")
def url(built_kb, base_settings: Settings) -> Iterator[str]:  # type: ignore[no-untyped-def]
    with app_in_process(base_settings, built_kb) as served:
        yield served


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


def open_page(browser: Any, url: str, viewport: dict[str, int]) -> Any:
    context = browser.new_context(viewport=viewport, locale="ja-JP")
    page = context.new_page()
    page.set_default_timeout(120_000)
    page.goto(url)
    page.wait_for_selector("#kb-status [data-ready=true]")
    return page


@pytest.fixture(params=["desktop", "phone"])
def page(request: pytest.FixtureRequest, browser: Any, url: str) -> Iterator[Any]:
    ARTIFACTS.mkdir(exist_ok=True)
    p = open_page(browser, url, VIEWPORTS[request.param])
    p.size_name = request.param
    yield p
    p.context.close()


@pytest.fixture
def desktop(browser: Any, url: str) -> Iterator[Any]:
    ARTIFACTS.mkdir(exist_ok=True)
    p = open_page(browser, url, DESKTOP)
    p.size_name = "desktop"
    yield p
    p.context.close()


def shoot(page: Any, name: str, readme: bool = False) -> None:
    page.mouse.move(0, 0)  # no hover highlight on the last clicked button
    page.screenshot(path=str(ARTIFACTS / f"{name}-{page.size_name}.png"), full_page=True)
    if readme and os.environ.get("UPDATE_SCREENSHOTS") == "1":
        README_SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(README_SHOTS / f"{name}.png"))


def turns(page: Any) -> int:
    return int(page.locator("#answer-panel details.turn").count())


def wait_for_turns(page: Any, n: int) -> None:
    page.wait_for_function(f"document.querySelectorAll('#answer-panel details.turn').length >= {n}")
    page.wait_for_function("!document.querySelector('#chat').innerText.includes('searching…')")


def ask(page: Any, question: str) -> None:
    before = turns(page)
    page.locator("#question textarea").fill(question)
    page.locator("#ask").click()
    wait_for_turns(page, before + 1)


def rect(page: Any, selector: str) -> list[dict[str, float]]:
    return page.evaluate(
        """(sel) => [...document.querySelectorAll(sel)].map(e => e.getBoundingClientRect())
             .filter(r => r.width > 0 && r.height > 0)
             .map(r => ({left: r.left, top: r.top, right: r.right, bottom: r.bottom}))""",
        selector,
    )


def overlap(a: dict[str, float], b: dict[str, float]) -> bool:
    return (
        a["left"] < b["right"]
        and b["left"] < a["right"]
        and a["top"] < b["bottom"]
        and b["top"] < a["bottom"]
    )


def clip(r: dict[str, float], to: dict[str, float]) -> dict[str, float] | None:
    out = {
        "left": max(r["left"], to["left"]),
        "top": max(r["top"], to["top"]),
        "right": min(r["right"], to["right"]),
        "bottom": min(r["bottom"], to["bottom"]),
    }
    return out if out["left"] < out["right"] and out["top"] < out["bottom"] else None


def target_in_view(page: Any, anchor_id: str) -> bool:
    return bool(
        page.evaluate(
            """(id) => { const e = document.getElementById(id).closest('.cite-card');
                 const r = e.getBoundingClientRect();
                 return e.closest('details.turn').open && r.top >= -1 && r.top < innerHeight - 20; }""",
            anchor_id,
        )
    )


# --- chat --------------------------------------------------------------------------------------


def test_every_example_is_answered_and_keeps_its_sources(page: Any) -> None:
    """Issues 5, 6: each example button asks at once; every answer keeps its own cited cards,
    anchor ids are unique and every [n] jumps to its card, also in an older, folded answer."""
    examples = page.locator("#examples .example")
    # count() does not wait: on a busy machine the phone layout rendered the buttons after it.
    examples.nth(len(kb.app.EXAMPLES) - 1).wait_for(timeout=60_000)
    count = examples.count()
    assert count == len(kb.app.EXAMPLES)
    for i in range(count):
        examples.nth(i).click()
        wait_for_turns(page, i + 1)
        newest = page.locator("#answer-panel details.turn[open]")
        assert newest.count() == 1
        assert newest.get_attribute("data-turn") == str(i + 1)
        assert newest.locator(".cite-card").count() >= 1, kb.app.EXAMPLES[i]
        assert page.locator("#question textarea").input_value() == ""  # sent, not left in the box
    assert turns(page) == count
    ids = page.eval_on_selector_all(
        "#answer-panel .cite-card, #answer-panel .cite-anchor", "es => es.map(e => e.id)"
    )
    assert len(ids) == len(set(ids))
    hrefs = page.eval_on_selector_all("#chat a.cite-ref", "es => es.map(e => e.getAttribute('href'))")
    assert hrefs and all(h[1:] in ids for h in hrefs)
    assert {h.split("-")[1] for h in hrefs} == {str(i + 1) for i in range(count)}  # every answer links
    shoot(page, "examples")

    first = page.locator("#chat a.cite-ref").first  # answer 1: its block is folded by now
    # On a loaded machine the sources block of the last answer can be re-rendered (all older
    # answers folded again) just after the chat text is final: click again if that happened.
    for attempt in range(3):
        first.scroll_into_view_if_needed()
        first.click()
        try:
            page.wait_for_function(
                "(id) => document.getElementById(id).closest('details.turn').open",
                arg=first.get_attribute("href")[1:],
                timeout=20_000,
            )
            break
        except Exception:
            if attempt == 2:
                raise
    page.wait_for_timeout(300)
    assert target_in_view(page, first.get_attribute("href")[1:])
    assert page.url.endswith("/")  # handled in the page, no navigation


def test_chat_answers_with_an_expandable_citation(page: Any) -> None:
    ask(page, "書かない窓口って何をするの？")
    card = page.locator("#answer-panel .cite-card").first
    assert page.locator("#answer-panel [data-answerable=true]").count() == 1
    assert "[1]" in page.locator("#chat").inner_text()
    assert card.locator("mark.quote").first.text_content().strip()
    assert page.locator("#answer-panel .searched").count() == 0  # nothing was rewritten
    passage = card.locator("details.cite-context > .passage")
    if page.size_name == "phone":  # the quotes alone; the passage opens on a tap
        assert card.locator(".cite-quote").is_visible() and card.locator(".cite-quote").inner_text()
        assert not passage.is_visible()
        card.locator("details.cite-context > summary").click()
        passage.wait_for(state="visible")
    else:  # room enough: the passage with its quotes marked, no separate quote line
        assert passage.is_visible() and not card.locator(".cite-quote").is_visible()

    details = card.locator("details.cite-section")
    section_text = details.locator(".passage")
    assert not section_text.is_visible()
    details.locator("summary").click()
    section_text.wait_for(state="visible")
    assert len(section_text.inner_text()) >= len(passage.inner_text()) > 0
    shoot(page, "chat-expanded")
    details.locator("summary").click()  # folded again for the README picture

    ask(page, "それはいつから？")  # a follow-up: the searched words are shown
    assert "検索した語" in page.locator("#answer-panel details.turn[open] .searched").inner_text()
    assert turns(page) == 2
    page.evaluate("window.scrollTo(0, 0)")
    shoot(page, "chat" if page.size_name == "desktop" else "phone", readme=True)


def test_chat_label_and_icons_never_cover_messages(page: Any) -> None:
    """Issue 4: at every scroll position the chat's label and icons stay clear of the messages."""
    ask(page, "テレワークの取り組みはどうなっている？")
    ask(page, "EBPMとは？")
    page.locator("#chat").scroll_into_view_if_needed()
    fixed = rect(page, "#chat .wrapper > label") + rect(page, "#chat .top-panel button")
    assert len(fixed) >= 2  # the label and the clear icon are there
    height = page.evaluate("document.querySelector('#chat .bubble-wrap').scrollHeight")
    for top in range(0, int(height), 60):
        page.evaluate(f"document.querySelector('#chat .bubble-wrap').scrollTop = {top}")
        page.wait_for_timeout(50)
        view = rect(page, "#chat .bubble-wrap")[0]
        moving = rect(page, "#chat .message-row .message") + rect(page, "#chat .message-buttons button")
        for m in filter(None, (clip(r, view) for r in moving)):
            for f in fixed:
                assert not overlap(f, m), (top, f, m)
    labels = rect(page, "#chat .wrapper > label")
    assert all(not overlap(labels[0], icon) for icon in rect(page, "#chat .top-panel button"))


#: Page height after three answers on a 390 px phone: about 2,330 px (and growing with every
#: answer) before the sources scrolled inside their own box and the cards showed only their
#: quotes; 1,684 px on 2026-11-27 (1,242 px before the first answer, unchanged by answers 2 and 3).
PHONE_PAGE_LIMIT = 1800


def test_phone_page_stays_short_after_several_answers(page: Any) -> None:
    """Issue 11: answers scroll inside the chat box, the sources inside theirs; the page does not
    grow with the conversation. The measured heights are printed (pytest -s)."""
    heights = [page.evaluate("document.documentElement.scrollHeight")]
    for question in ("書かない窓口って何をするの？", "RPAでどんな業務を自動化している？", "EBPMとは？"):
        ask(page, question)
        heights.append(page.evaluate("document.documentElement.scrollHeight"))
    print(f"page height ({page.size_name}) before and after each answer: {heights} px")
    chat = page.evaluate(
        "(() => { const b = document.querySelector('#chat .bubble-wrap');"
        " return [b.scrollHeight, b.clientHeight]; })()"
    )
    assert chat[0] > chat[1]  # the answers scroll inside the chat box
    shoot(page, "three-answers")
    if page.size_name == "phone":
        assert heights[-1] <= PHONE_PAGE_LIMIT, heights
        assert heights[-1] - heights[1] <= 200, heights  # answers 2 and 3 hardly grow the page
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], width  # nothing sticks out sideways
        shoot(page, "phone-chat", readme=True)


def test_warning_is_next_to_the_box_and_speaks_of_the_question(page: Any) -> None:
    """Issue 6: 「質問が空です」 (not 検索語) right under the question box."""
    page.locator("#question textarea").fill("   ")
    page.locator("#ask").click()
    notice = page.locator("#ask-notice .kb-error")
    notice.wait_for()
    assert "質問が空です" in notice.inner_text() and "検索語" not in notice.inner_text()
    box = page.locator("#ask-row").bounding_box()
    got = notice.bounding_box()
    assert 0 <= got["y"] - (box["y"] + box["height"]) < 40, (box, got)


def test_script_is_shown_as_text(desktop: Any) -> None:
    page = desktop
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    ask(page, "<script>alert(1)</script><img src=x onerror=alert(2)>とは？")
    assert "<script>" in page.locator("#answer-panel .turn-q").first.inner_text()
    assert "<script>alert(1)</script>" in page.locator("#chat").inner_text()
    assert dialogs == []
    shoot(page, "chat-escaped")


# --- tabs -------------------------------------------------------------------------------------


def test_all_tabs_are_reachable_and_the_page_is_compact(page: Any) -> None:
    """Issue 7: on a phone every tab is a visible button (none behind 「…」) and the page is short."""
    tabs = page.get_by_role("tab")
    # The status can say ready a moment before the tab bar is drawn (seen once under load, both
    # sizes): wait for the bar, then read it. tabs.all() itself does not wait.
    page.wait_for_function(f"document.querySelectorAll('[role=tab]').length >= {len(TAB_NAMES)}")
    assert [t.inner_text().replace("\n", " ").replace("  ", " ") for t in tabs.all()] == TAB_NAMES
    assert all(t.is_visible() for t in tabs.all())
    limit = 1400 if page.size_name == "phone" else 1100
    assert page.evaluate("document.documentElement.scrollHeight") <= limit
    for name, shown in zip(TAB_NAMES, ["#chat", "#query", "#doc-list"], strict=True):
        page.get_by_role("tab", name=name).click()
        page.locator(shown).wait_for(state="visible")


def test_keyword_search_with_a_chapter(desktop: Any) -> None:
    page = desktop
    page.get_by_role("tab", name=TAB_NAMES[1]).click()
    page.locator("#query textarea").fill("RPA")
    page.get_by_label("キーワード / keyword").check()
    page.locator("#search-button").click()
    page.locator("#results mark").first.wait_for()
    assert "RPA" in page.locator("#results mark").all_inner_texts()
    assert page.locator("#results li.hit").count() >= 1
    shoot(page, "search", readme=True)

    chapter = "第4章 期別取り組み（第3期）"
    page.locator("#chapter input").click()
    page.get_by_role("option", name=chapter).click()
    page.locator("#search-button").click()
    page.wait_for_function(
        "(c) => { const p = [...document.querySelectorAll('#results .hit-path')];"
        " return p.length > 0 && p.every(e => e.innerText.includes(c)); }",
        arg=chapter,
    )


def test_weak_hits_are_shown_apart(desktop: Any) -> None:
    """Issue 11: weak hits come after the strong ones, folded under 「関連が弱い結果」; when every
    hit is weak the page says first that nothing clearly matched, and shows them faded."""
    page = desktop
    page.get_by_role("tab", name=TAB_NAMES[1]).click()
    page.locator("#query textarea").fill("ドローン")
    page.locator("#search-button").click()
    page.locator("#results .hits").wait_for()
    folded = page.locator("#results details.weak-hits")
    if folded.count():  # this query mixes strong and weak hits on this corpus
        assert folded.get_attribute("open") is None
        assert page.locator("#results details.weak-hits li.hit").first.is_hidden()
        strong = page.locator("#results .hits > ol li.hit")
        assert strong.count() >= 1 and strong.first.is_visible()
        folded.locator("summary").click()
        page.locator("#results details.weak-hits li.hit").first.wait_for(state="visible")

    page.locator("#chapter input").click()
    page.get_by_role("option", name=next(t for t in chapter_options(page) if t.startswith("第1章"))).click()
    page.locator("#query textarea").fill("テレワーク")
    page.locator("#search-button").click()
    page.wait_for_function("document.querySelector('#results .hits[data-strong=\"0\"]') !== null")
    text = page.locator("#results").inner_text()
    assert text.index("はっきり一致する箇所は見つかりませんでした") < text.index("関連が弱い結果")
    hit = page.locator("#results details.weak-hits li.hit").first
    assert hit.is_visible()
    assert float(hit.evaluate("e => getComputedStyle(e).opacity")) < 1  # visibly de-emphasised
    shoot(page, "search-weak")


def chapter_options(page: Any) -> list[str]:
    page.get_by_role("option").first.wait_for()
    return [o.strip() for o in page.get_by_role("option").all_inner_texts()]


def test_documents_tab_lists_documents_and_reads_a_section(page: Any) -> None:
    """Issues 2, 3, 9: the list of documents; typing in the section picker filters (it does not
    append to the current choice); a section's text starts with its first sub-heading."""
    page.get_by_role("tab", name=TAB_NAMES[2]).click()
    rows = page.locator("#doc-list tbody tr")
    assert rows.count() == 3
    assert (
        "用語集" in page.locator("#doc-list").inner_text()
        and "2024-03" in page.locator("#doc-list").inner_text()
    )
    page.locator("#doc input").click()
    page.get_by_role("option", name="補足説明（用語集・個別の制度・技術等についての解説）").click()
    page.locator("#reader .passage").wait_for()
    first = page.locator("#reader .passage").inner_text()
    assert "i 用語集" in first and "オープンシステム" in first  # issue 2

    picker = page.locator("#section input")
    assert picker.input_value().endswith("補足説明")
    picker.click()
    page.keyboard.type("EBPM")
    assert picker.input_value() == "EBPM"  # issue 3: typed text replaces the choice
    page.wait_for_function(  # the list is filtered by what was typed
        "() => { const o = [...document.querySelectorAll('[role=option]')];"
        " return o.length > 0 && o.every(e => e.innerText.includes('EBPM')); }"
    )
    options = page.get_by_role("option")
    options.first.click()
    page.wait_for_function("document.querySelector('#reader .crumbs').innerText.includes('EBPM')")
    assert "Evidence" in page.locator("#reader .passage").inner_text()
    shoot(page, "documents", readme=page.size_name == "desktop")


# --- adding a document (its own small corpus: an upload changes the corpus and the index) --------

SMALL_DOC = """---
title: テスト用の計画
kind: plan
---

# 第1章 概要

## 1.1 目的

書かない窓口は、申請書を手で書かずに手続きできる窓口です。
"""
ADDED_TXT = "第1章 会議室\n\n1.1 予約\n\nふれあい会議室予約システムは令和7年度に導入します。\n"


@pytest.fixture
def small_app(built_kb, base_settings: Settings, tmp_path: Path) -> Iterator[tuple[str, Settings]]:  # type: ignore[no-untyped-def]
    import indexer.build
    from kb.knowledge import KnowledgeBase

    settings = small_settings(base_settings, tmp_path, SMALL_DOC)
    embedder = built_kb.retriever.embedder
    indexer.build.build_index(settings, embedder=embedder)
    with app_in_process(settings, KnowledgeBase.open(settings, embedder=embedder)) as served:
        yield served, settings


def test_upload_adds_a_document_from_the_documents_tab(
    browser: Any, small_app: tuple[str, Settings], tmp_path: Path
) -> None:
    """Issue 13: the 資料 tab adds a file the way `kb add` does; the list shows it at once and a
    file that cannot be added gets the bilingual message."""
    url, settings = small_app
    page = open_page(browser, url, DESKTOP)
    page.size_name = "desktop"
    try:
        page.get_by_role("tab", name=TAB_NAMES[2]).click()
        assert page.locator("#doc-list tbody tr").count() == 1
        page.get_by_text("➕ 資料を追加 / add a document").click()
        source = tmp_path / "会議室予約.txt"
        source.write_text(ADDED_TXT, encoding="utf-8")
        page.locator("#upload input[type=file]").set_input_files(str(source))
        page.locator("#upload-title textarea, #upload-title input").first.fill("会議室予約の手引き")
        page.locator("#add-doc").click()
        page.locator("#add-msg .kb-ok").wait_for()
        assert "追加しました" in page.locator("#add-msg").inner_text()
        page.wait_for_function("document.querySelector('#doc-list').innerText.includes('会議室予約の手引き')")
        assert page.locator("#doc-list tbody tr").count() == 2
        shoot(page, "upload")

        scanned = tmp_path / "スキャン.pdf"
        make_image_only_pdf(scanned)
        page.locator("#upload input[type=file]").set_input_files(str(scanned))
        page.locator("#add-doc").click()
        page.locator("#add-msg .kb-error").wait_for()
        text = page.locator("#add-msg").inner_text()
        assert "OCR" in text and "no text layer" in text
        assert page.locator("#doc-list tbody tr").count() == 2
        assert len(list(settings.corpus_dir.glob("*.md"))) == 2  # the scanned PDF added nothing
    finally:
        page.context.close()
