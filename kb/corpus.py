"""Load the corpus: Markdown (with front matter) or plain-text documents and their sections.

A :class:`Document` keeps the file's text exactly as stored, so every section and chunk is an
offset range into it and quotes can be checked against the file. Plain-text files get their
headings detected with the patterns this plan uses (第N章, N.N, (N), <...>, 【...】).

Documents added from a PDF (``kb add``, kb/ingest/) mark where each page starts with a line
``<!-- page N -->``. Such comment lines are kept in the text (offsets stay exact) but are not
content: a section holding only comments is dropped, chunks never include one (kb/chunk.py
splits at them), and :meth:`Document.page_at` maps any offset to the page it is on.
"""

from __future__ import annotations

import bisect
import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from kb.errors import CorpusError
from kb.text import normalize

#: Between the parts of a heading path as shown to people: 「第4章 … › 4.2 … › 取組1-2 …」.
SECTION_SEPARATOR = " › "
KINDS = ("plan", "glossary", "national_strategy", "other")
CORPUS_SUFFIXES = (".md", ".txt")
MAX_FILE_BYTES = 20 * 1024 * 1024

_FRONT_MATTER = re.compile(r"\A---\n(.*?)\n---\n", re.S)
#: A whole-line HTML comment (not content); ``<!-- page N -->`` marks where page N starts.
COMMENT_LINE = re.compile(r"^[ \t]*<!--.*?-->[ \t]*$", re.M)
PAGE_MARKER = re.compile(r"^<!-- page (\d+) -->[ \t]*$", re.M)
_MD_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
_TXT_HEADINGS: list[tuple[int, re.Pattern[str]]] = [
    (1, re.compile(r"^第\s*[0-9０-９一二三四五六七八九十]+\s*[章部編]\s*\S.{0,40}$")),
    (2, re.compile(r"^[0-9０-９]+\s*[.．]\s*[0-9０-９]+\s+\S.{0,40}$")),
    (3, re.compile(r"^[（(]\s*[0-9０-９]+\s*[)）]\s*\S.{0,40}$")),
    (3, re.compile(r"^[<＜〈【][^<>＜＞〈〉【】]{1,40}[>＞〉】]$")),
]


@dataclass(frozen=True)
class Section:
    """A heading and the offsets of its body (from after the heading line to the next heading)."""

    heading_path: tuple[str, ...]
    level: int
    start: int
    end: int

    @property
    def title(self) -> str:
        return SECTION_SEPARATOR.join(self.heading_path)


