"""Question analysis: what is asked about, and what shape of answer is asked for.

A question is parsed once into a typed :class:`Question` that the rest of the answer code
reads; nothing downstream re-tokenises it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import cached_property

from kb.answer import patterns as P
from kb.text import Morpheme, morphemes, normalize


@dataclass(frozen=True)
class Question:
    """What is searched, the answer type asked for, and the terms a passage should contain."""

    query: str
    qtype: str  # "definition" | "date" | "number" | "who" | "general"
    counter: str  # for "number": the counter the answer carries (人, 件, %, 円 …), "" = any
    terms: tuple[str, ...]  # content nouns, normalised surface forms
    focus: tuple[str, ...]  # the last noun phrase: what is asked about, as its nouns
    verbs: tuple[str, ...] = ()  # verb phrases as written; they only help choose sentences
    ordinals: tuple[str, ...] = ()  # 第3期, 第4章 …: which part of the plan is meant
    naming: bool = False  # asks for the term a description defines (「…を何て言う？」)
    reason: bool = False  # asks why (「…の理由は？」): a sentence giving a cause answers it
    names: tuple[str, ...] = ()  # what the question quotes (「ぼーち」): names, whatever their words
    subject: tuple[str, ...] = ()  # nouns of its noun phrases that name a thing, not the asked slot
    compounds: tuple[tuple[str, ...], ...] = ()  # noun compounds, as their words (電子, 入札, システム)
    listing: bool = False  # asks for several things (「どんな…がある？」): answered by a list
    events: tuple[str, ...] = ()  # verbal nouns used as verbs (「公布された」「導入する」): what happened
    #: The nouns after the question's topic (「…LINEは、」「…利用するには、」): what it asks of that topic.
    predicate: tuple[str, ...] = ()
    #: The proper nouns among them (「…には、枚方市の事例が掲載されていますか」 → 枚方): each must be stated.
    predicate_names: tuple[str, ...] = ()
    #: The nouns before that topic particle: what the question asks about (「おくやみ窓口は…」).
    topic: tuple[str, ...] = ()
    #: The topic before は is the city itself (「枚方市は…」「市としては…」): the city's statement answers.
    city_topic: bool = False
    #: The counted set whose members are asked for (「3つの基本理念」「20業務」), as normalised; "" if none.
    counted: str = ""
    count: int = 0  # how many members the question says the set has
    #: 「どの施設」 in a question whose topic names 施設 too (施設予約システム): the category whose
    #: members are asked for, as (its words, its head noun); () if none.
    kind: tuple[str, str] | tuple[()] = ()
    #: Asks whether its topic exists (「…取り組みはありますか」「…ってある？」), with no other predicate.
    exists: bool = False
    #: Asks where a figure or statement comes from (「…の図の出典は？」「どこの調査の数字？」): a
    #: figure's source line answers (patterns.SOURCE_LINE).
    source: bool = False

    @cached_property
    def normalized(self) -> str:
        """The question as normalised (kb.text.normalize), computed once: the per-sentence checks
        (answer_shape, agreement) read it for every candidate sentence."""
        return normalize(self.query)

    def focus_found(self, text: str) -> bool:
        return not self.focus or "".join(self.focus) in text or all(p in text for p in self.focus)


#: Honorific prefixes: part of a noun (お知らせ), never a word of the question's own.
_HONORIFIC = ("お", "ご", "御")


def _words(text: str) -> list[Morpheme]:
    """The question's words, with an honorific prefix and the verb stem it makes a noun of as one
    noun: MeCab reads 「おくやみ窓口」 as お (prefix) + くやみ (悔やむ) + 窓口, which would leave the
    question's subject to a one-character お (お知らせ, お問い合わせ, ご利用 alike)."""
    words = morphemes(text)
    out: list[Morpheme] = []
    for w in words:
        if out and out[-1].pos1 == "接頭辞" and w.pos1 == "動詞" and out[-1].surface in _HONORIFIC:
            prefix = out.pop()
            w = replace(w, surface=prefix.surface + w.surface, pos1="名詞", pos2="普通名詞", pos3="一般")
        out.append(w)
    return out


def question_words(text: str) -> tuple[list[str], list[list[str]], list[str]]:
    """Content nouns, noun phrases (runs of nouns) and verb phrases of a question.

    Verb phrases keep their auxiliaries as written (「書かない」), because a coined phrase such as
    「書かない窓口」 is matched by its surface form, not by the lemma 書く.
    """
    return _question_words(_words(text))


