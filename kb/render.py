"""HTML fragments for the app: every piece of user or corpus text is escaped here.

The functions take library objects (Hit, Citation, Document, Section) and return strings of
HTML. Text is escaped with :func:`esc` before any markup is added around it, so a question
such as ``<script>alert(1)</script>`` or a corpus heading such as ``<本章の内容>`` shows as text.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from kb.corpus import Document, Section
from kb.errors import KBError
from kb.text import query_terms

KIND_LABELS = {
    "plan": "計画本文",
    "glossary": "用語集",
    "national_strategy": "国の戦略",
    "other": "その他",
}
_BLANK_LINES = re.compile(r"\n[ \t\u3000]*(?:\n[ \t\u3000]*)+")
_MD_HEADING_LINE = re.compile(r"^(#{1,6})\s+(.*)$")


def esc(text: object) -> str:
    """HTML-escape any value (quotes included)."""
    return html.escape("" if text is None else str(text), quote=True)


def _join_path(parts: Iterable[str]) -> str:
    return " › ".join(parts)


# --- highlighting -------------------------------------------------------------------------


def _normalized_with_map(text: str) -> tuple[str, list[int]]:
    """NFKC + lower-case text and, for each output character, the input index it came from.

    Normalising character by character keeps the mapping exact; it differs from whole-string
    NFKC only for combining sequences, which do not occur in this corpus' kana or kanji.
    """
    out: list[str] = []
    origin: list[int] = []
    for i, ch in enumerate(text):
        norm = unicodedata.normalize("NFKC", ch).lower()
        out.append(norm)
        origin.extend([i] * len(norm))
    return "".join(out), origin


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def mark_spans(text: str, spans: Sequence[tuple[int, int]], css_class: str = "") -> str:
    """Escape ``text`` and wrap the given (start, end) ranges in <mark>."""
    attr = f' class="{esc(css_class)}"' if css_class else ""
    pieces: list[str] = []
    pos = 0
    for start, end in _merge([(max(0, s), min(len(text), e)) for s, e in spans if e > s]):
        pieces.append(esc(text[pos:start]))
        pieces.append(f"<mark{attr}>{esc(text[start:end])}</mark>")
        pos = end
    pieces.append(esc(text[pos:]))
    return "".join(pieces)


def highlight_terms(text: str, terms: Sequence[str]) -> str:
    """Escape ``text`` and mark every occurrence of ``terms`` (matched after NFKC + lower-case)."""
    if not terms:
        return esc(text)
    norm, origin = _normalized_with_map(text)
    spans: list[tuple[int, int]] = []
    for term in terms:
        needle = unicodedata.normalize("NFKC", term).lower()
        if not needle:
            continue
        for m in re.finditer(re.escape(needle), norm):
            spans.append((origin[m.start()], origin[m.end() - 1] + 1))
    return mark_spans(text, spans)


def passage_div(escaped_html: str) -> str:
    """A pre-wrapped passage block; runs of blank lines (paragraph breaks) become a small gap."""
    body = _BLANK_LINES.sub('<span class="pgap"></span>', escaped_html.strip())
    return f'<div class="passage">{body}</div>'


def passage_html(text: str) -> str:
    """Corpus text as a pre-wrapped block, Markdown heading lines shown as headings."""
    lines = []
    for line in text.split("\n"):
        m = _MD_HEADING_LINE.match(line)
        if m:
            lines.append(f'<span class="md-h md-h{len(m.group(1))}">{esc(m.group(2))}</span>')
        else:
            lines.append(esc(line))
    return passage_div("\n".join(lines))


# --- status and messages --------------------------------------------------------------------


def error_html(exc: KBError) -> str:
    """A bilingual error box (Japanese first)."""
    return (
        '<div class="kb-notice kb-error" role="alert">'
        f'<div class="ja">⚠️ {esc(exc.ja)}</div><div class="en">{esc(exc.en)}</div></div>'
    )


def notice_html(ja: str, en: str, kind: str = "info") -> str:
    return f'<div class="kb-notice kb-{esc(kind)}"><div class="ja">{esc(ja)}</div><div class="en">{esc(en)}</div></div>'


def progress_html(stage: str, fraction: float, note_ja: str = "", note_en: str = "") -> str:
    """A visible progress bar for index preparation."""
    pct = int(round(max(0.0, min(1.0, fraction)) * 100))
    note = f'<div class="ja">{esc(note_ja)}</div><div class="en">{esc(note_en)}</div>' if note_ja else ""
    return (
        f'<div class="kb-notice kb-progress" data-progress="{pct}">'
        f"<div>⏳ 索引を準備しています / preparing the index: <b>{esc(stage)}</b> {pct}%</div>"
        f'<progress max="100" value="{pct}">{pct}%</progress>{note}</div>'
    )


def ready_html(documents: int, chunks: int, built_at: str, note: str = "") -> str:
    extra = f' <span class="warn">{esc(note)}</span>' if note else ""
    return (
        '<div class="kb-ready" data-ready="true">✅ 準備完了 / ready — '
        f"{documents} 文書・{chunks} 区画（索引作成 {esc(built_at)}）{extra}</div>"
    )


# --- chat ------------------------------------------------------------------------------------


def chat_text(text: str) -> str:
    """A chat message for gr.Chatbot (which renders Markdown): HTML special characters escaped."""
    return esc(text)


def searched_query_html(query: str, note: str = "") -> str:
    """The query actually searched (a follow-up is rewritten with its topic), and any answer note."""
    if not query:
        return ""
    extra = f'<div class="answer-note">{esc(note)}</div>' if note else ""
    return f'<div class="searched">🔍 検索した語 / searched: <code>{esc(query)}</code>{extra}</div>'


def suggestions_html(suggestions: Sequence[str], bodies: Sequence[str | None] = ()) -> str:
    """Related sections offered when the answer abstains, each expandable when its text is known."""
    if not suggestions:
        return ""
    items = []
    for i, label in enumerate(suggestions):
        body = bodies[i] if i < len(bodies) else None
        if body:
            items.append(f"<li><details><summary>{esc(label)}</summary>{body}</details></li>")
        else:
            items.append(f"<li>{esc(label)}</li>")
    return (
        '<div class="suggestions"><div>💡 関連しそうな箇所 / related sections — 開いて読めます / click to read</div>'
        f"<ul>{''.join(items)}</ul></div>"
    )


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


def citation_card(citation: Any, view: SectionView | None) -> str:
    """One citation card: number, section path, the chunk with the quote marked, the whole section."""
    text = citation.chunk_text
    q = text.find(citation.quote) if citation.quote else -1
    quote_spans = [(q, q + len(citation.quote))] if q >= 0 else []
    path = citation.location
    body = mark_spans(text, quote_spans, "quote")
    section_block = ""
    if view is not None:
        offset = view.chunk_start
        spans = [(offset + s, offset + e) for s, e in quote_spans]
        section_block = (
            '<details class="cite-section"><summary>📄 この節の全文を読む / read the whole section'
            f" — {esc(_join_path(view.heading_path) or '冒頭 / front matter')}</summary>"
            f"{passage_div(mark_spans(view.text, spans, 'quote'))}</details>"
        )
    return (
        f'<div class="cite-card" id="cite-{int(citation.n)}" data-chunk-id="{esc(citation.chunk_id)}">'
        f'<div class="cite-head"><span class="cite-n">[{int(citation.n)}]</span> '
        f'<span class="cite-path">{esc(path)}</span></div>'
        f"{passage_div(body)}{section_block}</div>"
    )


def citations_html(cards: Sequence[str], answerable: bool) -> str:
    """The citation area; ``data-answerable`` lets tests and scripts read the outcome."""
    state = "true" if answerable else "false"
    if not cards:
        return f'<div class="citations" data-answerable="{state}" data-count="0"></div>'
    title = "<h3>📚 引用元 / sources</h3>"
    return f'<div class="citations" data-answerable="{state}" data-count="{len(cards)}">{title}{"".join(cards)}</div>'


# --- search ----------------------------------------------------------------------------------


def search_results_html(query: str, hits: Sequence[Any], mode: str) -> str:
    """Ranked hits with rank, section path, score and the query terms marked."""
    if not hits:
        return notice_html(
            f"「{query}」に該当する箇所は見つかりませんでした。言葉を変えるか、絞り込みを外してください。",
            "No matching passages: try other words or remove the filters.",
        )
    terms = query_terms(query)
    items = []
    for h in hits:
        kind = KIND_LABELS.get(h.kind, h.kind)
        items.append(
            f'<li class="hit" data-rank="{int(h.rank)}" data-chunk-id="{esc(h.chunk_id)}">'
            f'<div class="hit-head"><span class="hit-rank">{int(h.rank)}</span> '
            f'<span class="hit-path">{esc(h.location)}</span>'
            f' <span class="badge">{esc(kind)}</span>'
            f' <span class="hit-score">score {float(h.score):.4f}</span></div>'
            f"{passage_div(highlight_terms(h.text, terms))}</li>"
        )
    head = f'<div class="hits-head">「{esc(query)}」の検索結果 {len(hits)} 件（{esc(mode)}） / {len(hits)} results</div>'
    return f'<div class="hits">{head}<ol class="hit-list">{"".join(items)}</ol></div>'


# --- documents -------------------------------------------------------------------------------


@dataclass(frozen=True)
class TreeNode:
    """A heading in a document's outline with the text range of everything under it."""

    heading_path: tuple[str, ...]
    start: int
    end: int

    @property
    def key(self) -> str:
        return _join_path(self.heading_path) or FRONT_MATTER_KEY

    @property
    def label(self) -> str:
        if not self.heading_path:
            return "（冒頭 / front matter）"
        return (
            "\u3000" * (len(self.heading_path) - 1)
            + ("■ " if len(self.heading_path) == 1 else "└ ")
            + self.heading_path[-1]
        )


