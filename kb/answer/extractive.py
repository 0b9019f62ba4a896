"""The extractive writer: the answer is 1-3 sentences copied from the retrieved passages.

Sentences are chosen by the question type (いつ → dates, 何人 → numbers with that counter,
どこ/誰 → departments, とは → glossary definitions, otherwise the sentence sharing the most
question terms), and the retrieval signals decide whether to answer at all.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace

from kb.answer import patterns as P
from kb.answer.agreement import (
    agrees,
    asks_for_a_part,
    figure_attached,
    named_period,
    names_event,
    names_subject,
    names_topic,
    other_government,
    states_predicate,
)
from kb.answer.question import Question, answer_shape, answer_type, question_words
from kb.answer.quotes import piece_ends, quotable_sentences, quotable_units
from kb.answer.terms import TermStats
from kb.answer.types import Answer, Candidate, Citation, Draft
from kb.answer.weights import AnswerWeights
from kb.chunk import Chunk
from kb.era import years_in
from kb.plain_words import PlainWordMatch, held_in
from kb.retrieve import Hit
from kb.text import normalize


def _rescaled(cosine: float | None, floor: float, span: float) -> float:
    """A cosine similarity mapped over the band the model uses, into [0, 1]."""
    return 0.0 if cosine is None else min(1.0, max(0.0, (cosine - floor) / span))


def _is_best_sentence(hit: Hit, quote: str) -> bool:
    """True when ``quote`` lies inside (or holds) the hit's sentence closest in meaning."""
    if hit.best_sentence is None:
        return False
    start, end = hit.best_sentence
    best = hit.text[start:end]
    return bool(best) and (quote in best or best in quote)