@dataclass(frozen=True)
class Document:
    """One source file of the corpus."""

    doc_id: str
    path: Path
    title: str
    kind: str
    issuer: str
    date: str
    text: str
    sections: tuple[Section, ...]
    # Front matter of files added with `kb add` (empty for the converted plan documents):
    source: str = ""  # the original file's name
    added: str = ""  # ISO date it was added
    sha256: str = ""  # of the original file (duplicate check)
    pages: int | None = None  # page count of the original PDF
    # (offset, page number) of each ``<!-- page N -->`` marker, in text order.
    page_starts: tuple[tuple[int, int], ...] = ()

    @property
    def content_hash(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()

    def section_text(self, section: Section) -> str:
        return self.text[section.start : section.end]

    def page_at(self, offset: int) -> int | None:
        """The page ``offset`` is on (the last page marker at or before it); None when the
        document has no page markers or the offset is before the first one."""
        if not self.page_starts:
            return None
        i = bisect.bisect_right(self.page_starts, offset, key=lambda start: start[0]) - 1
        return self.page_starts[i][1] if i >= 0 else None


def has_content(text: str) -> bool:
    """Whether ``text`` holds anything but whitespace and whole-line comments."""
    return bool(COMMENT_LINE.sub("", text).strip())


def page_starts(text: str) -> tuple[tuple[int, int], ...]:
    """(offset, page) of every ``<!-- page N -->`` line of ``text``."""
    return tuple((m.start(), int(m.group(1))) for m in PAGE_MARKER.finditer(text))


def read_front_matter(text: str) -> dict[str, str]:
    """The ``key: value`` pairs of a Markdown file's front matter ({} when it has none)."""
    return _parse_front_matter(text)[0]


def _parse_front_matter(text: str) -> tuple[dict[str, str], int]:
    match = _FRONT_MATTER.match(text)
    if not match:
        return {}, 0
    meta: dict[str, str] = {}
    for line in match.group(1).splitlines():
        if ":" in line:
            key, value = line.split(":", 1)
            meta[key.strip()] = value.strip().strip("'\"")
    return meta, match.end()


def _heading_of(line: str, markdown: bool) -> tuple[int, str] | None:
    stripped = line.strip()
    if markdown:
        m = _MD_HEADING.match(stripped)
        return (len(m.group(1)), m.group(2)) if m else None
    if "。" in stripped or len(stripped) > 50:
        return None
    for level, pattern in _TXT_HEADINGS:
        if pattern.match(stripped):
            return level, stripped.strip("<>＜＞〈〉【】")
    return None


def split_sections(text: str, body_start: int, markdown: bool) -> tuple[Section, ...]:
    """Sections of ``text``: a heading path per body, offsets exact into ``text``."""
    sections: list[Section] = []
    stack: list[tuple[int, str]] = []
    current_start = body_start
    current_path: tuple[str, ...] = ()
    current_level = 0
    pos = body_start
    for line in text[body_start:].splitlines(keepends=True):
        heading = _heading_of(line, markdown)
        if heading is not None:
            if has_content(text[current_start:pos]):
                sections.append(Section(current_path, current_level, current_start, pos))
            level, title = heading
            while stack and stack[-1][0] >= level:
                stack.pop()
            stack.append((level, title))
            current_path = tuple(t for _, t in stack)
            current_level = level
            current_start = pos + len(line)
        pos += len(line)
    if has_content(text[current_start:]):
        sections.append(Section(current_path, current_level, current_start, len(text)))
    return tuple(sections)


def load_document(path: Path) -> Document:
    """Read one .md/.txt file; raise CorpusError with a clear message if it cannot be used."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise CorpusError(f"ファイルを読めません: {path}", f"cannot read {path}: {exc}") from exc
    if len(raw) > MAX_FILE_BYTES:
        raise CorpusError(
            f"ファイルが大きすぎます（{len(raw) // 1024 // 1024} MB）: {path}",
            f"file too large ({len(raw)} bytes, limit {MAX_FILE_BYTES}): {path}",
        )
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CorpusError(
            f"UTF-8 ではないファイルです: {path}（UTF-8 で保存し直してください）",
            f"not UTF-8: {path} (re-save it as UTF-8): {exc}",
        ) from exc
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    markdown = path.suffix.lower() == ".md"
    meta, body_start = _parse_front_matter(text) if markdown else ({}, 0)
    kind = meta.get("kind", "other")
    if kind not in KINDS:
        kind = "other"
    return Document(
        doc_id=path.stem,
        path=path,
        title=meta.get("title") or path.stem,
        kind=kind,
        issuer=meta.get("issuer", ""),
        date=meta.get("date", ""),
        text=text,
        sections=split_sections(text, body_start, markdown),
        source=meta.get("source", ""),
        added=meta.get("added", ""),
        sha256=meta.get("sha256", ""),
        pages=_int_or_none(meta.get("pages", "")),
        page_starts=page_starts(text) if markdown else (),
    )


#: The largest thesaurus or expected-questions file read (kb/plain_words.py, kb/expected_questions.py).
MAX_TABLE_BYTES = 5 * 1024 * 1024


def read_table_file(path: Path, name_ja: str, name_en: str) -> str | None:
    """The text of a corpus table file (the thesaurus, the expected questions), or None when no
    file is there; a file too large or not UTF-8 is a CorpusError naming it."""
    if not path.is_file():
        return None
    limit = MAX_TABLE_BYTES // 1024 // 1024
    try:
        if path.stat().st_size > MAX_TABLE_BYTES:
            raise CorpusError(
                f"{name_ja}が大きすぎます（{limit} MB まで）: {path}",
                f"{name_en} too large (max {limit} MB): {path}",
            )
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CorpusError(
            f"{name_ja}を読めません（UTF-8 のテキストにしてください）: {path}",
            f"cannot read the {name_en} (must be UTF-8 text): {path}: {exc}",
        ) from exc


@dataclass(frozen=True)
class KeyedTable:
    """A corpus table file read into (key, values) entries in file order: the thesaurus (plan
    term → aliases, kb/plain_words.py) and the expected questions (anchor → questions,
    kb/expected_questions.py). Keys are normalised excerpts of the corpus."""

    entries: tuple[tuple[str, tuple[str, ...]], ...] = ()
    text: str = ""  # the file as read ("" for an empty table): copied into builds, hashed

    @property
    def digest(self) -> str:
        """Hash of the table's content; part of the corpus hash, so a change rebuilds the index."""
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest() if self.entries else ""

    def __len__(self) -> int:
        return len(self.entries)

    @property
    def value_count(self) -> int:
        return sum(len(values) for _, values in self.entries)

    def keys_in(self, text: str) -> list[str]:
        """The keys that ``text`` (a passage's body) contains, in file order."""
        found = normalize(text)
        return [key for key, _ in self.entries if key in found]

    def values_of(self, keys: Iterable[str]) -> list[str]:
        """The values of ``keys``, each once, in file order."""
        held = set(keys)
        out: dict[str, None] = {}
        for key, values in self.entries:
            if key in held:
                out.update(dict.fromkeys(values))
        return list(out)

    def unused_keys(self, held: Iterable[Iterable[str]]) -> list[str]:
        """The keys in none of ``held`` (the :meth:`keys_in` of each passage), in file order: such
        a key does nothing, usually because it is mistyped or the corpus text changed."""
        found = {key for keys in held for key in keys}
        return [key for key, _ in self.entries if key not in found]


def _int_or_none(value: str) -> int | None:
    return int(value) if value.strip().isdigit() else None


def corpus_files(corpus_dir: Path) -> list[Path]:
    """The files that make up the corpus: *.md and *.txt directly in corpus_dir, sorted.

    ``corpus/source/`` holds the converter's raw input and is not indexed.
    """
    if not corpus_dir.is_dir():
        raise CorpusError(
            f"コーパスのフォルダがありません: {corpus_dir}", f"corpus folder not found: {corpus_dir}"
        )
    return sorted(p for p in corpus_dir.iterdir() if p.is_file() and p.suffix.lower() in CORPUS_SUFFIXES)


def load_corpus(corpus_dir: Path) -> tuple[list[Document], list[CorpusError]]:
    """Load every corpus file. Unreadable files are returned as errors, not raised,
    so one bad file never blocks the rest from being indexed."""
    documents: list[Document] = []
    problems: list[CorpusError] = []
    for path in corpus_files(corpus_dir):
        try:
            doc = load_document(path)
        except CorpusError as exc:
            problems.append(exc)
            continue
        if doc.sections:
            documents.append(doc)
    if not documents:
        raise CorpusError(
            f"索引できる文書がありません: {corpus_dir}",
            f"no indexable documents in {corpus_dir}",
        )
    return documents, problems


def corpus_hash(documents: Iterable[Document], thesaurus_digest: str = "", questions_digest: str = "") -> str:
    """One hash over all documents' ids and contents, the thesaurus (kb/plain_words.py) and the
    expected questions (kb/expected_questions.py) the index read, for the index manifest."""
    digest = hashlib.sha256()
    for doc in sorted(documents, key=lambda d: d.doc_id):
        digest.update(doc.doc_id.encode())
        digest.update(doc.content_hash.encode())
    if thesaurus_digest:
        digest.update(b"plain_words:" + thesaurus_digest.encode())
    if questions_digest:
        digest.update(b"expected_questions:" + questions_digest.encode())
    return digest.hexdigest()
