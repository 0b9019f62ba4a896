"""One answer as the app shows it: the chat message with [n] links, and its own sources block.

Every answer is a *turn* (1, 2, … in this conversation). Its cards have ids ``cite-{turn}-{n}``,
unique on the page, and the ``[n]`` markers of that answer link to them, so earlier answers keep
their sources. Citations of the same passage share one card that highlights all their quotes.
What a card shows is decided in :func:`merge_citations` (the data) and :func:`card_html` (the
markup): later additions such as a best-sentence span or a confidence label go there.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from kb.app.html import esc, mark_spans, passage_div, passage_html
from kb.app.outline import SectionView
from kb.chunk import Chunk
from kb.corpus import SECTION_SEPARATOR
from kb.text import normalize

_MARKER = re.compile(r"\[(\d+)\]")


def cite_id(turn: int, n: int) -> str:
    return f"cite-{int(turn)}-{int(n)}"


@dataclass(frozen=True)
class Card:
    """One cited passage of one answer: the citation numbers that point at it and their quotes."""

    numbers: tuple[int, ...]
    chunk: Chunk
    quotes: tuple[str, ...]
    view: SectionView | None = None

    def quote_spans(self) -> list[tuple[int, int]]:
        """Where the quotes are in the chunk text (every occurrence's first match)."""
        spans = []
        for quote in self.quotes:
            at = self.chunk.text.find(quote) if quote else -1
            if at >= 0:
                spans.append((at, at + len(quote)))
        return spans


def merge_citations(
    citations: Sequence[Any], view_of: Callable[[Any], SectionView | None] = lambda c: None
) -> list[Card]:
    """One Card per chunk, in order of first citation (kb.answer.Citation: n, chunk, quote)."""
    by_chunk: dict[str, list[Any]] = {}
    for c in citations:
        by_chunk.setdefault(c.chunk_id, []).append(c)
    cards = []
    for group in by_chunk.values():
        quotes = tuple(dict.fromkeys(c.quote for c in group if c.quote))
        cards.append(Card(tuple(int(c.n) for c in group), group[0].chunk, quotes, view_of(group[0])))
    return cards


def card_html(card: Card, turn: int) -> str:
    """A card: its [n] numbers (each an anchor), the section path, the quotes on their own line
    (shown on phones only), the passage with the quotes marked (open; folded on phones by
    static/app.js) and the whole section folded underneath."""
    spans = card.quote_spans()
    anchors = "".join(f'<span class="cite-anchor" id="{cite_id(turn, n)}"></span>' for n in card.numbers[1:])
    numbers = "".join(f"[{n}]" for n in card.numbers)
    page = (
        f' <span class="cite-page" data-page="{int(card.chunk.page)}">p. {int(card.chunk.page)}</span>'
        if card.chunk.page is not None
        else ""
    )
    section_block = ""
    if card.view is not None:
        offset = card.view.chunk_start
        shifted = [(offset + s, offset + e) for s, e in spans]
        where = SECTION_SEPARATOR.join(card.view.heading_path) or "冒頭 / front matter"
        section_block = (
            '<details class="cite-section"><summary>📄 この節の全文を読む / read the whole section'
            f" — {esc(where)}</summary>{passage_div(mark_spans(card.view.text, shifted, 'quote'))}</details>"
        )
    quotes = "".join(f"<span>「{esc(q)}」</span>" for q in card.quotes)
    return (
        f'<div class="cite-card" id="{cite_id(turn, card.numbers[0])}" data-chunk-id="{esc(card.chunk.chunk_id)}"'
        f' data-numbers="{" ".join(str(n) for n in card.numbers)}">{anchors}'
        f'<div class="cite-head"><span class="cite-n">{numbers}</span> '
        f'<span class="cite-path">{esc(card.chunk.location)}</span>{page}</div>'
        f'<div class="cite-quote">{quotes}</div>'
        '<details class="cite-context" open><summary>前後の文 / the passage</summary>'
        f"{passage_div(mark_spans(card.chunk.text, spans, 'quote'))}</details>{section_block}</div>"
    )


def chat_text(text: str) -> str:
    """A chat message for gr.Chatbot (which renders Markdown): HTML special characters escaped."""
    return esc(text)


def linked_answer(text: str, turn: int, numbers: Sequence[int]) -> str:
    """The escaped answer with each cited [n] turned into a link to this turn's card n."""
    cited = set(numbers)

    def link(m: re.Match[str]) -> str:
        n = int(m.group(1))
        if n not in cited:
            return m.group(0)
        return (
            f'<a class="cite-ref" href="#{cite_id(turn, n)}" data-turn="{int(turn)}" data-n="{n}">[{n}]</a>'
        )

    return _MARKER.sub(link, chat_text(text))


def searched_query_html(typed: str, searched: str, note: str = "") -> str:
    """The query actually searched, only when it differs from what was typed (a follow-up
    rewritten with its topic), and any note about the answer."""
    parts = []
    if searched and normalize(searched) != normalize(typed):
        parts.append(f'<div class="searched">🔍 検索した語 / searched: <code>{esc(searched)}</code></div>')
    if note:
        parts.append(f'<div class="answer-note">{esc(note)}</div>')
    return "".join(parts)


def suggestions_html(suggestions: Sequence[str], bodies: Sequence[str | None] = ()) -> str:
    """Related sections offered when the answer abstains, each expandable when its text is known."""
    if not suggestions:
        return ""
    items = []
    for i, label in enumerate(suggestions):
        body = bodies[i] if i < len(bodies) else None
        if body:
            items.append(f"<li><details><summary>{esc(label)}</summary>{passage_html(body)}</details></li>")
        else:
            items.append(f"<li>{esc(label)}</li>")
    return (
        '<div class="suggestions"><div>💡 関連しそうな箇所 / related sections — 開いて読めます / click to read</div>'
        f"<ul>{''.join(items)}</ul></div>"
    )


def confidence_html(answer: Any) -> str:
    """How strongly the passages support the answer (高 / 中 / 低 and why); nothing when declined."""
    label = getattr(answer, "confidence_label", "")
    if not label:
        return ""
    level = {"高": "high", "中": "mid", "低": "low"}.get(label, "low")
    return (
        f'<div class="confidence confidence-{level}" data-confidence="{esc(label)}">'
        f"確からしさ / confidence: <b>{esc(label)}</b> — {esc(answer.confidence_reason)}</div>"
    )


def turn_html(
    turn: int,
    question: str,
    answer: Any,
    cards: Sequence[Card],
    suggestion_bodies: Sequence[str | None] = (),
) -> str:
    """The sources block of one answer (kb.answer.Answer): the question it answered, the searched
    query when it was rewritten, suggestions when it abstained, and one card per cited passage."""
    state = "true" if answer.answerable else "false"
    body = confidence_html(answer) + searched_query_html(question, answer.query, answer.note)
    if not answer.answerable:
        body += suggestions_html([s.location for s in answer.suggestions], suggestion_bodies)
    if cards:
        body += "".join(card_html(card, turn) for card in cards)
    if not cards:
        count = "引用なし / no sources"
    elif answer.answerable:
        count = f"引用 {len(cards)} 件 / {len(cards)} sources"
    else:  # a declined answer's passage is shown as related, never as its source
        count = f"参考 {len(cards)} 件 / {len(cards)} related"
    return (
        f'<details class="turn" id="turn-{int(turn)}" data-turn="{int(turn)}" data-answerable="{state}"'
        f' data-count="{len(cards)}"><summary class="turn-head"><span class="turn-n">Q{int(turn)}</span> '
        f'<span class="turn-q">{esc(question)}</span> <span class="turn-count">{count}</span></summary>'
        f'<div class="citations">{body}</div></details>'
    )


def sources_html(turns: Sequence[str]) -> str:
    """Every answer's sources block, newest first; older ones folded (a [n] link opens them)."""
    if not turns:
        return ""
    *older, newest = turns
    newest = newest.replace('<details class="turn"', '<details class="turn" open', 1)
    title = '<h3 class="sources-title">📚 引用元 / sources</h3>'
    return f'<div class="sources">{title}{newest}{"".join(reversed(older))}</div>'
