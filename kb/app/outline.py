"""A document's outline: every heading with the text range of everything under it.

:func:`section_tree` is what the 資料 tab lists and reads; :func:`section_view` finds the whole
section around a cited chunk. Offsets are into ``Document.text`` (the file exactly as stored).
"""

from __future__ import annotations

from dataclasses import dataclass

from kb.corpus import SECTION_SEPARATOR, Document, Section

FRONT_MATTER_KEY = "(冒頭)"
FRONT_MATTER_LABEL = "（冒頭 / front matter）"


@dataclass(frozen=True)
class TreeNode:
    """A heading and the range [start, end) of the text under it (its own heading line excluded,
    every sub-heading line included)."""

    heading_path: tuple[str, ...]
    start: int
    end: int

    @property
    def key(self) -> str:
        """The value the section picker sends: the heading path, 「第1章 … › 1.3 …」."""
        return SECTION_SEPARATOR.join(self.heading_path) or FRONT_MATTER_KEY

    @property
    def title(self) -> str:
        return self.heading_path[-1] if self.heading_path else FRONT_MATTER_LABEL

    @property
    def label(self) -> str:
        """What the picker shows: the heading indented by its depth."""
        if not self.heading_path:
            return FRONT_MATTER_LABEL
        depth = len(self.heading_path)
        return "\u3000" * (depth - 1) + ("■ " if depth == 1 else "└ ") + self.heading_path[-1]


def _heading_text(line: str) -> str:
    """The title on a heading line, Markdown (``## 1.1 目的``) or plain text (``<本章の内容>``)."""
    text = line.strip()
    if text.startswith("#"):
        text = text.lstrip("#").strip().rstrip("#").strip()
    return text.strip("<>＜＞〈〉【】").strip()


def _after_heading(doc: Document, gap_start: int, body_start: int, title: str) -> int:
    """Where the text under ``title`` begins: just after its heading line, found between the
    previous section's end and the body of the heading's first section. Falls back to that body."""
    pos = gap_start
    for line in doc.text[gap_start:body_start].splitlines(keepends=True):
        pos += len(line)
        if _heading_text(line) == title:
            return pos
    return body_start


def section_tree(doc: Document) -> list[TreeNode]:
    """Every heading of ``doc`` in reading order, including headings with no text of their own.

    A heading's range starts after its own heading line, so the sub-headings that come before
    its first text (「本章の内容」 under 第1章, 「i 用語集 › オープンシステム」 under 補足説明) are
    part of what it shows.
    """
    ranges: dict[tuple[str, ...], list[int]] = {}
    previous_end = 0
    for section in doc.sections:
        paths = [section.heading_path[:i] for i in range(1, len(section.heading_path) + 1)] or [()]
        for path in paths:
            if path in ranges:
                ranges[path][1] = max(ranges[path][1], section.end)
                continue
            start = _after_heading(doc, previous_end, section.start, path[-1]) if path else section.start
            ranges[path] = [start, section.end]
        previous_end = section.end
    return [TreeNode(path, start, end) for path, (start, end) in ranges.items()]


def find_node(nodes: list[TreeNode], heading_path: tuple[str, ...]) -> TreeNode | None:
    return next((n for n in nodes if n.heading_path == heading_path), None)


@dataclass(frozen=True)
class SectionView:
    """The section a cited chunk sits in, and where the chunk is inside the section text."""

    heading_path: tuple[str, ...]
    text: str
    chunk_start: int
    chunk_end: int


def find_section(doc: Document, start: int, end: int) -> Section | None:
    """The section of ``doc`` whose body contains the offsets [start, end)."""
    for section in doc.sections:
        if section.start <= start and end <= section.end:
            return section
    return None


def section_view(
    doc: Document | None, chunk_text: str, start: int | None, end: int | None
) -> SectionView | None:
    """Locate a chunk's whole section by its offsets; by its text when the offsets do not fit."""
    if doc is None:
        return None
    if start is None or end is None or doc.text[start:end] != chunk_text:
        found = doc.text.find(chunk_text)
        if found < 0:
            return None
        start, end = found, found + len(chunk_text)
    section = find_section(doc, start, end)
    if section is None:
        return None
    return SectionView(
        section.heading_path, doc.section_text(section), start - section.start, end - section.start
    )
