"""The one place a typed query or question is checked before any work is done on it."""

from __future__ import annotations

import re
from typing import Any

from kb.errors import InvalidQueryError
from kb.text import normalize

# C0/C1 control characters other than tab and line breaks: never typed by a person.
# (Zero-width and bidi marks are not rejected: kb.text.normalize folds them to spaces.)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")

#: How the messages name the input: a search box takes 検索語, the chat takes 質問.
QUERY = ("検索語", "query")
QUESTION = ("質問", "question")


def validate_query(query: Any, max_chars: int, noun: tuple[str, str] = QUERY) -> str:
    """The stripped query, or InvalidQueryError (bilingual) for non-strings, empty, too long
    or control characters."""
    ja, en = noun
    if not isinstance(query, str):
        raise InvalidQueryError(f"{ja}は文字列で指定してください", f"the {en} must be a string")
    if len(query) > max_chars:
        raise InvalidQueryError(
            f"{ja}が長すぎます（{len(query)} 文字、上限 {max_chars} 文字）。要点を短くしてください",
            f"{en} too long ({len(query)} characters, limit {max_chars}); shorten it",
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
