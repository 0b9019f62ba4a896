"""The app in a real browser: Debian's headless Chromium driven by Playwright (sync API).

Run with ``pytest -m browser``. Needs /usr/bin/chromium (``scripts/install-browser.sh``);
never ``playwright install``. Screenshots of every step go to ``test-artifacts/`` (gitignored).
With ``UPDATE_SCREENSHOTS=1`` the test also rewrites ``docs/screenshots/chat.png`` and
``search.png`` (1280x900) for the README.
"""

from __future__ import annotations

import os
import socket
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from kb.config import Settings

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = ROOT / "test-artifacts"
README_SHOTS = ROOT / "docs" / "screenshots"
VIEWPORT = {"width": 1280, "height": 900}
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

if not CHROMIUM.exists():
    pytest.skip(
        "no /usr/bin/chromium: run scripts/install-browser.sh (Debian chromium + fonts-ipafont-gothic)",
        allow_module_level=True,
    )
sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright Python package is not installed")

sys.path.insert(0, str(ROOT))
import app  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def url(built_kb, base_settings: Settings) -> Iterator[str]:  # type: ignore[no-untyped-def]
    demo = app.build_app(base_settings, built_kb)
    port = free_port()
    app.launch_app(demo, base_settings, "127.0.0.1", port, prevent_thread_lock=True, quiet=True)
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        demo.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def page(browser, url: str):  # type: ignore[no-untyped-def]
    ARTIFACTS.mkdir(exist_ok=True)
    context = browser.new_context(viewport=VIEWPORT, locale="ja-JP")
    page = context.new_page()
    page.set_default_timeout(120_000)
    page.goto(url)
    page.wait_for_selector("#kb-status [data-ready=true]")
    yield page
    context.close()


def shoot(page, name: str, readme: bool = False) -> None:  # type: ignore[no-untyped-def]
    page.mouse.move(0, 0)  # no hover highlight on the last clicked button
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    if readme and os.environ.get("UPDATE_SCREENSHOTS") == "1":
        README_SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(README_SHOTS / f"{name}.png"))


def test_chat_answers_with_an_expandable_citation(page) -> None:  # type: ignore[no-untyped-def]
    page.locator("#question textarea").fill("書かない窓口って何をするの？")
    page.locator("#ask").click()
    card = page.locator("#answer-panel .cite-card").first
    card.wait_for()
    assert page.locator("#answer-panel [data-answerable=true]").count() == 1
    assert "[1]" in page.locator("#chat").inner_text()
    assert card.locator("mark.quote").first.inner_text().strip()
    assert "検索した語" in page.locator("#answer-panel .searched").inner_text()

    details = card.locator("details.cite-section")
    section_text = details.locator(".passage")
    assert not section_text.is_visible()
    details.locator("summary").click()
    section_text.wait_for(state="visible")
    assert details.get_attribute("open") is not None
    full = section_text.inner_text()
    assert len(full) >= len(card.locator(":scope > .passage").inner_text()) > 0
    shoot(page, "chat-expanded")

    details.locator("summary").click()  # folded again for the README picture
    page.evaluate("window.scrollTo(0, 0)")
    shoot(page, "chat", readme=True)


def test_script_is_shown_as_text(page) -> None:  # type: ignore[no-untyped-def]
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.locator("#question textarea").fill("<script>alert(1)</script><img src=x onerror=alert(2)>とは？")
    page.locator("#ask").click()
    page.locator("#answer-panel [data-answerable]").wait_for(state="attached")
    assert "&lt;script&gt;" not in page.locator("#answer-panel .searched").inner_text()
    assert "<script>" in page.locator("#answer-panel .searched").inner_text()
    assert "<script>alert(1)</script>" in page.locator("#chat").inner_text()
    assert dialogs == []
    shoot(page, "chat-escaped")


def test_keyword_search_highlights_terms(page) -> None:  # type: ignore[no-untyped-def]
    page.get_by_role("tab", name="🔎 検索 / Search").click()
    page.locator("#query textarea").fill("RPA")
    page.get_by_label("キーワード / keyword").check()
    page.locator("#search-button").click()
    page.locator("#results mark").first.wait_for()
    marked = page.locator("#results mark").all_inner_texts()
    assert "RPA" in marked, marked
    assert page.locator("#results li.hit").count() >= 1
    shoot(page, "search", readme=True)


def test_documents_tab_reads_a_section(page) -> None:  # type: ignore[no-untyped-def]
    page.get_by_role("tab", name="📖 資料 / Documents").click()
    page.locator("#doc input").click()
    page.get_by_role("option", name="第2次枚方市情報化計画 情報化基本計画（第3期取組版）").click()
    page.locator("#reader .passage").wait_for()
    page.locator("#section input").click()
    page.get_by_role("option", name="1.3 計画期間").click()
    page.wait_for_function("document.querySelector('#reader .crumbs').innerText.includes('1.3 計画期間')")
    assert "計画期間" in page.locator("#reader .passage").inner_text()
    shoot(page, "documents")
