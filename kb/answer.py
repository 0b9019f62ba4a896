"""Cited answers: extractive sentences from retrieved passages, or an optional LLM answer.

>>> answerer = Answerer.from_settings(kb, kb.settings)           # doctest: +SKIP
>>> answerer.answer("書かない窓口って何をするの？").to_text()        # doctest: +SKIP

Without an LLM the answer is 1-3 sentences copied from the passages, chosen by the question
type (いつ → dates, 何人 → numbers with that counter, どこ/誰 → departments, とは → glossary
definitions, otherwise the sentence sharing the most question terms). Every quote is checked
to be a verbatim substring of its chunk. Weak evidence abstains with nearby sections instead.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from kb.config import Settings
from kb.errors import GenerationError, InvalidQueryError
from kb.generate import cited_numbers, closest_sentence, generate, make_chat_model, renumber, stream_generate
from kb.knowledge import KnowledgeBase
from kb.retrieve import Hit, clean_query
from kb.text import normalize, sentence_spans, tagger

ABSTAIN_TEXT = "計画書には該当する記載が見つかりませんでした。"
SUGGESTIONS_LABEL = "関連しそうな箇所:"

# Confidence = weighted sum of four retrieval signals in [0, 1] (see Answerer._confidence).
# Weights and the default threshold (Settings.abstain_threshold) were set on the dev split of
# eval/questions.jsonl only; tests/test_answer.py::test_answer_quality_on_questions reports both splits.
W_SUPPORT, W_FOCUS, W_KNOWN, W_SEMANTIC = 0.5, 0.2, 0.15, 0.15
# e5 cosine similarities of any Japanese text pair sit in a narrow band (~0.78-0.92 here), so the
# raw value is rescaled over that band before it is mixed with the lexical signals.
SEMANTIC_FLOOR, SEMANTIC_SPAN = 0.80, 0.10
# Sentence selection: coverage of question terms by the sentence and by its passage, the
# passage's rank, the asked answer shape (date, number with counter, department, definition)
# and the asked-about phrase itself (set on the dev split).
S_SENTENCE, S_PASSAGE, S_RANK, S_SHAPE, S_FOCUS, S_LONG = 0.6, 0.25, 0.1, 0.4, 0.1, 0.05
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_LEADING_MARK = re.compile(r"^[\s・･\-－*●○◆■□✓⇒]+")
# Page notes, figure captions, source references (『…』P8, 平成27年2月) and glossary
# redirects (「次節、…のとおり」) are not answers.
_SKIP_LINE = re.compile(
    r"^(掲載ページ|図表|\(出典\)|（出典）|『[^』]*』\s*P[0-9])|^[^:：]{1,40}[:：]\s*次節、"
)
# Figure transcriptions run bullet after bullet without a full stop: cut there as well.
_BULLET_CUT = re.compile(r"\s+(?=[✓■⇒①-⑳])")

# -- question analysis ------------------------------------------------------------------------
# Nouns that frame a question rather than name its topic (「…の理由は？」「…の担当課」): they are
# answered by the sentence's shape, not by the same word, so they are not required in passages.
_FRAME = set(
    "こと もの ため よう 意味 内容 方 場合 ところ とき 時 ほう 全部 うち 中 等 的 化 理由 名称 一覧 違い "
    "予定 担当 担当課 目的 方法 特徴 概要 状況 それぞれ 今 定義 感じ 数 規模".split()
)
_INTERROGATIVE = tuple("何 いく 幾 どこ どれ どの 誰 だれ いつ どう なに なん どんな".split())
_DEFINITION_Q = re.compile(r"(?<!こ)とは|って何|ってなに|意味|定義|何のこと")
_DATE_Q = re.compile(r"いつ|何年(?!間|ごと|おき)|何月|何日|時期|期限|日付|決定日|施行日")
# (question pattern, counter the answer must carry; "" = any number)
_NUMBER_Q = tuple(
    (re.compile(pattern), counter)
    for pattern, counter in (
        ("何人|何名", "人"),
        ("何件", "件"),
        ("何回", "回"),
        ("何%|何パーセント|割合|率", "%"),
        ("何割", "割"),
        ("いくら|料金|費用|金額|予算", "円"),
        ("何年間|何年ごと|何年おき", "年"),
        ("何か所|何箇所", "所"),
        ("いくつ|幾つ|何種類|何項目|何個|の数|数は|者数|規模|どのくらい|どれくらい", ""),
    )
)
_WHO_Q = re.compile(
    r"誰|だれ|どなた|どこ(?!まで)|どの課|どの部|部署|担当|所管|省庁|発行元|どの機関|どの組織|名前"
)
_NUM = r"[0-9〇一二三四五六七八九十百千万億][0-9〇一二三四五六七八九十百千万億,.\s]*"
_DATE_A = re.compile(
    r"(令和|平成|昭和)\s*(元|[0-9]+)\s*年|[0-9]{4}\s*年|[0-9]{4}\s*[./]\s*[0-9]{1,2}|[0-9]+\s*月"
)
_ORG_A = re.compile(
    r"[一-龥ァ-ヶー]+(課|部|室|局|省|庁|本部|委員会|センター|チーム|機構|協議会)|本部長|市長|大臣|cio"
)
_DEFINITION_A = re.compile(r"^[^。]{1,60}[:：]|のこと|を指す|をいう|とは")
_FOLLOW_REFER = re.compile(
    r"^(それ|その|これ|この|あれ|あの|そこ|そちら|こちら|同じ|前の|さっき|先ほど|では|じゃあ|じゃ|ちなみに|あと)"
)
_FOLLOW_OTHER = re.compile(r"^(その他|そのほか|他|ほか|それ以外|別の|もっと)")
_DEMONSTRATIVE = re.compile(r"^(それ|その|これ|この|あれ|あの|そこ|そちら|こちら)(は|って|の|に|を|で|が)?")
_TOPIC_END = {"は", "って", "とは", "について", "では", "には", "を", "が"}


@dataclass(frozen=True)
class Question:
    """What is searched, the answer type asked for, and the terms a passage should contain."""

    query: str
    qtype: str  # "definition" | "date" | "number" | "who" | "general"
    counter: str  # for "number": the counter the answer carries (人, 件, %, 円 …), "" = any
    terms: tuple[str, ...]  # content nouns, normalised surface forms
    focus: tuple[str, ...]  # the last noun phrase: what is asked about, as its nouns
    verbs: tuple[str, ...] = ()  # verb phrases as written; they only help choose sentences

    def focus_found(self, text: str) -> bool:
        return not self.focus or "".join(self.focus) in text or all(p in text for p in self.focus)


def _words(text: str) -> tuple[list[str], list[list[str]], list[str]]:
    """Content nouns, noun phrases (runs of nouns) and verb phrases of a question.

    Verb phrases keep their auxiliaries as written (「書かない」), because a coined phrase such as
    「書かない窓口」 is matched by its surface form, not by the lemma 書く.
    """
    nouns: list[str] = []
    phrases: list[list[str]] = []
    verbs: list[str] = []
    run: list[str] = []
    words = list(tagger()(normalize(text)))
    for i, w in enumerate(words):
        surface, f = str(w.surface), w.feature
        following = str(words[i + 1].surface) if i + 1 < len(words) else ""
        if f.pos1 in ("動詞", "形容詞") and f.pos2 != "非自立可能":
            verb = surface
            for nxt in words[i + 1 :]:
                if nxt.feature.pos1 != "助動詞":
                    break
                verb += str(nxt.surface)
            if len(verb) > 1:
                verbs.append(verb)
        is_noun = f.pos1 in ("名詞", "接頭辞") or (f.pos1 == "接尾辞" and bool(run))
        # サ変 nouns followed by する act as verbs (「導入する」): not what is asked about.
        verbal = f.pos3 == "サ変可能" and following in ("する", "し", "さ", "でき")
        if (
            not is_noun
            or verbal
            or f.pos2 == "数詞"
            or surface in _FRAME
            or surface.startswith(_INTERROGATIVE)
        ):
            if run:
                phrases.append(run)
            run = []
            if verbal:
                nouns.append(surface)
            continue
        run.append(surface)
        if len(surface) > 1 or surface.isalnum():
            nouns.append(surface)
    if run:
        phrases.append(run)
    return list(dict.fromkeys(nouns)), phrases, list(dict.fromkeys(verbs))


def analyse(query: str, asked: str | None = None) -> Question:
    """Analyse ``query``; the answer type comes from ``asked`` (a follow-up's own words) if given."""
    own = normalize(asked or query)
    qtype, counter = "general", ""
    number = next((c for p, c in _NUMBER_Q if p.search(own)), None)
    if _DEFINITION_Q.search(own):
        qtype = "definition"
    elif number is not None and (number == "年" or not _DATE_Q.search(own)):
        qtype, counter = "number", number
    elif _DATE_Q.search(own):
        qtype = "date"
    elif _WHO_Q.search(own):
        qtype = "who"
    nouns, phrases, verbs = _words(query)
    # A one-character phrase (「市に」「気を付ける」) says too little to require it in a passage.
    focus = tuple(phrases[-1]) if phrases and len("".join(phrases[-1])) > 1 else ()
    return Question(query, qtype, counter, tuple(nouns), focus, tuple(verbs))


def _shape(q: Question, sentence: str, kind: str) -> tuple[bool, float]:
    """(has the asked answer type, selection bonus) for a normalised sentence."""
    if q.qtype == "date":
        ok = bool(_DATE_A.search(sentence))
    elif q.qtype == "number":
        unit = {"人": "人|名", "%": "%|パーセント", "所": "か所|箇所|カ所"}.get(
            q.counter, re.escape(q.counter)
        )
        ok = bool(re.search(_NUM + (rf"(万|千|百|億)?\s*({unit})" if q.counter else ""), sentence))
    elif q.qtype == "who":
        return True, 1.0 if _ORG_A.search(sentence) else 0.0
    elif q.qtype == "definition":
        # The glossary's 「用語: 説明」 line is the definition the plan itself gives.
        return True, (0.5 if kind == "glossary" else 0.0) + (0.5 if _DEFINITION_A.search(sentence) else 0.0)
    else:
        return True, 0.0
    return ok, 1.0 if ok else 0.0


def followup_kind(question: str) -> str | None:
    """Classify a follow-up: "other" (「他には？」), "refer" (「それはいつから？」, no topic), else None."""
    norm = normalize(question)
    if _FOLLOW_OTHER.match(norm):
        return "other"
    if _FOLLOW_REFER.match(norm) or (len(norm) <= 15 and not _words(question)[0]):
        return "refer"
    return None


def _topic(query: str) -> str:
    """The topic of a question: its words up to the topic particle or the first question word."""
    out = ""
    for w in tagger()(query.strip()):
        surface = str(w.surface)
        if (w.feature.pos1 == "助詞" and surface in _TOPIC_END) or surface.startswith(_INTERROGATIVE):
            break
        out += w.white_space + surface
    return out.strip(" ？?。") or query.strip(" ？?。")


def rewrite_followup(question: str, previous: str) -> str:
    """「それはいつから？」 after 「書かない窓口って何をするの？」 → 「書かない窓口 いつから？」."""
    if followup_kind(question) == "other":
        return previous
    rest = _DEMONSTRATIVE.sub("", question.strip())
    return f"{_topic(previous)} {rest}".strip()


@dataclass(frozen=True)
class Citation:
    """One cited passage; ``quote`` is verbatim in ``chunk_text``."""

    n: int
    chunk_id: str
    doc_id: str
    doc_title: str
    section: str
    quote: str
    chunk_text: str


@dataclass(frozen=True)
class Answer:
    """An answer with its citations, or an abstention (``answerable=False``) with suggestions."""

    answer: str
    answerable: bool
    query: str
    citations: tuple[Citation, ...]
    suggestions: tuple[str, ...]
    confidence: float
    generated: bool = False
    note: str = ""  # why generation was skipped or fell back ("" when nothing to say)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict for ``kb ask --json`` (chunk texts left out)."""
        return {
            "answer": self.answer,
            "answerable": self.answerable,
            "query": self.query,
            "citations": [
                {
                    "n": c.n,
                    "chunk_id": c.chunk_id,
                    "doc_title": c.doc_title,
                    "section": c.section,
                    "quote": c.quote,
                }
                for c in self.citations
            ],
            "suggestions": list(self.suggestions),
            "confidence": self.confidence,
            "generated": self.generated,
            "note": self.note,
        }

    def to_text(self) -> str:
        """Plain text for the terminal: the answer, then ``[n] doc › section 「quote」``."""
        lines = [self.answer]
        if self.citations:
            lines.append("")
        for c in self.citations:
            where = f"{c.doc_title} › {c.section}" if c.section else c.doc_title
            lines.append(f"[{c.n}] {where}\n    「{c.quote}」")
        return "\n".join(lines)


@dataclass(frozen=True)
class _Candidate:
    """A sentence of a retrieved passage, scored for the question."""

    hit: Hit
    quote: str
    score: float
    support: float


@dataclass
class _Draft:
    """Everything decided before any LLM call: the query, passages and the extractive answer."""

    question: Question
    hits: list[Hit]
    answer: Answer
    candidates: list[_Candidate] = field(default_factory=list)


class AnswerStream(Iterator[str]):
    """Iterator over the growing answer text; ``.answer`` is the final Answer.

    Each item is the whole text so far (cumulative: a Gradio chat message is replaced on every
    yield). The last item is always ``answer.answer``; when a generated answer fails the
    citation check, that last item replaces the streamed text with the extractive fallback.
    """

    def __init__(
        self, parts: Iterator[str | Answer], on_done: Callable[[Answer], None] | None = None
    ) -> None:
        self._parts = parts
        self._on_done = on_done
        self._answer: Answer | None = None

    def __next__(self) -> str:
        if self._answer is not None:
            raise StopIteration
        item = next(self._parts)
        if isinstance(item, Answer):
            self._answer = item
            if self._on_done is not None:
                self._on_done(item)
            return item.answer
        return item

    @property
    def answer(self) -> Answer:
        """The final Answer (consumes whatever was not iterated yet)."""
        for _ in self:
            pass
        if self._answer is None:  # pragma: no cover - the parts always end with an Answer
            raise RuntimeError("answer stream ended without an Answer")
        return self._answer


class Answerer:
    """Answers questions over one KnowledgeBase. Use :meth:`from_settings`."""

    def __init__(self, kb: KnowledgeBase, settings: Settings, chat_model: Any = None) -> None:
        self.kb = kb
        self.settings = settings
        self.chat_model = chat_model
        self.model_note = ""
        # Normalised chunk texts (with heading path) for document frequencies of question terms.
        self._norm_texts = [normalize(c.index_text) for c in kb.chunks]
        self._df: dict[str, int] = {}
        self._last_streamed: tuple[tuple[str, tuple[tuple[str, str], ...]], Answer] | None = None

    @classmethod
    def from_settings(cls, kb: KnowledgeBase, settings: Settings, chat_model: Any = None) -> Answerer:
        """Extractive answers, or LLM answers when ``chat_model`` is given or configured in settings."""
        note = ""
        if chat_model is None:
            try:
                chat_model = make_chat_model(settings)
            except GenerationError as exc:
                note = f"LLM unavailable: {exc.en}"
        answerer = cls(kb, settings, chat_model)
        answerer.model_note = note or answerer.model_note
        return answerer

    # -- public ---------------------------------------------------------------------------

    def answer(self, question: str, history: Sequence[tuple[str, str]] = ()) -> Answer:
        """Answer ``question`` (follow-ups are resolved against ``history`` of (user, assistant))."""
        key = (question, _history_key(history))
        if self._last_streamed is not None and self._last_streamed[0] == key:
            return self._last_streamed[1]  # the app asks again right after streaming the same turn
        draft = self._draft(question, history)
        if self.chat_model is None or not draft.answer.answerable:
            return draft.answer
        try:
            text = generate(self.chat_model, draft.question.query, draft.hits)
            return self._generated(draft, text)
        except GenerationError as exc:
            return replace(draft.answer, note=f"generation fell back to extractive: {exc.en}")

    def stream(self, question: str, history: Sequence[tuple[str, str]] = ()) -> AnswerStream:
        """Stream the answer: iterate for cumulative partial texts, then read ``.answer``.

        Input errors (InvalidQueryError) are raised by this call, before anything is yielded.
        An :meth:`answer` call for the same turn right after the stream ends reuses its result.
        """
        draft = self._draft(question, history)
        key = (question, _history_key(history))

        def remember(answer: Answer) -> None:
            self._last_streamed = (key, answer)

        return AnswerStream(self._stream_parts(draft), remember)

    # -- drafting -------------------------------------------------------------------------

    def _draft(self, question: str, history: Sequence[tuple[str, str]]) -> _Draft:
        question = _validate(question, self.settings.max_query_chars)
        q, exclude_text = self._resolve(question, history)
        hits, best_cosine = self._retrieve(q.query, exclude_text)
        candidates = self._candidates(q, hits)
        confidence = self._confidence(q, hits, candidates, best_cosine)
        suggestions = _suggestions(hits)
        citations: tuple[Citation, ...] = ()
        if hits and confidence >= self.settings.abstain_threshold:
            citations = _citations([(c.hit, c.quote) for c in _choose(candidates)])
        if not citations:
            text = ABSTAIN_TEXT
            if suggestions:
                text += "\n" + SUGGESTIONS_LABEL + "\n" + "\n".join(f"・{s}" for s in suggestions)
            answer = Answer(text, False, q.query, (), suggestions, confidence, note=self.model_note)
            return _Draft(q, hits, answer, candidates)
        # The answer text is built from the verified citations only.
        text = "".join(_with_marker(c.quote, c.n) for c in citations)
        answer = Answer(text, True, q.query, citations, suggestions, confidence, note=self.model_note)
        return _Draft(q, hits, answer, candidates)

    def _resolve(self, question: str, history: Sequence[tuple[str, str]]) -> tuple[Question, str]:
        """The question to search: follow-ups are rewritten with the previous turns' topic.

        Returns the analysed question and, for 「他には？」, the previous answer's text whose
        passages should not be cited again.
        """
        previous: str | None = None
        for user, _assistant in _clean_history(history):
            previous = rewrite_followup(user, previous) if previous and followup_kind(user) else user
        kind = followup_kind(question) if previous else None
        if previous is None or kind is None:
            return analyse(question), ""
        query = rewrite_followup(question, previous)
        if kind == "other":  # same question again, minus the passages already quoted
            return analyse(query, asked=previous), _clean_history(history)[-1][1]
        return analyse(query, asked=question), ""

    def _retrieve(self, query: str, exclude_text: str) -> tuple[list[Hit], float]:
        """The hybrid top passages (as ``kb.search`` ranks them) and the best cosine similarity."""
        n = self.settings.answer_passages
        hits = self.kb.search(query, mode="hybrid", k=min(100, n * 3 if exclude_text else n))
        if exclude_text:
            hits = [h for h in hits if not _cited_in(h.text, exclude_text)]
        hits = [replace(h, rank=i) for i, h in enumerate(hits[:n], start=1)]
        # The raw cosine, which kb.search does not report (fused scores only); the query vector
        # comes from the embedder's cache, so this costs one vector-store lookup, not a second encode.
        semantic = self.kb.retriever.semantic_ranking(query, 1)
        return hits, float(semantic[0][1]) if semantic else 0.0

    # -- scoring --------------------------------------------------------------------------

    def _idf(self, term: str) -> float:
        if term not in self._df:
            if len(self._df) > 100_000:  # a long-running app sees many distinct terms
                self._df.clear()
            self._df[term] = sum(term in t for t in self._norm_texts)
        n = len(self._norm_texts)
        return math.log((n + 1) / (self._df[term] + 0.5))

    def _coverage(self, terms: Sequence[str], text: str) -> float:
        """IDF-weighted share of the question's terms that occur in ``text`` (normalised)."""
        total = sum(self._idf(t) for t in terms)
        if total <= 0:
            return 0.0  # a question without one content noun names nothing to look for
        return sum(self._idf(t) for t in terms if t in text) / total

    def _candidates(self, q: Question, hits: Sequence[Hit]) -> list[_Candidate]:
        """Every sentence of the passages, with a selection score and its evidence support."""
        out: list[_Candidate] = []
        focus = "".join(q.focus)
        # Verb phrases count only where the plan uses them: conjugated forms vary too much for
        # their absence to mean anything, but a rare form that is present (「書かない」) is telling.
        select_terms = [*q.terms, *(v for v in q.verbs if self._idf(v) and self._df[v] > 0)]
        for hit in hits:
            heading = normalize(hit.section)
            chunk_cov = self._coverage(q.terms, normalize(hit.text) + " " + heading)
            for quote in _sentences(hit.text):
                norm = normalize(quote)
                typed, shape = _shape(q, norm, hit.kind)
                support = (
                    0.5 * self._coverage(q.terms, norm + " " + heading) + 0.5 * chunk_cov if typed else 0.0
                )
                score = (
                    S_SENTENCE * self._coverage(select_terms, norm)
                    + S_PASSAGE * chunk_cov
                    + S_RANK / hit.rank
                )
                score += S_SHAPE * shape + (S_FOCUS if focus and focus in norm else 0.0)
                score -= S_LONG if len(quote) > 200 else 0.0  # very long sentences make poor answers
                out.append(_Candidate(hit, quote, score, support))
        return out

    def _confidence(
        self, q: Question, hits: Sequence[Hit], cands: Sequence[_Candidate], cosine: float
    ) -> float:
        """One score in [0, 1] from four retrieval signals.

        - support: the best sentence that has the asked answer type (a date for いつ, a number with
          the asked counter for 何人/何件/料金…) mixed with its passage's coverage of question terms;
        - focus: the question's last noun phrase (what is asked about) occurs in a top passage;
        - known: share of question terms that occur anywhere in the corpus (「粗大ごみ」「ふるさと
          納税」 never do — off-topic questions use words the plan does not);
        - semantic: best e5 cosine similarity, rescaled over the band e5 actually uses.
        """
        if not hits:
            return 0.0
        support = max((c.support for c in cands), default=0.0)
        texts = [normalize(h.text + " " + h.section) for h in hits]
        focus = 1.0 if any(q.focus_found(t) for t in texts) else 0.0
        total = sum(self._idf(t) for t in q.terms)
        unknown = sum(self._idf(t) for t in q.terms if self._df.get(t, 0) == 0) / total if total else 0.0
        semantic = min(1.0, max(0.0, (cosine - SEMANTIC_FLOOR) / SEMANTIC_SPAN))
        score = W_SUPPORT * support + W_FOCUS * focus + W_KNOWN * (1 - unknown) + W_SEMANTIC * semantic
        return round(score, 4)

    # -- generation -----------------------------------------------------------------------

    def _generated(self, draft: _Draft, text: str) -> Answer:
        """Answer from validated LLM text; GenerationError unless every cited passage yields a quote."""
        numbers = cited_numbers(text, len(draft.hits))
        hits = [draft.hits[k - 1] for k in numbers]
        quotes = [closest_sentence(text, [c.quote for c in draft.candidates if c.hit is h]) for h in hits]
        citations = _citations(list(zip(hits, quotes, strict=True)))
        if len(citations) != len(numbers):
            raise GenerationError(
                "生成回答の引用元から引用文を確認できません", "a cited passage has no verifiable quote"
            )
        text = renumber(text, {k: i for i, k in enumerate(numbers, start=1)})
        return replace(draft.answer, answer=text.strip(), citations=citations, generated=True, note="")

    def _stream_parts(self, draft: _Draft) -> Iterator[str | Answer]:
        final = draft.answer
        if self.chat_model is not None and final.answerable:
            partial = ""
            try:
                for partial in stream_generate(self.chat_model, draft.question.query, draft.hits):
                    yield partial
                final = self._generated(draft, partial)
            except GenerationError as exc:
                final = replace(final, note=f"generation fell back to extractive: {exc.en}")
        else:
            text = final.answer
            for end in _piece_ends(text):
                yield text[:end]
        yield final


def _validate(question: Any, max_chars: int) -> str:
    """The stripped question; bilingual InvalidQueryError for non-strings, empty, too long, control characters."""
    cleaned = clean_query(question, max_chars)
    if _CONTROL.search(question):
        raise InvalidQueryError(
            "質問に制御文字が含まれています。文字だけで入力してください",
            "the question contains control characters; type plain text",
        )
    return cleaned


def _clean_history(history: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    out = []
    for turn in history or ():
        if (
            isinstance(turn, (tuple, list))
            and len(turn) == 2
            and isinstance(turn[0], str)
            and turn[0].strip()
        ):
            out.append((turn[0], turn[1] if isinstance(turn[1], str) else ""))
    return out


def _history_key(history: Sequence[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    return tuple(_clean_history(history))


def _sentences(text: str) -> list[str]:
    """Quotable sentences of a chunk: verbatim substrings, bullets and page notes left out."""
    out = []
    for start, end in sentence_spans(text):
        for piece in _BULLET_CUT.split(text[start:end]):
            quote = _LEADING_MARK.sub("", piece).strip()
            if len(quote) >= 6 and not _SKIP_LINE.match(quote):
                out.append(quote)
    return out


def _cited_in(chunk_text: str, answer_text: str) -> bool:
    """True when a sentence of a previous answer was quoted from this chunk."""
    body = re.sub(r"\[\d+\]", "", answer_text.split(SUGGESTIONS_LABEL)[0])
    pieces = [p.strip() for p in re.split(r"[。\n]", body)]
    return any(len(p) >= 10 and p in chunk_text for p in pieces)


def _choose(cands: Sequence[_Candidate]) -> list[_Candidate]:
    """The best sentence, plus up to two close runners-up (distinct text), ≤ ~300 characters."""
    ranked = sorted(cands, key=lambda c: -c.score)
    chosen: list[_Candidate] = []
    for c in ranked:
        if chosen and (c.score < 0.8 * chosen[0].score or len(chosen) == 3):
            break
        if any(c.quote in o.quote or o.quote in c.quote for o in chosen):
            continue  # overlapping chunks repeat sentences
        if chosen and sum(len(o.quote) for o in chosen) + len(c.quote) > 300:
            break
        chosen.append(c)
    return chosen


def _citations(pairs: Sequence[tuple[Hit, str]]) -> tuple[Citation, ...]:
    """Citations numbered 1..n; a quote that is not verbatim in its chunk is dropped."""
    out: list[Citation] = []
    for hit, quote in pairs:
        if not quote or quote not in hit.text:
            continue
        out.append(
            Citation(len(out) + 1, hit.chunk_id, hit.doc_id, hit.doc_title, hit.section, quote, hit.text)
        )
    return tuple(out)


def _with_marker(quote: str, n: int) -> str:
    # Japanese puts the reference mark before the full stop: 「…しています[1]。」
    body = quote[:-1] if quote.endswith("。") else quote
    return f"{body}[{n}]。"


def _suggestions(hits: Sequence[Hit], limit: int = 3) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for h in hits:
        seen.setdefault(f"{h.doc_title} › {h.section}" if h.section else h.doc_title, None)
    return tuple(list(seen)[:limit])


def _piece_ends(text: str, size: int = 24) -> list[int]:
    """Cut points for streaming an already finished text in a few pieces."""
    return [*range(size, len(text), size), len(text)] if text else [0]
