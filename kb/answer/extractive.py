"""The extractive writer: the answer is 1-3 sentences copied from the retrieved passages.

Sentences are chosen by the question type (いつ → dates, 何人 → numbers with that counter,
どこ/誰 → departments, とは → glossary definitions, otherwise the sentence sharing the most
question terms), and the retrieval signals decide whether to answer at all.
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Iterator, Sequence
from dataclasses import replace

from kb.answer import patterns as P
from kb.answer.question import Question, answer_shape, question_words
from kb.answer.types import Answer, Candidate, Citation, Draft
from kb.answer.weights import AnswerWeights
from kb.chunk import Chunk
from kb.era import with_western
from kb.retrieve import Hit
from kb.text import morphemes, normalize, sentence_spans

_HIRAGANA = re.compile(r"[ぁ-ゖ]+")


class Words:
    """Where the words of a (normalised) text begin and end, as MeCab cuts it.

    A question term matches a text only as one of its words or a run of them (a part of a
    compound the tokenizer yields: マイナンバー in マイ/ナンバー/カード), never inside a word:
    ネット is not in ネットワーク, 人 is not in 個人. A term may end before the okurigana the
    text writes and the question leaves out (取組 in 取組み).
    """

    __slots__ = ("starts", "ends", "word_end", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        starts: set[int] = set()
        ends: set[int] = set()
        word_end = list(range(1, len(text) + 1))  # the end of the word holding each character
        pos = 0
        for m in morphemes(text, normalise=False):
            pos += len(m.space_before)
            start, pos = pos, pos + len(m.surface)
            if text[start:pos] != m.surface:  # the tagger did not keep the text as it was
                starts, ends = set(range(len(text) + 1)), set(range(len(text) + 1))
                break
            starts.add(start)
            ends.add(pos)
            word_end[start:pos] = [pos] * (pos - start)
        self.starts, self.ends, self.word_end = frozenset(starts), frozenset(ends), tuple(word_end)

    def at(self, start: int, end: int) -> bool:
        """Does ``text[start:end]`` begin at a word and end at one (or before its okurigana)?"""
        if start not in self.starts:
            return False
        return end in self.ends or bool(_HIRAGANA.fullmatch(self.text[end : self.word_end[end - 1]]))

    def find(self, term: str) -> Iterator[int]:
        """Start offsets where ``term`` occurs as words of the text."""
        if not term:
            return
        i = self.text.find(term)
        while i >= 0:
            if self.at(i, i + len(term)):
                yield i
            i = self.text.find(term, i + 1)

    def has(self, term: str) -> bool:
        return next(self.find(term), None) is not None

    def search(self, pattern: re.Pattern[str]) -> bool:
        """Does ``pattern`` match somewhere as words of the text?"""
        return any(self.at(m.start(), m.end()) for m in pattern.finditer(self.text) if m.end() > m.start())


class TermStats:
    """How many chunks contain a question term (counted as substrings of normalised text), and
    whether a text holds one as words (``Words``).

    Counts stay substring counts: as word counts (session 10, eval/experiments/answer_signals.md)
    a one-kanji frame word (下 of 「…の下にある」) became rare and a question's typed clipping
    (デジ田, ネット) unknown, and three plan-worded questions were declined. Question terms are surface nouns (「書かない窓口」), not the keyword index's lemmas, so the
    counts come from the chunk texts (with their heading paths) rather than from BM25's vocabulary.
    Built once per index; the per-term memo and the per-text word cuts are pure caches (the
    corpus is fixed, so they stop growing), safe to share between requests.
    """

    def __init__(self, chunks: Sequence[Chunk]) -> None:
        # Heading path and body, not the document title: a title shared by every chunk of a
        # document (「…（第3期取組版）」) would make its words look common everywhere.
        self._words: dict[str, Words] = {}
        self._texts = [normalize(f"{c.section}\n{c.text}") for c in chunks]
        self._df: dict[str, int] = {}
        #: The last sentence of the chunk before each chunk in the same section (normalised): what a
        #: chunk's first sentence goes on from (「またこの間、…」 can open a chunk).
        self.before: dict[str, str] = {}
        ordered = sorted(chunks, key=lambda c: (c.doc_id, c.start))
        for prev, chunk in zip(ordered, ordered[1:], strict=False):
            last = quotable_sentences(prev.text)
            if prev.doc_id == chunk.doc_id and prev.heading_path == chunk.heading_path and last:
                self.before[chunk.chunk_id] = normalize(last[-1][0])
        #: Every heading of the corpus: a sentence that is one of them names a part, it says nothing of it.
        self.headings = frozenset(
            form for c in chunks for h in c.heading_path for form in P.heading_forms(normalize(h))
        )

    def words(self, text: str) -> Words:
        """The word cuts of a normalised text, cached."""
        found = self._words.get(text)
        if found is None:
            if len(self._words) > 200_000:  # texts a long-running app never saw before
                self._words.clear()
            found = self._words[text] = Words(text)
        return found

    def has(self, term: str, *texts: str) -> bool:
        """Does ``term`` occur as words of one of the (normalised) ``texts``?"""
        return any(term in t and self.words(t).has(term) for t in texts)

    def names_a_part(self, sentence: str) -> bool:
        """Is this (normalised) sentence one of the corpus's headings (「取組2-2 円滑な…の整備」)?"""
        return sentence.removesuffix("。") in self.headings

    def df(self, term: str) -> int:
        if term not in self._df:
            if len(self._df) > 100_000:  # a long-running app sees many distinct terms
                self._df.clear()
            self._df[term] = sum(term in t for t in self._texts)
        return self._df[term]

    def idf(self, term: str) -> float:
        return math.log((len(self._texts) + 1) / (self.df(term) + 0.5))

    def coverage(self, terms: Sequence[str], *texts: str) -> float:
        """IDF-weighted share of ``terms`` that occur as words of one of the normalised ``texts``."""
        total = sum(self.idf(t) for t in terms)
        if total <= 0:
            return 0.0  # a question without one content noun names nothing to look for
        return sum(self.idf(t) for t in terms if self.has(t, *texts)) / total


