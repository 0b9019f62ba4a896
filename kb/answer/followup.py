"""Follow-up questions: 「それはいつから？」 and 「他には？」 take their topic from earlier turns."""

from __future__ import annotations

from collections.abc import Sequence

from kb.answer import patterns as P
from kb.answer.question import question_words
from kb.query import validate_query
from kb.text import morphemes, normalize

Turn = tuple[str, str]  # (user question, assistant answer)


def followup_kind(question: str) -> str | None:
    """Classify a follow-up: "other" (「他には？」), "refer" (「それはいつから？」, no topic), else None."""
    norm = normalize(question)
    if P.FOLLOW_OTHER.match(norm):
        return "other"
    if P.FOLLOW_REFER.match(norm) or (len(norm) <= 15 and not question_words(question)[0]):
        return "refer"
    return None


def topic(query: str) -> str:
    """The topic of a question: its words up to the topic particle or the first question word."""
    out = ""
    for w in morphemes(query.strip(), normalise=False):
        if (w.pos1 == "助詞" and w.surface in P.TOPIC_END) or w.surface.startswith(P.INTERROGATIVES):
            break
        out += w.space_before + w.surface
    return out.strip(" ？?。") or query.strip(" ？?。")


def rewrite_followup(question: str, previous: str) -> str:
    """「それはいつから？」 after 「書かない窓口って何をするの？」 → 「書かない窓口 いつから？」."""
    if followup_kind(question) == "other":
        return previous
    rest = P.DEMONSTRATIVE.sub("", question.strip())
    return f"{topic(previous)} {rest}".strip()


def _is_text(value: object) -> bool:
    """A string that can be tokenised: not blank, no lone surrogates from a mis-decoded input."""
    if not isinstance(value, str) or not value.strip():
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def clean_history(history: Sequence[Turn] | None) -> list[Turn]:
    """The well-formed (question, answer) turns of a chat history (the app sends what it has);
    anything else (not a list, malformed turns, undecodable text) is ignored."""
    if not isinstance(history, (list, tuple)):
        return []
    out = []
    for turn in history:
        if isinstance(turn, (tuple, list)) and len(turn) == 2 and _is_text(turn[0]):
            out.append((turn[0], turn[1] if _is_text(turn[1]) else ""))
    return out


#: How input-length messages name an earlier turn and a question rewritten with its topic: both
#: are the user's questions, never a search box's 検索語.
EARLIER_QUESTION = ("前の質問", "earlier question")
RESOLVED_QUESTION = ("前の質問の話題を補った質問", "question with the earlier question's topic added")


def resolve(question: str, history: Sequence[Turn], max_chars: int) -> tuple[str, str | None, str]:
    """(query to search, the words that set the answer type or None, previous answer to skip).

    A follow-up is rewritten with the previous turns' topic; for 「他には？」 the previous answer's
    text is returned so its passages are not cited again. An earlier question, or the rewritten
    one, longer than ``max_chars`` is an InvalidQueryError that speaks of the question (質問).
    """
    turns = clean_history(history)
    previous: str | None = None
    for user, _assistant in turns:
        previous = rewrite_followup(user, previous) if previous and followup_kind(user) else user
    kind = followup_kind(question) if previous else None
    if previous is None or kind is None:
        return question, None, ""
    previous = validate_query(previous, max_chars, EARLIER_QUESTION)
    query = validate_query(rewrite_followup(question, previous), max_chars, RESOLVED_QUESTION)
    if kind == "other":  # same question again, minus the passages already quoted
        return query, previous, turns[-1][1]
    return query, question, ""
