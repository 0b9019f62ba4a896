"""Convert the plan's PDF-extracted text into clean, reviewable Markdown documents.

Input: ``corpus/source/*.txt`` as extracted from the PDF (HTML fragments, letters spaced out as
``I C T``, tables as tab-separated rows, headings in several styles, a table of contents with
page dots). Output: three Markdown files with a small front matter, whose headings mirror the
document's real structure so every passage can be cited by its section path:

- ``plan.md``                 chapters 1-5 (without 2.1) and the colophon       kind: plan
- ``national_strategies.md``  section 2.1, one section per national strategy     kind: national_strategy
- ``glossary.md``             補足説明: 用語集 + 個別の制度・技術等についての解説    kind: glossary

The rules are written for this document family (the next revision of the plan should convert
the same way); run ``python -m indexer.convert`` and review the diff of corpus/*.md.
"""

from __future__ import annotations

import argparse
import logging
import re
import sys
from pathlib import Path

from indexer.cleaning import clean_inline
from indexer.corrections import (
    DEFAULT_CORRECTIONS,
    apply_corrections,
    foreign_letters_in_words,
    load_corrections,
)
from indexer.document import DocOut, Heading, Para, to_markdown
from indexer.tables import cell_lines, render_table
from kb.config import PROJECT_ROOT

DEFAULT_SOURCE = PROJECT_ROOT / "corpus" / "source" / "hirakata_joho_kihon_keikaku_3ki.txt"
DEFAULT_OUT_DIR = PROJECT_ROOT / "corpus"
log = logging.getLogger("indexer.convert")

PLAN_TITLE = "第2次枚方市情報化計画 情報化基本計画（第3期取組版）"


# --- headings --------------------------------------------------------------------------------

_CHAPTER = re.compile(r"^第\s*(\d+)\s*章\s*(.+)$")
_SECTION = re.compile(r"^(\d)\.\s*(\d)\s*([^\d.．。].{1,40})$")
_NUMBERED = re.compile(r"^[（(]\s*([0-9０-９]+)\s*[)）]\s*(.+)$")
_ANGLE = re.compile(r"^[<＜]([^<>＜＞/][^<>＜＞]{0,60})[>＞]$")
_PAREN_ONLY = re.compile(r"^[（(]([^()（）]{1,10})[)）]$")
_INITIATIVE = re.compile(r"^取組\s*(\d)\s*-\s*(\d)\s*(.*)$")
_GOAL_RESULT = re.compile(r"^基本目標\s*(\d)\s*[：:]\s*(.+)$")
_PHASE2_ITEM = re.compile(r"^取り?組み?\s*[：:]\s*(.+)$")
_BRACKET = re.compile(r"^【([^】]{2,60})】$")
_CAPTION = re.compile(r"^図表\s*[：:]\s*(.+)$")
_SOURCE_NOTE = re.compile(r"^[（(]出典[)）]")
_TOC_LINE = re.compile(r"(\.{3,}|…{2,})\s*\d*\s*$|\t\s*\d+\s*$")
_GLOSSARY_SUB = re.compile(r"^・\s*(\S.{0,30})$")
_ROMAN = re.compile(r"^(i{1,3}|iv|v)\s*([^\sA-Za-z].+)$")


def _digits(text: str) -> str:
    return text.translate(str.maketrans("０１２３４５６７８９", "0123456789"))


# --- the converter -----------------------------------------------------------------------------


