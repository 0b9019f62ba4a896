"""Extracted lines to the corpus Markdown: headings in the plan's styles, paragraphs joined
back from wrapped lines, tables as readable rows, page markers, and the front matter.

The clean-up is the plan converter's (indexer/convert.py): headings (第N章 / N.N / (N) / ＜…＞ /
【…】) become Markdown headings and tables become rows (``列名: 値、列名: 値``). Lines wrapped by
the layout are joined back into paragraphs, also across a page break. Each page starts with a
line ``<!-- page N -->`` (a paragraph continued from the previous page stays whole and the
marker follows it), so every chunk knows its page (kb.corpus.Document.page_at, kb.chunk.Chunk.page).
"""

from __future__ import annotations

import re

from indexer.tables import render_table
from kb.ingest.lines import Extracted, clean_line, join_wrapped

_SENTENCE_END = ("。", "．", "！", "？", "!", "?", "」", "』", "：", ":")
_CONTINUES = ("、", "，", ",", "・")
_BULLET = re.compile(r"^[・●○◆◇■□▪※✓⇒\-－]\s*|^[①-⑳]|^[0-9０-９]+[)）.．]\s")

# --- headings ----------------------------------------------------------------------------------

_NUM = r"[0-9０-９]+"
_KANJI_NUM = r"[0-9０-９一二三四五六七八九十]+"
_H_CHAPTER = re.compile(rf"^第\s*{_KANJI_NUM}\s*[章部編]\s*\S.{{0,40}}$|^第\s*{_KANJI_NUM}\s*[章部編]$")
_H_SUBSECTION = re.compile(rf"^{_NUM}\s*[.．]\s*{_NUM}\s*[.．]\s*{_NUM}\s+\S.{{0,40}}$")
_H_SECTION = re.compile(
    rf"^{_NUM}\s*[.．]\s*{_NUM}\s*[^\d.．。\s].{{0,40}}$|^{_NUM}\s*[.．]\s*{_NUM}\s+\S.{{0,40}}$"
)
_H_NUMBERED = re.compile(rf"^[（(]\s*{_NUM}\s*[)）]\s*\S.{{0,40}}$")
_HEADING_NUMBER = re.compile(rf"^({_NUM}(?:\s*[.．]\s*{_NUM})+|[（(]\s*{_NUM}\s*[)）])\s*(?=\S)")
_H_BRACKET = re.compile(r"^[<＜〈【]([^<>＜＞〈〉【】]{1,40})[>＞〉】]$")


def heading_level(text: str, last_numbered: int) -> int | None:
    """The Markdown level of a heading line in the plan's styles, or None for body text.

    第N章 → 1, N.N → 2, N.N.N and (N) → 3, ＜…＞ / 【…】 → one below the last numbered heading.
    """
    if "。" in text or len(text) > 50:
        return None
    if _H_CHAPTER.match(text):
        return 1
    if _H_SUBSECTION.match(text):
        return 3
    if _H_SECTION.match(text):
        return 2
    if _H_NUMBERED.match(text):
        return 3
    if _H_BRACKET.match(text):
        return min(max(last_numbered, 1) + 1, 6)
    return None


# --- to Markdown -------------------------------------------------------------------------------


def _table_lines(rows: list[list[str]]) -> list[str]:
    paras, terms = render_table(["\t".join(row) for row in rows])
    lines = [line for para in paras for line in para.lines]
    lines += [line for _, term_lines in terms for line in term_lines]
    return [line for line in lines if line.strip()]