def _question_words(words: Sequence[Morpheme]) -> tuple[list[str], list[list[str]], list[str]]:
    """:func:`question_words` of a question already tagged (:func:`_words`)."""
    nouns: list[str] = []
    phrases: list[list[str]] = []
    verbs: list[str] = []
    run: list[str] = []
    for i, w in enumerate(words):
        surface = w.surface
        following = words[i + 1].surface if i + 1 < len(words) else ""
        # The unit after a question word (何「年度」, 何「時間」) is part of the question, not a topic.
        after_interrogative = i > 0 and words[i - 1].surface.startswith(P.INTERROGATIVES)
        if w.pos1 in ("動詞", "形容詞") and w.pos2 != "非自立可能":
            verb = surface
            for nxt in words[i + 1 :]:
                if nxt.pos1 != "助動詞":
                    break
                verb += nxt.surface
            if len(verb) > 1:
                verbs.append(verb)
        is_noun = w.pos1 in ("名詞", "接頭辞") or (w.pos1 == "接尾辞" and bool(run))
        # サ変 nouns followed by する act as verbs (「導入する」): not what is asked about.
        verbal = w.pos3 == "サ変可能" and following in ("する", "し", "さ", "でき")
        if (
            not is_noun
            or verbal
            or w.pos2 == "数詞"
            or after_interrogative
            or surface in P.FRAME_NOUNS
            or surface.startswith(P.INTERROGATIVES)
        ):
            if run:
                phrases.append(run)
            run = []
            if verbal:
                nouns.append(surface)
            continue
        run.append(surface)
        if (len(surface) > 1 or surface.isalnum()) and surface not in _HONORIFIC:
            nouns.append(surface)
    if run:
        phrases.append(run)
    return list(dict.fromkeys(nouns)), phrases, list(dict.fromkeys(verbs))


def topic_cut(words: Sequence[Morpheme]) -> int | None:
    """The position of the question's last topic particle は (「…LINEは、」「…利用するには、」), if any."""
    return max((i for i, w in enumerate(words) if w.surface == "は" and w.pos2 == "係助詞"), default=None)


def predicate_words(words: Sequence[Morpheme]) -> list[str]:
    """What the question asks of its topic: the content nouns after its last topic particle は.

    A yes/no question keeps them all (「ひとり親相談LINEは、土日や夜間でも相談できますか」 → 土日, 夜間,
    相談); a question with a question word keeps only the practical details it asks for
    (「…を利用するには、どのような手続きが必要ですか」 → 手続き; not 「…はどのような役割を担う」, whose
    役割 names the kind of answer). Without a topic, a question with a question word keeps the
    practical details anywhere in it; a yes/no question without a topic has none.
    """
    cut = topic_cut(words)
    if cut is None:
        # No topic: a question word still asks for the practical details the question names
        # (「…予約するための登録ってどうやるの？」 → 登録); a yes/no question names nothing apart.
        if not any(w.surface.startswith(P.INTERROGATIVES) for w in words):
            return []
        return [n for n in _question_words(words)[0] if n in P.PROCEDURE_NOUNS]
    nouns = [n for n in _question_words(words[cut + 1 :])[0] if n not in P.FRAME_NOUNS]
    if any(w.surface.startswith(P.INTERROGATIVES) for w in words[cut + 1 :]):
        return [n for n in nouns if n in P.PROCEDURE_NOUNS]
    return nouns


def predicate_names(words: Sequence[Morpheme]) -> list[str]:
    """The proper nouns after the question's last topic particle は (「…事例集には、枚方市の事例が掲載
    されていますか」 → 枚方): a sentence that does not name them does not state the predicate."""
    cut = topic_cut(words)
    if cut is None:
        return []
    return list(
        dict.fromkeys(w.surface for w in words[cut + 1 :] if w.pos2 == "固有名詞" and len(w.surface) > 1)
    )


def topic_words(words: Sequence[Morpheme]) -> list[str]:
    """The content nouns before the question's last topic particle は (「おくやみ窓口は予約が必要
    ですか」 → おくやみ窓口): what its predicate is asked of. Empty without a topic."""
    cut = topic_cut(words)
    if cut is None:
        return []
    return [n for n in _question_words(words[:cut])[0] if n not in P.FRAME_NOUNS]


