"""What the page or an API caller sent, checked before any work: bilingual messages for bad values.

The events that take these values run with ``preprocess=False`` (or, for the chat, through
:func:`kb.app.components.chat_history`), so a malformed value reaches these checks instead of
failing inside Gradio.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from kb.app.components import MalformedChat
from kb.app.service import KBService
from kb.corpus import KINDS
from kb.era import find_years
from kb.errors import InvalidQueryError
from kb.retrieve import Filters
from kb.text import normalize


def check_chat(chat: Any) -> None:
    """InvalidQueryError unless ``chat`` is a list of messages (see kb.app.components)."""
    if isinstance(chat, MalformedChat) or not isinstance(chat, list | None):
        raise InvalidQueryError(
            "会話の履歴の形式が不正です。メッセージ（role と content）の一覧を送るか、空の一覧 [] で新しい会話を始めてください",
            "the chat history is malformed: send a list of messages with role and content, or [] to start a new conversation",
        )


def checked_kinds(kinds: Any) -> tuple[str, ...]:
    """The document kinds to search (none = all), or InvalidQueryError naming the valid ones."""
    if kinds is None:
        return ()
    if isinstance(kinds, list | tuple) and all(isinstance(k, str) and k in KINDS for k in kinds):
        return tuple(kinds)
    shown = repr(kinds)[:60]
    raise InvalidQueryError(
        f"資料の種類は {' / '.join(KINDS)} から選んでください（指定: {shown}）",
        f"document kinds must be a list of {', '.join(KINDS)} (got {shown})",
    )


def checked_chapter(chapter: Any) -> str | None:
    if chapter is None or isinstance(chapter, str):
        return chapter
    raise InvalidQueryError(
        "章は見出しの文字列で指定してください（空欄＝すべての章）",
        f"the chapter must be a heading as text, or empty for all chapters (got {repr(chapter)[:60]})",
    )


#: Western years the year filter takes (the library checks its own range too, kb.era).
YEAR_LIMITS = (1900, 2100)
_YEAR_RANGE = re.compile(
    r"(\d{4})\s*(?:年度?)?(?:\s*(?:-|–|—|~|〜|から|to)\s*(\d{4})\s*(?:年度?)?(?:まで)?)?"
)
_FILTER_FIELDS = {f.name for f in dataclasses.fields(Filters)}


def checked_years(value: Any) -> tuple[int, int] | None:
    """An inclusive range of Western years from what was typed: 「2025」, 「2024-2027」,
    「2024〜2027年度」, or era years 「令和6年度〜令和9年度」 (kb.era); None when empty."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    years: tuple[int, ...] = ()
    if isinstance(value, int) and not isinstance(value, bool):
        years = (value,)
    elif isinstance(value, str) and len(value) <= 100:
        text = normalize(value).strip()
        plain = _YEAR_RANGE.fullmatch(text)
        if plain:
            years = tuple(int(y) for y in plain.groups() if y)
        else:
            years = tuple(m.year for m in find_years(text))
    low, high = YEAR_LIMITS
    if not 1 <= len(years) <= 2 or not all(low <= y <= high for y in years):
        shown = repr(value)[:40]
        raise InvalidQueryError(
            f"年は西暦 {low}〜{high} で「2025」「2024-2027」のように入力してください（和暦「令和6年度〜令和9年度」も使えます。指定: {shown}）",
            f"type years as Western years {low}-{high}, e.g. 2025 or 2024-2027 (era years such as 令和6年度〜令和9年度 work too; got {shown})",
        )
    start, end = years[0], years[-1]
    if start > end:
        raise InvalidQueryError(
            f"年の範囲が逆です: {start}〜{end}（開始年を先に書いてください）",
            f"the year range is reversed: {start}-{end} (put the start first)",
        )
    return start, end


def make_filters(kinds: Any = None, chapter: Any = None, years: Any = None, *, service: KBService) -> Filters:
    """The library's Filters for what the page (or an API caller) chose, each value checked."""
    options: dict[str, Any] = {
        "kinds": checked_kinds(kinds),
        "chapter": service.resolve_chapter(checked_chapter(chapter)),
    }
    year_range = checked_years(years)
    if year_range is not None:
        # Filters.years (a chunk matches when it mentions a year in the range, 和暦 included)
        # comes with kb.retrieve's year filter; without it, say so rather than ignore the range.
        if "years" not in _FILTER_FIELDS:
            raise InvalidQueryError(
                "この版の検索は年での絞り込みにまだ対応していません。年の欄を空にしてください",
                "this version of the search cannot filter by year yet; leave the years empty",
            )
        options["years"] = year_range
    return Filters(**options)
