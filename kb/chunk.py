"""Structure-aware chunking: chunks never cross a section, split at paragraphs and sentences.

Every chunk is an exact offset range into its document's text (``doc.text[start:end] ==
chunk.text``), so a quote can always be checked and shown in its surrounding section.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace

from kb.corpus import COMMENT_LINE, SECTION_SEPARATOR, Document, Section
from kb.text import sentence_spans, sentence_units

# Tables of contents are navigation, not content: browsable, never retrieved.
NAVIGATION_HEADINGS = {"目次", "もくじ", "Contents", "Table of Contents"}


@dataclass(frozen=True)
class SectionRef:
    """A place in the corpus: a document and a heading path (what suggestions point to)."""

    doc_id: str
    doc_title: str
    heading_path: tuple[str, ...]

    @property
    def section(self) -> str:
        """The heading path as one string, e.g. "第4章 … › 4.2 … › 取組1-2 …"."""
        return SECTION_SEPARATOR.join(self.heading_path)

    @property
    def location(self) -> str:
        """「document › section」 as shown to people; the document title alone at its top."""
        return SECTION_SEPARATOR.join((self.doc_title, *self.heading_path))


@dataclass(frozen=True)
class Chunk:
    """A passage: the unit that is indexed, retrieved and cited."""

    chunk_id: str
    doc_id: str
    doc_title: str
    kind: str
    heading_path: tuple[str, ...]
    start: int
    end: int
    text: str
    page: int | None = None  # page of the original PDF where the chunk starts (None: no pages)

    @property
    def ref(self) -> SectionRef:
        """Where this chunk sits: its document and heading path."""
        return SectionRef(self.doc_id, self.doc_title, self.heading_path)

    @property
    def section(self) -> str:
        """The heading path as one string, e.g. "第4章 … › 4.2 … › 取組1-2 …"."""
        return self.ref.section

    @property
    def location(self) -> str:
        """「document › section」, the citation's place as shown to people."""
        return self.ref.location

    @property
    def chapter(self) -> str:
        """The top-level heading (第N章 … for the plan); filters use it."""
        return self.heading_path[0] if self.heading_path else ""

    @property
    def embed_text(self) -> str:
        """What the embedding model sees: the body alone (measured: adding the heading path
        lowered semantic hit@1 on the dev questions from 0.55 to 0.42 with e5-small)."""
        return self.text

    @property
    def term_text(self) -> str:
        """Heading path and body, without the document title that every chunk of a document
        shares: where the thesaurus (kb/plain_words.py) looks for the terms a chunk is about."""
        return f"{self.section}\n{self.text}" if self.section else self.text

    @property
    def index_text(self) -> str:
        """What keyword scoring sees: the section path gives context to short passages."""
        return f"{self.doc_title} | {self.section}\n{self.text}" if self.section else self.text


def _chunk_id(doc_id: str, heading_path: tuple[str, ...], text: str) -> str:
    # Content hash: the same passage under the same heading keeps its id across rebuilds,
    # which makes re-indexing incremental (unchanged chunks reuse their vectors).
    digest = hashlib.sha256("\x1f".join((doc_id, *heading_path, text)).encode("utf-8"))
    return digest.hexdigest()[:20]


# Where an over-long sentence (a table row, a figure's caption list) may be cut, best first: before
# a figure's bullet (「… ■ 自治体の…」), then a comma, then a space or a list separator. Without one, a
# cut lands inside a word (「ケー|ブル」) and every quote of the next chunk starts with half a word;
# a cut at a comma inside a bullet's item leaves half the item in each chunk (「…の意義・効果、|作業
# 手順等を示す」), and neither half is a quote that answers.
_BULLET_BEFORE = re.compile(r"\s(?=[■□●◆✓⇒①-⑳])")
_SOFT_CUTS = ("、", "，", " ", "　", "・", "/", "／", "）", ")")


def _soft_cut(text: str, start: int, limit: int) -> int:
    """The end of the next piece of text[start:] of at most limit - start characters."""
    half = start + (limit - start) // 2
    bullets = [m.start() for m in _BULLET_BEFORE.finditer(text, half + 1, limit)]
    if bullets:
        return bullets[-1] + 1
    for marks in (_SOFT_CUTS[:2], _SOFT_CUTS[2:]):
        cut = max(text.rfind(m, start, limit) for m in marks)
        if cut > half:
            return cut + 1
    return limit


def _units(text: str, section: Section, max_chars: int) -> list[tuple[int, int]]:
    """Split a section body into units no longer than max_chars: sentences/lines, then hard cuts."""
    units: list[tuple[int, int]] = []
    for start, end in sentence_spans(text, section.start, section.end):
        # Trim surrounding whitespace so chunks start and end on text.
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        if start >= end:
            continue
        while end - start > max_chars:
            cut = _soft_cut(text, start, start + max_chars)
            units.append((start, cut))
            start = cut
            while start < end and text[start].isspace():
                start += 1
        units.append((start, end))
    return units


