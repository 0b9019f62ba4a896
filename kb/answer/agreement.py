"""Whether a sentence answers what was asked about: the figure is attached to the question's
subject (same clause, its own measure, the city rather than the nation), the asked part or
period is named, and nothing the question names is missing from the corpus."""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence

from kb.answer import patterns as P
from kb.answer.question import Question, answer_shape, noun_runs
from kb.answer.terms import TermStats
from kb.answer.weights import AnswerWeights
from kb.text import Morpheme, morphemes, normalize


def figure_attached(
    q: Question, sentence: str, kind: str, stats: TermStats, focus_clause: bool = False
) -> bool:
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
    keys = [key]
    # The noun the asked figure qualifies (「何年度までの地方の方向性」 → 方向性) holds it as directly:
    # 「国は、2024年度までの地方に対する基本的方向を示すため、…を改訂し、…（仮称）を策定」.
    if focus_clause and (named := [f for f in q.focus if len(f) > 1 and stats.has(f, sentence)]):
        keys.append(max(named, key=stats.idf))
    at = {
        next(i for i, (a, b) in enumerate(clauses) if a <= s < b)
        for k in keys
        for s in stats.words(sentence).find(k)
    }
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
    if P.NAME_Q.search(q.normalized):
        return True
    return bool(q.ordinals) and all(any(t in o for o in q.ordinals) for t in q.terms)


def spelled(term: str) -> re.Pattern[str]:
    """``term`` allowing the okurigana the plan writes or leaves out between kanji (取組 /
    取り組み / 取組み)."""
    parts = [re.escape(ch) + ("[ぁ-ん]?" if P.KANJI.match(ch) else "") for ch in term]
    return re.compile("".join(parts))


def names_subject(
    q: Question,
    sentence: str,
    context: str,
    passages: str | Sequence[str],
    stats: TermStats,
    whole: bool = False,
) -> bool:
    """Does the sentence (or its row label and headings, ``context``) name what is asked about?

    A figure answers a number/date/who question only about the thing the question singles out:
    「福祉サービス検索システムで検索できる支援制度はいくつ？」 is not answered by a count of
    「20業務」 that shares 福祉 and システム with it but not 検索. Only when the passages use the
    word at all: a question can name its subject in words of its own (デジタル推進委員 for the
    plan's デジタル推進員).
    """
    key = subject_key(q, stats)
    return key is None or _named(q, key, sentence, context, passages, stats, whole)


def _named(
    q: Question,
    key: str,
    sentence: str,
    context: str,
    passages: str | Sequence[str],
    stats: TermStats,
    whole: bool,
) -> bool:
    """``key`` where used (:func:`_named_where_used`), and, with ``whole``, every word of the
    question's compound holding it when the passages write that compound whole:
    「アクセシビリティガイドライン」 names one document, and a sentence on a law's 「アクセシビリティの
    確保」 is about another thing, though it holds the rarer word. The words may stand apart (「人流
    データ分析の有用性」 and 「この分析サービス」 name 人流データ分析サービス). A compound the passages never
    write whole (the question's own coinage) asks nothing more than its key word."""
    if not _named_where_used(key, sentence, context, passages, stats):
        return False
    compound = compound_holding(q, key) if whole else None
    if compound is None or not _used_whole("".join(compound), passages, stats):
        return True
    return _stated(compound, (sentence, context), stats)


def _stated(compound: Sequence[str], texts: Sequence[str], stats: TermStats) -> bool:
    """Is the compound in one of the ``texts``, whole (「窓口DXSaaS」, which MeCab keeps as one word
    where the question wrote DX SaaS) or as all of its words?"""
    return _used_whole("".join(compound), texts, stats) or all(stats.has(word, *texts) for word in compound)


def _used_whole(term: str, passages: str | Sequence[str], stats: TermStats) -> bool:
    """Does ``term`` (okurigana aside, :func:`spelled`) occur as words of one of the texts?"""
    texts = (passages,) if isinstance(passages, str) else passages
    pattern = spelled(term)
    return any(stats.words(t).search(pattern) for t in texts if pattern.search(t))


def compound_holding(q: Question, key: str) -> tuple[str, ...] | None:
    """The words of the question's noun compound (``Question.compounds``) that holds the word
    ``key``, if it has more words than that one; else None."""
    return next((c for c in q.compounds if key in c and len(c) > 1), None)


def names_topic(
    q: Question,
    sentence: str,
    context: str,
    passages: str | Sequence[str],
    stats: TermStats,
    exists: bool = False,
    whole: bool = False,
) -> bool:
    """Does the sentence (or its context) name the topic a yes/no or how-to question asks its
    predicate of (「おくやみ窓口は予約が必要ですか」 → おくやみ窓口, its rarest word the passages use)?
    A sentence stating the predicate of another topic (保育所の来庁予約) does not answer it."""
    # A question whether its topic exists asks nothing else of it: the topic, named in full, is what
    # must be stated (「女性のデジタル人材を育てる取り組みはありますか」 is not answered by 「デジタル人材の
    # …取り組みを進めていきます」).
    if not q.topic or not (q.predicate or (exists and q.exists)):
        return True
    known = [t for t in q.topic if stats.df(t) > 0]
    if not known:
        return True
    return _named(q, max(known, key=stats.idf), sentence, context, passages, stats, whole)