def _bracket_depth(text: str) -> int:
    return sum(text.count(c) for c in P.OPEN_BRACKETS) - sum(text.count(c) for c in P.CLOSE_BRACKETS)


def _balanced_spans(text: str, max_chars: int = 300) -> list[tuple[int, int]]:
    """Sentence spans, joined across line breaks that fall inside 「…」 or （…） (the PDF breaks
    lines anywhere: 「自治体のAI⏎・RPAの利用推進」 is one phrase)."""
    out: list[tuple[int, int]] = []
    for start, end in sentence_spans(text):
        if out and _bracket_depth(text[out[-1][0] : out[-1][1]]) > 0 and end - out[-1][0] <= max_chars:
            out[-1] = (out[-1][0], end)
        else:
            out.append((start, end))
    return out


def quotable_sentences(text: str) -> list[tuple[str, str]]:
    """(quote, row label) of :func:`quotable_units`."""
    return [(quote, label) for quote, label, _ in quotable_units(text)]


def quotable_units(text: str) -> list[tuple[str, str, bool]]:
    """Quotable sentences of a chunk with the row label each was cut from (「期待する効果」, or "").

    Quotes are verbatim substrings, never cut inside brackets, without a leading bullet, row
    label or connective; page notes and reference rows are left out. The label is kept beside
    the quote because a question can ask for the row by its name (「取組2-4の期待する効果」).
    The third field says whether the sentence goes on from the one before (P.CONTINUATION).
    """
    out = []
    # A figure's box label on its own line (【基本目標3】) names the line that follows it.
    box = ""
    for start, end in _balanced_spans(text):
        for piece in P.BULLET_CUT.split(text[start:end]):
            quote = P.LEADING_MARK.sub("", piece).strip()
            if P.SKIP_LINE.match(quote):
                box = quote[1:-1] if P.BOX_LABEL.match(quote) else ""
                continue
            follows = bool(P.CONTINUATION.match(quote))
            label = P.LEADING_LABEL.match(quote)
            # a bullet can follow the label (「期待する効果: ・…」)
            quote = P.LEADING_MARK.sub("", quote[label.end() :]).strip() if label else quote
            if len(quote) >= 6 and not P.SKIP_LINE.match(quote) and not _word_list(quote):
                out.append((quote, (label.group(1) if label else "") or box, follows))
            box = ""
    return out


