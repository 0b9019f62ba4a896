"""What can be quoted and how a quote is shown: sentences and short list items cut from a passage
(balanced brackets, no bare word lists), numbered citations, and the check that a quote is
verbatim in its chunk."""

from __future__ import annotations

import re
from collections.abc import Sequence

from kb.answer import patterns as P
from kb.answer.types import Citation
from kb.era import with_western
from kb.retrieve import Hit
from kb.text import sentence_spans


def _bracket_depth(text: str) -> int:
    return sum(text.count(c) for c in P.OPEN_BRACKETS) - sum(text.count(c) for c in P.CLOSE_BRACKETS)


def _balanced_spans(text: str, max_chars: int = 300) -> list[tuple[int, int]]:
    """Sentence spans, joined across line breaks that fall inside 「…」 or （…） (the PDF breaks
    lines anywhere: 「自治体のAI⏎・RPAの利用推進」 is one phrase)."""
    out: list[tuple[int, int]] = []
    for start, end in sentence_spans(text):
        if out and _bracket_depth(text[out[-1][0] : out[-1][1]]) > 0 and end - out[-1][0] <= max_chars:
            out[-1] = (out[-1][0], end)
        else:
            out.append((start, end))
    return out


def quotable_sentences(text: str) -> list[tuple[str, str]]:
    """(quote, row label) of :func:`quotable_units`."""
    return [(quote, label) for quote, label, _ in quotable_units(text)]


def quotable_units(text: str, sources: bool = False) -> list[tuple[str, str, bool]]:
    """Quotable sentences of a chunk with the row label each was cut from (「期待する効果」, or "").

    Quotes are verbatim substrings, never cut inside brackets, without a leading bullet, row
    label or connective; page notes and reference rows are left out. The label is kept beside
    the quote because a question can ask for the row by its name (「取組2-4の期待する効果」).
    The third field says whether the sentence goes on from the one before (P.CONTINUATION).
    With ``sources``, a figure's source line is quoted too, labelled with what it is the source
    of (:func:`cited_text`).
    """
    out = []
    # A figure's box label on its own line (【基本目標3】) names the line that follows it.
    box = ""
    for start, end in _balanced_spans(text):
        for piece in P.BULLET_CUT.split(text[start:end]):
            quote = P.LEADING_MARK.sub("", piece).strip()
            if sources and P.SOURCE_LINE.match(quote):
                out.append((quote, cited_text(text, text.find(quote, start)), False))
                box = ""
                continue
            if P.SKIP_LINE.match(quote):
                box = quote[1:-1] if P.BOX_LABEL.match(quote) else ""
                continue
            follows = bool(P.CONTINUATION.match(quote))
            label = P.LEADING_LABEL.match(quote)
            # a bullet can follow the label (「期待する効果: ・…」)
            quote = P.LEADING_MARK.sub("", quote[label.end() :]).strip() if label else quote
            if len(quote) >= 6 and not P.SKIP_LINE.match(quote) and not _word_list(quote):
                out.append((quote, (label.group(1) if label else "") or box, follows))
            box = ""
    return out


def cited_text(text: str, at: int, max_chars: int = 300) -> str:
    """What the source line at offset ``at`` of a chunk is the source of: the text before it, back
    to the previous source line (the figure, its caption and the sentences it illustrates), at
    most ``max_chars`` of it."""
    before = text[max(0, at - max_chars) : max(0, at)]
    previous = [m.end() for m in re.finditer(P.SOURCE_MARK + r"[^\n]*", before)]
    return before[previous[-1] :] if previous else before


def _word_list(quote: str) -> bool:
    """A diagram's labels run together (many "/" between words): nothing in it reads as an answer."""
    return P.URL.sub("", quote).count("/") >= P.WORD_LIST_SLASHES


def cite(pairs: Sequence[tuple[Hit, str]]) -> tuple[Citation, ...]:
    """Citations numbered 1..n; a quote that is not verbatim in its chunk is dropped."""
    out: list[Citation] = []
    seen: set[tuple[str, str]] = set()
    for hit, quote in pairs:
        if (hit.chunk.chunk_id, quote) in seen:
            continue  # a sentence both chosen and quoted as the link to another
        seen.add((hit.chunk.chunk_id, quote))
        if quote and quote in hit.text:
            out.append(Citation(len(out) + 1, hit.chunk, quote))
    return tuple(out)


def display_quote(quote: str) -> str:
    """A quote as the answer text shows it: line breaks the PDF left inside a phrase dropped, no
    final full stop, and each era year followed by its Western year (令和6年度（2024年度）), since
    staff count in both. The citation keeps the verbatim quote."""
    return with_western(re.sub(r"\s*\n\s*", "", quote).removesuffix("。"))


def with_marker(quote: str, n: int) -> str:
    # Japanese puts the reference mark before the full stop: 「…しています[1]。」
    return f"{display_quote(quote)}[{n}]。"


def cited_in(chunk_text: str, answer_text: str) -> bool:
    """True when a sentence of a previous answer was quoted from this chunk."""
    body = P.CITATION_MARK.sub("", answer_text.split(P.SUGGESTIONS_LABEL)[0])
    # Western years shown after era years are not the plan's words (unless the plan wrote them).
    pieces = [p.strip() for text in (body, P.WESTERN_GLOSS.sub("", body)) for p in re.split(r"[。\n]", text)]
    return any(len(p) >= 10 and p in chunk_text for p in pieces)


def piece_ends(text: str, size: int = 24) -> list[int]:
    """Cut points for streaming an already finished text in a few pieces."""
    return [*range(size, len(text), size), len(text)] if text else [0]