def _comment_free_parts(doc: Document, section: Section) -> list[Section]:
    """The section body cut at whole-line comments (``<!-- page N -->``), which no chunk
    includes: a chunk stays on one page and its text never shows a marker."""
    parts: list[Section] = []
    start = section.start
    for m in COMMENT_LINE.finditer(doc.text, section.start, section.end):
        if m.start() > start:
            parts.append(Section(section.heading_path, section.level, start, m.start()))
        start = m.end()
    if start < section.end:
        parts.append(Section(section.heading_path, section.level, start, section.end))
    return parts


def chunk_section(doc: Document, section: Section, target: int, max_chars: int, overlap: int) -> list[Chunk]:
    """Pack a section's sentences into chunks of about ``target`` characters.

    A new chunk starts with the previous chunk's last sentence when that sentence is short
    enough (``overlap``), so a fact split across a boundary is still found whole once.
    Comment lines (page markers) end a chunk; each chunk records the page it starts on.
    """
    if not doc.page_starts and "<!--" not in doc.section_text(section):
        return _chunk_part(doc, section, target, max_chars, overlap)
    chunks: list[Chunk] = []
    for part in _comment_free_parts(doc, section):
        chunks.extend(_chunk_part(doc, part, target, max_chars, overlap))
    return chunks


def _chunk_part(doc: Document, section: Section, target: int, max_chars: int, overlap: int) -> list[Chunk]:
    units = _units(doc.text, section, max_chars)
    chunks: list[Chunk] = []
    i = 0
    while i < len(units):
        first = i
        start = units[i][0]
        end = units[i][1]
        i += 1
        while i < len(units) and units[i][1] - start <= max_chars and (end - start) < target:
            end = units[i][1]
            i += 1
        text = doc.text[start:end]
        chunks.append(
            Chunk(
                chunk_id=_chunk_id(doc.doc_id, section.heading_path, text),
                doc_id=doc.doc_id,
                doc_title=doc.title,
                kind=doc.kind,
                heading_path=section.heading_path,
                start=start,
                end=end,
                text=text,
                page=doc.page_at(start),
            )
        )
        if i < len(units) and i - first > 1:
            last_start, last_end = units[i - 1]
            if last_end - last_start <= overlap:
                i -= 1  # repeat the last short sentence at the start of the next chunk
    return _merge_tiny_tail(doc, chunks, max_chars)


def _merge_tiny_tail(doc: Document, chunks: list[Chunk], max_chars: int) -> list[Chunk]:
    """A last chunk of a few characters is merged into the previous one when it fits."""
    if len(chunks) >= 2 and len(chunks[-1].text) < 40 and chunks[-1].end - chunks[-2].start <= max_chars:
        prev, last = chunks[-2], chunks[-1]
        text = doc.text[prev.start : last.end]
        merged = replace(
            prev, chunk_id=_chunk_id(prev.doc_id, prev.heading_path, text), end=last.end, text=text
        )
        return [*chunks[:-2], merged]
    return chunks


def chunk_documents(
    documents: Iterable[Document], target: int = 300, max_chars: int = 450, overlap: int = 60
) -> list[Chunk]:
    """Chunks of all documents, in document and section order, ids unique."""
    chunks: list[Chunk] = []
    seen: set[str] = set()
    for doc in documents:
        for section in doc.sections:
            if section.heading_path and section.heading_path[-1] in NAVIGATION_HEADINGS:
                continue
            for chunk in chunk_section(doc, section, target, max_chars, overlap):
                if chunk.chunk_id not in seen:  # identical repeated passages are indexed once
                    seen.add(chunk.chunk_id)
                    chunks.append(chunk)
    return chunks


class ChunkView:
    """Read-through names for types that hold a ``chunk`` (Hit, Citation): hit.text, not hit.chunk.text."""

    chunk: Chunk

    chunk_id = property(lambda self: self.chunk.chunk_id)
    doc_id = property(lambda self: self.chunk.doc_id)
    doc_title = property(lambda self: self.chunk.doc_title)
    kind = property(lambda self: self.chunk.kind)
    section = property(lambda self: self.chunk.section)
    location = property(lambda self: self.chunk.location)
    heading_path = property(lambda self: self.chunk.heading_path)
    text = property(lambda self: self.chunk.text)
    chunk_text = property(lambda self: self.chunk.text)
    start = property(lambda self: self.chunk.start)
    end = property(lambda self: self.chunk.end)
    page = property(lambda self: self.chunk.page)


@dataclass(frozen=True)
class Sentence:
    """A sentence or list item of a chunk, embedded on its own (offsets within ``chunk.text``)."""

    chunk: Chunk
    start: int
    end: int

    @property
    def sentence_id(self) -> str:
        # Chunk ids are content hashes, so this id is stable across rebuilds too.
        return f"{self.chunk.chunk_id}:{self.start}:{self.end}"

    @property
    def text(self) -> str:
        return self.chunk.text[self.start : self.end]


def chunk_sentences(chunks: Iterable[Chunk], min_chars: int) -> list[Sentence]:
    """The sentence units of every chunk, in chunk order."""
    return [Sentence(c, a, b) for c in chunks for a, b in sentence_units(c.text, min_chars)]
