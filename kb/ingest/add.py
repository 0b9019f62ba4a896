"""The ``kb add`` transaction: check, convert, refuse duplicates, write ``corpus/<name>.md``
and re-index, one add at a time per index.

Nothing is written unless the whole file converts: a bad file raises
:class:`kb.errors.IngestError` with a bilingual message, and the corpus and the index are left
as they were. If re-indexing fails, the new corpus file is removed again.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from kb.config import Settings
from kb.corpus import CORPUS_SUFFIXES, KINDS, read_front_matter, split_sections
from kb.errors import IngestError
from kb.ingest.extract import MAX_INGEST_BYTES, check_file, extract
from kb.ingest.lines import Extracted
from kb.ingest.markdown import clean_title, front_matter, one_line, to_markdown_body
from kb.manifest import write_durably

if TYPE_CHECKING:
    from indexer.build import BuildReport
    from kb.embed import Embedder
    from kb.progress import Progress

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


def _without_questions(settings: Settings, text: str) -> list[str]:
    """A warning when the corpus has expected questions and none is anchored in the new document:
    its passages then rank below those with questions on everyday-words queries
    (kb/expected_questions.py)."""
    from kb.errors import CorpusError
    from kb.expected_questions import load_expected_questions

    try:
        table = load_expected_questions(settings.expected_questions_path)
    except CorpusError:
        return []  # the build reports a broken file itself
    if not len(table) or table.anchors_in(text):
        return []
    return [
        "この資料には想定質問がありません。日常の言葉での質問には見つかりにくくなります"
        "（`kb expected-questions` で一覧し、corpus/expected_questions.tsv に書き足せます） / "
        "this document has no expected questions, so questions in everyday words find it less well "
        "(list its passages with `kb expected-questions`, add questions to corpus/expected_questions.tsv)"
    ]


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


def convert_file(path: Path, max_bytes: int = MAX_INGEST_BYTES) -> tuple[Extracted, str, int, int]:
    """Extract and convert ``path`` (no corpus access): (extraction, Markdown body, headings, tables)."""
    extracted = extract(path, max_bytes)
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
    check_file(path, settings.max_ingest_bytes)
    sha256 = hashlib.sha256(path.read_bytes()).hexdigest()
    _refuse_duplicate(corpus_dir, sha256, path)  # before converting: the cheap refusal first
    extracted, body, headings, tables = convert_file(path, settings.max_ingest_bytes)
    doc_title = one_line(title or "") or one_line(clean_title(extracted.title)) or path.stem
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
        warnings=[*extracted.warnings, *_without_questions(settings, text)],
        build=build,
    )