def city_topic(words: Sequence[Morpheme]) -> bool:
    """Is the noun phrase right before the question's last topic particle は the city (枚方市, 本市,
    市, 市役所; 「市としては」), or does the question open with the city as its agent (「枚方市として、
    …」)? Then a statement of the nation's or the prefecture's does not answer."""
    if P.CITY_AS_SUBJECT.match("".join(w.surface for w in words)):  # 「枚方市として、…はありますか」
        return True
    cut = topic_cut(words)
    if cut is None:
        return False
    j = cut
    while j > 0 and (words[j - 1].pos1 == "助詞" or words[j - 1].surface == "し"):  # 市としては, 市では
        j -= 1
    k = j
    while k > 0 and words[k - 1].pos1 in ("名詞", "接尾辞", "接頭辞"):
        k -= 1
    return bool(P.CITY_TOPIC.fullmatch("".join(w.surface for w in words[k:j])))


def events(words: Sequence[Morpheme]) -> list[str]:
    """The verbal nouns a question uses as verbs (「公布された」 → 公布, 「導入する」 → 導入): the event
    a date question asks the date of."""
    out = [
        w.surface
        for w, nxt in zip(words, words[1:], strict=False)
        if w.pos3 == "サ変可能" and nxt.surface in ("する", "し", "さ", "でき", "され")
    ]
    return list(dict.fromkeys(out))


def noun_compounds(words: Sequence[Morpheme]) -> list[tuple[str, ...]]:
    """The compounds of a question that name a kind of thing, as their words of two characters or
    more: 「電子入札システム」 → (電子, 入札, システム), 「スマート農業」 → (スマート, 農業) (an adjectival
    noun directly before a noun modifies it). Numbers, the asked slot (期限, 件数 …), frame words and
    the unit after a question word (何「年度」) are not words of what is asked about."""
    out: list[tuple[str, ...]] = []
    run: list[str] = []
    whole: list[str] = []  # every word of a run that starts with a prefix changing what it names

    def close() -> None:
        # 「副本部長」 is not the 本部長: the whole run is a word of its own, which the plan may lack.
        if len(whole) > 1 and whole[0] in P.REFERENT_PREFIXES:
            out.append(("".join(whole), *run))
        elif len(run) > 1:
            out.append(tuple(run))

    for i, w in enumerate(words):
        following = words[i + 1] if i + 1 < len(words) else None
        noun = w.pos1 == "名詞" and w.pos2 in ("普通名詞", "固有名詞")
        modifier = w.pos1 == "形状詞" and following is not None and following.pos1 == "名詞"
        if noun or modifier or w.pos1 == "接頭辞" or (w.pos1 == "接尾辞" and run):
            asked = (
                (i > 0 and words[i - 1].surface.startswith(P.INTERROGATIVES))
                or w.surface.startswith(P.INTERROGATIVES)
                or w.surface in P.FRAME_NOUNS
                or w.surface in P.MEASURE_NOUNS
            )
            whole.append(w.surface)
            if len(w.surface) > 1 and not asked:
                run.append(w.surface)
            continue
        close()
        run, whole = [], []
    close()
    return out


def answer_type(own: str) -> tuple[str, str]:
    """(question type, counter) of a normalised question, read from its wording alone: number
    (with the counter its answer must carry), date, who, definition or general."""
    number = None
    for pattern, counter in P.NUMBER_Q:
        if m := pattern.search(own):
            number = m.group(1) if counter == "*" else counter
            break
    if P.DEFINITION_Q.search(own):
        return "definition", ""
    if number is not None and (number == "年" or not P.DATE_Q.search(own)):
        return "number", number
    if P.DATE_Q.search(own):
        return "date", ""
    if P.WHO_Q.search(own):
        return "who", ""
    return "general", ""


