"""Which sentences an answer quotes and when it declines (issue #10), on short passages copied from
the corpus (no index: a stand-in knowledge base returns fixed passages)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from kb.answer import Answerer, AnswerWeights, analyse
from kb.answer import patterns as P
from kb.answer.agreement import missing_kind
from kb.answer.extractive import candidates, choose, confidence, members, semantic_lead
from kb.answer.question import answer_shape
from kb.answer.quotes import quotable_sentences, quotable_units
from kb.answer.terms import TermStats
from kb.chunk import Chunk
from kb.config import Settings
from kb.expand import Expansion
from kb.expected_questions import QuestionMatch
from kb.plain_words import PlainWordMatch, PlainWords, parse_plain_words
from kb.retrieve import Hit
from kb.text import normalize


def _chunk(cid: str, text: str, *headings: str, kind: str = "plan") -> Chunk:
    return Chunk(cid, "plan", "計画", kind, headings or ("第1章",), 0, len(text), text)


@dataclass
class _Retriever:
    cosine: float = 0.88
    #: cosines of the corpus sentences closest to the question, best first
    closest: list[float] = field(default_factory=list)

    def best_chunk_cosine(self, query: str) -> float:
        return self.cosine

    def closest_sentences(self, query: str, k: int = 2, filters: Any = None) -> list[float]:
        return self.closest[:k]

    #: typed words the synonym table rewrites into words of the corpus
    synonyms: list[Expansion] = field(default_factory=list)

    def corpus_synonyms(self, query: str) -> list[Expansion]:
        return self.synonyms

    #: the everyday-words thesaurus (none here)
    plain_words: PlainWords = field(default_factory=PlainWords)


@dataclass
class _KB:
    """What the Answerer reads of a knowledge base: its chunks and a search returning ``hits``."""

    chunks: list[Chunk]
    hits: list[Hit] = field(default_factory=list)
    retriever: _Retriever = field(default_factory=_Retriever)

    def search(self, query: str, mode: Any = None, k: Any = None, filters: Any = None) -> list[Hit]:
        return self.hits


# -- a diagram read out as a word list is not quoted -------------------------------------------

FIGURE = (
    "サービスデザイン規制強化/ウェブアクセシビリティ/ デジタル推進委員/専任部対応 産業のデジタル化 "
    "・デジタルによる新たな産業の創出・育成 クラウドサービス産業の育成/ITスタートアップ等の育成 "
    "・事業者向け行政サービスの質の向上に向けた取組e-Govのガバナメントクラウド移行・利便性向上/ "
    "Jデジタルの内閣府推進・活用拡大"
)


def test_a_diagram_read_out_as_a_word_list_is_not_a_quotable_sentence() -> None:
    assert quotable_sentences(FIGURE) == []
    # slashes of a web address do not make a sentence a word list
    url = "詳しくは https://www.city.hirakata.osaka.jp/0000012345.html をご覧ください。"
    assert [q for q, _ in quotable_sentences(url)] == [url]
    # nor do a few slashes inside a real sentence
    few = "AI/RPA/OCRを活用し、業務の効率化を進めます。"
    assert [q for q, _ in quotable_sentences(few)] == [few]


# -- a heading line names a part; the sentences under it answer --------------------------------

HEADING = "取組2-2 円滑な業務に資する情報連携基盤の整備"
ITEM = _chunk(
    "item",
    f"{HEADING}\n\n施策の方向性: 業務の円滑化を目的として、他の公的機関との情報連携基盤の整備について検討を進めます。",
    "第4章 期別取り組み（第3期）",
    HEADING,
)


def test_a_heading_repeated_in_the_text_is_not_chosen_over_what_it_heads() -> None:
    q = analyse("情報連携基盤の整備で何をする？")
    hits = [Hit(1, 1.0, ITEM)]
    stats = TermStats([ITEM])
    assert stats.names_a_part(normalize(HEADING))
    chosen = choose(candidates(q, hits, stats, AnswerWeights()), AnswerWeights())
    assert chosen[0].quote.startswith("業務の円滑化を目的として")
    # without the rule, the heading line (same terms, shorter) comes first
    plain = AnswerWeights(heading_penalty=0.0)
    assert choose(candidates(q, hits, stats, plain), plain)[0].quote == HEADING


# -- a question naming a year prefers the sentence naming it, in either calendar ------------------

PERIODS = _chunk(
    "periods",
    "その後、情報通信技術の進展を踏まえ、さらなる「市民への行政サービスの向上」と「行政事務の効率化」を"
    "実現するため、平成23年度からの5年間を計画期間とする『枚方市情報化基本計画』（以下、「前計画」という）"
    "を策定し、取り組みを進めてきました。\n\n"
    "前章の基本目標を受け、第3期（令和6年度から4年間）に取り組む情報化の方向性を示します。",
    "第1章 計画の概要",
)


def test_a_question_naming_a_year_prefers_the_sentence_naming_it() -> None:
    q = analyse("2024年度から始まる取り組みの期間は？")
    hits, stats = [Hit(1, 1.0, PERIODS)], TermStats([PERIODS])
    assert choose(candidates(q, hits, stats, AnswerWeights()), AnswerWeights())[0].quote.startswith(
        "前章の基本目標"
    )
    # without the rule, the longer sentence about the previous plan's period comes first
    plain = AnswerWeights(year_bonus=0.0)
    assert choose(candidates(q, hits, stats, plain), plain)[0].quote.startswith("その後")


# -- a figure's box label (【基本目標3】) names the line under it --------------------------------

GOALS = _chunk(
    "goals",
    "【基本目標1】\n\nあらゆる主体が便利さ・豊かさを享受できるデジタル社会の推進\n\n【基本目標2】\n\n"
    "安全で持続可能な情報化の取り組みを支えるICT基盤の強化\n\n【基本目標3】\n\n"
    "スマート自治体への転換に向けたデジタル・トランスフォーメーションの推進",
    "第3章 基本目標",
    "図表：情報化の基本目標",
)


def test_a_box_label_is_the_label_of_the_line_it_heads() -> None:
    pairs = quotable_sentences(GOALS.text)
    assert ("安全で持続可能な情報化の取り組みを支えるICT基盤の強化", "基本目標2") in pairs
    assert all(label.startswith("基本目標") for _, label in pairs)
    q = analyse("基本目標3について教えて")
    best = choose(candidates(q, [Hit(1, 1.0, GOALS)], TermStats([GOALS]), AnswerWeights()), AnswerWeights())
    assert best[0].quote.startswith("スマート自治体への転換")


# -- question types: a definition stated as such, a reason ---------------------------------------


def test_a_sentence_that_states_a_definition_is_the_better_definition() -> None:
    q = analyse("デジタル社会形成基本法における「デジタル社会」の定義")
    defines = normalize("概要: 1. デジタル社会の定義 「デジタル社会」を、…発展が可能となる社会と定義する。")
    other = normalize("概要: 2. 基本理念 デジタル社会の形成に関し、…基本理念を規定する。")
    assert answer_shape(q, defines, "national_strategy")[1] > answer_shape(q, other, "national_strategy")[1]


def test_a_why_question_prefers_a_sentence_that_gives_a_cause() -> None:
    q = analyse("システム共同利用がなかなか進まない理由")
    assert q.reason and q.qtype == "general"
    cause = normalize(
        "自治体規模の違いによる要求機能の差異等の問題から、実現への具体的な合意形成に至るまでに課題があります。"
    )
    plain = normalize("他団体とのシステム共同利用について、大阪府下で複数自治体との検討を行いました。")
    assert answer_shape(q, cause, "plan") == (True, 1.0)
    assert answer_shape(q, plain, "plan") == (True, 0.0)
    assert not analyse("書面や対面が前提の手続きはどうしていく？").reason  # how, not why
    assert analyse("基本目標を見直した理由は？").reason
    # a purpose question prefers the sentence that states the purpose
    purpose = analyse("デジタル社会形成基本法は何を目的としていますか？")
    assert purpose.reason
    aim = normalize(
        "国民の幸福な生活の実現に寄与することを目的として、国、地方公共団体及び事業者の責務を定めたもの。"
    )
    row = normalize("策定年月: 令和3年、国の指針・計画・戦略等: デジタル社会形成基本法・標準化法施行")
    assert answer_shape(purpose, aim, "national_strategy") == (True, 1.0)
    assert answer_shape(purpose, row, "national_strategy") == (True, 0.0)


# -- an answer is as well supported as the sentences it quotes -----------------------------------


def test_support_comes_from_the_quoted_sentence_not_from_another_one() -> None:
    # The sentence chosen shares words with the question; the passage's sentence closest in
    # meaning (which alone would support an answer) is another one, about something else.
    near = _chunk(
        "near", "デジタル推進人材について、2026年度末までに230万人育成。\n④デジタル人材の地域への交流促進"
    )
    start = near.text.index("④")
    hit = Hit(1, 1.0, near, best_sentence=(start, len(near.text)), sentence_cosine=0.92)
    question = "デジタル推進委員に応募するにはどうすればいい？"
    q, stats, w = analyse(question), TermStats([near]), AnswerWeights()
    cands = candidates(q, [hit], stats, w)
    threshold = Settings().abstain_threshold
    # measured over every sentence of the passages, the answer would pass …
    assert confidence(q, [hit], cands, 0.9, stats, w) >= threshold
    # … but the sentence it would quote is not the one that supports it
    assert choose(cands, w)[0].quote.startswith("デジタル推進人材")
    answer = Answerer(_KB([near], [hit], _Retriever(0.9)), Settings()).answer(question)  # type: ignore[arg-type]
    assert not answer.answerable
    assert answer.confidence < threshold


# -- a sentence pointing at a numbered item is followed to the item's date ----------------------

POINTER = _chunk(
    "p",
    "施策の方向性: 取り組み3-1に掲げる標準準拠システムへの移行について、"
    "ガバメントクラウド上への構築による運用コストの適正化に努めます。",
    "第4章 期別取り組み（第3期）",
    "取組2-4 SaaS、PaaS、IaaS等クラウドサービスの活用促進",
)
TARGET = _chunk(
    "t",
    "施策の方向性: 基幹業務系システムの標準化に関しては、令和7年度末までにすべての対象業務が滞りなく"
    "標準準拠システムへ移行できるよう、業務部門と情報部門が連携し、現行の業務運用の見直しも含め進めていきます。",
    "第4章 期別取り組み（第3期）",
    "取組3-1 業務システム標準化・共同化の実施",
)


def test_a_date_question_follows_a_reference_to_the_numbered_item() -> None:
    kb = _KB([POINTER, TARGET], [Hit(1, 1.0, POINTER)])  # retrieval found only the pointing sentence
    answer = Answerer(kb, Settings()).answer("ガバメントクラウドへの移行はいつまでに終わらせるの？")  # type: ignore[arg-type]
    assert answer.answerable
    first = answer.answer.split("\n")[0]
    assert "令和7年度（2025年度）末まで" in first  # the date, from the item itself
    assert [c.chunk_id for c in answer.citations] == ["t", "p"]  # each quote with its own citation
    assert answer.citations[1].quote.startswith("取り組み3-1に掲げる")


def test_a_reference_is_not_followed_for_other_questions_or_unknown_items() -> None:
    kb = _KB([POINTER, TARGET], [Hit(1, 1.0, POINTER)])
    answerer = Answerer(kb, Settings())  # type: ignore[arg-type]
    what = answerer.answer("ガバメントクラウドへの移行で何をする？")
    assert what.answerable and [c.chunk_id for c in what.citations] == ["p"]
    alone = _KB([POINTER], [Hit(1, 1.0, POINTER)])  # 取組3-1 is not in this corpus
    assert not Answerer(alone, Settings()).answer("ガバメントクラウドへの移行はいつまで？").answerable  # type: ignore[arg-type]


# -- an everyday-words question answered from the sentence closest in meaning -------------------

NURSERY = _chunk(
    "nursery",
    "保育現場においては、登園管理や保護者との連絡帳機能を有するシステムを導入しました。\n"
    "保育所申込業務では、電子申請フォームの質問に答えれば来庁予約と申請書作成が同時にできる仕組みを構築し、"
    "市民の待ち時間や窓口対応時間を削減しました。",
)
#: Everyday words for 来庁予約 and 申請書作成: it shares almost no term with the sentence.
EVERYDAY = "子どもを園に入れたいとき、役所に行く日決めと書類づくりをまとめて済ませられる？"


def _nursery_hit(cosine: float = 0.888) -> Hit:
    start = NURSERY.text.index("保育所申込")
    return Hit(1, 1.0, NURSERY, best_sentence=(start, len(NURSERY.text)), sentence_cosine=cosine)


def _nursery_answer(closest: list[float]) -> Any:
    kb = _KB([NURSERY], [_nursery_hit(closest[0])], _Retriever(0.86, closest))
    return Answerer(kb, Settings()).answer(EVERYDAY)  # type: ignore[arg-type]


def test_a_sentence_clearly_closest_in_meaning_answers_an_everyday_question() -> None:
    answer = _nursery_answer([0.888, 0.852])
    assert answer.answerable
    # quoted first, phrased as what the plan says (low confidence: few of the question's words)
    assert answer.answer.startswith("「保育所申込業務では")
    assert "と書かれた箇所があります[1]。" in answer.answer.split("\n")[0]


def test_a_closest_sentence_that_does_not_stand_out_answers_nothing() -> None:
    # Another sentence of the corpus is nearly as close: meaning alone does not single it out.
    assert not _nursery_answer([0.888, 0.880]).answerable
    # Close enough to stand out but not close: nothing either.
    assert not _nursery_answer([0.84, 0.80]).answerable


def test_no_semantic_lead_for_typed_questions_or_questions_in_the_plans_words() -> None:
    w, stats, hits = AnswerWeights(), TermStats([NURSERY]), [_nursery_hit()]
    closest = [0.888, 0.852]
    everyday = analyse(EVERYDAY)
    assert semantic_lead(everyday, candidates(everyday, hits, stats, w), closest, w) is not None
    # a number question needs its figure (agreement), which meaning cannot vouch for
    count = analyse("子どもを園に入れるときの書類づくりは何件あった？")
    assert count.qtype == "number"
    assert semantic_lead(count, candidates(count, hits, stats, w), closest, w) is None
    # the question's own words are in the sentence: the keyword side has judged it already
    worded = analyse("保育所申込業務の電子申請フォームで来庁予約はできる？")
    assert semantic_lead(worded, candidates(worded, hits, stats, w), closest, w) is None


# -- a kind of thing the plan never names is not answered from its generic words ---------------

ONLINE = _chunk(
    "online",
    "固定資産税業務においては、法務局連携システムを導入し、法務局からの登記異動通知の電子化およびオンライン化に対応しました。\n"
    "汎用的電子申請システムの導入・利用促進やぴったりサービスによる利用可能手続きの拡充、"
    "軽自動車税関係手続きの電子化への対応など、行政手続きのオンライン化を進めてきました。",
)
REMOTE = _chunk(
    "remote",
    "新型コロナウイルス感染症の流行拡大に伴い、自宅等の遠隔地においても柔軟な業務対応が不可欠となったことを受け、"
    "モバイルワーク端末やWeb会議システム等の環境基盤の整備を行いました。\n職員の勤務環境を整えます。",
)


def test_a_question_names_its_compounds_without_the_asked_slot() -> None:
    assert analyse("電子入札システムを導入した効果は何ですか？").compounds == (("電子", "入札", "システム"),)
    # an adjectival noun before a noun is part of the kind it names
    assert analyse("スマート農業の推進について、計画ではどのような方針ですか？").compounds == (
        ("スマート", "農業"),
    )
    # the asked slot (期限) and the unit after a question word (何「年度」) are not the subject
    assert analyse("標準準拠システムへの移行期限は？").compounds == (("標準", "準拠", "システム"),)
    assert analyse("電子申請は何年度から？").compounds == (("電子", "申請"),)


def test_a_missing_word_beside_words_the_answer_quotes_is_named() -> None:
    stats = TermStats([ONLINE, REMOTE])
    quotes = [q for q, _ in quotable_sentences(ONLINE.text)]
    q = analyse("電子入札システムを導入した効果は何ですか？")
    assert stats.df("入札") == 0 and stats.df("電子") > 0
    assert missing_kind(q, quotes, stats) == "入札"
    # a word the synonym table rewrites into the plan's words is not missing
    assert missing_kind(q, quotes, stats, synonyms=["電子入札"]) is None
    # 在宅 is missing too, but the quote does not stand on 勤務: it was found by other words
    remote = analyse("在宅勤務のための環境は整っていますか")
    assert stats.df("在宅") == 0 and stats.df("勤務") > 0
    quote = [REMOTE.text.split("\n")[0]]
    assert missing_kind(remote, quote, stats) is None
    assert missing_kind(remote, ["職員の勤務環境を整えます。"], stats) == "在宅"
    # a word the corpus uses is never missing
    assert missing_kind(analyse("電子申請システムを導入した効果は？"), quotes, stats) is None


def test_a_question_about_a_kind_the_plan_never_names_is_declined_naming_the_word() -> None:
    question = "電子入札システムを導入した効果は何ですか？"
    # as on the real index: the sentence closest in meaning stands out and leads the answer
    first = (0, ONLINE.text.index("\n"))
    hits = [Hit(1, 1.0, ONLINE, best_sentence=first, sentence_cosine=0.88)]
    declined = Answerer(_KB([ONLINE, REMOTE], hits, _Retriever(0.88, [0.88, 0.85])), Settings()).answer(
        question
    )  # type: ignore[arg-type]
    assert not declined.answerable and not declined.citations
    assert declined.answer.startswith("計画書には「入札」についての記載は見つかりませんでした。")
    assert declined.confidence >= Settings().abstain_threshold  # the other signals would answer
    # with a synonym the plan uses, the same passages answer
    synonym = Expansion("入札", ("電子調達",), ("電子", "調達"))
    retriever = _Retriever(0.88, [0.88, 0.85], synonyms=[synonym])
    answered = Answerer(_KB([ONLINE, REMOTE], hits, retriever), Settings()).answer(question)  # type: ignore[arg-type]
    assert answered.answerable and answered.citations[0].chunk_id == "online"


# -- a passage's expected question that says what was asked lends it the asker's words ----------

PAYMENTS = _chunk(
    "payments",
    "成果: 汎用的電子申請システムの導入・利用促進やぴったりサービスによる利用可能手続きの拡充、"
    "軽自動車税関係手続きの電子化への対応など、行政手続きのオンライン化を進めてきました。\n\n"
    "また、市税および保険料等を、スマートフォンアプリ等を利用し自宅にしながら納付できる仕組みや、"
    "証明発行手数料および施設使用料等の支払い窓口においてキャッシュレス決済端末を導入し、"
    "多様な支払方法の選択が可能な環境を構築しました。",
    "2.2 枚方市の情報化の現状",
)
PAYMENTS_ANCHOR = "キャッシュレス決済端末を導入し、多様な支払方法の選択が可能な環境を構築しました"


def _paid_hit(cosine: float, stand_in: bool = False) -> Hit:
    start = PAYMENTS.text.index(PAYMENTS_ANCHOR)
    match = QuestionMatch(
        "住民票の手数料は現金以外でも払える？", cosine, start, start + len(PAYMENTS_ANCHOR), stand_in
    )
    return Hit(1, 1.0, PAYMENTS, similar_question=match)


def _ask_paid(question: str, hit: Hit) -> Any:
    """The answer over the payments passage alone, found as ``hit``."""
    return Answerer(_KB([PAYMENTS], [hit], _Retriever(0.9)), Settings()).answer(question)  # type: ignore[arg-type]


def test_an_expected_question_close_to_the_asked_one_lends_its_words_to_its_anchor() -> None:
    q = analyse("住民票を取るときのお金、現金じゃなくても大丈夫？")
    stats, w = TermStats([PAYMENTS]), AnswerWeights()
    assert not any(stats.has(t, normalize(PAYMENTS.text)) for t in ("住民票", "現金"))
    lent = candidates(q, [_paid_hit(0.95)], stats, w)
    best = choose(lent, w)[0]
    assert best.quote.startswith("市税および") and best.paraphrase.startswith("住民票の手数料")

    # the label stays what the sentence's own words earn, and says where the support came from
    answer = _ask_paid(q.query, _paid_hit(0.95))
    assert answer.answerable and answer.citations[0].quote == best.quote
    assert answer.confidence_label == "低" and "想定質問" in answer.confidence_reason
    assert answer.answer.endswith("と書かれた箇所があります[1]。")
    # below the paraphrase cosine, or from a stand-in sentence, nothing is lent
    for hit in (_paid_hit(w.paraphrase_cosine - 0.01), _paid_hit(0.95, stand_in=True)):
        plain = candidates(q, [hit], stats, w)
        assert not any(c.paraphrase for c in plain)
        assert max(c.support for c in plain) < max(c.support for c in lent)
        assert not _ask_paid(q.query, hit).answerable


def test_a_declined_question_is_shown_the_sentence_of_a_close_expected_question_as_related() -> None:
    q = analyse("住民票を取るときのお金、現金じゃなくても大丈夫？")
    w = AnswerWeights()

    # close enough to show, not to lend its words: declined, the anchor's sentence labelled as related
    declined = _ask_paid(q.query, _paid_hit(w.paraphrase_cosine - 0.01))
    assert not declined.answerable and not declined.confidence_label
    assert declined.answer.startswith(P.ABSTAIN_TEXT)
    assert P.RELATED_LABEL in declined.answer
    assert [c.quote for c in declined.citations] == [_quote_under(PAYMENTS_ANCHOR)]
    # a farther expected question, or a stand-in sentence, shows nothing
    for hit in (_paid_hit(w.related_cosine - 0.01), _paid_hit(0.92, stand_in=True)):
        plain = _ask_paid(q.query, hit)
        assert not plain.answerable and not plain.citations and P.RELATED_LABEL not in plain.answer


def _quote_under(anchor: str) -> str:
    return next(quote for quote, _ in quotable_sentences(PAYMENTS.text) if anchor in quote)


def test_the_asked_thing_counts_in_full_only_in_the_passage_the_answer_quotes() -> None:
    q = analyse("おくやみ窓口は予約が必要ですか")
    assert q.focus == ("必要",)
    quoted = _chunk("quoted", "おくやみ手続き窓口を設置しました。")
    other = _chunk("other", "窓口の予約には事前の登録が必要です。")
    hits = [Hit(1, 1.0, quoted), Hit(2, 0.9, other)]
    stats, w = TermStats([quoted, other]), AnswerWeights()
    picked = [c for c in candidates(q, hits, stats, w) if c.hit.chunk is quoted]
    elsewhere = confidence(q, hits, picked, 0.88, stats, w)
    full = confidence(q, hits, picked, 0.88, stats, AnswerWeights(focus_elsewhere=1.0))
    assert round(full - elsewhere, 4) == round(w.focus * (1 - w.focus_elsewhere), 4) > 0
    # quoted from the passage that holds it, it counts in full
    own = [c for c in candidates(q, hits, stats, w) if c.hit.chunk is other]
    assert confidence(q, hits, own, 0.88, stats, w) == confidence(
        q, hits, own, 0.88, stats, AnswerWeights(focus_elsewhere=1.0)
    )


AGENCY = _chunk(
    "agency",
    "内閣直属。組織の長を内閣総理大臣とし、デジタル大臣、副大臣、大臣政務官、特別職のデジタル監、"
    "デジタル審議官 他を置く。",
    "2.1 国のICT戦略動向等",
    "デジタル庁",
    kind="national_strategy",
)


def test_an_expected_question_asked_all_but_word_for_word_answers_a_who_question() -> None:
    anchor = "組織の長を内閣総理大臣とし"
    start = AGENCY.text.index(anchor)

    def ask(cosine: float, expected: str = "デジタル庁のトップは誰？", **weights: Any) -> Any:
        match = QuestionMatch(expected, cosine, start, start + len(anchor))
        hit = Hit(1, 1.0, AGENCY, similar_question=match)
        kb = _KB([AGENCY], [hit], _Retriever(0.9))
        return Answerer(kb, Settings(), weights=AnswerWeights(**weights)).answer("デジタル庁のトップは誰？")  # type: ignore[arg-type]

    w = AnswerWeights()
    answered = ask(w.paraphrase_agree_cosine)
    assert answered.answerable and "組織の長を内閣総理大臣とし" in answered.citations[0].quote
    # a paraphrase, not the same question: the sentence does not say トップ, so no who-answer ...
    below = w.paraphrase_agree_cosine - 0.02
    assert not ask(below, paraphrase_agree_typed=False).answerable
    # ... unless the expected question asks the same kind of thing (who), in other words
    assert ask(below, "デジタル庁でトップを務めるのは誰？").answerable
    assert not ask(below, "デジタル庁はいつ発足した？").answerable  # a date question lends nothing


# -- a question for the members of a counted set is answered by the list, not by the set's name --

CONCEPT = _chunk(
    "concept",
    "スマートシティに取り組む上での基本コンセプト\n\n"
    "3つの基本理念、5つの基本原則を提示し、これらに基づくスマートシティ構築を推奨\n\n"
    "(出典) 内閣府 『スマートシティの推進について』P3",
    "(7) スマートシティ・スマート自治体",
    "図表：スマートシティの基本コンセプト",
    kind="glossary",
)
STANDARDISED = _chunk(
    "standardised",
    "- このような状況を踏まえ、地方公共団体に対し、標準化対象事務(※)について、標準化基準に適合した"
    "情報システム(標準準拠システム)の利用を義務付ける「地方公共団体情報システムの標準化に関する法律」が成立。\n\n"
    "※ 20業務 (児童手当、子ども・子育て支援、住民基本台帳、戸籍の附票、印鑑登録、選挙人名簿管理、固定資産税、"
    "個人住民税、法人住民税、軽自動車税、戸籍、就学、健康管理、児童扶養手当、生活保護、障害者福祉、介護保険、"
    "国民健康保険、後期高齢者医療、国民年金)",
    "(6) 自治体システムの標準化・共通化",
    kind="glossary",
)


def _ask_over(chunk: Chunk, question: str) -> Any:
    return Answerer(_KB([chunk], [Hit(1, 1.0, chunk)], _Retriever(0.9)), Settings()).answer(question)  # type: ignore[arg-type]


def test_a_counted_set_is_asked_for_only_when_its_members_are() -> None:
    assert (
        analyse("スマートシティの基本コンセプトで提示されている3つの基本理念とは何ですか？").counted
        == "3つの基本理念"
    )
    assert analyse("システム標準化の対象20業務を全部教えてください。").count == 20
    assert analyse("「サービス設計12箇条」の内容を全部教えてください。").counted == "12箇条"
    assert analyse("第3期で実施するセキュリティ対策の3つの種類").counted == "3つの種類"
    # a set the question only mentions is not asked for
    for question in (
        "第2期に、標準化法の対象20業務についてどのような準備を行いましたか？",
        "標準化の対象20業務に戸籍や印鑑登録は入っている？",
        "自治体DX推進計画で基幹系20業務の標準準拠システムへの移行期限は？",
        "1つの期が終わったら、振り返りってやるの？",
    ):
        assert not analyse(question).counted, question


def test_members_are_counted_beside_the_sets_name() -> None:
    named_only = normalize("3つの基本理念、5つの基本原則を提示し、これらに基づくスマートシティ構築を推奨")
    assert members(named_only, "3つの基本理念") == 0
    listed = normalize("※ 20業務 (児童手当、子ども・子育て支援、住民基本台帳、戸籍の附票、印鑑登録)")
    assert members(listed, "20業務") >= 5
    assert members(listed, "基本理念") == 0  # the text does not name that set
    numbered = normalize(
        "■ 自治体におけるDXの推進体制の構築 ① 組織体制の整備 ② デジタル人材の確保・育成 ③ 計画的な取組"
    )
    assert members(numbered) == 3
    quoted = normalize("「物理的対策」「技術的対策」のほか、研修等の「人的対策」を実施します。")
    assert members(quoted) == 3
    # a ・ inside a katakana name is no separator
    assert members(normalize("クラウド・バイ・デフォルト原則")) == 1


def test_a_set_the_plan_names_without_its_members_is_declined_naming_the_set() -> None:
    answer = _ask_over(CONCEPT, "スマートシティの基本コンセプトで提示されている3つの基本理念とは何ですか？")
    assert not answer.answerable and not answer.confidence_label
    assert answer.answer.startswith(P.COUNTED_MISSING_TEXT.format(counted="3つの基本理念"))
    # the sentence naming the set is shown, labelled as not the answer
    assert P.RELATED_LABEL in answer.answer
    assert answer.citations[0].quote.startswith("3つの基本理念、5つの基本原則")
    # the same passage answers a question that does not ask for the members
    assert _ask_over(CONCEPT, "スマートシティの基本コンセプトでは何を推奨していますか？").answerable


def test_a_set_is_answered_with_the_line_listing_its_members() -> None:
    answer = _ask_over(STANDARDISED, "システム標準化の対象20業務を全部教えてください。")
    assert answer.answerable
    assert answer.citations[0].quote.startswith("※ 20業務 (児童手当")


# -- a label that introduces a numbered list is quoted with the members that follow it ----------

DX_PLAN = _chunk(
    "dx-plan",
    "自治体DX推進計画（2020.12.25策定、2023.12.22最新改定） ■ 自治体におけるDXの推進体制の構築 "
    "① 組織体制の整備 ② デジタル人材の確保・育成 ③ 計画的な取組 ④ 都道府県による市区町村支援 "
    "■ 重点取組事項 ① 自治体フロントヤード改革の推進",
    "自治体デジタル・トランスフォーメーション（DX）推進計画",
    kind="national_strategy",
)


def test_a_label_introducing_a_numbered_list_is_quoted_with_its_members() -> None:
    answer = _ask_over(
        DX_PLAN, "自治体DX推進計画で、自治体におけるDXの推進体制の構築として挙げられている項目は何ですか？"
    )
    quotes = [c.quote for c in answer.citations]
    assert answer.answerable and quotes[0] == "自治体におけるDXの推進体制の構築"
    # the four members in order, and not the ① of the next list
    assert quotes[1:5] == [
        "① 組織体制の整備",
        "② デジタル人材の確保・育成",
        "③ 計画的な取組",
        "④ 都道府県による市区町村支援",
    ]
    assert not any("フロントヤード" in q for q in quotes)


# -- an expected question all but the same as the asked one states its predicate ----------------

REGISTRY = _chunk(
    "registry",
    "固定資産税業務においては、法務局連携システムを導入し、法務局からの登記異動通知の電子化およびオンライン化に対応しました。",
    "2.2 枚方市の情報化の現状",
)
REGISTRY_ANCHOR = "登記異動通知の電子化およびオンライン化に対応しました"


def _registry_hit(cosine: float) -> Hit:
    start = REGISTRY.text.index(REGISTRY_ANCHOR)
    match = QuestionMatch(
        "土地の持ち主が変わった知らせは役所にネットで届く?",
        cosine,
        start,
        start + len(REGISTRY_ANCHOR),
        False,
    )
    return Hit(1, 1.0, REGISTRY, similar_question=match)


def test_a_close_expected_question_says_what_a_yes_no_question_asks_of_its_topic() -> None:
    q = analyse("土地の持ち主が変わったときの知らせは、今はデータで来るの？")
    w = AnswerWeights()
    assert q.predicate == ("データ",)  # in neither the sentence nor the expected question
    stats = TermStats([REGISTRY])
    close = candidates(q, [_registry_hit(w.paraphrase_predicate_cosine + 0.01)], stats, w)
    assert all(c.agrees for c in close)
    answer = Answerer(_KB([REGISTRY], [_registry_hit(0.96)], _Retriever(0.9)), Settings()).answer(q.query)  # type: ignore[arg-type]
    assert answer.answerable and answer.confidence_label == "低"
    # a lent expected question that is only close (below the bar) does not state the predicate
    lent = candidates(q, [_registry_hit(w.paraphrase_predicate_cosine - 0.01)], stats, w)
    assert any(c.paraphrase for c in lent) and not any(c.agrees for c in lent)


# -- the thesaurus's everyday words count as said by the sentence holding their plan term -------

AFTER_SCHOOL = _chunk(
    "after-school",
    "保育現場においては、登園管理や保護者との連絡帳機能を有するシステムを導入しました。"
    "留守家庭児童会室にも同様のシステムを導入し、職員および保護者の負担軽減・利便性向上を進めました。",
    "2.2 枚方市の情報化の現状",
)


def test_everyday_words_for_a_plan_term_count_as_said_by_the_sentence_holding_it() -> None:
    q = analyse("学童保育のシステムは導入した？")
    stats, w = TermStats([AFTER_SCHOOL]), AnswerWeights()
    said = (PlainWordMatch("学童保育", "留守家庭児童会室"),)

    def scored(weights: AnswerWeights) -> dict[str, Any]:
        cands = candidates(q, [Hit(1, 1.0, AFTER_SCHOOL, plain_words=said)], stats, weights)
        return {c.quote[:4]: c for c in cands}

    lent, plain = scored(w), scored(replace(w, alias_lend=False))
    # the sentence naming 留守家庭児童会室 now covers 学童 and 保育 and is chosen over the nursery one
    assert lent["留守家庭"].support > plain["留守家庭"].support
    assert lent["留守家庭"].lexical == plain["留守家庭"].lexical  # its label stays its own words'
    assert lent["留守家庭"].score > lent["保育現場"].score
    assert plain["留守家庭"].score < plain["保育現場"].score
    # a sentence without the term gains only through its passage, which holds the term
    gain = {k: lent[k].support - plain[k].support for k in lent}
    assert 0 < gain["保育現場"] < gain["留守家庭"]


# -- which of a category the question's own topic names ------------------------------------------

BOOKING = _chunk(
    "booking",
    "平成14年3月には、インターネットで24時間予約できる施設予約システムを導入しました。",
    "2.2 枚方市の情報化の現状",
)


def test_a_which_question_answered_only_by_its_topic_is_declined_naming_the_category() -> None:
    question = "施設予約システムでは、どの施設を予約できますか？"

    def ask(weights: AnswerWeights) -> Any:
        kb = _KB([BOOKING], [Hit(1, 1.0, BOOKING)], _Retriever(0.9))
        return Answerer(kb, Settings(), weights=weights).answer(question)  # type: ignore[arg-type]

    declined = ask(AnswerWeights())
    assert not declined.answerable
    assert declined.answer.startswith(P.KIND_MISSING_TEXT.format(kind="施設"))
    # the sentence is still shown, labelled as related, not as the answer
    assert P.RELATED_LABEL in declined.answer
    assert [c.quote for c in declined.citations] == [BOOKING.text]
    # without the rule the same sentence answers
    answered = ask(AnswerWeights(which_member=False))
    assert answered.answerable and answered.citations[0].quote == BOOKING.text


def test_a_missing_word_said_by_an_alias_of_another_sentences_term_lets_that_sentence_lead() -> None:
    question = "学童保育でも登園管理や保護者との連絡帳のシステムはある？"
    said = (PlainWordMatch("学童保育", "留守家庭児童会室"),)

    def ask(hit: Hit) -> Any:
        table = parse_plain_words("留守家庭児童会室\t学童保育\n" if hit.plain_words else "")
        kb = _KB([AFTER_SCHOOL], [hit], _Retriever(0.9, plain_words=table))
        return Answerer(kb, Settings()).answer(question)  # type: ignore[arg-type]

    # without the thesaurus, 学童 is a word the plan never uses beside 保育, which the nursery
    # sentence holds: declined, naming it
    plain = ask(Hit(1, 1.0, AFTER_SCHOOL))
    assert not plain.answerable and plain.answer.startswith(P.MISSING_TEXT.format(word="学童"))
    # with it, the sentence holding 留守家庭児童会室 (学童保育 in the plan's words) answers
    answered = ask(Hit(1, 1.0, AFTER_SCHOOL, plain_words=said))
    assert answered.answerable
    assert answered.citations[0].quote.startswith("留守家庭児童会室にも同様のシステム")


def test_a_low_label_earned_through_the_thesaurus_names_the_words_it_matched() -> None:
    said = (PlainWordMatch("学童保育", "留守家庭児童会室"),)
    table = parse_plain_words("留守家庭児童会室\t学童保育\n")
    kb = _KB(
        [AFTER_SCHOOL], [Hit(1, 1.0, AFTER_SCHOOL, plain_words=said)], _Retriever(0.9, plain_words=table)
    )
    answer = Answerer(kb, Settings()).answer("学童保育のシステムは導入した？")  # type: ignore[arg-type]
    assert answer.answerable and answer.citations[0].quote.startswith("留守家庭児童会室")
    # the sentence's own words cover little: 低, with the reason it was chosen all the same
    assert answer.confidence_label == "低"
    assert "「学童保育」→「留守家庭児童会室」" in answer.confidence_reason


# -- a question asking for a source is answered by the figure's source line --------------------

SMART_CITY = _chunk(
    "smart",
    "スマートシティは、ICT等の新技術を活用しつつ、都市や地域の抱える諸課題の解決を行う持続可能な都市や地域です。\n\n"
    "図表：スマートシティの基本コンセプト\n\nスマートシティに取り組む上での基本コンセプト\n\n"
    "3つの基本理念、5つの基本原則を提示し、これらに基づくスマートシティ構築を推奨\n\n"
    "(出典) 内閣府 『スマートシティの推進について』P3\n",
    "用語集",
    "(7) スマートシティ",
    kind="glossary",
)
CLOUD_SURVEY = _chunk(
    "survey",
    "一部でもクラウドを利用している企業は、2018年の58.7%から2022年には72.2%になっています。\n\n"
    "図表：企業におけるクラウドコンピューティングの利用状況の推移\n\n"
    "(出典) 総務省 『令和4年通信利用動向調査 企業編』 問3(1) 令和5年8月\n",
    "用語集",
    "(2) クラウド",
    kind="glossary",
)


def test_a_source_question_names_what_the_source_is_of_not_the_source() -> None:
    q = analyse("スマートシティの基本コンセプトの図は、どこの省庁の資料から引用されていますか？")
    assert q.source and q.qtype == "who"
    assert not {"資料", "省庁", "図", "引用"} & set(q.terms)
    # 「どこの調査の数字？」 asks for the survey, not for a number
    survey = analyse("クラウドを使っている企業の割合は、どこの調査の数字？")
    assert survey.source and survey.qtype == "general"
    assert analyse("計画に載ってる会社のクラウド利用率って、どこの何ていう調査の数字？").source
    assert not analyse("オープンデータで公開しているデータは何ですか？").source
    assert not analyse("市はどこの自治体と共同で検討したの？").source


def test_a_source_line_is_quoted_only_for_a_source_question_labelled_with_what_it_cites() -> None:
    plain = [quote for quote, _, _ in quotable_units(SMART_CITY.text)]
    assert not any(quote.startswith("(出典)") for quote in plain)
    with_sources = {quote: label for quote, label, _ in quotable_units(SMART_CITY.text, sources=True)}
    label = with_sources["(出典) 内閣府 『スマートシティの推進について』P3"]
    assert "基本コンセプト" in label and "(出典)" not in label
    # the label reaches back only to the previous source line
    two = SMART_CITY.text + CLOUD_SURVEY.text
    second = {q: lb for q, lb, _ in quotable_units(two, sources=True)}[
        "(出典) 総務省 『令和4年通信利用動向調査 企業編』 問3(1) 令和5年8月"
    ]
    assert "クラウド" in second and "スマートシティ" not in second


def test_a_source_question_is_answered_by_the_source_line_of_its_figure() -> None:
    hits = [Hit(1, 1.0, SMART_CITY), Hit(2, 0.9, CLOUD_SURVEY)]
    kb = _KB([SMART_CITY, CLOUD_SURVEY], hits)
    answerer = Answerer(kb, Settings())  # type: ignore[arg-type]
    who = answerer.answer("スマートシティの基本コンセプトの図は、どこの省庁の資料から引用されていますか？")
    assert who.answerable and who.citations[0].quote.startswith("(出典) 内閣府")
    # a date question about the source: the source line's date is its publication, whatever the verb
    kb.hits = [Hit(1, 1.0, CLOUD_SURVEY), Hit(2, 0.9, SMART_CITY)]
    when = answerer.answer(
        "企業のクラウド利用率の出典になっている『令和4年通信利用動向調査』は、いつ公表された資料？"
    )
    assert when.answerable and when.citations[0].quote.endswith("令和5年8月")
    # any other question never quotes a source line
    what = answerer.answer("スマートシティの基本コンセプトは何を推奨していますか？")
    assert not any(c.quote.startswith("(出典)") for c in what.citations)