class _Writer:
    """Turns cleaned lines into Markdown blocks: headings, paragraphs, table rows, page markers."""

    def __init__(self) -> None:
        self.out: list[str] = []
        self.para = ""
        self.para_continues = False
        self.pending_page: int | None = None
        self.last_numbered = 0
        self.headings = 0
        self.tables = 0

    def _block(self, text: str) -> None:
        self.out.extend((text, ""))

    def flush(self) -> None:
        if self.para:
            self._block(self.para)
        self.para = ""
        self.para_continues = False
        if self.pending_page is not None:
            self._block(f"<!-- page {self.pending_page} -->")
            self.pending_page = None

    def page(self, number: int) -> None:
        self.pending_page = number
        if not (self.para and self.para_continues):
            self.flush()  # else the paragraph goes on over the page break: the marker follows it

    def heading(self, level: int, text: str) -> None:
        self.flush()
        text = _HEADING_NUMBER.sub(lambda m: m.group(1) + " ", text, count=1)  # 「1.1計画」→「1.1 計画」
        self._block(f"{'#' * level} {text}")
        self.headings += 1
        if not text.startswith(("<", "＜", "〈", "【")):
            self.last_numbered = level

    def table(self, rows: list[list[str]]) -> None:
        self.flush()
        lines = _table_lines(rows)
        if lines:
            self.tables += 1
        for line in lines:
            self._block(line)

    def line(self, text: str, wrapped: bool) -> None:
        if self.para and self.para_continues and not _BULLET.match(text):
            self.para = join_wrapped(self.para, text)
        else:
            self.flush()
            self.para = text
        self.para_continues = wrapped and not text.endswith(_SENTENCE_END)

    def markdown(self) -> str:
        self.flush()
        return "\n".join(self.out).strip("\n") + "\n"


def to_markdown_body(extracted: Extracted) -> tuple[str, int, int]:
    """The document body as Markdown; also the number of headings and tables."""
    if extracted.markdown_body is not None:
        body = extracted.markdown_body
        return body + "\n", len(re.findall(r"^#{1,6}\s", body, re.M)), 0
    writer = _Writer()
    paged = extracted.page_count is not None
    for number, lines in enumerate(extracted.pages, start=1):
        if paged:
            writer.page(number)
        text_lines = [line for line in lines if line.table is None]
        right = max((line.x1 for line in text_lines), default=0.0)
        left = min((line.x0 for line in text_lines), default=0.0)
        first_on_page = True
        for line in lines:
            if line.table is not None:
                writer.table(line.table)
                continue
            text = clean_line(line.text)
            if not text:
                continue
            level = line.heading_level or heading_level(text, writer.last_numbered)
            if level is not None and writer.para_continues and line.heading_level is None and level > 1:
                # Within a page, a line after a wrapped one continues the paragraph ("2.5倍に…");
                # only 第N章 breaks it. At the top of a page a heading is more likely than not.
                level = level if first_on_page else None
            first_on_page = False
            if level is not None:
                writer.heading(level, text.strip("<>＜＞〈〉【】") if _H_BRACKET.match(text) else text)
                continue
            # A line that reaches (almost) the right edge of the text, or stops at a comma, was
            # wrapped by the layout: the next line continues the paragraph.
            full = paged and right > left and (line.x1 - left) >= 0.85 * (right - left)
            writer.line(text, wrapped=paged and (full or text.endswith(_CONTINUES)))
    return writer.markdown(), writer.headings, writer.tables


# --- the corpus file ---------------------------------------------------------------------------


def one_line(value: str) -> str:
    return re.sub(r"\s+", " ", value).strip()


def front_matter(title: str, kind: str, source: str, sha256: str, pages: int | None, added: str) -> str:
    lines = [
        "---",
        f"title: {one_line(title)}",
        f"kind: {kind}",
        f"source: {one_line(source)}",
        f"sha256: {sha256}",
    ]
    if pages is not None:
        lines.append(f"pages: {pages}")
    lines += [f"added: {added}", "---", ""]
    return "\n".join(lines)


def clean_title(title: str) -> str:
    """A metadata title without the printer driver's prefix ("Microsoft Word - 計画.docx")."""
    title = re.sub(r"^Microsoft (?:Word|PowerPoint|Excel) - ", "", title.strip())
    return re.sub(r"\.(docx?|pptx?|xlsx?|pdf)$", "", title, flags=re.I)
