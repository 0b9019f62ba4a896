"""The one place a typed query or question (and a result count) is checked before any work is done on it."""

from __future__ import annotations

import re
from typing import Any

from kb.errors import InvalidQueryError
from kb.text import normalize

# C0/C1 control characters other than tab and line breaks: never typed by a person.
# (Zero-width and bidi marks are not rejected: kb.text.normalize folds them to spaces.)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# Lone surrogates are not characters: they come from bytes that were not valid text (a shell
# argument in another encoding reaches Python as "\udcff", a JSON body may spell "\ud800"), and
# MeCab, the tokenizer and Chroma cannot encode them (UnicodeEncodeError deep in a search).
_SURROGATE = re.compile(r"[\ud800-\udfff]")

#: How the messages name the input: a search box takes 検索語, the chat takes 質問.
QUERY = ("検索語", "query")
QUESTION = ("質問", "question")

#: The number of results a search may ask for.
K_RANGE = (1, 100)


def validate_query(query: Any, max_chars: int, noun: tuple[str, str] = QUERY) -> str:
    """The stripped query, or InvalidQueryError (bilingual) for non-strings, empty, too long,
    control characters or bytes that are not text (lone surrogates)."""
    ja, en = noun
    if not isinstance(query, str):
        raise InvalidQueryError(f"{ja}は文字列で指定してください", f"the {en} must be a string")
    if len(query) > max_chars:
        raise InvalidQueryError(
            f"{ja}が長すぎます（{len(query)} 文字、上限 {max_chars} 文字）。要点を短くしてください",
            f"{en} too long ({len(query)} characters, limit {max_chars}); shorten it",
        )
    if _SURROGATE.search(query):
        raise InvalidQueryError(
            f"{ja}に文字として読めないデータが含まれています（文字コードの誤り）。入力し直してください",
            f"the {en} contains data that is not text (invalid encoding, lone surrogates); type it again",
        )
    if not normalize(query):
        raise InvalidQueryError(
            f"{ja}が空です。調べたい言葉を入力してください", f"the {en} is empty; type what to look for"
        )
    if _CONTROL.search(query):
        raise InvalidQueryError(
            f"{ja}に制御文字が含まれています。文字だけで入力してください",
            f"the {en} contains control characters; type plain text",
        )
    return query.strip()


def validate_k(k: Any) -> int:
    """The number of results as an int in K_RANGE, or InvalidQueryError (bilingual).

    Whole floats (3.0, as a UI slider sends them) are accepted; booleans, fractions and
    anything else are not (``k=0`` is an error, not "the default")."""
    low, high = K_RANGE
    value: int | None = None
    if isinstance(k, int) and not isinstance(k, bool):
        value = k
    elif isinstance(k, float) and k.is_integer():
        value = int(k)
    if value is None or not low <= value <= high:
        shown = repr(k)[:40]
        raise InvalidQueryError(
            f"件数 k は {low}〜{high} で指定してください（整数。指定: {shown}）",
            f"k must be between {low} and {high}, a whole number (got {shown})",
        )
    return value