def _word_list(quote: str) -> bool:
    """A diagram's labels run together (many "/" between words): nothing in it reads as an answer."""
    return P.URL.sub("", quote).count("/") >= P.WORD_LIST_SLASHES


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


def figure_attached(q: Question, sentence: str, kind: str, stats: TermStats) -> bool:
    """Does the sentence's date or number belong to what is asked?

    A sentence can chain events (「平成27年度から公開を開始し、その後コンテストを開催」): the figure
    must stand in the same clause as the rarest question term the sentence holds, or the date of
    one event answers a question about the other.
    """
    if q.qtype not in ("date", "number"):
        return True
    present = [t for t in q.terms if stats.has(t, sentence)]
    if not present:
        return True
    key = max(present, key=stats.idf)
    cuts = [0, *(m.end() for m in P.CLAUSE_CUT.finditer(sentence)), len(sentence)]
    clauses = list(zip(cuts, cuts[1:], strict=False))
    at = {next(i for i, (a, b) in enumerate(clauses) if a <= s < b) for s in stats.words(sentence).find(key)}
    return any(answer_shape(q, sentence[clauses[i][0] : clauses[i][1]], kind)[0] for i in at)


def subject_key(q: Question, stats: TermStats) -> str | None:
    """The question's most specific word for its subject: a name it quotes, else the rarest noun
    of its noun phrases that the corpus uses (``Question.subject``)."""
    known = [t for t in (*q.names, *q.subject) if stats.df(t) > 0]
    if not known:
        return None
    return max(known, key=lambda t: (t in q.names, stats.idf(t)))


def missing_kind(
    q: Question, quotes: Sequence[str], stats: TermStats, synonyms: Collection[str] = ()
) -> str | None:
    """The word of the question's subject that the plan never uses, when the answer was found by
    the other words of its compound; else None.

    「電子入札システム」「スマート農業」「地域通貨」 name a kind of thing the plan does not have, by
    a word it never uses (入札, 農業, 通貨) beside words it uses everywhere (電子, システム, スマート,
    地域): a sentence quoting those is about another kind of the same thing. Not a word with a
    synonym the plan uses (``synonyms``: the typed words kb.expand rewrites, スマホ), nor one the
    quotes hold; a word the plan lacks that the quotes do not stand on through its compound
    (「在宅勤務」 answered with a sentence on 自宅 and Web会議, without 勤務) is left to the
    other signals.
    """
    quoted = normalize(" ".join(quotes))
    for compound in q.compounds:
        for word in compound:
            if not P.KANJI_OR_KANA_WORD.fullmatch(word) or stats.df(word) > 0 or word in quoted:
                continue
            if any(word in s for s in synonyms):
                continue
            if any(other != word and stats.df(other) > 0 and other in quoted for other in compound):
                return word
    return None


def asks_for_a_part(q: Question) -> bool:
    """Is the question about a numbered part itself (「基本目標1は何ですか」「取組1-1はどんな取組？」)
    or its name (「取組1-2の名称」)? Then the part's heading answers it; a question about something
    in the part (「取組2-3で期待する効果は？」) is only restated by the heading."""
    if P.NAME_Q.search(normalize(q.query)):
        return True
    return bool(q.ordinals) and all(any(t in o for o in q.ordinals) for t in q.terms)