def analyse(query: str, asked: str | None = None) -> Question:
    """Analyse ``query``; the answer type comes from ``asked`` (a follow-up's own words) if given."""
    own = normalize(asked or query)
    qtype, counter = answer_type(own)
    counted = P.COUNTED_SET_Q.search(own) if qtype in ("general", "definition") else None
    words = _words(query)  # tagged once: every reading below shares it
    nouns, phrases, verbs = _question_words(words)
    ordinals = [re.sub(r"\s+", "", m) for m in P.ORDINAL.findall(normalize(query))]
    nouns = list(dict.fromkeys([*ordinals, *nouns]))
    source = bool(P.SOURCE_Q.search(own))
    if source:  # the source asked for is not what the passage must be about
        if qtype == "number":  # 「…どこの調査の数字？」 asks for the survey, not the number
            qtype, counter = "general", ""
        nouns = [n for n in nouns if n not in P.SOURCE_NOUNS]
        phrases = [kept for p in phrases if (kept := [n for n in p if n not in P.SOURCE_NOUNS])]
    # 「デジタル庁は何人くらいの組織だった？」: the noun the count qualifies before a copula says
    # what kind of thing the topic is (組織), not what is counted or asked about; the topic is.
    if qtype == "number" and phrases and (m := P.COUNT_PREDICATE_NOUN.search(own)):
        if "".join(phrases[-1]) == m.group("noun"):
            phrases = phrases[:-1]
    # A one-character phrase (「市に」「気を付ける」) says too little to require it in a passage.
    focus = tuple(phrases[-1]) if phrases and len("".join(phrases[-1])) > 1 else ()
    naming = qtype == "definition" and bool(P.NAMING_Q.search(own))
    reason = qtype == "general" and bool(P.REASON_Q.search(own))
    names = tuple(dict.fromkeys(normalize(n) for n in P.QUOTED.findall(query)))
    # What the question is about: nouns of its noun phrases (not the verbal nouns of its event,
    # 「導入した」「担当した」), without the words that name the asked slot (期間, 割合, 担当 …).
    subject = tuple(
        dict.fromkeys(
            n
            for phrase in phrases
            for n in phrase
            if len(n) > 1 and n not in P.MEASURE_NOUNS and n not in ordinals
        )
    )
    return Question(
        query,
        qtype,
        counter,
        tuple(nouns),
        focus,
        tuple(verbs),
        tuple(ordinals),
        naming,
        reason,
        names,
        subject,
        tuple(noun_compounds(words)),
        qtype == "general" and bool(P.LIST_Q.search(own) or counted),
        tuple(events(words)),
        tuple(predicate_words(words)),
        tuple(predicate_names(words)),
        tuple(topic_words(words)),
        city_topic(words),
        "".join(counted.group("count", "unit", "noun")) if counted else "",
        int(counted.group("count")) if counted else 0,
        asked_kind(words) if qtype in ("general", "definition") else (),
        qtype == "general" and bool(P.EXISTS_Q.search(own)),
        source,
    )


def _is_noun(w: Morpheme, run: Sequence[Morpheme]) -> bool:
    return w.pos1 in ("名詞", "接頭辞") or (w.pos1 == "接尾辞" and bool(run))


def noun_runs(words: Sequence[Morpheme]) -> list[tuple[int, int]]:
    """The (start, end) word positions of each run of nouns (a compound: 施設 / 予約 / システム;
    an adjectival noun right before a noun is part of it: スマート / フォン / アプリ)."""
    out: list[tuple[int, int]] = []
    i = 0
    while i < len(words):
        j = i
        while j < len(words) and (
            _is_noun(words[j], words[i:j])
            or (words[j].pos1 == "形状詞" and j + 1 < len(words) and words[j + 1].pos1 == "名詞")
        ):
            j += 1
        if j > i:
            out.append((i, j))
            i = j
        else:
            i += 1
    return out


def asked_kind(words: Sequence[Morpheme]) -> tuple[str, str] | tuple[()]:
    """The category a which-X question asks members of (「どの施設」 → (施設, 施設)), when the head
    noun of X is also in another noun run of the question (施設予約システム): the question asks
    which of the things its own topic names, so a sentence restating the topic says nothing.
    () otherwise (「どのような役割を担いますか」: nothing else in the question names 役割)."""
    runs = noun_runs(words)
    for i, w in enumerate(words):
        if w.surface not in P.WHICH_WORDS:
            continue
        j = i + 1
        while j < len(words) and words[j].surface in P.WHICH_TAIL:
            j += 1
        run = next(((a, b) for a, b in runs if a == j), None)
        if run is None:
            return ()
        kind = "".join(x.surface for x in words[run[0] : run[1]])
        # The head noun: the last word, or the whole run when that word is a suffix (証明 + 書).
        last = words[run[1] - 1].surface
        head = last if len(last) > 1 else kind
        # A numbered item (取組1-1) is a member the question names, not a category it asks about.
        others = [
            text
            for a, b in runs
            if (a, b) != run and not re.search(r"[0-9]", text := "".join(x.surface for x in words[a:b]))
        ]
        if len(head) > 1 and any(head in other for other in others):
            return kind, head
        return ()
    return ()


