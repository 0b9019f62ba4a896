"""The converter's output: a document as headings and paragraphs, and its Markdown with front
matter (what corpus/*.md holds)."""

from __future__ import annotations

from dataclasses import dataclass, field

ISSUER = "枚方市"
DATE = "2024-03"


@dataclass
class Heading:
    level: int
    text: str


@dataclass
class Para:
    lines: list[str]
    figure_like: bool = False  # tables, short labels, lists: candidates for a figure body


@dataclass
class DocOut:
    slug: str
    title: str
    kind: str
    items: list[Heading | Para] = field(default_factory=list)

    def add(self, item: Heading | Para) -> None:
        self.items.append(item)


def _drop_empty_repeats(items: list[Heading | Para]) -> list[Heading | Para]:
    """Drop a repeated heading (emitted to close a figure) when nothing follows it."""
    kept: list[Heading | Para] = []
    seen: set[tuple[int, str]] = set()
    for i, item in enumerate(items):
        if isinstance(item, Heading):
            key = (item.level, item.text)
            nxt = items[i + 1] if i + 1 < len(items) else None
            empty = nxt is None or (isinstance(nxt, Heading) and nxt.level <= item.level)
            if key in seen and empty:
                continue
            seen.add(key)
        kept.append(item)
    return kept


def to_markdown(doc: DocOut) -> str:
    """Render one document with its front matter."""
    out = [
        "---",
        f"title: {doc.title}",
        f"kind: {doc.kind}",
        f"issuer: {ISSUER}",
        f"date: {DATE}",
        "source: corpus/source/hirakata_joho_kihon_keikaku_3ki.txt",
        "---",
        "",
    ]
    for item in _drop_empty_repeats(doc.items):
        if isinstance(item, Heading):
            out.append(f"{'#' * item.level} {item.text}")
            out.append("")
        else:
            for line in item.lines:
                out.append(line)
                out.append("")
    return "\n".join(out).rstrip() + "\n"