class Converter:
    """Walks the source lines once and routes them into the three documents."""

    def __init__(self) -> None:
        self.plan = DocOut("plan", PLAN_TITLE, "plan")
        self.national = DocOut("national_strategies", "国のICT戦略動向等（第2章 2.1）", "national_strategy")
        self.glossary = DocOut("glossary", "補足説明（用語集・個別の制度・技術等についての解説）", "glossary")
        self.doc = self.plan
        self.level = 0  # level of the last numbered heading in the current document
        self.table: list[str] = []
        self.pending_caption: tuple[int, str] | None = None
        self.started = False
        self._parent_after_figure: tuple[int, str] | None = None  # section a figure interrupted
        self._goal_level = 0  # level of the last 基本目標N： heading (2.2 (2))

    # headings

    def heading(self, level: int, text: str, numbered: bool = True) -> None:
        self.flush_table()
        level = max(1, min(level, 6))
        self.doc.add(Heading(level, text))
        if numbered:
            self.level = level

    def para(self, text: str, figure_like: bool = False) -> None:
        self.flush_table()
        if text:
            self.doc.add(Para([text], figure_like))

    def flush_table(self) -> None:
        if not self.table:
            return
        rows, self.table = self.table, []
        paras, terms = render_table(rows)
        for p in paras:
            self.doc.add(p)
        for term, lines in terms:
            self.doc.add(Heading(self.level + 1, term))
            self.doc.add(Para(lines))

    def caption(self, title: str) -> None:
        """A figure caption follows its figure in the PDF: move the figure body under it."""
        self.flush_table()
        items = self.doc.items
        start = len(items)
        while start > 0:
            previous = items[start - 1]
            if not (isinstance(previous, Para) and previous.figure_like):
                break
            start -= 1
        body = items[start:]
        del items[start:]
        parent = self._current_path()
        level = min(self._current_level() + 1, 6)
        if body:
            items.append(Heading(level, f"図表：{title}"))
            items.extend(body)
            self.pending_caption = (level, title)
        else:
            items.append(Para([f"図表：{title}"]))
            self.pending_caption = None
        self._parent_after_figure = parent

    def end_figure(self) -> None:
        """Return to the section the figure interrupted by repeating its heading."""
        if self.pending_caption is None:
            return
        self.pending_caption = None
        if self._parent_after_figure:
            level, text = self._parent_after_figure
            self.doc.add(Heading(level, text))

    def _current_path(self) -> tuple[int, str] | None:
        for item in reversed(self.doc.items):
            if isinstance(item, Heading) and not item.text.startswith("図表："):
                return (item.level, item.text)
        return None

    def _current_level(self) -> int:
        current = self._current_path()
        return current[0] if current else 0

    # main loop

    def run(self, lines: list[str]) -> list[DocOut]:
        in_toc = False
        in_colophon = False
        for raw in lines:
            line = raw.rstrip("\n").replace("\u3000", " ")
            stripped = line.strip()
            if not stripped:
                self.flush_table()
                continue
            if stripped == "目次":
                in_toc = True
                self.heading(1, "目次")
                continue
            if in_toc:
                if _TOC_LINE.search(line):
                    # Keep the entry, drop the page dots and the page number.
                    entry = clean_inline(_TOC_LINE.sub("", line))
                    self.para(re.sub(r"^(\d)\.\s*(\d)\s*", r"\1.\2 ", entry))
                    continue
                in_toc = False
            if self.pending_caption and not _SOURCE_NOTE.match(stripped) and not stripped.startswith("『"):
                self.end_figure()
            if "\t" in line:
                if not self._tab_heading(line):
                    self.table.append(line)
                continue
            self.line(stripped, in_colophon)
            if stripped.startswith("【第") and "情報化計画】情報化基本計画" in clean_inline(stripped):
                in_colophon = True
        self.flush_table()
        self.end_figure()
        return [self.plan, self.national, self.glossary]

    def _tab_heading(self, line: str) -> bool:
        """Rows that are really headings: 取組 N-N<TAB>title, <h3>取り組み：...</h3><TAB>."""
        cells = [c for c in line.split("\t") if c.strip()]
        first = clean_inline(cells[0]) if cells else ""
        if _INITIATIVE.match(first) and len(cells) == 2:
            m = _INITIATIVE.match(first)
            assert m is not None
            title = " ".join(cell_lines(cells[1]))
            name = f"取組{m.group(1)}-{m.group(2)} {title}"
            self.heading(self.level + 1, name, numbered=False)
            self.para(name)  # the row is content too: "取組1-2 …" must be findable and quotable
            return True
        if len(cells) == 1 and (
            _PHASE2_ITEM.match(first) or first.endswith("の概要") or first.endswith("の全体像")
        ):
            self.line(first, False)
            return True
        starts_with_cell = bool(line.split("\t")[0].strip())
        if len(cells) == 1 and starts_with_cell and not self.table and not cells[0].lstrip().startswith("<"):
            # A title row of a one-column table ("デジタル社会形成基本法の概要<TAB>").
            self.para(first, figure_like=True)
            return True
        return False

    def line(self, stripped: str, in_colophon: bool) -> None:
        text = clean_inline(stripped)
        if not text:
            return
        if not in_colophon and text.startswith("【第") and "情報化計画】情報化基本計画" in text:
            self.doc = self.plan  # the colophon closes the whole book, after the glossary
            self.heading(1, "奥付（発行情報）")
            self.para(text)
            return
        if not self.started and not _CHAPTER.match(text):
            self.para(text)  # title page: plain text until the first chapter
            return
        if m := _CHAPTER.match(text):
            self.started = True
            self.doc = self.plan
            self.heading(1, f"第{m.group(1)}章 {m.group(2).strip()}")
            return
        if m := _SECTION.match(text):
            number = f"{m.group(1)}.{m.group(2)}"
            if number == "2.1":
                self.doc = self.national
                self.heading(1, f"2.1 {m.group(3).strip()}")
                return
            if self.doc is self.national:
                self.doc = self.plan
            self.heading(2, f"{number} {m.group(3).strip()}")
            return
        if text == "補足説明":
            self.doc = self.glossary
            self.heading(1, "補足説明")
            return
        if self.doc is self.glossary and (m := _ROMAN.match(text)) and len(text) < 40:
            self.heading(2, f"{m.group(1)} {m.group(2)}")
            return
        if m := _CAPTION.match(text):
            self.caption(m.group(1).strip())
            return
        if (
            self.pending_caption is None
            and self._parent_after_figure is not None
            and _SOURCE_NOTE.match(text)
        ):
            self.para(text)
            return
        if m := _NUMBERED.match(text):
            if len(m.group(2)) < 80 and "。" not in m.group(2) and not _SOURCE_NOTE.match(text):
                base = 2 if self.doc is not self.national else 1
                self.heading(base + 1, f"({_digits(m.group(1))}) {m.group(2).strip()}")
                return
        if m := _ANGLE.match(text):
            self.heading(self.level + 1, m.group(1).strip(), numbered=False)
            return
        if m := _INITIATIVE.match(text):
            self.heading(
                self.level + 1, f"取組{m.group(1)}-{m.group(2)} {m.group(3).strip()}", numbered=False
            )
            return
        if m := _GOAL_RESULT.match(text):
            self.heading(self.level + 1, f"基本目標{m.group(1)}：{m.group(2).strip()}", numbered=False)
            self._goal_level = self.level + 1
            return
        if m := _PHASE2_ITEM.match(text):
            level = (self._goal_level or self.level) + 1
            self.heading(level, f"取り組み：{m.group(1).strip()}", numbered=False)
            self.para(text)  # keep the row itself as content, as for 取組 rows
            return
        if m := _PAREN_ONLY.match(text):
            self.heading(self.level + 1, m.group(1), numbered=False)
            return
        if self.doc is self.national and (m := _BRACKET.match(text)) and not text.startswith("【基本目標"):
            self.heading(self.level + 2, m.group(1), numbered=False)
            return
        if self.doc is self.glossary and (m := _GLOSSARY_SUB.match(text)) and "。" not in text:
            self.heading(self.level + 1, m.group(1).strip(), numbered=False)
            return
        prose = "。" in text and len(text) >= 40
        self.para(text, figure_like=not prose)


