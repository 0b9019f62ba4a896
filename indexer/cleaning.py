"""Inline clean-up of the PDF-extracted text: HTML tags, letters spaced out by the PDF
(``I C T`` → ``ICT``), stray spaces between Japanese and Latin text, and bullets run into one
table cell."""

from __future__ import annotations

import re

_CJK = r"\u3000-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff01-\uff60"
_TAG = re.compile(r"</?[a-zA-Z][^<>]*>")
# A run of single Latin letters spaced out by the PDF ("I C T", "A I - O C R", "S a a S"):
# at least two single letters, optionally joined by "-" / "・" / "/", each token separated by
# one space. Real words ("Evidence Based") have several letters per token and never match.
_SPACED_LETTERS = re.compile(
    r"(?<![A-Za-z0-9])[A-Za-z](?: (?:[-・/] )?[A-Za-z](?![A-Za-z0-9]))+(?![A-Za-z0-9])"
)
_SPACE_CJK_ASCII = re.compile(rf"(?<=[{_CJK}]) (?=[A-Za-z0-9])|(?<=[A-Za-z0-9]) (?=[{_CJK}])")
_SPACE_CJK_CJK = re.compile(rf"(?<=[{_CJK}]) (?=[{_CJK}])")


def join_spaced_letters(text: str) -> str:
    """``A I - O C R`` -> ``AI-OCR``; leaves real words alone."""
    return _SPACED_LETTERS.sub(lambda m: m.group(0).replace(" ", ""), text)


def clean_inline(text: str) -> str:
    """Clean one line of prose: tags out, spaced letters joined, PDF line-wrap spaces removed.

    Japanese has no spaces between words, so a single space between two CJK characters, or
    between CJK and a Latin letter/digit ("平成 25 年", "ICT の"), is an artefact of the PDF
    layout and is dropped; spaces between Latin words are kept.
    """
    text = _TAG.sub(" ", text)
    text = text.replace("\u00a0", " ")
    text = re.sub(r"[ \t]+", " ", text).strip()
    text = join_spaced_letters(text)
    text = _SPACE_CJK_ASCII.sub("", text)
    text = re.sub(r"(?<=[、。]) (?=\S)", "", text)
    return text


_INLINE_BULLET = re.compile(r"\s+(?=[・○■✓]\s*\S)")
_OPENING = "「『（(【［"
_CLOSING = "」』）)】］"


def _split_inline_bullets(cell: str) -> str:
    """Bullets inside a cell are written inline ("・a ・b"): give each its own line.

    A 「・」 inside brackets or between spaced-out letters is a middle dot, not a bullet:
    「自治体の A I ・ R P A の利用推進」 stays one line (cut there, it reads 「自治体のAI」 and a
    bullet 「RPAの利用推進」」).
    """
    out: list[str] = []
    depth, last = 0, 0
    for m in _INLINE_BULLET.finditer(cell):
        between = cell[last : m.start()]
        depth = max(
            0, depth + sum(between.count(c) for c in _OPENING) - sum(between.count(c) for c in _CLOSING)
        )
        out.append(between)
        last = m.end()
        after = cell[m.end() : m.end() + 4]
        dot_between_letters = bool(re.match(r"[A-Za-z]", cell[m.start() - 1 : m.start()])) and bool(
            re.match(r"・\s*[A-Za-z]", after)
        )
        out.append(m.group(0) if depth > 0 or dot_between_letters else "\n")
    out.append(cell[last:])
    return "".join(out)


def html_cell_to_lines(cell: str) -> list[str]:
    """Split an HTML table cell into display lines: paragraphs and list items."""
    cell = re.sub(r"</p>|<br\s*/?>|</li>|</h\d>", "\n", cell)
    cell = re.sub(r"<(ul|ol)[^>]*>", "\n", cell)
    cell = _TAG.sub(" ", cell)
    cell = _split_inline_bullets(cell)
    lines = [clean_inline(part) for part in cell.split("\n")]
    return [line for line in lines if line]
