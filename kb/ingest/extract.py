"""Text out of a file: PDF (pdfplumber), Word (.docx, python-docx), text and Markdown.

pdfplumber was measured against pypdfium2 and pdfminer.six on generated Japanese PDFs
(eval/experiments/pdf_extraction.md); ruled tables come out as rows of cells. A file that
cannot be used (encrypted, image-only, corrupt, too large, unsupported) raises
:class:`kb.errors.IngestError` with a bilingual message.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

from kb.config import Settings
from kb.corpus import read_front_matter
from kb.errors import IngestError
from kb.ingest.lines import Extracted, Line, clean_line, drop_headers_footers, fix_radicals, join_wrapped

#: Largest file taken when no limit is given: Settings.max_ingest_mb's default (kb add and the app
#: pass the configured limit).
MAX_INGEST_BYTES = int(Settings.max_ingest_mb * 1024 * 1024)
SUPPORTED_SUFFIXES = (".pdf", ".docx", ".txt", ".md")

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
                text = join_wrapped(text, part)
            cells.append(text)
        if any(cells):
            rows.append(cells)
    return rows


def _extract_pdf(path: Path) -> Extracted:
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
            pages: list[list[Line]] = []
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
                    Line(str(d["text"]), float(d["top"]), float(d["bottom"]), float(d["x0"]), float(d["x1"]))
                    for d in text_page.extract_text_lines(return_chars=False)
                    if str(d["text"]).strip()
                ]
                for t in tables:
                    x0, top, x1, bottom = t.bbox
                    lines.append(
                        Line("", float(top), float(bottom), float(x0), float(x1), table=_rows_of(t.extract()))
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
    return Extracted(kept, len(pages), title, dropped, warnings)


def _extract_docx(path: Path, raw: bytes) -> Extracted:
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
        lines: list[Line] = []
        for element in document.element.body.iterchildren():
            tag = element.tag.rsplit("}", 1)[-1]
            if tag == "p":
                paragraph = Paragraph(element, document)
                style = (paragraph.style.name if paragraph.style is not None else "") or ""
                m = re.search(r"(?:Heading|見出し)\s*(\d)", style)
                level = int(m.group(1)) if m else (1 if style == "Title" else None)
                for text in paragraph.text.splitlines():
                    if text.strip():
                        lines.append(Line(text, heading_level=level))
            elif tag == "tbl":
                table = Table(element, document)
                rows = [[cell.text for cell in row.cells] for row in table.rows]
                lines.append(Line("", table=_rows_of(rows)))
        title = document.core_properties.title or ""
    except Exception as exc:
        raise _corrupt(name, f"{type(exc).__name__}: {exc}", "Word (.docx)") from exc
    return Extracted([lines], None, title)


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


def _extract_text(path: Path, raw: bytes) -> Extracted:
    text = _decode(raw, path.name)
    if path.suffix.lower() == ".md":
        meta = read_front_matter(text)
        body = re.sub(r"\A---\n.*?\n---\n", "", text, count=1, flags=re.S)
        first_heading = re.search(r"^#\s+(.+)$", body, re.M)
        title = meta.get("title") or (first_heading.group(1).strip() if first_heading else "")
        return Extracted([], None, title, markdown_body=fix_radicals(body).strip("\n"))
    return Extracted([[Line(line) for line in text.split("\n") if line.strip()]], None)


def _corrupt(name: str, detail: str, what: str = "PDF") -> IngestError:
    return IngestError(
        f"ファイルが壊れているか、{what} ではありません: {name}（元のアプリで開けるか確認し、保存し直してください）",
        f"cannot read {name}: the file is corrupt or not a {what} ({detail}); check that it opens and save it again",
    )


def too_large(name: str, size: int, max_bytes: int) -> IngestError:
    """The refusal of a file over the limit (kb add and the app's upload say the same)."""
    size_mb, limit_mb = size / 2**20, max_bytes / 2**20
    return IngestError(
        f"ファイルが大きすぎます（{size_mb:.1f} MB、上限 {limit_mb:.1f} MB）: {name}（分割してから追加してください）",
        f"file too large ({size_mb:.1f} MB, limit {limit_mb:.1f} MB): {name}; split it and add the parts",
    )


def check_file(path: Path, max_bytes: int = MAX_INGEST_BYTES) -> int:
    """The file's size, after checking it exists, has a supported type and is at most ``max_bytes``."""
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
    if size > max_bytes:
        raise too_large(path.name, size, max_bytes)
    return size


def extract(path: Path, max_bytes: int = MAX_INGEST_BYTES) -> Extracted:
    """The lines (or, for Markdown, the body) of ``path``, after :func:`check_file`."""
    check_file(path, max_bytes)
    raw = path.read_bytes()
    suffix = path.suffix.lower()
    if suffix == ".pdf":
        return _extract_pdf(path)
    if suffix == ".docx":
        return _extract_docx(path, raw)
    return _extract_text(path, raw)
