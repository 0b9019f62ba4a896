"""Japanese text handling: normalisation and the tokens the keyword index uses.

Two token streams, because a Japanese dictionary both helps and hurts keyword search:
- ``word_tokens``: fugashi (MeCab + unidic-lite) content words as lemmas, plus compounds of
  adjacent nouns and whole Latin/digit runs, so "マイナンバーカード" (which the dictionary splits
  into マイ/ナンバー/カード) and "AI-OCR" still match as one term;
- ``char_bigrams``: overlapping character pairs, a fallback for words the dictionary splits
  badly (new coinages, names) and for partial matches.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import fugashi

# Parts of speech that carry no topic: particles, auxiliaries, symbols, blanks.
_SKIP_POS = {"助詞", "助動詞", "補助記号", "記号", "空白"}
# Question and filler words that appear in how staff ask, not in what they ask about.
_STOP_LEMMAS = {
    "何",
    "なに",
    "なん",
    "どう",
    "どの",
    "どれ",
    "どこ",
    "いつ",
    "誰",
    "だれ",
    "どんな",
    "どなた",
    "教える",
    "知る",
    "ある",
    "いる",
    "する",
    "なる",
    "できる",
    "れる",
    "られる",
    "せる",
    "おる",
    "こと",
    "もの",
    "ため",
    "よう",
    "これ",
    "それ",
    "あれ",
    "この",
    "その",
    "ここ",
    "そこ",
    "について",
    "とは",
    "つく",
    "付く",
    "ください",
    "くださる",
    "下さる",
    "思う",
    "言う",
    "いう",
    "ない",
    "様",
    "的",
    "等",
    "など",
    "方",
    "・",
}
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


@lru_cache(maxsize=1)
def tagger() -> fugashi.Tagger:
    """The shared MeCab tagger (unidic-lite)."""
    return fugashi.Tagger()


def tokenizer_description() -> str:
    """What the index was tokenised with, for the manifest."""
    from importlib.metadata import PackageNotFoundError, version  # noqa: PLC0415

    def installed(name: str) -> str:
        try:
            return version(name)
        except PackageNotFoundError:
            return "unknown"

    return f"fugashi {installed('fugashi')} + unidic-lite {installed('unidic-lite')}"


def _lemma(word: fugashi.UnidicNode) -> str:
    lemma = getattr(word.feature, "lemma", None)
    if not lemma or lemma == "*":
        return str(word.surface)
    # unidic writes loanwords as "ナンバー-number": keep the Japanese form.
    return str(lemma).split("-")[0] or str(word.surface)


def word_tokens(text: str) -> list[str]:
    """Content-word lemmas of normalised text, plus noun compounds and Latin runs."""
    norm = normalize(text)
    tokens: list[str] = []
    compound: list[str] = []

    def close_compound() -> None:
        if len(compound) > 1:
            tokens.append("".join(compound))
        compound.clear()

    for word in tagger()(norm):
        surface = str(word.surface)
        pos = word.feature.pos1 or ""
        if pos in _SKIP_POS or not surface.strip():
            close_compound()
            continue
        if pos in {"名詞", "接頭辞"} or (pos == "接尾辞" and compound):
            compound.append(surface)
        else:
            close_compound()
        lemma = _lemma(word)
        if lemma in _STOP_LEMMAS or surface in _STOP_LEMMAS:
            continue
        if len(lemma) == 1 and not lemma.isalnum() and pos != "名詞":
            continue
        tokens.append(lemma)
    close_compound()
    # Whole Latin/digit runs ("ai-ocr", "5g") survive even when MeCab splits them at "-".
    tokens.extend(run for run in _LATIN_RUN.findall(norm) if "-" in run or "." in run or "/" in run)
    return tokens


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