def convert(source: Path, out_dir: Path, corrections: Path | None = DEFAULT_CORRECTIONS) -> list[Path]:
    """Convert ``source`` into the Markdown documents in ``out_dir``; return their paths.

    The reviewed corrections (corpus/corrections.tsv) are applied first, each logged; words
    that still mix in letters of another script are logged as warnings to review.
    """
    raw = source.read_text(encoding="utf-8")
    text, applied = apply_corrections(raw, load_corrections(corrections) if corrections else [])
    for fix, count in applied:
        log.info("訂正 / correction: %s → %s (%d×; %s)", fix.original, fix.corrected, count, fix.reason)
        if count == 0:
            log.warning("訂正が一度も当たりません / correction never applied: %s", fix.original)
    for word in foreign_letters_in_words(text):
        log.warning("他の文字体系の文字を含む語（要確認）/ word with letters of another script: %s", word)
    lines = text.splitlines()
    docs = Converter().run(lines)
    written = []
    for doc in docs:
        path = out_dir / f"{doc.slug}.md"
        path.write_text(to_markdown(doc), encoding="utf-8")
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="PDF抽出テキストを corpus/*.md に変換 / convert the extracted plan text"
    )
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT_DIR)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        paths = convert(args.source, args.out)
    except (OSError, UnicodeDecodeError) as exc:
        print(f"変換できません / cannot convert {args.source}: {exc}", file=sys.stderr)
        return 1
    for path in paths:
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