def candidates(q: Question, hits: Sequence[Hit], stats: TermStats, w: AnswerWeights) -> list[Candidate]:
    """Every sentence of the passages, with a selection score and its evidence support."""
    out: list[Candidate] = []
    focus = "".join(q.focus)
    # Verb phrases count only where the plan uses them: conjugated forms vary too much for
    # their absence to mean anything, but a rare form that is present (「書かない」) is telling.
    select_terms = [*q.terms, *(v for v in q.verbs if stats.idf(v) and stats.df(v) > 0)]
    typed_question = q.qtype in ("number", "date", "who")
    asked_years = years_in(q.query)  # 2024年度 or 令和6年度: a sentence naming that year is about it
    # What the passages say, as readable text: headings and quotable sentences (a diagram's word
    # list is not read as naming anything).
    quotable = [quotable_units(hit.text, sources=q.source) for hit in hits]
    passages = [
        normalize(text)
        for hit, pairs in zip(hits, quotable, strict=True)
        for text in (hit.section, *(part for qt, lb, _ in pairs for part in (lb, qt) if part))
    ]
    for hit, pairs in zip(hits, quotable, strict=True):
        heading = normalize(hit.section)
        # Ordinals are read in the chunk's own headings: the document title (「…（第3期取組版）」)
        # names an ordinal that every chunk of the plan would otherwise share.
        own_headings = normalize(" ".join(hit.chunk.heading_path))
        body = normalize(hit.text)
        # The question's everyday words for a plan term the passage holds (kb/plain_words.py):
        # a sentence holding the term says them too (学童保育 → 留守家庭児童会室).
        aliases = hit.plain_words if w.alias_lend else ()
        body_said = _said(held_in(aliases, body))
        chunk_cov = stats.coverage(q.terms, body, heading, body_said)
        # The passage's expected question that says what the question says, in the words it uses:
        # those words count as said by the sentences under the question's anchor.
        paraphrase = _paraphrase(hit, w.paraphrase_cosine)
        # All but the same question as the expected one: its words also say what the answer is about.
        # So is one that asks the same kind of figure (何年ごと … 何年ごと): 「学校のタブレットは何年
        # ごとに買い替える?」 for 「小中学校のタブレットって何年ごとに新しくなるの？」.
        agreeing_paraphrase = paraphrase is not None and (
            paraphrase.cosine >= w.paraphrase_agree_cosine
            or (
                w.paraphrase_agree_typed
                and typed_question
                and answer_type(paraphrase.words) == (q.qtype, q.counter)
            )
        )
        chunk_cov_said = (
            stats.coverage(q.terms, body, heading, body_said, paraphrase.words) if paraphrase else chunk_cov
        )
        meaning = _rescaled(hit.sentence_cosine, w.sentence_floor, w.sentence_span)
        previous = stats.before.get(hit.chunk.chunk_id, "")
        for quote, label, follows in pairs:
            norm, label_n = normalize(quote), normalize(label)
            context, previous = (previous if follows else ""), norm
            typed, shape = answer_shape(q, norm, hit.kind, label_n)
            lexical = stats.coverage(q.terms, norm, label_n, heading)
            cover, passage_cover = lexical, chunk_cov  # with the expected question's words lent
            under_anchor = paraphrase is not None and paraphrase.holds(quote)
            if under_anchor:
                passage_cover = chunk_cov_said
            held = held_in(aliases, f"{norm} {label_n}")
            said = _said(held)
            # The sentence's cover with the thesaurus's words it says (its own words' if none).
            said_cover = stats.coverage(q.terms, norm, label_n, heading, said) if said else lexical
            lent_words = [paraphrase.words] if paraphrase and under_anchor else []
            if said:
                lent_words.append(said)
            if lent_words:
                cover = stats.coverage(q.terms, norm, label_n, heading, *lent_words)
            # The expected question lent words when they add to what the sentence and the
            # thesaurus say: a sentence under its anchor whose cover the thesaurus alone raised
            # is not credited to it (nor labelled as matching it).
            lent = under_anchor and cover > said_cover
            # What the expected question says, when it lent words to this sentence.
            lent_question = paraphrase.words if lent and paraphrase else ""
            semantic = meaning if _is_best_sentence(hit, quote) else 0.0
            support = max(0.5 * cover + 0.5 * passage_cover, w.semantic_support * semantic) if typed else 0.0
            score = (
                w.sentence * inherited(stats, select_terms, (norm, label_n), context, w)
                + w.passage * chunk_cov
                + w.rank / hit.rank
            )
            score += w.shape * shape + (w.focus_bonus if focus and focus in norm else 0.0)
            score += w.semantic_pick * semantic
            score += w.sentence * w.paraphrase_pick * (cover - lexical)
            if q.ordinals and any(o in f"{norm} {label_n} {own_headings}" for o in q.ordinals):
                score += w.ordinal_bonus
            if asked_years and asked_years & years_in(f"{quote} {label}"):
                score += w.year_bonus
            score -= w.long_penalty if len(quote) > w.long_chars else 0.0  # long sentences make poor answers
            if q.source and P.SOURCE_LINE.match(quote):
                score += w.source_bonus  # the figure's source line is what a source question asks for
            if q.qtype == "general" and stats.names_a_part(norm) and not asks_for_a_part(q):
                score -= w.heading_penalty
            # A table's reference row (関連する法令・制度・指針等: 【自治体DX推進計画】 …) lists the
            # national documents a measure relates to: it answers a question about those, and is
            # chosen before the measure's own sentences for no other.
            if label == P.REFERENCE_LABEL and not any(t in label_n for t in q.terms):
                score -= w.heading_penalty
            # Agreement reads the sentence and its heading. With the whole passage (tried on dev),
            # near-miss questions were answered more often at the same false abstention.
            agreeing = (
                # The thesaurus's words are the plan's subject in other words: they count for agreement
                # too (デジタル推進委員 is the plan's デジタル推進員); an expected question's only when
                # all but the same question.
                agrees(
                    q,
                    norm,
                    hit.kind,
                    cover if lent and agreeing_paraphrase else said_cover,
                    w,
                )
                and figure_attached(q, norm, hit.kind, stats, w.focus_clause)
                and (
                    named_period(q, norm)
                    or names_subject(
                        q, norm, f"{label_n} {heading} {said}", passages, stats, whole=w.compound_named
                    )
                )
                and (
                    not w.date_event
                    # a source line's date is when the source was published: the asked event
                    or (q.source and bool(P.SOURCE_LINE.match(quote)))
                    or names_event(q, norm, f"{label_n} {heading}", passages, stats)
                )
                if typed_question
                # An expected question all but the same as the asked one was written as answered
                # by this sentence: what it asks of its topic is stated, in other words.
                else (lent and paraphrase is not None and paraphrase.cosine >= w.paraphrase_predicate_cosine)
                or (
                    states_predicate(
                        q,
                        (norm, label_n, heading, lent_question, said),
                        stats,
                        w,
                        passages,
                    )
                    and not (w.city_statement and other_government(q, norm, hit.kind))
                    and (
                        not w.topic_named
                        or names_topic(
                            q,
                            norm,
                            # the sentence before, when this one continues it: its topic carries over
                            f"{label_n} {heading} {said} {context} {lent_question}",
                            passages,
                            stats,
                            exists=w.exists_topic,
                            whole=w.compound_named,
                        )
                    )
                )
            )
            out.append(
                Candidate(
                    hit,
                    quote,
                    score,
                    support,
                    lexical,
                    typed,
                    agreeing,
                    paraphrase=paraphrase.question if lent and paraphrase is not None else "",
                    aliases=held if said_cover > lexical else (),
                )
            )
    return out


