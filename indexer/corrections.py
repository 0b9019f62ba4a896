"""Reviewed corrections of the source text (corpus/corrections.tsv) and the check for letters of
another script inside Japanese words."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from kb.config import PROJECT_ROOT

DEFAULT_CORRECTIONS = PROJECT_ROOT / "corpus" / "corrections.tsv"
# Letters of another script (Cyrillic, Greek) touching kana or kanji: the PDF's text layer put a
# look-alike glyph inside a Japanese word (「デジタルデバйд」).
_JAPANESE = r"\u3040-\u30ff\u3400-\u9fff"
_FOREIGN_IN_WORD = re.compile(
    rf"[{_JAPANESE}]+[\u0370-\u03ff\u0400-\u04ff]+[{_JAPANESE}\u0370-\u03ff\u0400-\u04ff]*"
)


@dataclass(frozen=True)
class Correction:
    """One reviewed fix of the source text, kept with the original beside it."""

    original: str
    corrected: str
    reason: str


def load_corrections(path: Path) -> list[Correction]:
    """The reviewed corrections list (tab-separated: original, corrected, reason; a header row)."""
    if not path.is_file():
        return []
    rows = [line.split("\t") for line in path.read_text(encoding="utf-8").splitlines()[1:] if line.strip()]
    return [Correction(*(cell.strip() for cell in row[:3])) for row in rows if len(row) >= 3]


def apply_corrections(text: str, corrections: list[Correction]) -> tuple[str, list[tuple[Correction, int]]]:
    """The text with every correction applied, and how often each one applied."""
    applied = []
    for fix in corrections:
        count = text.count(fix.original)
        text = text.replace(fix.original, fix.corrected)
        applied.append((fix, count))
    return text, applied


def foreign_letters_in_words(text: str) -> list[str]:
    """Japanese words that still hold a letter of another script (to review and list)."""
    return _FOREIGN_IN_WORD.findall(text)