def spelled(term: str) -> re.Pattern[str]:
    """``term`` allowing the okurigana the plan writes or leaves out between kanji (取組 /
    取り組み / 取組み)."""
    parts = [re.escape(ch) + ("[ぁ-ん]?" if P.KANJI.match(ch) else "") for ch in term]
    return re.compile("".join(parts))


def names_subject(
    q: Question, sentence: str, context: str, passages: str | Sequence[str], stats: TermStats
) -> bool:
    """Does the sentence (or its row label and headings, ``context``) name what is asked about?

    A figure answers a number/date/who question only about the thing the question singles out:
    「福祉サービス検索システムで検索できる支援制度はいくつ？」 is not answered by a count of
    「20業務」 that shares 福祉 and システム with it but not 検索. Only when the passages use the
    word at all: a question can name its subject in words of its own (デジタル推進委員 for the
    plan's デジタル推進員).
    """
    key = subject_key(q, stats)
    if key is None:
        return True
    pattern = spelled(key)
    texts = (passages,) if isinstance(passages, str) else passages
    if not any(stats.words(t).search(pattern) for t in texts if pattern.search(t)):
        return True
    return any(stats.words(t).search(pattern) for t in (sentence, context) if pattern.search(t))


def named_period(q: Question, sentence: str) -> bool:
    """A date question naming a plan period (第3期) that the sentence names too."""
    return q.qtype == "date" and any(o in sentence for o in q.ordinals)


def agrees(q: Question, sentence: str, kind: str, lexical: float, w: AnswerWeights) -> bool:
    """Is a (normalised) sentence about what a number/date/who question asks?

    Most of the question's terms (IDF-weighted, ``lexical``: sentence and heading) must be there,
    and a question about the city is not answered by a statement about the nation (国は…, 全国の…).
    """
    # A plan period named in the question and in the sentence (第3期) fixes the subject of a date
    # question by itself: 「第3期（令和6年度から4年間）」 answers 「第3期の計画期間は？」 without
    # repeating 計画期間.
    if lexical < w.agree_coverage and not named_period(q, sentence):
        return False
    if P.CITY_Q.search(q.query) and not P.CITY_A.search(sentence):
        return not (kind == "national_strategy" or P.NATION_A.search(sentence))
    return True


def candidates(q: Question, hits: Sequence[Hit], stats: TermStats, w: AnswerWeights) -> list[Candidate]:
    """Every sentence of the passages, with a selection score and its evidence support."""
    out: list[Candidate] = []
    focus = "".join(q.focus)
    # Verb phrases count only where the plan uses them: conjugated forms vary too much for
    # their absence to mean anything, but a rare form that is present (「書かない」) is telling.
    select_terms = [*q.terms, *(v for v in q.verbs if stats.idf(v) and stats.df(v) > 0)]
    typed_question = q.qtype in ("number", "date", "who")
    # What the passages say, as readable text: headings and quotable sentences (a diagram's word
    # list is not read as naming anything).
    quotable = [quotable_units(hit.text) for hit in hits]
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
        chunk_cov = stats.coverage(q.terms, normalize(hit.text), heading)
        meaning = _rescaled(hit.sentence_cosine, w.sentence_floor, w.sentence_span)
        previous = stats.before.get(hit.chunk.chunk_id, "")
        for quote, label, follows in pairs:
            norm, label_n = normalize(quote), normalize(label)
            context, previous = (previous if follows else ""), norm
            typed, shape = answer_shape(q, norm, hit.kind)
            lexical = stats.coverage(q.terms, norm, label_n, heading)
            semantic = meaning if _is_best_sentence(hit, quote) else 0.0
            support = max(0.5 * lexical + 0.5 * chunk_cov, w.semantic_support * semantic) if typed else 0.0
            score = (
                w.sentence * inherited(stats, select_terms, (norm, label_n), context, w)
                + w.passage * chunk_cov
                + w.rank / hit.rank
            )
            score += w.shape * shape + (w.focus_bonus if focus and focus in norm else 0.0)
            score += w.semantic_pick * semantic
            if q.ordinals and any(o in f"{norm} {normalize(label)} {own_headings}" for o in q.ordinals):
                score += w.ordinal_bonus
            score -= w.long_penalty if len(quote) > w.long_chars else 0.0  # long sentences make poor answers
            if q.qtype == "general" and stats.names_a_part(norm) and not asks_for_a_part(q):
                score -= w.heading_penalty
            # Agreement reads the sentence and its heading. With the whole passage (tried on dev),
            # near-miss questions were answered more often at the same false abstention.
            agreeing = (
                agrees(q, norm, hit.kind, lexical, w)
                and figure_attached(q, norm, hit.kind, stats)
                and (named_period(q, norm) or names_subject(q, norm, f"{label_n} {heading}", passages, stats))
                if typed_question
                else True
            )
            out.append(Candidate(hit, quote, score, support, lexical, typed, agreeing))
    return out


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