def _said(held: Sequence[PlainWordMatch]) -> str:
    """The question's everyday words of thesaurus matches a text holds (kb.plain_words.held_in),
    normalised, as one text."""
    return " ".join(normalize(m.alias) for m in held)


@dataclass(frozen=True)
class _Paraphrase:
    """A passage's expected question close to the asked one, and the excerpt that answers it."""

    question: str
    cosine: float
    words: str  # the question, normalised: read as the asker's words for the anchor's sentence
    anchor: str  # verbatim in the passage

    def holds(self, quote: str) -> bool:
        """Does the quoted sentence hold (part of) the anchor, or lie inside it?"""
        a = self.anchor
        edge = 12  # an anchor crossing a sentence boundary still marks both sentences
        return a in quote or quote in a or (len(a) > edge and (a[:edge] in quote or a[-edge:] in quote))


def _paraphrase(hit: Hit, min_cosine: float) -> _Paraphrase | None:
    """The hit's closest expected question when it is a paraphrase of the question (cosine at
    least ``min_cosine``), written by hand, and placed in the passage; else None."""
    match = hit.similar_question
    if match is None or match.stand_in or match.end <= match.start or match.cosine < min_cosine:
        return None
    return _Paraphrase(
        match.question, match.cosine, normalize(match.question), hit.text[match.start : match.end]
    )


def related_sentence(cands: Sequence[Candidate], w: AnswerWeights) -> Candidate | None:
    """The sentence a declined question is shown as related (not as its answer), or None.

    The best-scoring sentence under the anchor of an expected question close to the asked one
    (cosine at least ``w.related_cosine``) in one of the top ``w.related_passages`` passages:
    someone asked nearly this, and this is where the plan speaks of it. Nothing for a question
    that matches no expected question that closely (粗大ごみの出し方).
    """
    found = [
        c
        for c in cands
        if c.via is None
        and c.hit.rank <= w.related_passages
        and (p := _paraphrase(c.hit, w.related_cosine)) is not None
        and p.holds(c.quote)
    ]
    return max(found, key=lambda c: c.score, default=None)


def inherited(
    stats: TermStats, terms: Sequence[str], own: Sequence[str], context: str, w: AnswerWeights
) -> float:
    """Coverage of ``terms`` by a sentence (``own``: it and its row label), where a sentence that
    goes on from the one before (``context``: that sentence, or "") also counts the terms it
    names, at ``w.inherited_share``: 「以後、本宣言の改訂を重ねつつ…方針等を打ち出し」 is about the
    宣言 its previous sentence names. Only for a sentence holding a question term itself."""
    cover = stats.coverage(terms, *own)
    if not context or cover <= 0:
        return cover
    return cover + w.inherited_share * (stats.coverage(terms, *own, context) - cover)


#: The question types a sentence may answer by meaning alone (see :func:`semantic_lead`).
LEAD_TYPES = ("general", "definition")


def semantic_lead(
    q: Question, cands: Sequence[Candidate], closest: Sequence[float], w: AnswerWeights
) -> Candidate | None:
    """The sentence a question in everyday words is answered from by meaning alone, or None.

    A question that shares few words with the plan gets little keyword support, however well a
    sentence answers it. When the corpus's sentence closest in meaning (``closest``: the best
    cosines, best first) is close (``lead_cosine``) and stands clear of every other sentence
    (``lead_margin``), and it is the closest sentence of a retrieved passage, that sentence leads,
    unless another sentence holds (almost) every term of the question (``lead_words_cap``).
    Only for questions without a typed answer: a date, number or who question still needs the
    figure or body on its subject (``agrees``), which meaning cannot vouch for.
    """
    if q.qtype not in LEAD_TYPES or len(closest) < 2:
        return None
    best, second = closest[0], closest[1]
    if best < w.lead_cosine or best - second < w.lead_margin:
        return None
    if any(c.lexical >= w.lead_words_cap for c in cands):
        return None  # a sentence holds the question's own words: it answers, not meaning alone
    found = [
        c
        for c in cands
        if c.via is None
        and c.hit.sentence_cosine is not None
        and abs(c.hit.sentence_cosine - best) < 1e-6
        and _is_best_sentence(c.hit, c.quote)
        and c.lexical < w.lead_max_lexical
    ]
    return max(found, key=lambda c: c.score, default=None)


