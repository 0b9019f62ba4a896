"""Japanese text handling, in one place: normalisation, morphemes, index tokens, sentences,
and the terms to highlight. Every other module goes through these functions (none calls the
MeCab tagger itself), so a query and a passage are always cut the same way.

Two token streams, because a Japanese dictionary both helps and hurts keyword search:
- ``word_tokens``: fugashi (MeCab + unidic-lite) content words as lemmas, plus compounds of
  adjacent nouns and whole Latin/digit runs, so "マイナンバーカード" (which the dictionary splits
  into マイ/ナンバー/カード) and "AI-OCR" still match as one term;
- ``char_bigrams``: overlapping character pairs, a fallback for words the dictionary splits
  badly (new coinages, names) and for partial matches.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import fugashi

from kb.lexicon import SKIP_POS, STOP_LEMMAS

_LATIN_RUN = re.compile(r"[a-z0-9][a-z0-9\-./]*[a-z0-9]|[a-z0-9]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\ufeff]")
_SPACES = re.compile(r"\s+")


def normalize(text: str) -> str:
    """NFKC, control characters out, whitespace collapsed, Latin lower-cased.

    NFKC folds full-width Latin and digits (ＯＲＤＥＮ -> ORDEN) and half-width kana
    (ｶﾞ -> ガ) so queries and passages meet in one form. Idempotent.
    """
    text = unicodedata.normalize("NFKC", text)
    text = _CONTROL.sub(" ", text)
    text = _SPACES.sub(" ", text).strip()
    return text.lower()


def normalized_with_map(text: str, collapse_spaces: bool = False) -> tuple[str, list[int]]:
    """``text`` NFKC-folded and lower-cased character by character, and for each output character
    the index in ``text`` it came from. ``collapse_spaces``: also turn whitespace and control
    characters into single spaces and drop leading ones, as :func:`normalize` does (which
    normalises the whole string; the two differ only in rare combining sequences)."""
    chars: list[str] = []
    origin: list[int] = []
    for i, ch in enumerate(text):
        if collapse_spaces and (ch.isspace() or _CONTROL.fullmatch(ch)):
            folded = " "
        else:
            folded = unicodedata.normalize("NFKC", ch).lower()
        for c in folded:
            if collapse_spaces and c == " " and (not chars or chars[-1] == " "):
                continue
            chars.append(c)
            origin.append(i)
    return "".join(chars), origin


def find_normalized(text: str, needle: str | Sequence[str]) -> tuple[int, int] | None:
    """Offsets in ``text`` of the first place whose :func:`normalize` form holds ``needle``
    (already normalised), or None. A sequence of words matches them in a row, with or without
    spaces between them (窓口, dx, saas → 「窓口DX SaaS」)."""
    folded, origin = normalized_with_map(text, collapse_spaces=True)
    if isinstance(needle, str):
        at = folded.find(needle) if needle else -1
        end = at + len(needle)
    else:
        found = re.search(r"\s*".join(map(re.escape, needle)), folded) if needle else None
        at, end = (found.start(), found.end()) if found and found.end() > found.start() else (-1, -1)
    if at < 0:
        return None
    return origin[at], origin[end - 1] + 1


@lru_cache(maxsize=1)
def tagger() -> fugashi.Tagger:
    """The shared MeCab tagger (unidic-lite). Not thread-safe: use it under ``_TAGGER_LOCK``."""
    return fugashi.Tagger()


# MeCab's tagger parses into one lattice of its own, and fugashi's nodes read their features
# from it lazily. So a parse in another thread (the app re-indexes an upload while it answers,
# and may answer several users at once) overwrites the words of one still being read: 62 of
# 12,000 parses came back wrong with four threads. Parsing and reading the nodes happen under
# this lock (a question takes ~0.15 ms).
_TAGGER_LOCK = threading.Lock()


def tokenizer_description() -> str:
    """What the index was tokenised with, for the manifest."""
    from importlib.metadata import PackageNotFoundError, version

    def installed(name: str) -> str:
        try:
            return version(name)
        except PackageNotFoundError:
            return "unknown"

    return f"fugashi {installed('fugashi')} + unidic-lite {installed('unidic-lite')}"


@dataclass(frozen=True)
class Morpheme:
    """One MeCab word: surface as written, dictionary lemma and part-of-speech levels."""

    surface: str
    lemma: str
    pos1: str
    pos2: str
    pos3: str
    space_before: str  # the white space MeCab skipped before this word


def _lemma(word: fugashi.UnidicNode) -> str:
    lemma = getattr(word.feature, "lemma", None)
    if not lemma or lemma == "*":
        return str(word.surface)
    # unidic writes loanwords as "ナンバー-number": keep the Japanese form.
    return str(lemma).split("-")[0] or str(word.surface)


def morphemes(text: str, *, normalise: bool = True) -> list[Morpheme]:
    """The words of ``text`` (normalised first unless ``normalise=False``). Thread-safe."""
    text = normalize(text) if normalise else text
    with _TAGGER_LOCK:
        return [
            Morpheme(
                surface=str(w.surface),
                lemma=_lemma(w),
                pos1=w.feature.pos1 or "",
                pos2=w.feature.pos2 or "",
                pos3=w.feature.pos3 or "",
                space_before=str(w.white_space),
            )
            for w in tagger()(text)
        ]


def word_tokens(text: str) -> list[str]:
    """Content-word lemmas of normalised text, plus noun compounds and Latin runs."""
    norm = normalize(text)
    tokens: list[str] = []
    compound: list[str] = []

    def close_compound() -> None:
        if len(compound) > 1:
            tokens.append("".join(compound))
        compound.clear()

    for word in morphemes(norm, normalise=False):
        surface, pos = word.surface, word.pos1
        if pos in SKIP_POS or not surface.strip():
            close_compound()
            continue
        if pos in {"名詞", "接頭辞"} or (pos == "接尾辞" and compound):
            compound.append(surface)
        else:
            close_compound()
        lemma = word.lemma
        if lemma in STOP_LEMMAS or surface in STOP_LEMMAS:
            continue
        if len(lemma) == 1 and not lemma.isalnum() and pos != "名詞":
            continue
        tokens.append(lemma)
    close_compound()
    # Whole Latin/digit runs ("ai-ocr", "5g") survive even when MeCab splits them at "-".
    tokens.extend(run for run in _LATIN_RUN.findall(norm) if "-" in run or "." in run or "/" in run)
    return tokens


_KANJI_OR_ALNUM = re.compile(r"[\u4e00-\u9fffA-Za-z0-9]")


def query_terms(query: str) -> list[str]:
    """Words of a query worth highlighting in a passage, longest first.

    The keyword index's own tokens (lemmas, noun compounds), plus the surface forms those
    lemmas had in the query, since a passage says 書かない where the lemma is 書く.
    """
    terms = set(word_tokens(query))
    for word in morphemes(query):
        if word.lemma in terms:
            terms.add(word.surface)
    # One kana on its own matches everywhere; one kanji (市, 窓) or Latin word is kept.
    kept = {t.strip() for t in terms if len(t.strip()) >= 2 or _KANJI_OR_ALNUM.fullmatch(t.strip())}
    return sorted(kept, key=lambda t: (-len(t), t))


def char_bigrams(text: str) -> list[str]:
    """Overlapping character bigrams of normalised text, spaces and punctuation removed."""
    norm = re.sub(r"[\s\W_]+", "", normalize(text))
    if len(norm) < 2:
        return [norm] if norm else []
    return [norm[i : i + 2] for i in range(len(norm) - 1)]


_SENTENCE_END = re.compile(r"(?<=[。！？!?])|\n")


def sentence_spans(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Offsets of sentences (ending at 。！？ or a line break) inside ``text[start:end]``."""
    end = len(text) if end is None else end
    spans: list[tuple[int, int]] = []
    pos = start
    for m in _SENTENCE_END.finditer(text, start, end):
        cut = m.end() if m.group(0) == "\n" else m.start()
        if cut > pos:
            spans.append((pos, cut))
            pos = cut
    if pos < end:
        spans.append((pos, end))
    return [(a, b) for a, b in spans if text[a:b].strip()]


# Figure transcriptions and lists run item after item without a full stop: a bullet starts a unit.
_BULLET_START = re.compile(r"\s+(?=[・✓■□●○◆⇒①-⑳])")


def sentence_units(text: str, min_chars: int = 8) -> list[tuple[int, int]]:
    """Offsets of the sentences and list items of ``text`` that are worth a vector of their own.

    Units shorter than ``min_chars`` (after stripping) are left out: headings of one word and
    stray labels carry too little meaning for a sentence embedding.
    """
    units: list[tuple[int, int]] = []
    for start, end in sentence_spans(text):
        piece_start = start
        cuts = [m.start() for m in _BULLET_START.finditer(text, start, end)] + [end]
        for cut in cuts:
            a, b = piece_start, cut
            while a < b and text[a].isspace():
                a += 1
            while b > a and text[b - 1].isspace():
                b -= 1
            if b - a >= min_chars:
                units.append((a, b))
            piece_start = cut
    return units
