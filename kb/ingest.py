"""Add a document to the corpus: a PDF, Word (.docx), text or Markdown file in, a cleaned
Markdown file with front matter out (``corpus/<name>.md``), then an incremental re-index.

The clean-up is the plan converter's (indexer/convert.py): letters spaced out by the PDF
(``I C T`` -> ``ICT``), PDF line-wrap spaces, HTML tags, headings in the plan's styles
(第N章 / N.N / (N) / ＜…＞ / 【…】) turned into Markdown headings, tables rendered as readable rows
(``列名: 値、列名: 値``). For PDFs also:

- text is read with pdfplumber (measured against pypdfium2 and pdfminer.six on generated Japanese
  PDFs: eval/experiments/pdf_extraction.md); ruled tables come out as rows of cells;
- page headers and footers are dropped: a line among the first/last two of a page, in its top
  or bottom 15 %, that repeats (digits ignored) on more than half of the pages, or that is only a
  page number (``- 12 -``, ``12 / 40``, ``p. 12``);
- lines wrapped by the layout are joined back into paragraphs, also across a page break;
- characters spread out evenly (均等割付: ``計 画 の 目 的``) are joined, and Kangxi radical
  code points that some PDF fonts map kanji to (``⽇`` U+2F47) become the ordinary kanji;
- each page starts with a line ``<!-- page N -->`` (a paragraph continued from the previous
  page stays whole and the marker follows it), so every chunk knows its page
  (kb.corpus.Document.page_at, kb.chunk.Chunk.page).

Nothing is written unless the whole file converts: a bad file (encrypted, image-only, corrupt,
too large, unsupported, already added) raises :class:`kb.errors.IngestError` with a bilingual
message, and the corpus and the index are left as they were. If re-indexing fails, the new
corpus file is removed again.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import math
import os
import re
import unicodedata
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from indexer.convert import clean_inline, render_table
from kb.config import Settings
from kb.corpus import CORPUS_SUFFIXES, KINDS, read_front_matter, split_sections
from kb.errors import IngestError
from kb.manifest import write_durably

if TYPE_CHECKING:
    from indexer.build import BuildReport
    from kb.embed import Embedder
    from kb.progress import Progress

#: Largest file ``kb add`` accepts (a fixed limit, independent of Settings): 50 MB is far above
#: a text PDF of several hundred pages; bigger files are usually scans (which need OCR anyway).
MAX_INGEST_BYTES = 50 * 1024 * 1024
SUPPORTED_SUFFIXES = (".pdf", ".docx", ".txt", ".md")
_LOCK = ".kb-add.lock"

# --- results -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class AddReport:
    """What ``add_document`` did."""

    doc_id: str
    path: str  # the corpus file written
    title: str
    kind: str
    source: str  # the original file's name
    sha256: str
    pages: int | None  # PDF page count (None for other formats)
    characters: int  # of the converted body
    headings: int
    tables: int
    dropped_lines: list[str] = field(default_factory=list)  # page headers/footers removed (distinct)
    warnings: list[str] = field(default_factory=list)
    build: BuildReport | None = None


@dataclass
class _Line:
    """One line of a page as extracted (positions in PDF points, top-down)."""

    text: str
    top: float = 0.0
    bottom: float = 0.0
    x0: float = 0.0
    x1: float = 0.0
    table: list[list[str]] | None = None  # a table block instead of a text line
    heading_level: int | None = None  # known from the source (Word heading styles)


@dataclass
class _Extracted:
    pages: list[list[_Line]]  # one list per page (one "page" for formats without pages)
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
_SENTENCE_END = ("。", "．", "！", "？", "!", "?", "」", "』", "：", ":")
_CONTINUES = ("、", "，", ",", "・")
_BULLET = re.compile(r"^[・●○◆◇■□▪※✓⇒\-－]\s*|^[①-⑳]|^[0-9０-９]+[)）.．]\s")


def _fix_radicals(text: str) -> str:
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
    return clean_inline(_join_spaced_cjk(_fix_radicals(text.replace("\u3000", " "))))


def _join(left: str, right: str) -> str:
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


# --- page headers and footers ------------------------------------------------------------------

_PAGE_NUMBER = re.compile(
    r"^[-–—‐―−ー~〜(（\[]*\s*(?:p\.?|page|ページ|頁)?\s*\d{1,4}\s*(?:/\s*\d{1,4}|ページ|頁)?\s*[-–—‐―−ー~〜)）\]]*$",
    re.I,
)
_EDGE_LINES = 2  # how many lines at the top and the bottom of a page can be header/footer
_EDGE_SHARE = 0.15  # ... and only within this share of the page height


def _edge_key(text: str) -> str:
    return re.sub(r"\d+", "#", re.sub(r"\s+", "", unicodedata.normalize("NFKC", text)))


def drop_headers_footers(
    pages: list[list[_Line]], heights: list[float]
) -> tuple[list[list[_Line]], list[str]]:
    """Remove running headers/footers and page numbers; return the pages and one example of
    each kind of line removed."""

    def edges(lines: list[_Line], height: float) -> Iterator[_Line]:
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


# --- extraction per format ---------------------------------------------------------------------


def _rows_of(table: list[list[Any]]) -> list[list[str]]:
    """Table cells as single-line strings (a cell's wrapped lines joined)."""
    rows = []
    for row in table:
        cells = []
        for cell in row:
            parts = [clean_line(p) for p in str(cell or "").splitlines()]
            text = ""
            for part in filter(None, parts):
                text = _join(text, part)
            cells.append(text)
        if any(cells):
            rows.append(cells)
    return rows


def _extract_pdf(path: Path) -> _Extracted:
    import pdfplumber
    from pdfminer.pdfdocument import PDFEncryptionError, PDFPasswordIncorrect

    logging.getLogger("pdfminer").setLevel(logging.ERROR)  # broken files print pages of warnings
    name = path.name
    with path.open("rb") as f:
        head = f.read(1024)
    if b"%PDF" not in head:
        raise _corrupt(name, "no %PDF header")
    try:
        with pdfplumber.open(path) as pdf:
            title = str((pdf.metadata or {}).get("Title") or "")
            pages: list[list[_Line]] = []
            heights: list[float] = []
            images_only: list[int] = []
            for number, page in enumerate(pdf.pages, start=1):
                tables = [
                    t
                    for t in page.find_tables()
                    if len(t.rows) >= 2 and max((len(r.cells) for r in t.rows), default=0) >= 2
                ]
                text_page = page
                for t in tables:
                    text_page = text_page.outside_bbox(t.bbox)
                lines = [
                    _Line(str(d["text"]), float(d["top"]), float(d["bottom"]), float(d["x0"]), float(d["x1"]))
                    for d in text_page.extract_text_lines(return_chars=False)
                    if str(d["text"]).strip()
                ]
                for t in tables:
                    x0, top, x1, bottom = t.bbox
                    lines.append(
                        _Line(
                            "", float(top), float(bottom), float(x0), float(x1), table=_rows_of(t.extract())
                        )
                    )
                lines.sort(key=lambda line: (round(line.top), line.x0))
                if not lines and page.images:
                    images_only.append(number)
                pages.append(lines)
                heights.append(float(page.height))
    except IngestError:
        raise
    except Exception as exc:
        cause = getattr(exc, "args", (None,))[0] if type(exc).__name__ == "PdfminerException" else exc
        if isinstance(cause, PDFPasswordIncorrect | PDFEncryptionError) or "password" in str(exc).lower():
            raise IngestError(
                f"パスワードで保護された（暗号化された）PDF です: {name}（パスワードを外した PDF を保存し直してから追加してください）",
                f"the PDF is password-protected (encrypted): {name}; save a copy without the password and add that",
            ) from exc
        raise _corrupt(name, f"{type(cause).__name__}: {cause}") from exc
    if not pages:
        raise _corrupt(name, "no pages")
    if not any(pages):
        if images_only:
            raise IngestError(
                f"PDF に文字情報がありません（画像だけの PDF です）: {name}（OCR で文字を認識させた PDF を作ってから追加してください。例: ocrmypdf）",
                f"the PDF has no text layer (scanned images only): {name}; OCR is needed: run OCR on it (e.g. ocrmypdf) and add the result",
            )
        raise IngestError(f"PDF に文字がありません: {name}", f"the PDF contains no text: {name}")
    kept, dropped = drop_headers_footers(pages, heights)
    warnings = []
    if images_only:
        listed = ", ".join(map(str, images_only))
        warnings.append(
            f"文字情報のないページ（画像のみ、OCR が必要）: {listed} / pages without a text layer (OCR needed): {listed}"
        )
    return _Extracted(kept, len(pages), title, dropped, warnings)


def _extract_docx(path: Path, raw: bytes) -> _Extracted:
    name = path.name
    if raw.startswith(b"\xd0\xcf\x11\xe0"):  # an OLE container: Word saves encrypted .docx this way
        raise IngestError(
            f"パスワードで保護された Word 文書です: {name}（パスワードを外して保存し直してから追加してください）",
            f"the Word file is password-protected (encrypted): {name}; save it without the password and add that",
        )
    try:
        import docx
        from docx.table import Table
        from docx.text.paragraph import Paragraph

        document = docx.Document(str(path))
        lines: list[_Line] = []
        for element in document.element.body.iterchildren():
            tag = element.tag.rsplit("}", 1)[-1]
            if tag == "p":
                paragraph = Paragraph(element, document)
                style = (paragraph.style.name if paragraph.style is not None else "") or ""
                m = re.search(r"(?:Heading|見出し)\s*(\d)", style)
                level = int(m.group(1)) if m else (1 if style == "Title" else None)
                for text in paragraph.text.splitlines():
                    if text.strip():
                        lines.append(_Line(text, heading_level=level))
            elif tag == "tbl":
                table = Table(element, document)
                rows = [[cell.text for cell in row.cells] for row in table.rows]
                lines.append(_Line("", table=_rows_of(rows)))
        title = document.core_properties.title or ""
    except Exception as exc:
        raise _corrupt(name, f"{type(exc).__name__}: {exc}", "Word (.docx)") from exc
    return _Extracted([lines], None, title)


def _decode(raw: bytes, name: str) -> str:
    for encoding in ("utf-8-sig", "cp932"):  # Shift_JIS (cp932) is still common for Japanese text files
        try:
            return raw.decode(encoding).replace("\r\n", "\n").replace("\r", "\n")
        except UnicodeDecodeError:
            continue
    raise IngestError(
        f"文字コードを判別できません: {name}（UTF-8 で保存し直してください）",
        f"cannot decode {name} as UTF-8 or Shift_JIS: re-save it as UTF-8",
    )


def _extract_text(path: Path, raw: bytes) -> _Extracted:
    text = _decode(raw, path.name)
    if path.suffix.lower() == ".md":
        meta = read_front_matter(text)
        body = re.sub(r"\A---\n.*?\n---\n", "", text, count=1, flags=re.S)
        first_heading = re.search(r"^#\s+(.+)$", body, re.M)
        title = meta.get("title") or (first_heading.group(1).strip() if first_heading else "")
        return _Extracted([], None, title, markdown_body=_fix_radicals(body).strip("\n"))
    return _Extracted([[_Line(line) for line in text.split("\n") if line.strip()]], None)


def _corrupt(name: str, detail: str, what: str = "PDF") -> IngestError:
    return IngestError(
        f"ファイルが壊れているか、{what} ではありません: {name}（元のアプリで開けるか確認し、保存し直してください）",
        f"cannot read {name}: the file is corrupt or not a {what} ({detail}); check that it opens and save it again",
    )


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
            self.para = _join(self.para, text)
        else:
            self.flush()
            self.para = text
        self.para_continues = wrapped and not text.endswith(_SENTENCE_END)

    def markdown(self) -> str:
        self.flush()
        return "\n".join(self.out).strip("\n") + "\n"


def to_markdown_body(extracted: _Extracted) -> tuple[str, int, int]:
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


def _one_line(value: str) -> str:
    return re.sub(r"\s+", " ", value).strip()


def front_matter(title: str, kind: str, source: str, sha256: str, pages: int | None, added: str) -> str:
    lines = [
        "---",
        f"title: {_one_line(title)}",
        f"kind: {kind}",
        f"source: {_one_line(source)}",
        f"sha256: {sha256}",
    ]
    if pages is not None:
        lines.append(f"pages: {pages}")
    lines += [f"added: {added}", "---", ""]
    return "\n".join(lines)


def _slug(stem: str) -> str:
    slug = re.sub(r"[^\w\-]+", "_", unicodedata.normalize("NFKC", stem)).strip("_-")
    return slug[:60] or "document"


def _free_name(corpus_dir: Path, stem: str) -> str:
    """``stem`` or ``stem-2``, ``stem-3`` … so no corpus file (.md or .txt) has that id yet."""
    taken = {p.stem for p in corpus_dir.iterdir() if p.suffix.lower() in CORPUS_SUFFIXES}
    name, n = stem, 1
    while name in taken:
        n += 1
        name = f"{stem}-{n}"
    return name


def find_duplicate(corpus_dir: Path, sha256: str) -> Path | None:
    """The corpus file whose front matter records this SHA-256, if any."""
    for path in sorted(corpus_dir.glob("*.md")):
        try:
            with path.open(encoding="utf-8-sig") as f:
                head = f.read(4096)
        except (OSError, UnicodeDecodeError):
            continue
        if read_front_matter(head.replace("\r\n", "\n")).get("sha256") == sha256:
            return path
    return None


def _refuse_duplicate(corpus_dir: Path, sha256: str, path: Path) -> None:
    duplicate = find_duplicate(corpus_dir, sha256)
    if duplicate is not None:
        raise IngestError(
            f"同じファイルは追加済みです: {path.name} → {duplicate.name}（SHA-256 が一致）",
            f"this file is already in the corpus as {duplicate.name} (same SHA-256): {path.name}",
        )


@contextmanager
def _adding(index_dir: Path) -> Iterator[None]:
    """One ``kb add`` at a time per index (the duplicate check, the write and the build stay
    together). The lock file lives beside the build lock, not in the corpus folder."""
    try:
        index_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(index_dir / _LOCK, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise IngestError(
            f"索引フォルダに書き込めません: {index_dir}",
            f"cannot write to the index folder {index_dir}: {exc}",
        ) from exc
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _check_file(path: Path) -> int:
    """The file's size, after checking it exists, has a supported type and is not too large."""
    if not path.is_file():
        raise IngestError(f"ファイルがありません: {path}", f"no such file: {path}")
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        supported = " / ".join(SUPPORTED_SUFFIXES)
        raise IngestError(
            f"対応していない形式です: {path.name}（追加できるのは {supported} です）",
            f"unsupported file type {suffix or '(none)'}: {path.name}; supported: {supported}",
        )
    size = path.stat().st_size
    if size > MAX_INGEST_BYTES:
        limit = MAX_INGEST_BYTES // 1024 // 1024
        raise IngestError(
            f"ファイルが大きすぎます（{size / 1024 / 1024:.0f} MB、上限 {limit} MB）: {path.name}（分割してから追加してください）",
            f"file too large ({size / 1024 / 1024:.0f} MB, limit {limit} MB): {path.name}; split it and add the parts",
        )
    return size


def convert_file(path: Path) -> tuple[_Extracted, str, int, int]:
    """Extract and convert ``path`` (no corpus access): (extraction, Markdown body, headings, tables)."""
    _check_file(path)
    raw = path.read_bytes()
    suffix = path.suffix.lower()
    if suffix == ".pdf":
        extracted = _extract_pdf(path)
    elif suffix == ".docx":
        extracted = _extract_docx(path, raw)
    else:
        extracted = _extract_text(path, raw)
    body, headings, tables = to_markdown_body(extracted)
    return extracted, body, headings, tables


def add_document(
    path: Path | str,
    settings: Settings,
    kind: str = "other",
    title: str | None = None,
    embedder: Embedder | None = None,
    progress: Progress | None = None,
    reindex: bool = True,
) -> AddReport:
    """Convert ``path`` into ``<corpus_dir>/<name>.md`` and re-index; raise IngestError (nothing
    changed) when the file cannot be added."""
    path = Path(path)
    if kind not in KINDS:
        raise IngestError(
            f"種類が不正です: {kind}（{' / '.join(KINDS)} のいずれか）",
            f"unknown kind {kind!r}: use one of {', '.join(KINDS)}",
        )
    corpus_dir = settings.corpus_dir
    if not corpus_dir.is_dir():
        raise IngestError(
            f"コーパスのフォルダがありません: {corpus_dir}", f"corpus folder not found: {corpus_dir}"
        )
    _check_file(path)
    sha256 = hashlib.sha256(path.read_bytes()).hexdigest()
    _refuse_duplicate(corpus_dir, sha256, path)  # before converting: the cheap refusal first
    extracted, body, headings, tables = convert_file(path)
    doc_title = _one_line(title or "") or _one_line(_clean_title(extracted.title)) or path.stem
    text = front_matter(doc_title, kind, path.name, sha256, extracted.page_count, date.today().isoformat())
    text += "\n" + body
    body_start = text.index("\n---\n") + len("\n---\n")
    if not split_sections(text, body_start, markdown=True):
        raise IngestError(
            f"本文が空です（索引できる文字がありません）: {path.name}",
            f"no text to index in {path.name}",
        )
    with _adding(settings.index_dir):
        _refuse_duplicate(corpus_dir, sha256, path)  # again: another `kb add` may have just added it
        name = _free_name(corpus_dir, _slug(path.stem))
        target = corpus_dir / f"{name}.md"
        write_durably(target, text)  # temp file is ".<name>.tmp-<pid>": never read as corpus
        build = None
        if reindex:
            from indexer.build import build_index

            try:
                build = build_index(settings, embedder=embedder, progress=progress)
            except BaseException:
                target.unlink(missing_ok=True)  # keep the corpus as the index last saw it
                raise
    return AddReport(
        doc_id=name,
        path=str(target),
        title=doc_title,
        kind=kind,
        source=path.name,
        sha256=sha256,
        pages=extracted.page_count,
        characters=len(re.sub(r"\s+", "", body)),
        headings=headings,
        tables=tables,
        dropped_lines=extracted.dropped,
        warnings=extracted.warnings,
        build=build,
    )


def _clean_title(title: str) -> str:
    """A metadata title without the printer driver's prefix ("Microsoft Word - 計画.docx")."""
    title = re.sub(r"^Microsoft (?:Word|PowerPoint|Excel) - ", "", title.strip())
    return re.sub(r"\.(docx?|pptx?|xlsx?|pdf)$", "", title, flags=re.I)