def confidence(
    q: Question,
    hits: Sequence[Hit],
    cands: Sequence[Candidate],
    cosine: float,
    stats: TermStats,
    w: AnswerWeights,
) -> float:
    """One score in [0, 1] from four retrieval signals.

    - support: the best of ``cands`` — the answerer passes the sentences it will quote — that has
      the asked answer type (a date for いつ, a number with the asked counter for 何人/何件/料金…),
      mixed with its passage's coverage of question terms;
    - focus: the question's last noun phrase (what is asked about) occurs in the passage of the
      best of ``cands`` (``w.focus_elsewhere`` when only in another top passage);
    - known: share of question terms that occur anywhere in the corpus (「粗大ごみ」「ふるさと
      納税」 never do — off-topic questions use words the plan does not);
    - semantic: best cosine similarity, rescaled over the band the model actually uses.

    For number, date and who questions only sentences about the asked subject count as support
    (``Candidate.agrees``): a figure about a neighbouring subject is not evidence.
    """
    if not hits:
        return 0.0
    support = max((c.support for c in cands if c.agrees), default=0.0)
    texts = [normalize(h.text + " " + h.section) for h in hits]
    # A naming question describes what it asks about in its own words: no phrase of it need occur.
    focus = 1.0 if q.naming or any(q.focus_found(t) for t in texts) else 0.0
    # What is asked about should be where the answer is quoted from, not only in another passage.
    if focus and not q.naming and cands:
        quoted_from = normalize(cands[0].hit.text + " " + cands[0].hit.section)
        focus = 1.0 if q.focus_found(quoted_from) else w.focus_elsewhere
    total = sum(stats.idf(t) for t in q.terms)
    unknown = sum(stats.idf(t) for t in q.terms if stats.df(t) == 0) / total if total else 0.0
    semantic = min(1.0, max(0.0, (cosine - w.semantic_floor) / w.semantic_span))
    score = w.support * support + w.focus * focus + w.known * (1 - unknown) + w.semantic * semantic
    return round(score, 4)


def choose(cands: Sequence[Candidate], w: AnswerWeights, listing: bool = False) -> list[Candidate]:
    """The best sentence about the asked subject, plus close runners-up (distinct text), within
    the length budget; for a list question (``listing``) also the close short items, the items
    first when the best is one of them (:func:`list_items`)."""
    ranked = sorted((c for c in cands if c.agrees and c.typed), key=lambda c: -c.score)
    chosen: list[Candidate] = []
    for c in ranked:
        if chosen and (c.score < w.runner_up_ratio * chosen[0].score or len(chosen) == w.max_quotes):
            break
        if _repeats(c, chosen):
            continue  # overlapping chunks repeat sentences
        if chosen and sum(len(o.quote) for o in chosen) + len(c.quote) > w.max_answer_chars:
            break
        chosen.append(c)
    if not listing or not chosen:
        return chosen
    items = [c for c in chosen if _is_item(c, w)]
    for c in ranked:
        if c.score < w.runner_up_ratio * chosen[0].score or len(items) == w.list_items:
            break
        if not _is_item(c, w) or _repeats(c, chosen):
            continue
        if sum(len(o.quote) for o in items) + len(c.quote) > w.list_chars:
            break
        items.append(c)
        chosen.append(c)
    if not _is_item(chosen[0], w):
        return chosen
    return [*items, *(c for c in chosen if not _is_item(c, w))]


def _repeats(c: Candidate, chosen: Sequence[Candidate]) -> bool:
    return any(c.quote in o.quote or o.quote in c.quote for o in chosen)


def is_list_item(quote: str, w: AnswerWeights) -> bool:
    """A short quote without a full stop: a table row or a list item, not a sentence of prose."""
    return len(quote) <= w.list_item_chars and not quote.rstrip().endswith("。")


def _is_item(c: Candidate, w: AnswerWeights) -> bool:
    return c.via is None and is_list_item(c.quote, w)


def list_items(citations: Sequence[Citation], w: AnswerWeights) -> int:
    """How many leading citations of a list answer are its items (0 or 1: no list)."""
    n = 0
    while n < len(citations) and is_list_item(citations[n].quote, w):
        n += 1
    return n


