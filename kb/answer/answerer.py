"""The Answerer: question → passages → draft → writer, one request at a time, no shared state."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any, Protocol

from kb.answer import patterns as P
from kb.answer.agreement import missing_kind, names_a_member
from kb.answer.extractive import (
    LEAD_TYPES,
    ExtractiveWriter,
    ItemIndex,
    candidates,
    choose,
    confidence,
    introduced_list,
    list_items,
    lists_the_set,
    related_sentence,
    semantic_lead,
)
from kb.answer.followup import Turn, resolve
from kb.answer.llm import LlmWriter, make_chat_model
from kb.answer.question import Question, analyse
from kb.answer.quotes import cite, cited_in, display_quote, with_marker
from kb.answer.terms import TermStats
from kb.answer.types import Answer, AnswerStream, Candidate, Citation, Draft
from kb.answer.weights import AnswerWeights
from kb.chunk import SectionRef
from kb.config import Settings
from kb.errors import GenerationError
from kb.knowledge import KnowledgeBase
from kb.plain_words import held_in
from kb.query import QUESTION, validate_query
from kb.retrieve import Filters, Hit
from kb.text import find_normalized, normalize


class Writer(Protocol):
    """Turns a draft into the final answer, whole or as a stream of cumulative texts."""

    note: str

    def write(self, draft: Draft) -> Answer: ...

    def stream(self, draft: Draft) -> Any: ...  # Iterator[str | Answer], ending with the Answer


class Answerer:
    """Answers questions over one KnowledgeBase. Use :meth:`from_settings`.

    Holds only read-only things (the knowledge base, weights, the writer): every request's state
    lives in its own Draft and AnswerStream, so the app can serve many users from one Answerer.
    """

    def __init__(
        self,
        kb: KnowledgeBase,
        settings: Settings,
        writer: Writer | None = None,
        weights: AnswerWeights | None = None,
    ) -> None:
        self.kb = kb
        self.settings = settings
        self.writer: Writer = writer or ExtractiveWriter()
        self.weights = weights or AnswerWeights()
        self.stats = TermStats(kb.chunks)
        self.items = ItemIndex(kb.chunks)

    @classmethod
    def from_settings(cls, kb: KnowledgeBase, settings: Settings, chat_model: Any = None) -> Answerer:
        """Extractive answers, or LLM answers when ``chat_model`` is given or configured in settings."""
        note = ""
        if chat_model is None:
            try:
                chat_model = make_chat_model(settings)
            except GenerationError as exc:
                note = f"LLM unavailable: {exc.en}"
        writer: Writer = LlmWriter(chat_model) if chat_model is not None else ExtractiveWriter()
        writer.note = note
        return cls(kb, settings, writer)

    @property
    def model_note(self) -> str:
        """Why answers are extractive although an LLM was configured ("" when nothing to say)."""
        return self.writer.note

    def answer(self, question: str, history: Sequence[Turn] = (), filters: Filters | None = None) -> Answer:
        """Answer ``question`` (follow-ups are resolved against ``history`` of (user, assistant)),
        from the passages ``filters`` allow."""
        return self.writer.write(self.draft(question, history, filters))

    def stream(
        self, question: str, history: Sequence[Turn] = (), filters: Filters | None = None
    ) -> AnswerStream:
        """Stream the answer: iterate for cumulative partial texts, then read ``.answer``.

        Input errors (InvalidQueryError) are raised by this call, before anything is yielded.
        """
        return AnswerStream(iter(self.writer.stream(self.draft(question, history, filters))))

    def draft(self, question: str, history: Sequence[Turn] = (), filters: Filters | None = None) -> Draft:
        """Everything before writing: the resolved question, its passages and the extractive answer."""
        question = validate_query(question, self.settings.max_query_chars, QUESTION)
        query, asked, exclude_text = resolve(question, history, self.settings.max_query_chars)
        q = analyse(query, asked=asked)
        hits, best_cosine = self.retrieve(q.query, exclude_text, filters)
        w = self.weights
        cands = candidates(q, hits, self.stats, w)
        cands += self.items.follow(q, cands, self.stats, w)
        # One more vector search, only for the question types a lead can answer.
        closest = self.kb.retriever.closest_sentences(q.query, 2, filters) if q.qtype in LEAD_TYPES else []
        lead = semantic_lead(q, cands, closest, w)
        if lead is not None:
            # It is quoted first and supports the answer; the label stays what its words earn
            # (低 for everyday words: 「…と書かれた箇所があります」).
            cands = [
                replace(c, support=max(c.support, w.lead_support), score=c.score + w.lead_bonus)
                if c is lead
                else c
                for c in cands
            ]
        picked = choose(cands, w)
        # The answer is only as good as what it quotes: its support is that of the chosen sentences,
        # not of some other sentence of the passages. A list question's extra items quote more of
        # what was found; they do not decide whether to answer.
        score = confidence(q, hits, picked, best_cosine, self.stats, w)
        if q.listing:
            picked = choose(cands, w, listing=True)
        suggestions = _suggestions(hits)
        chosen = picked if hits and score >= self.settings.abstain_threshold else []
        note = self.writer.note

        def showing_first(head: str) -> Draft:
            """Declined with ``head``, the first chosen sentence shown as related."""
            answer = _declined(q, head, suggestions, score, note, chosen[0])
            return Draft(q, tuple(hits), answer, tuple(cands))

        # A question for the members of a counted set is answered by a list of them, not by the
        # sentence that only names the set.
        listed = lists_the_set(q, chosen, cands, w)
        if listed is None:  # the plan names the set only: say so, and show where
            return showing_first(P.COUNTED_MISSING_TEXT.format(counted=q.counted))
        chosen = introduced_list(q, listed, cands, w)
        if w.which_member and q.kind and chosen and _restates_kind(q, chosen):
            # 「どの施設を予約できますか」 answered only by the sentence naming 施設予約システム: the
            # plan names the category, not which ones; say so, and show where.
            return showing_first(P.KIND_MISSING_TEXT.format(kind=q.kind[0]))
        citations = _citations(chosen)
        missing = self._missing_kind(q, [c.quote for c in citations]) if citations else None
        if missing and (lead := self._alias_lead(missing, cands)) is not None:
            # The word is the question's everyday name for a plan term that another sentence holds
            # (学童保育 → 留守家庭児童会室): that sentence leads, as the answer about it.
            chosen = [lead, *(c for c in chosen if c is not lead)][: w.max_quotes]
            citations = _citations(chosen)
            missing = self._missing_kind(q, [c.quote for c in citations])
        if missing:  # the subject is a kind of thing the plan never names
            answer = _declined(q, P.MISSING_TEXT.format(word=missing), suggestions, score, note)
        elif citations:
            label, reason = _label(q, chosen[0], w)
            text = answer_text(citations, label, list_items(citations, w) if q.listing else 0)
            answer = Answer(
                text,
                True,
                q.query,
                citations,
                suggestions,
                score,
                note=note,
                confidence_label=label,
                confidence_reason=reason,
            )
        else:
            answer = _abstention(q, cands, suggestions, score, note, related_sentence(cands, w))
        return Draft(q, tuple(hits), answer, tuple(cands))

    def _missing_kind(self, q: Question, quotes: list[str]) -> str | None:
        """The subject word the plan never uses that the answer skipped (:func:`missing_kind`);
        the synonym table is only read when there is such a word."""
        if missing_kind(q, quotes, self.stats) is None:
            return None
        retriever = self.kb.retriever
        synonyms = [e.typed for e in retriever.corpus_synonyms(q.query)]
        # Everyday words the thesaurus maps to a term the answering sentence holds (無料Wi-Fi →
        # フリーWi-Fi) are the plan's subject in other words, not a kind of thing it never names.
        # Only the first quote counts: the term in a supporting quote (スマート農業 → スマート農林
        # 水産業 in a list below an answer about something else) does not make the answer about it.
        # (Recomputed rather than read from the hits: a followed 取組N-M sentence may come from a
        # passage outside them.)
        if quotes:
            synonyms += [m.alias for m in held_in(retriever.plain_words.matches(q.query), quotes[0])]
        return missing_kind(q, quotes, self.stats, synonyms)

    def _alias_lead(self, missing: str, cands: Sequence[Candidate]) -> Candidate | None:
        """The best agreeing sentence holding the plan term of a thesaurus alias that says the
        ``missing`` word, or None (kb/plain_words.py; only when ``alias_lend`` is on)."""
        if not self.weights.alias_lend:
            return None
        terms = {m.term for c in cands for m in c.hit.plain_words if missing in m.alias}
        holding = [c for c in cands if c.agrees and c.typed and any(t in normalize(c.quote) for t in terms)]
        return max(holding, key=lambda c: c.score, default=None)

    def retrieve(
        self, query: str, exclude_text: str = "", filters: Filters | None = None
    ) -> tuple[list[Hit], float]:
        """The hybrid top passages (as ``kb.search`` ranks them) and the best cosine similarity."""
        n = self.settings.answer_passages
        k = min(100, n * 3 if exclude_text else n)
        hits = self.kb.search(query, mode="hybrid", k=k, filters=filters)
        if exclude_text:
            hits = [h for h in hits if not cited_in(h.text, exclude_text)]
        hits = [replace(h, rank=i) for i, h in enumerate(hits[:n], start=1)]
        # The raw cosine, which kb.search does not report (fused scores only); the query vector
        # comes from the embedder's cache, so this costs one vector-store lookup, not a second encode.
        return hits, self.kb.retriever.best_chunk_cosine(query)


def _citations(chosen: Sequence[Candidate]) -> tuple[Citation, ...]:
    """The numbered citations of the chosen sentences, each followed by what led to it."""
    return cite([pair for c in chosen for pair in c.quoted()])


def _restates_kind(q: Question, chosen: Sequence[Candidate]) -> bool:
    """Does the answer's first quote name the asked category only as the question does, with no
    quote naming one of its members (agreement.names_a_member)?"""
    verdicts = [names_a_member(q, normalize(c.quote)) for c in chosen]
    return verdicts[0] is False and True not in verdicts


def _label(q: Question, best: Candidate, w: AnswerWeights) -> tuple[str, str]:
    """高 / 中 / 低 and why, from how much of the question the quoted sentence itself covers."""
    if best.lexical >= w.label_high:
        return "高", "質問の語句がすべて一致 / every term of the question matched"
    if best.lexical >= w.label_mid:
        return "中", "質問の語句の一部が一致 / some terms of the question matched"
    if best.paraphrase:
        return "低", (
            f"言い換えの想定質問「{best.paraphrase}」に一致 / matched an expected question of the passage"
        )
    if best.aliases:
        said = "、".join(
            f"「{_as_written(m.alias, q.query)}」→「{_as_written(m.term, best.quote, best.hit.text)}」"
            for m in best.aliases
        )
        return (
            "低",
            f"質問の言い換え語が計画書の語句に一致（{said}） / the question's everyday words matched plan terms",
        )
    return "低", "意味的に近い箇所のみ / only passages close in meaning"


def _as_written(word: str, *texts: str) -> str:
    """A normalised word (ebpm) as the first of ``texts`` holding it writes it (EBPM)."""
    for text in texts:
        if at := find_normalized(text, word):
            return text[at[0] : at[1]]
    return word


def answer_text(citations: Sequence[Citation], label: str, items: int = 0) -> str:
    """The direct answer on the first line (the best quote), supporting quotes below it.

    A low-confidence answer is phrased as what the plan says, not as fact. The answer to a list
    question whose first ``items`` citations are its items (at least two) has them on the first
    line as a bullet list (「・A[1] ・B[2] ・C[3]」).
    """
    if items >= 2 and label != "低":
        head = " ".join(f"・{display_quote(c.quote)}[{c.n}]" for c in citations[:items])
        return "\n".join([head, *(f"・{with_marker(c.quote, c.n)}" for c in citations[items:])])
    first, rest = citations[0], citations[1:]
    if label == "低":
        head = P.LOW_CONFIDENCE.format(quote=display_quote(first.quote)) + f"[{first.n}]。"
    else:
        head = with_marker(first.quote, first.n)
    return "\n".join([head, *(f"・{with_marker(c.quote, c.n)}" for c in rest)])


def _abstention(
    q: Question,
    cands: Sequence[Candidate],
    suggestions: tuple[SectionRef, ...],
    score: float,
    note: str,
    related: Candidate | None = None,
) -> Answer:
    """Decline; when only a figure about a neighbouring subject was found, say what is missing
    and show that passage, labelled as something else; else show the ``related`` sentence, if
    any, labelled as not confirmed to answer."""
    neighbours = [c for c in cands if c.typed and not c.agrees and q.qtype in ("number", "date", "who")]
    if neighbours and q.focus:
        best = max(neighbours, key=lambda c: c.score)
        neighbour = cite([(best.hit, best.quote)])
        city = P.CITY_Q.search(q.query) and not P.CITY_A.search(best.quote)
        template = P.NEIGHBOUR_CITY_TEXT if city else P.NEIGHBOUR_TEXT
        text = template.format(focus=_asked_subject(q), asked=P.ASKED_MEASURE.get(q.qtype, ""))
        text += f"\n{P.NEIGHBOUR_LABEL}\n{with_marker(best.quote, 1)}"
        return Answer(text, False, q.query, neighbour, suggestions, score, note=note)
    return _declined(q, P.ABSTAIN_TEXT, suggestions, score, note, related)


def _asked_subject(q: Question) -> str:
    """What the question asks a figure of, for 「計画書には「…」の数値の記載はありません」: its last noun
    phrase (「…の頻度」: no figure for the 頻度), unless that is only a time word (「…働き手世代の人数、
    最近は…」 → its last compound, 働き手世代; not 最近)."""
    words = (
        q.compounds[-1] if q.focus and all(f in P.TIME_NOUNS for f in q.focus) and q.compounds else q.focus
    )
    return _words_as_written(words, q.query)


def _words_as_written(words: Sequence[str], text: str) -> str:
    """Normalised words (窓口, dx, saas) as ``text`` writes them in a row (「窓口DX SaaS」), so a decline
    quotes the user's own words; joined as they are if the text does not hold them in that order."""
    at = find_normalized(text, tuple(words))
    if at is None:
        return "".join(words)
    start, end = at
    # A number the question writes onto a Latin word is part of its name (「5G基地局」, not 「G基地局」).
    while (
        start > 0
        and text[start].isascii()
        and text[start].isalnum()
        and text[start - 1].isascii()
        and text[start - 1].isalnum()
    ):
        start -= 1
    return text[start:end]


def _declined(
    q: Question,
    head: str,
    suggestions: tuple[SectionRef, ...],
    score: float,
    note: str,
    related: Candidate | None = None,
) -> Answer:
    """A declined answer: ``head`` (why), the ``related`` sentence if any, labelled as not
    confirmed to answer and cited as [1], then the sections worth a look."""
    text = head
    shown: tuple[Citation, ...] = ()
    if related is not None:
        shown = cite([(related.hit, related.quote)])
        text += f"\n{P.RELATED_LABEL}\n{with_marker(related.quote, 1)}"
    if suggestions:
        text += "\n" + P.SUGGESTIONS_LABEL + "\n" + "\n".join(f"・{s.location}" for s in suggestions)
    return Answer(text, False, q.query, shown, suggestions, score, note=note)


def _suggestions(hits: Sequence[Hit], limit: int = 3) -> tuple[SectionRef, ...]:
    """The distinct sections of the top passages, best first."""
    seen: dict[SectionRef, None] = {}
    for h in hits:
        seen.setdefault(h.chunk.ref, None)
    return tuple(list(seen)[:limit])