def semantic_lead(
    q: Question, cands: Sequence[Candidate], closest: Sequence[float], w: AnswerWeights
) -> Candidate | None:
    """The sentence a question in everyday words is answered from by meaning alone, or None.

    A question that shares few words with the plan gets little keyword support, however well a
    sentence answers it. When the corpus's sentence closest in meaning (``closest``: the best
    cosines, best first) is close (``lead_cosine``) and stands clear of every other sentence
    (``lead_margin``), and it is the closest sentence of a retrieved passage, that sentence leads.
    Only for questions without a typed answer: a date, number or who question still needs the
    figure or body on its subject (``agrees``), which meaning cannot vouch for.
    """
    if q.qtype not in ("general", "definition") or len(closest) < 2:
        return None
    best, second = closest[0], closest[1]
    if best < w.lead_cosine or best - second < w.lead_margin:
        return None
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
    - focus: the question's last noun phrase (what is asked about) occurs in a top passage;
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


def cite(pairs: Sequence[tuple[Hit, str]]) -> tuple[Citation, ...]:
    """Citations numbered 1..n; a quote that is not verbatim in its chunk is dropped."""
    out: list[Citation] = []
    seen: set[tuple[str, str]] = set()
    for hit, quote in pairs:
        if (hit.chunk.chunk_id, quote) in seen:
            continue  # a sentence both chosen and quoted as the link to another
        seen.add((hit.chunk.chunk_id, quote))
        if quote and quote in hit.text:
            out.append(Citation(len(out) + 1, hit.chunk, quote))
    return tuple(out)


def display_quote(quote: str) -> str:
    """A quote as the answer text shows it: line breaks the PDF left inside a phrase dropped, no
    final full stop, and each era year followed by its Western year (令和6年度（2024年度）), since
    staff count in both. The citation keeps the verbatim quote."""
    return with_western(re.sub(r"\s*\n\s*", "", quote).removesuffix("。"))


def with_marker(quote: str, n: int) -> str:
    # Japanese puts the reference mark before the full stop: 「…しています[1]。」
    return f"{display_quote(quote)}[{n}]。"


def cited_in(chunk_text: str, answer_text: str) -> bool:
    """True when a sentence of a previous answer was quoted from this chunk."""
    body = re.sub(r"\[\d+\]", "", answer_text.split(P.SUGGESTIONS_LABEL)[0])
    # Western years shown after era years are not the plan's words (unless the plan wrote them).
    pieces = [p.strip() for text in (body, P.WESTERN_GLOSS.sub("", body)) for p in re.split(r"[。\n]", text)]
    return any(len(p) >= 10 and p in chunk_text for p in pieces)


def piece_ends(text: str, size: int = 24) -> list[int]:
    """Cut points for streaming an already finished text in a few pieces."""
    return [*range(size, len(text), size), len(text)] if text else [0]


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