def _is_member(segment: str) -> bool:
    """A short segment between separators that is not a clause of prose (「…を提示し」)."""
    segment = segment.strip(" 　()（）")
    return 0 < len(segment) <= 20 and "。" not in segment and not P.CLAUSE_ENDING.search(segment)


def _leading_run(segments: Sequence[str]) -> int:
    """How many of ``segments``, from the first, are list members."""
    n = 0
    while n < len(segments) and _is_member(segments[n]):
        n += 1
    return n


def _longest_run(segments: Sequence[str]) -> int:
    """The longest run of consecutive list members among ``segments``."""
    run = longest = 0
    for segment in segments:
        run = run + 1 if _is_member(segment) else 0
        longest = max(longest, run)
    return longest


def _place(c: Candidate) -> tuple[str, int, int] | None:
    """(its passage's text, start, end) of a candidate's quote, normalised; None if not found."""
    text, quote = normalize(c.hit.text), normalize(c.quote)
    at = text.find(quote)
    return None if at < 0 else (text, at, at + len(quote))


def _numbered(text: str) -> int:
    """How many members numbered 1, 2, 3 … in order a normalised text holds (①② normalise to 1 2)."""
    numbers = {int(n) for n in P.NUMBERED_MEMBER.findall(text)}
    n = 0
    while n + 1 in numbers:
        n += 1
    return n


def members(text: str, name: str = "") -> int:
    """How many members of a set a normalised text lists: numbered ones (①②③), quoted names
    (「物理的対策」「技術的対策」) or a run of short segments between separators (児童手当、子ども・
    子育て支援、…). With the set's ``name`` (「20業務」), only members right beside it count: after it,
    or a run directly before it, so 「3つの基本理念、5つの基本原則を提示し」 lists none; 0 when the
    text does not name the set."""
    if name and name not in text:
        return 0
    before, _, after = text.partition(name) if name else ("", "", text)
    segments = P.LIST_SEPARATOR.split(after)
    run = _leading_run(segments) if name else _longest_run(segments)
    return max(
        _numbered(after),
        len(P.QUOTED_MEMBER.findall(after)),
        run,
        _leading_run(P.LIST_SEPARATOR.split(before)[::-1]) if name else 0,
    )


def lists_the_set(
    q: Question, chosen: Sequence[Candidate], cands: Sequence[Candidate], w: AnswerWeights
) -> list[Candidate] | None:
    """For a question asking for the members of a counted set (``Question.counted``), the quotes that
    list them, or None when no passage does (the plan names the set only).

    A set counted only by kind (「3つの種類」「4段階」) must be listed by a chosen quote. A set with a
    name of its own (「3つの基本理念」「20業務」「12箇条」) is listed beside its name: by a chosen quote,
    else by another candidate, which then leads the answer, else just after a chosen quote in its
    passage (a list the sentence splitter cut off: 「…基本原則」 then 「①オープン・透明、②…」).
    """
    if not q.counted or not chosen:
        return list(chosen)
    need = min(q.count, 3)
    kind = P.COUNT_PREFIX.sub("", q.counted)
    names = [] if kind in P.COUNTED_KINDS else [n for n in (q.counted, kind) if len(n) > 1]

    def lists(text: str) -> bool:
        return any(members(text, n) >= need for n in names) if names else members(text) >= need

    if any(lists(normalize(c.quote)) for c in chosen):
        return list(chosen)
    listing = [c for c in cands if c.agrees and c.typed and lists(normalize(c.quote))] if names else []
    if listing:
        best = max(listing, key=lambda c: c.score)
        return [best, *(c for c in chosen if c is not best)][: w.max_quotes]
    for i, c in enumerate(chosen):
        if (place := _place(c)) is None:
            continue
        text, at, end = place
        if lists(text[at if names else end : end + w.list_window_chars]):
            # The members follow the quote: quote them too, right after it.
            return [*chosen[: i + 1], *_following(c, cands, chosen, w), *chosen[i + 1 :]]
    return None