FRONT_MATTER_KEY = "(冒頭)"


def section_tree(doc: Document) -> list[TreeNode]:
    """Every heading of ``doc`` in reading order, including headings with no text of their own."""
    ranges: dict[tuple[str, ...], list[int]] = {}
    for section in doc.sections:
        paths = [section.heading_path[:i] for i in range(1, len(section.heading_path) + 1)] or [()]
        for path in paths:
            span = ranges.setdefault(path, [section.start, section.end])
            span[0] = min(span[0], section.start)
            span[1] = max(span[1], section.end)
    return [TreeNode(path, start, end) for path, (start, end) in ranges.items()]


def section_reader_html(doc: Document, node: TreeNode) -> str:
    """A heading path breadcrumb and the text under it."""
    crumbs = " › ".join(f"<span>{esc(p)}</span>" for p in (doc.title, *node.heading_path))
    text = doc.text[node.start : node.end].strip("\n")
    return f'<div class="reader"><div class="crumbs">{crumbs}</div>{passage_html(text)}</div>'


# --- style -----------------------------------------------------------------------------------

CSS = """
.app-head h1 { margin: 0 0 .2rem; font-size: 1.6rem; }
.app-head p { margin: 0; color: var(--body-text-color-subdued); }
.en, .kb-notice .en { color: var(--body-text-color-subdued); font-size: .85em; }
.kb-notice { border-radius: 8px; padding: .6rem .9rem; margin: .3rem 0; border: 1px solid var(--border-color-primary); }
.kb-error { background: #fdecec; border-color: #e8a0a0; color: #7a1414; }
.kb-warn { background: #fff7e0; border-color: #e6c66a; }
.kb-ok { background: #eaf7ee; border-color: #9fd3ad; }
.kb-progress progress { width: 100%; height: 14px; margin-top: .3rem; accent-color: var(--color-accent); }
.kb-ready { color: #1e6b34; font-size: .9rem; }
.kb-ready .warn, .answer-note { color: #8a5a00; font-size: .85em; }
.searched { margin: .4rem 0; }
.searched code { font-size: 1em; background: var(--background-fill-secondary); padding: 0 .3em; border-radius: 4px; }
.suggestions { background: #fff7e0; border: 1px solid #e6c66a; border-radius: 8px; padding: .5rem .9rem; }
.suggestions ul { margin: .3rem 0 0 1.2rem; }
.suggestions summary { cursor: pointer; }
.suggestions .passage { max-height: 18rem; background: var(--background-fill-primary); padding: .3rem .5rem; }
.citations h3 { margin: .6rem 0 .3rem; font-size: 1.05rem; }
.cite-card, .hit { border: 1px solid var(--border-color-primary); border-left: 4px solid var(--color-accent);
  border-radius: 8px; padding: .6rem .8rem; margin: .5rem 0; background: var(--background-fill-primary); }
.cite-head, .hit-head { font-weight: 600; margin-bottom: .3rem; }
.cite-n, .hit-rank { display: inline-block; min-width: 1.8em; color: var(--color-accent); }
.hit-list { list-style: none; padding: 0; margin: 0; }
.hit-score { font-weight: 400; color: var(--body-text-color-subdued); font-size: .85em; margin-left: .4em; }
.badge { font-weight: 400; font-size: .75em; border-radius: 999px; padding: .05em .6em; background: var(--background-fill-secondary);
  border: 1px solid var(--border-color-primary); }
.passage { white-space: pre-wrap; line-height: 1.75; font-size: .95rem; max-height: 28rem; overflow-y: auto; }
.passage .pgap { display: block; height: .45em; }
.passage mark { background: #fff0a0; padding: 0 .1em; border-radius: 2px; }
.passage mark.quote { background: #ffe066; box-shadow: 0 0 0 1px #e0b800; }
.md-h { font-weight: 700; display: inline-block; margin-top: .3rem; }
.md-h1 { font-size: 1.2em; } .md-h2 { font-size: 1.1em; }
.cite-section { margin-top: .4rem; }
.cite-section summary { cursor: pointer; color: var(--color-accent); }
.cite-section .passage { border-top: 1px dashed var(--border-color-primary); margin-top: .3rem; padding-top: .3rem; }
.reader .crumbs { font-weight: 600; margin-bottom: .5rem; }
.reader .passage { max-height: 60vh; }
.hits-head { margin: .3rem 0; color: var(--body-text-color-subdued); }
"""
