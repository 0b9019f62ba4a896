"""Japanese era years (和暦) and Western years (西暦): find them in text and write one as the other.

The plan writes years in the era form (令和6年度, 平成 28 年 3 月, 令和元年, sometimes R6年度);
staff type Western years (2024年度, 2016年). Keyword search only matches what is written, so
each year mention is turned into canonical tokens for *both* forms (:func:`year_tokens`),
appended to a passage's and a query's word tokens alike: then 2024年度 in a query meets
令和6年度 in a passage, and the reverse.

Conventions:

- 令和N = 2018+N, 平成N = 1988+N, 昭和N = 1925+N; 元年 is year 1 (令和元年 = 2019). The
  arithmetic is applied even outside an era's real span (平成35年度, written in plans drawn up
  before 2019, is 2023年度).
- 年 (a calendar year) and 年度 (a fiscal year, April to March) are kept distinct: 令和6年度
  gives 2024年度, never 2024年.
- The era form of a Western year is the era in force on 1 January of that year, except in a
  year when the era changed, which has both (a year-level mapping): 2019年 is 平成31年 and
  令和元年, 2019年度 is 平成31年度 and 令和元年度, 1989年 is 昭和64年 and 平成元年, but 1989年度 is
  only 平成元年度 (it began in April, after 昭和 ended). Years before 1926 get no era form
  (大正 and 明治 are not handled).
- Abbreviated eras (R6, H28, S58) are taken only when 年 or 年度 follows (R6年度, H28年), since a
  bare "R6" is as likely a product code or a figure label. Western years are four digits
  from 1900 to 2099 followed by 年/年度.
- 年間 (a duration: 6年間) and 年代 (a decade: 1990年代) are not years; neither is a number
  without 年 (第2次, a page number).
- For the year filter (:func:`years_covered`), a period covers every year in it: 令和6年度～令和9年度,
  令和3年1月～令和8年, 令和6～9年度 and 令和6年度からの4年間 (the plan's way of naming its
  periods) all cover 2024 (2021) to the last year. A fiscal year counts as the Western year
  it starts in (令和6年度 = 2024年度 covers 2024, not 2025), the number staff type for it. An
  open start (平成27年度から) covers only its first year: "until now" would change with the date.

The functions take raw or normalised text (:func:`kb.text.normalize` applies NFKC, so full-width
digits and letters are folded); the patterns accept both. All are pure.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from kb.errors import InvalidQueryError
from kb.text import normalize

# Era name -> the Western year of its 元年 minus one (令和N = 2018 + N).
ERA_OFFSETS: dict[str, int] = {"令和": 2018, "平成": 1988, "昭和": 1925}
_ABBREVIATIONS = {"r": "令和", "h": "平成", "s": "昭和"}
# First Western year of each era and its last (a transition year belongs to both).
_ERA_SPANS: tuple[tuple[str, int, int], ...] = (
    ("昭和", 1926, 1989),
    ("平成", 1989, 2019),
    ("令和", 2019, 9999),
)
_FIRST_WESTERN, _LAST_WESTERN = 1900, 2099
#: The Western years a year filter accepts (inclusive): those :func:`find_years` reads as such.
FILTER_YEARS = (_FIRST_WESTERN, _LAST_WESTERN)

_KANJI_DIGITS = {"〇": 0, "一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_NUMBER = r"[0-9０-９]{1,2}|元|[一二三四五六七八九十]{1,3}"
_SUFFIX = r"\s{0,2}年(?P<fy>度)?(?!間|代)"
_ERA_YEAR = re.compile(
    r"(?:(?P<era>令和|平成|昭和)\s{0,2}|(?<![A-Za-zＡ-Ｚａ-ｚ0-9０-９])(?P<abbr>[RHSrhsＲＨＳｒｈｓ]))"
    rf"(?P<n>{_NUMBER})(?![0-9０-９]){_SUFFIX}"
)
_WESTERN_YEAR = re.compile(rf"(?<![0-9０-９.,])(?P<y>[0-9０-９]{{4}}){_SUFFIX}")
# A Western year written right after an era year, as in 令和6年（2024年）.
_GLOSS = re.compile(r"\s{0,2}[（(]\s{0,2}[0-9０-９]{4}\s{0,2}年")


@dataclass(frozen=True)
class YearMention:
    """One year written in a text: where, which Western year, and how it was written."""

    start: int
    end: int
    year: int  # the Western year
    fiscal: bool  # 年度 rather than 年
    era: str | None  # 令和 / 平成 / 昭和 when written in the era form, else None

    @property
    def suffix(self) -> str:
        return "年度" if self.fiscal else "年"


def _era_number(text: str) -> int | None:
    """令和/平成 year number written as digits, 元 or kanji (二十八); None if it is not one."""
    if text == "元":
        return 1
    if text.isdigit():
        return int(text)  # int() reads full-width digits too
    tens, _, units = text.partition("十")
    if "十" not in text:
        return _KANJI_DIGITS.get(text) if len(text) == 1 else None
    if len(tens) > 1 or len(units) > 1:
        return None
    value = (_KANJI_DIGITS.get(tens, -100) if tens else 1) * 10 + (
        _KANJI_DIGITS.get(units, -100) if units else 0
    )
    return value if value > 0 else None


def find_years(text: str) -> list[YearMention]:
    """Every year mention in ``text``, in order of position (offsets into ``text`` as given)."""
    mentions: list[YearMention] = []
    for m in _ERA_YEAR.finditer(text):
        number = _era_number(m["n"])
        if not number:
            continue
        era = m["era"] or _ABBREVIATIONS[normalize(m["abbr"])]
        mentions.append(YearMention(m.start(), m.end(), ERA_OFFSETS[era] + number, bool(m["fy"]), era))
    for m in _WESTERN_YEAR.finditer(text):
        year = int(m["y"])
        if _FIRST_WESTERN <= year <= _LAST_WESTERN:
            mentions.append(YearMention(m.start(), m.end(), year, bool(m["fy"]), None))
    return sorted(mentions, key=lambda y: y.start)


def era_year(era: str, number: int, suffix: str = "年") -> str:
    """The canonical era form: ``era_year("令和", 1, "年度") == "令和元年度"``."""
    return f"{era}{'元' if number == 1 else number}{suffix}"


def era_forms(year: int, fiscal: bool = False) -> list[str]:
    """The era form(s) of a Western year: one, two in a year the era changed, none before 1926.

    ``era_forms(2016) == ["平成28年"]``, ``era_forms(2019, fiscal=True) == ["平成31年度", "令和元年度"]``.
    A fiscal year starts in April, so 1989年度 is only 平成元年度 (昭和 had ended in January)
    and 1926年度 has no form here (it was 大正15年度).
    """
    suffix = "年度" if fiscal else "年"
    forms = []
    for era, first, last in _ERA_SPANS:
        if fiscal and era == "昭和" and year in (first, last):
            continue  # 1926年度 was 大正15年度; 昭和64年度 never began
        if first <= year <= last:
            forms.append(era_year(era, year - ERA_OFFSETS[era], suffix))
    return forms


def _tokens_for(mention: YearMention) -> list[str]:
    tokens = [f"{mention.year}{mention.suffix}", *era_forms(mention.year, mention.fiscal)]
    if mention.era is not None:
        written = era_year(mention.era, mention.year - ERA_OFFSETS[mention.era], mention.suffix)
        if written not in tokens:  # an era year outside the era's span (平成35年度)
            tokens.append(written)
    return tokens


def year_tokens(text: str) -> list[str]:
    """Canonical tokens for both forms of every year mention, in order, each mention's once.

    ``year_tokens("令和6年度から") == ["2024年度", "令和6年度"]``,
    ``year_tokens("2016年") == ["2016年", "平成28年"]``. The same year written twice gives its
    tokens twice (term frequency counts, as for any other word). Text is normalised first.
    """
    tokens: list[str] = []
    for mention in find_years(normalize(text)):
        tokens.extend(_tokens_for(mention))
    return tokens


def years_in(text: str) -> set[int]:
    """The Western years mentioned in ``text``, in either form (for a year filter)."""
    return {mention.year for mention in find_years(text)}


def with_western(text: str) -> str:
    """Append the Western year after each era year, once: 令和6年度 -> 令和6年度（2024年度）.

    Text is otherwise left as written (not normalised). An era year already followed by a
    bracketed Western year (令和6年（2024年）) is left alone, so applying this twice changes
    nothing.
    """
    out: list[str] = []
    pos = 0
    for mention in find_years(text):
        if mention.era is None or _GLOSS.match(text, mention.end):
            continue
        out.append(text[pos : mention.end])
        out.append(f"（{mention.year}{mention.suffix}）")
        pos = mention.end
    out.append(text[pos:])
    return "".join(out)


# --- periods and the year filter -------------------------------------------------------------

_DASH = r"[-~～〜‐−–—―－]"
# After a year: an optional gloss （2024年度）, month and day, then 〜 / から / より.
_PERIOD_LINK = re.compile(
    r"\s{0,2}(?:[（(]\s{0,2}[0-9０-９]{4}\s{0,2}年度?\s{0,2}[)）])?"
    r"(?:\s{0,2}[0-9０-９]{1,2}\s{0,2}月(?:\s{0,2}[0-9０-９]{1,2}\s{0,2}日)?)?"
    rf"\s{{0,2}}(?:{_DASH}|から|より)\s{{0,2}}"
)
_DURATION = re.compile(
    r"(?:の)?\s{0,2}(?P<n>[0-9０-９]{1,2}|[一二三四五六七八九十]{1,3})\s{0,2}(?:年間|か年|カ年|ヵ年|ケ年|箇年)"
)
# 令和6～9年度, 2024～2027年: the first year written without 年.
_SHORT_ERA_PERIOD = re.compile(
    rf"(?P<era>令和|平成|昭和)\s{{0,2}}(?P<a>[0-9０-９]{{1,2}}|元)\s{{0,2}}{_DASH}\s{{0,2}}(?P<b>[0-9０-９]{{1,2}})\s{{0,2}}年(?!間|代)"
)
_SHORT_WESTERN_PERIOD = re.compile(
    rf"(?<![0-9０-９])(?P<a>[0-9０-９]{{4}})\s{{0,2}}{_DASH}\s{{0,2}}(?P<b>[0-9０-９]{{4}})\s{{0,2}}年(?!間|代)"
)


def years_covered(text: str) -> set[int]:
    """The Western years ``text`` mentions or spans (for the year filter; see the module docstring).

    ``years_covered("令和6年度からの4年間") == {2024, 2025, 2026, 2027}``.
    """
    mentions = find_years(text)
    years = {mention.year for mention in mentions}
    by_start = {mention.start: mention for mention in mentions}
    for mention in mentions:
        link = _PERIOD_LINK.match(text, mention.end)
        if link is None:
            continue
        end = by_start.get(link.end())
        if end is not None and end.year >= mention.year:
            years.update(range(mention.year, end.year + 1))
            continue
        duration = _DURATION.match(text, link.end())
        length = _era_number(duration["n"]) if duration else None
        if length:
            years.update(range(mention.year, mention.year + length))
    for m in _SHORT_ERA_PERIOD.finditer(text):
        first, last = _era_number(m["a"]), _era_number(m["b"])
        if first and last and first <= last:
            years.update(range(ERA_OFFSETS[m["era"]] + first, ERA_OFFSETS[m["era"]] + last + 1))
    for m in _SHORT_WESTERN_PERIOD.finditer(text):
        first, last = int(m["a"]), int(m["b"])
        if _FIRST_WESTERN <= first <= last <= _LAST_WESTERN:
            years.update(range(first, last + 1))
    return years


def check_year_range(years: object) -> tuple[int, int]:
    """``years`` as an inclusive (start, end) pair of Western years; InvalidQueryError if it is not one."""
    low, high = FILTER_YEARS
    if (
        not isinstance(years, tuple)
        or len(years) != 2
        or not all(isinstance(y, int) and not isinstance(y, bool) for y in years)
    ):
        raise InvalidQueryError(
            "年の範囲は西暦の整数 2 つ（開始年, 終了年）で指定してください",
            f"years must be a pair of whole Western years (start, end), got {repr(years)[:60]}",
        )
    start, end = years
    if not (low <= start <= high and low <= end <= high):
        given = f"{start}" if start == end else f"{start}〜{end}"
        raise InvalidQueryError(
            f"年は西暦 {low}〜{high} の範囲で指定してください（指定: {given}）",
            f"years must be between {low} and {high} (got {given.replace('〜', '-')})",
        )
    if start > end:
        raise InvalidQueryError(
            f"年の範囲が逆です: {start}〜{end}（開始年を先に書いてください）",
            f"the year range is reversed: {start}-{end} (the start must not be after the end)",
        )
    return start, end


_ONE_YEAR = re.compile(
    r"(?P<western>[0-9]{4})|(?:(?P<era>令和|平成|昭和)|(?P<abbr>[RHSrhs]))(?P<n>[0-9]{1,2}|元)|(?P<bare>[0-9]{1,2})"
)
_NOT_DASH = r"[^-~～〜‐−–—―－]"
_YEAR_ARGUMENT = re.compile(
    rf"(?P<a>{_NOT_DASH}+?)(?:年度?)?(?:(?:{_DASH}|から|\.\.)(?P<b>{_NOT_DASH}+?)(?:年度?)?(?:まで)?)?"
)


def _typed_year(part: str, era: str | None) -> tuple[int, str | None] | None:
    """One typed year (2024, 令和6, R6, or a bare 9 after an era year) and the era it was in."""
    m = _ONE_YEAR.fullmatch(part)
    if m is None:
        return None
    if m["western"]:
        return int(m["western"]), None
    era = m["era"] or (_ABBREVIATIONS[m["abbr"].lower()] if m["abbr"] else era)
    number = _era_number(m["n"] or m["bare"])
    if era is None or not number:  # a bare number needs an era before it; 令和0 is no year
        return None
    return ERA_OFFSETS[era] + number, era


def parse_year_range(value: str) -> tuple[int, int]:
    """A year filter as typed: ``2024``, ``2024-2027``, ``R6``, ``令和6年度``, ``R6-R9``, ``令和6～9``.

    Returns the inclusive Western (start, end); a fiscal year is its starting year, as in the
    filter. Raises InvalidQueryError with an example of the forms it takes.
    """
    text = re.sub(r"\s+", "", normalize(str(value)))
    found = _YEAR_ARGUMENT.fullmatch(text) if len(text) <= 40 else None  # no year range is longer
    first = _typed_year(found["a"], None) if found else None
    last = first
    if found and first and found["b"] is not None:
        last = _typed_year(found["b"], first[1])
    if first is None or last is None:
        # Echo what was typed, but never a control character or a lone surrogate (unprintable).
        shown = "".join("\ufffd" if unicodedata.category(c).startswith("C") else c for c in str(value)[:30])
        shown += "…" if len(str(value)) > 30 else ""
        raise InvalidQueryError(
            f"年の指定を読み取れません: 「{shown}」（例: 2024、2024-2027、令和6、R6-R9）",
            f"cannot read the year 「{shown}」: use e.g. 2024, 2024-2027, 令和6 or R6-R9",
        )
    return check_year_range((first[0], last[0]))