def _following(
    c: Candidate, cands: Sequence[Candidate], chosen: Sequence[Candidate], w: AnswerWeights
) -> list[Candidate]:
    """The candidates that follow ``c`` in its passage one after another (list members the sentence
    splitter cut apart: 「① 組織体制の整備」「② デジタル人材の確保・育成」…), up to ``w.list_items``."""
    if (place := _place(c)) is None:
        return []
    text, _, end = place
    numbered = 0
    out: list[Candidate] = []
    # The other sentences of the passage, each normalised once.
    same = [
        (o, normalize(o.quote))
        for o in cands
        if o.hit.chunk.chunk_id == c.hit.chunk.chunk_id and o.via is None
    ]
    while len(out) < w.list_items:
        nxt = next(
            (
                (o, quote, at)
                for o, quote in same
                if end <= (at := text.find(quote, end)) <= end + w.member_gap_chars
            ),
            None,
        )
        if nxt is None or not is_list_item(nxt[0].quote, w) or _repeats(nxt[0], [*chosen, *out]):
            break
        member, quote, at = nxt
        # Numbered members go on in order: 「① …」「② …」, not the ① of the next list.
        number = P.LEADING_NUMBER.match(quote)
        if out and numbered and (number is None or int(number.group(1)) != numbered + len(out)):
            break
        if not out:
            numbered = int(number.group(1)) if number else 0
        out.append(member)
        end = at + len(quote)
    return out


def introduced_list(
    q: Question, chosen: Sequence[Candidate], cands: Sequence[Candidate], w: AnswerWeights
) -> list[Candidate]:
    """A general question answered by a label that introduces a numbered list (「自治体におけるDXの
    推進体制の構築」, then 「① 組織体制の整備 ② デジタル人材の確保・育成 …」 in its passage): the
    members that follow the label are quoted right after it, since the label alone says nothing."""
    if q.qtype != "general" or not chosen:
        return list(chosen)
    first = chosen[0]
    if not is_list_item(first.quote, w) or len(first.quote) > w.label_chars:
        return list(chosen)
    # Only an explicit list (① ② …): short lines after a label are often its siblings (table rows).
    place = _place(first)
    if place is None or _numbered(place[0][place[2] : place[2] + w.list_window_chars]) < 2:
        return list(chosen)
    following = _following(first, cands, chosen, w)
    return [first, *following, *chosen[1:]] if following else list(chosen)


class ItemIndex:
    """The chunks under each numbered item of a document (取組3-1 …), to follow a sentence that
    points at an item (「取り組み3-1に掲げる標準準拠システムへの移行について…」) to what the item
    itself says: a いつ question about the pointing sentence is answered by the item's date.
    """

    def __init__(self, chunks: Sequence[Chunk]) -> None:
        self._chunks: dict[tuple[str, str], list[Chunk]] = {}
        for chunk in chunks:
            for heading in chunk.heading_path:
                if m := P.ITEM_REF.match(normalize(heading)):
                    self._chunks.setdefault((chunk.doc_id, f"{m[1]}-{m[2]}"), []).append(chunk)
                    break

    def follow(
        self, q: Question, cands: Sequence[Candidate], stats: TermStats, w: AnswerWeights
    ) -> list[Candidate]:
        """For a date or number question: each sentence about the asked subject that lacks the
        figure but names an item gives the item's sentence that has it, on the same subject."""
        if q.qtype not in ("date", "number"):
            return []
        out: list[Candidate] = []
        for c in cands:
            if c.typed or c.lexical < w.agree_coverage:
                continue
            norm = normalize(c.quote)
            for m in P.ITEM_REF.finditer(norm):
                # What the sentence says of the item: the words after the reference, to the comma.
                terms = question_words(norm[m.end() :].split("、")[0])[0]
                for chunk in self._chunks.get((c.hit.chunk.doc_id, f"{m[1]}-{m[2]}"), []):
                    if chunk.chunk_id == c.hit.chunk.chunk_id or not terms:
                        continue
                    found = [
                        (stats.coverage(terms, normalize(quote)), quote)
                        for quote, _ in quotable_sentences(chunk.text)
                        if answer_shape(q, normalize(quote), chunk.kind)[0]
                    ]
                    if not found:
                        continue
                    cover, quote = max(found, key=lambda f: f[0])  # the first of equals
                    if cover < w.agree_coverage:
                        continue
                    hit = Hit(c.hit.rank, c.hit.score, chunk)
                    support = c.lexical * cover
                    out.append(
                        replace(
                            c,
                            hit=hit,
                            quote=quote,
                            support=support,
                            typed=True,
                            agrees=True,
                            via=(c.hit, c.quote),
                        )
                    )
        return out


class ExtractiveWriter:
    """Writes the draft's extractive answer as it is (the default writer)."""

    note = ""

    def write(self, draft: Draft) -> Answer:
        return draft.answer

    def stream(self, draft: Draft) -> Iterator[str | Answer]:
        text = draft.answer.answer
        for end in piece_ends(text):
            yield text[:end]
        yield draft.answer
