"""Lines as extracted from a file, and their clean-up: PDF artefacts, wrapped lines, page
headers and footers.

- characters spread out evenly (均等割付: ``計 画 の 目 的``) are joined, and Kangxi radical
  code points that some PDF fonts map kanji to (``⽇`` U+2F47) become the ordinary kanji;
- page headers and footers are dropped: a line among the first/last two of a page, in its top
  or bottom 15 %, that repeats (digits ignored) on more than half of the pages, or that is only a
  page number (``- 12 -``, ``12 / 40``, ``p. 12``).
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

from indexer.cleaning import clean_inline


@dataclass
class Line:
    """One line of a page as extracted (positions in PDF points, top-down)."""

    text: str
    top: float = 0.0
    bottom: float = 0.0
    x0: float = 0.0
    x1: float = 0.0
    table: list[list[str]] | None = None  # a table block instead of a text line
    heading_level: int | None = None  # known from the source (Word heading styles)


@dataclass
class Extracted:
    pages: list[list[Line]]  # one list per page (one "page" for formats without pages)
    page_count: int | None
    title: str = ""
    dropped: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    markdown_body: str | None = None  # .md input: kept as written


# --- text clean-up -----------------------------------------------------------------------------

_CJK = r"\u3000-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff01-\uff60"
_SPACED_CJK = re.compile(rf"(?<=[{_CJK}]) (?=[{_CJK}])")
_CJK_CHAR = re.compile(rf"[{_CJK}]")
_RADICALS = re.compile("[\u2e80-\u2eff\u2f00-\u2fdf]")


def fix_radicals(text: str) -> str:
    """Kangxi radicals / CJK radical supplements (a PDF font artefact) -> the unified kanji."""
    return _RADICALS.sub(lambda m: unicodedata.normalize("NFKC", m.group(0)), text)


def _join_spaced_cjk(text: str) -> str:
    """``計 画 の 目 的`` (characters spread evenly) -> ``計画の目的``; normal text is unchanged."""
    gaps = len(_SPACED_CJK.findall(text))
    if gaps >= 3 and gaps >= 0.6 * (len(_CJK_CHAR.findall(text)) - 1):
        return _SPACED_CJK.sub("", text)
    return text


def clean_line(text: str) -> str:
    """One extracted line cleaned like the plan's converter does, plus PDF-specific fixes."""
    return clean_inline(_join_spaced_cjk(fix_radicals(text.replace("\u3000", " "))))


def join_wrapped(left: str, right: str) -> str:
    """Join a wrapped line to the next: no space in Japanese, one space between Latin words."""
    if (
        left
        and right
        and left[-1].isascii()
        and left[-1].isalnum()
        and right[0].isascii()
        and right[0].isalnum()
    ):
        return f"{left} {right}"
    return left + right


# --- page headers and footers ------------------------------------------------------------------

_PAGE_NUMBER = re.compile(
    r"^[-–—‐―−ー~〜(（\[]*\s*(?:p\.?|page|ページ|頁)?\s*\d{1,4}\s*(?:/\s*\d{1,4}|ページ|頁)?\s*[-–—‐―−ー~〜)）\]]*$",
    re.I,
)
_EDGE_LINES = 2  # how many lines at the top and the bottom of a page can be header/footer
_EDGE_SHARE = 0.15  # ... and only within this share of the page height


def _edge_key(text: str) -> str:
    return re.sub(r"\d+", "#", re.sub(r"\s+", "", unicodedata.normalize("NFKC", text)))


def drop_headers_footers(pages: list[list[Line]], heights: list[float]) -> tuple[list[list[Line]], list[str]]:
    """Remove running headers/footers and page numbers; return the pages and one example of
    each kind of line removed."""

    def edges(lines: list[Line], height: float) -> Iterator[Line]:
        text_lines = [line for line in lines if line.table is None]
        seen: set[int] = set()
        for line in text_lines[:_EDGE_LINES]:
            if line.top <= height * _EDGE_SHARE:
                seen.add(id(line))
                yield line
        for line in text_lines[-_EDGE_LINES:]:
            if line.bottom >= height * (1 - _EDGE_SHARE) and id(line) not in seen:
                yield line

    counts: Counter[str] = Counter()
    for lines, height in zip(pages, heights, strict=True):
        counts.update({_edge_key(line.text) for line in edges(lines, height)})
    needed = max(2, math.floor(len(pages) / 2) + 1)  # more than half of the pages
    repeated = {key for key, n in counts.items() if n >= needed and key}
    dropped: dict[str, str] = {}  # one example per kind of line ("- 1 -" for every page number)
    kept_pages = []
    for lines, height in zip(pages, heights, strict=True):
        drop = {
            id(line)
            for line in edges(lines, height)
            if _edge_key(line.text) in repeated
            or _PAGE_NUMBER.match(unicodedata.normalize("NFKC", line.text.strip()))
        }
        for line in lines:
            if id(line) in drop:
                dropped.setdefault(_edge_key(line.text), line.text.strip())
        kept_pages.append([line for line in lines if id(line) not in drop])
    return kept_pages, list(dropped.values())