def other_government(q: Question, sentence: str, kind: str) -> bool:
    """Is the (normalised) sentence another government's statement (the nation's, the prefecture's)
    answering a question whose topic is the city itself (``Question.city_topic``: 「枚方市は…どうする
    方針ですか」)? A sentence naming the city (本市, 枚方) is the city's."""
    if not q.city_topic or P.CITY_A.search(sentence):
        return False
    return kind == "national_strategy" or bool(P.OTHER_GOVERNMENT_A.search(sentence))


def names_event(
    q: Question, sentence: str, context: str, passages: str | Sequence[str], stats: TermStats
) -> bool:
    """Does a date question's sentence name the asked event (「公布されたのはいつ」 → 公布), where
    the passages name it? A law's 施行 date does not answer when it was 公布."""
    if q.qtype != "date":
        return True
    return all(_named_where_used(e, sentence, context, passages, stats) for e in q.events)


def _named_where_used(
    key: str, sentence: str, context: str, passages: str | Sequence[str], stats: TermStats
) -> bool:
    """``key`` as words of the sentence or its context, unless no passage uses it."""
    return not _used_whole(key, passages, stats) or _used_whole(key, (sentence, context), stats)


def states_predicate(
    q: Question, texts: Sequence[str], stats: TermStats, w: AnswerWeights, passages: Sequence[str] = ()
) -> bool:
    """Does a sentence (with its label and headings, and the words an expected question lends it:
    ``texts``, normalised) state what a general question asks of its topic (``Question.predicate``)?

    「公共施設の公衆無線LANを利用するには、事前の登録が必要ですか？」 is not answered by the sentence
    saying the LAN was installed: none of 事前, 登録, 必要 is there. At least ``w.predicate_coverage``
    of the predicate's terms (IDF-weighted) must be.
    """
    if not q.predicate or w.predicate_coverage <= 0:
        return True
    if w.predicate_names and not all(_name_stated(n, texts, stats) for n in q.predicate_names):
        return False
    # 「…すべての児童会室に導入されていますか」 asks how far: a sentence saying only that it was
    # introduced does not answer; one saying all, each, or which part (「…のうち」「一部」) does.
    if w.asked_extent and P.ALL_Q.search(q.query) and not any(P.EXTENT_A.search(t) for t in texts):
        return False
    # A compound of the predicate that the passages write whole (「観光DX」) is one thing asked of
    # the topic: a sentence holding only some of its words (DX) states something else.
    if w.predicate_compound and any(
        not _stated(compound, texts, stats)
        for compound in q.compounds
        if len(compound) > 1
        and all(word in q.predicate for word in compound)
        and _used_whole("".join(compound), passages, stats)
    ):
        return False
    return stats.coverage(q.predicate, *texts) >= w.predicate_coverage


def _name_stated(name: str, texts: Sequence[str], stats: TermStats) -> bool:
    """Is the proper noun ``name`` in one of the (normalised) ``texts``? The city is also 本市, 市内 …"""
    if name == "枚方" and any(P.CITY_A.search(t) for t in texts):
        return True
    return stats.has(name, *texts)


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


def names_a_member(q: Question, sentence: str) -> bool | None:
    """For a question asking which of a category its topic names (``Question.kind``), does the
    (normalised) sentence name one? None when the sentence does not use the category's head noun.

    An occurrence of the head noun names a member when the sentence qualifies it in words the
    question does not use: a longer compound (連絡帳機能), a noun phrase before の (タッチパネル式の
    デジタルサイネージ), a clause (必要となるセキュリティ対策), or a parenthesis after it. The sentence
    that only restates the question's topic (「証明書自動発行機を…」 for 「どのような証明書を取得でき
    ますか」, 「職員に求められる情報スキルを定義し」 for 「職員に求められる情報スキルとしてどのような
    スキルを…」) does not.
    """
    if not q.kind:
        return True
    head = q.kind[1]
    asked = q.normalized
    words = morphemes(sentence)
    runs = noun_runs(words)
    used = False
    for a, b in runs:
        run = "".join(w.surface for w in words[a:b])
        if head not in run:
            continue
        used = True
        named = run[: run.index(head) + len(head)]  # the compound up to the head: 「情報スキル」
        if named not in asked:
            return True
        if named != run:  # what qualifies 施設予約システム qualifies the システム, not the 施設
            continue
        if b < len(words) and words[b].surface in ("(", "（"):
            return True
        if a > 0 and (modifier := _modifier(words, runs, a)) and modifier + named not in asked:
            return True
    return False if used else None


def _modifier(words: Sequence[Morpheme], runs: Sequence[tuple[int, int]], at: int) -> str:
    """What qualifies the noun run starting at word ``at``: the noun phrase before its の (「タッチ
    パネル式の」, 等 dropped), or the end of a clause (「求められる」, two words); "" if nothing."""
    before = words[at - 1]
    if before.surface == "の":
        phrase = next(("".join(w.surface for w in words[x:y]) for x, y in runs if y == at - 1), "")
        return f"{phrase.rstrip('等')}の" if phrase.rstrip("等") else ""
    if before.pos1 in ("動詞", "形容詞", "助動詞"):
        return "".join(w.surface for w in words[max(0, at - 2) : at])
    return ""