def answer_shape(q: Question, sentence: str, kind: str, label: str = "") -> tuple[bool, float]:
    """(has the asked answer type, selection bonus) for a normalised sentence of a ``kind`` document;
    ``label`` is its row or box label (【基本目標2】), which can name the part a name question asks for."""
    if q.qtype == "date":
        ok = bool(P.DATE_A.search(sentence))
    elif q.qtype == "number":
        if q.counter == "時":  # a time of day: 9時, 17時30分
            return (
                ok := bool(re.search(r"[0-9]{1,2}\s*時|[0-9]{1,2}:[0-9]{2}", sentence))
            ), 1.0 if ok else 0.0
        unit = P.COUNTER_FORMS.get(q.counter, re.escape(q.counter))
        # The 3 of 第3期 or 取組2-4 names a part of the plan, the 一 of 誰一人 or 一元化 is part of a
        # word: they count nothing.
        counted = P.WORD_ONE.sub(" ", P.ORDINAL.sub(" ", sentence))
        ok = bool(re.search(P.NUMBER + (rf"(万|千|百|億)?\s*({unit})" if q.counter else ""), counted))
        # A table cell gives the count the question names without its counter: 「有効回答数：1808」
        # answers 「有効回答数は何件？」. The label must be the question's whole noun: 「回答数: 547」
        # does not answer 「有効回答数は？」. (The question is read only when a sentence has a label.)
        if not ok and (labels := [m.group("noun") for m in P.LABELLED_COUNT.finditer(counted)]):
            asked = [m.group("noun") for m in P.COUNT_NOUN.finditer(q.normalized)]
            ok = any(label.endswith(noun) for label in labels for noun in asked)
    elif q.qtype == "who":
        own = q.normalized
        body = bool(P.BODY_A.search(sentence))
        # Which body: a sentence naming none (「事業者等との連携による…」) has no answer of that shape;
        # where: nor has one naming neither a body nor a place (「…コーナーを設置しました」).
        if P.NAMED_PERSON_Q.search(own):
            ok = bool(P.NAMED_PERSON_A.search(sentence))
        elif P.COMPANY_Q.search(own):
            ok = names_a_company(sentence, own)
        elif P.DEPT_Q.search(own):
            ok = bool(P.DEPT_A.search(sentence))
        elif P.PLACE_Q.search(own):
            ok = body or bool(P.PLACE_A.search(sentence))
        elif P.PERSON_Q.search(own):
            ok = body or bool(P.PERSON_A.search(sentence))
        else:
            ok = body or not P.BODY_Q.search(own)
        return ok, 1.0 if P.ORG_A.search(sentence) else 0.0
    elif q.qtype == "definition":
        # The glossary's 「用語: 説明」 line is the definition the plan itself gives.
        shape = (0.5 if kind == "glossary" else 0.0) + (0.5 if P.DEFINITION_A.search(sentence) else 0.0)
        return True, min(1.0, shape + (0.5 if P.DEFINES_A.search(sentence) else 0.0))
    elif q.qtype == "general" and P.NAME_Q.search(q.normalized):
        ok = names_a_name(q, sentence, label)
        return ok, 1.0 if ok else 0.0
    elif q.reason:
        return True, 1.0 if P.REASON_A.search(sentence) else 0.0
    elif q.qtype in ("general", "definition") and P.STIPULATES_Q.search(q.normalized):
        return True, 1.0 if P.STIPULATES_A.search(sentence) else 0.0
    else:
        return True, 0.0
    return ok, 1.0 if ok else 0.0


def names_a_name(q: Question, sentence: str, label: str = "") -> bool:
    """Does a (normalised) sentence hold a name that a name question (製品名, 名称 …) asks for?

    A name the sentence quotes or writes in Latin letters, that the question does not already say;
    or the numbered part the question names, in the sentence or its label (「取組1-2の名称」 is
    answered by its heading, 「基本目標2の名称」 by the line under 【基本目標2】).
    """
    if q.ordinals and any(o in f"{label} {sentence}" for o in q.ordinals):
        return True
    asked = q.normalized
    for m in P.NAME_A.finditer(sentence):
        name = (m.group(1) or m.group(2) or "").strip()
        if m.group(2) and name in P.GENERIC_LATIN and P.PRODUCT_Q.search(asked):
            continue  # asked for a product: ICT or AI names a kind of technology, not one
        if name and name not in asked:
            return True
    return False


def names_a_company(sentence: str, asked: str) -> bool:
    """Does a (normalised) sentence name a company (株式会社…, …社) or a Latin-letter name that is
    not a kind of technology (ICT, AI) and that the question (``asked``) does not already say?"""
    if P.COMPANY_A.search(sentence):
        return True
    return any(
        (name := m.group(2)) and name not in P.GENERIC_LATIN and name not in asked
        for m in P.NAME_A.finditer(sentence)
    )
