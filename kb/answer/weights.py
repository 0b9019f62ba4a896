"""The answer code's tuned numbers, in one frozen object passed to the Answerer."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class AnswerWeights:
    """Weights of the extractive answer, chosen on the dev split of eval/questions.jsonl
    (2026-11-27, session 1; tests/test_answer.py -m slow and eval.answers report both splits).
    Re-checked on dev on 2026-11-27, session 3, with the question-reading and figure-clause
    rules (eval/experiments/answer_signals.md) and kept: each alternative below answers a
    near-miss question or declines plan-worded answerable ones to decline fewer colloquial ones
    (their extra answers mostly lack the evidence: colloquial evidence in answer 0.35 → 0.32 at 0.48).

    Declined share on dev (python -m eval.experiments.answer_signals --set name=value):

    | setting                  | plan-worded answerable | plan-w. unans. | near-miss | colloquial |
    |--------------------------|------------------------|----------------|-----------|------------|
    | these (threshold 0.52)   | 0.018                  | 0.864        | 1.000     | 0.574      |
    | agree_coverage 0.4 / 0.6 | 0.018 / 0.036          | 0.864        | 0.929 / 1 | 0.574      |
    | threshold 0.48 / 0.56    | 0.012 / 0.024          | 0.864        | 0.929 / 1 | 0.468 / 0.702 |
    | semantic_support 1.0 / 0.6 | 0.012 / 0.030        | 0.864        | 0.929 / 1 | 0.553 / 0.723 |

    Confidence = support·w + focus·w + known·w + semantic·w (see extractive.confidence); the
    abstention threshold itself is ``Settings.abstain_threshold`` so deployments can move it.
    """

    # Confidence.
    support: float = 0.5
    focus: float = 0.2
    # The focus counts in full only in the passage the answer quotes first; found only in another
    # top passage it counts this much. Dev (session 7, answer_signals.md): 0.4-0.9 decline one more
    # plan-worded unanswerable (「デジタル推進委員に応募するにはどうすればいい？」), nothing else moves; 0.25 also
    # declines a plan-worded answerable; 1.0 is the old rule.
    focus_elsewhere: float = 0.5
    known: float = 0.15
    semantic: float = 0.15
    # Cosine similarities of the default model (e5-small) for any Japanese pair sit in a
    # narrow band (~0.78-0.92 here): the raw value is rescaled over that band. Another model
    # has another band: set these with it.
    semantic_floor: float = 0.80
    semantic_span: float = 0.10
    # Sentence selection: coverage of question terms by the sentence and by its passage, the
    # passage's rank, the asked answer shape, the asked-about phrase, and a long-sentence penalty.
    sentence: float = 0.6
    passage: float = 0.25
    rank: float = 0.1
    shape: float = 0.4
    focus_bonus: float = 0.1
    ordinal_bonus: float = 0.5  # the sentence or its heading names the asked 第N期 / 第N章
    # The sentence (or its row label) names a year the question names, in either calendar
    # (「2024年度から…」 → 「第3期（令和6年度から4年間）」). Dev (2026-11-28, session 6): 0.4-0.8 moved
    # one western-year question's evidence into the answer, nothing else changed; 0.2 did nothing.
    # 0.6, inside that range: the sentence naming the year then also wins over one about another
    # period that shares a question term more (tests/unit/test_answer_choice.py).
    year_bonus: float = 0.6
    long_penalty: float = 0.05
    long_chars: int = 200
    # A sentence that is one of the corpus's headings (「取組2-4 SaaS、…の活用促進」, repeated as the
    # first line of its item) names the part, it does not answer about it: general questions only.
    # On dev (2026-11-27, session 4) 0.1 moved the evidence into the first line for two questions
    # (「取組2-4の期待する効果」), with no other change.
    # Session 7 (eval/experiments/answer_signals.md): the body repeats a heading without its
    # opening label (「取り組み：」「(1) 」「図表：」), and those count as headings too; a question about
    # the part itself or its name (「基本目標1は何ですか」「取組1-2の名称」) is exempt. Then 1.0 keeps a
    # heading out of the lead whenever a sentence of the item is there: dev plan-worded first line
    # 172 → 175/213, evidence 192 → 193 (0.1: unchanged; 0.3: 174; 0.6 and 2.0: as 1.0).
    heading_penalty: float = 1.0
    # Sentence vectors: the passage's sentence closest in meaning (Hit.best_sentence) can earn a
    # selection bonus, and its cosine (rescaled like above) can support an answer on its own,
    # for questions in everyday words that share few terms with the plan. Swept on dev
    # (eval/experiments/answer_tuning.py, 2026-11-27): support 0.9 cut colloquial false
    # abstention 0.74 → 0.66 at no cost elsewhere; a selection bonus (0.3) moved evidence from
    # the answer into the first line and back (±0.02), so it is off.
    semantic_pick: float = 0.0
    semantic_support: float = 0.9
    sentence_floor: float = 0.82
    sentence_span: float = 0.10
    # Semantic lead (extractive.semantic_lead): a general or definition question is answered from
    # the corpus's sentence closest in meaning when its cosine is at least ``lead_cosine``,
    # ``lead_margin`` above the next sentence's, and the sentence holds less than
    # ``lead_max_lexical`` of the question's terms (= label_mid, so a lead answer is always
    # phrased 「…と書かれた箇所があります」; where the question's words are there, the keyword side
    # has already judged). It gets ``lead_support`` and is quoted first (``lead_bonus``).
    # Dev (2026-11-27, session 5; eval/experiments/answer_signals.md): colloquial declined
    # 0.660 → 0.596, answered with evidence 7 → 11, every unanswerable group unchanged. Margin
    # 0.015 answered a plan-worded unanswerable (without the lexical cap: two more at cosine 0.85),
    # 0.025 kept only 9. A margin above 1 turns it off.
    lead_cosine: float = 0.85
    lead_margin: float = 0.02
    lead_max_lexical: float = 0.5
    # No lead when some sentence already holds this much of the question's terms: the question is
    # in the plan's words, and that sentence answers it (「関連計画一覧で、情報化基本計画はどのような
    # ものと説明されていますか？」 is answered by the table row, not by the chapter-1 sentence closest
    # in meaning). Dev (session 14): one answer gains its evidence, nothing else changes (0.8 alike).
    lead_words_cap: float = 0.99
    lead_support: float = 1.0
    lead_bonus: float = 1.0
    # Subject agreement (number/date/who questions): the quoted sentence with its heading must
    # hold this share of the question's terms (IDF-weighted). On dev, 0.5: near-miss questions
    # abstain 0.71 (0.36 before any agreement rule), plan-worded false abstention 0.02; 0.6 gave
    # 0.79 / 0.04 and declined real answers whose subject sits only in the passage's heading.
    agree_coverage: float = 0.5
    # Confidence label of an answer: 高 when the chosen sentence covers at least this share of
    # the question's terms, 中 from ``label_mid``, else 低 (phrased 「…と書かれた箇所があります」).
    label_high: float = 0.99
    label_mid: float = 0.5
    # How many sentences make an answer: runners-up within this share of the best score,
    # at most ``max_quotes`` of them and ``max_answer_chars`` characters in all.
    runner_up_ratio: float = 0.8
    max_quotes: int = 3
    max_answer_chars: int = 300
    # A list question (Question.listing: 「どんな…がある？」) also quotes the short items (table rows,
    # list items of at most ``list_item_chars``) within ``runner_up_ratio`` of the best, up to
    # ``list_items`` of them and ``list_chars`` characters, beside what the rule above chose: one
    # long sentence no longer crowds the rows out. When the best quote is such an item, the
    # first line is the items as a bullet list.
    list_items: int = 6
    # A sentence that goes on from the previous one (「以後、」「また、」「これにより、」) counts the
    # question terms that sentence names at this share when sentences are chosen.
    inherited_share: float = 0.5
    list_item_chars: int = 80
    # A counted set's members may follow the quote that names it in its passage (a list the
    # sentence splitter cut off, 「…基本原則 ①オープン・透明、②…」): this many characters after it count.
    list_window_chars: int = 60
    # The members quoted after a label that introduces them: each starts at most this many
    # characters after the one before (spaces, separators), and the label is at most
    # ``label_chars`` long (a heading-like line, not a sentence).
    member_gap_chars: int = 8
    label_chars: int = 40
    # Paraphrase (extractive._paraphrase): when a passage's closest expected question (想定質問) is
    # at least ``paraphrase_cosine`` close to the question, the question's terms that expected
    # question uses count as said by the sentences under its anchor, for support and, at
    # ``paraphrase_pick`` of ``sentence``, for the choice. 「住民票を取るときのお金、現金じゃなくても
    # 大丈夫？」 ↔ 「住民票の手数料は現金以外でも払える?」: お金 and 大丈夫 are not the plan's words,
    # 住民票 and 現金 are the expected question's. The label stays what the sentence's own words earn.
    # Dev (2026-11-28, session 7; eval/experiments/answer_signals.md): colloquial declined
    # 0.638 → 0.574, answered with evidence 10 → 14, plan-worded evidence in answer 240 → 243;
    # one more colloquial unanswerable answered (a national statement on one-stop procedures for
    # 「引っ越しの手続きって、ネットだけで全部終わる？」). Cosine 0.92-0.94 and pick 0.5-0.8 give the
    # same figures; 0.90 answers a plan-worded unanswerable; pick 2 loses plan-worded evidence.
    paraphrase_cosine: float = 0.93
    paraphrase_pick: float = 0.8
    # At ``paraphrase_agree_cosine`` (all but the same question) the lent words also count for a
    # typed question's subject agreement: 「デジタル庁のトップは誰？」 is an expected question of
    # 「組織の長を内閣総理大臣とし…」, whose words say 組織の長, not トップ. Dev (session 7): no change
    # at 0.93-0.99 (near-miss questions reach 0.978 against expected questions, but their figure or
    # body is still checked by the other agreement rules).
    paraphrase_agree_cosine: float = 0.97
    # Below that, an expected question asking the same kind of figure (question.answer_type: a
    # count in 年, a date, who) lends its words for agreement too (session 15): on dev it
    # answered one batch-9 question (タブレット 何年ごと) and changed nothing else; test unchanged.
    paraphrase_agree_typed: bool = True
    # A question whether its topic exists (「…はありますか」, Question.exists) needs its topic named by
    # the answering sentence too (agreement.names_topic), as a question asking something of it does.
    # Dev (session 15): one near miss declined (「枚方市としてNFTやWeb3.0を活用する計画はありますか」),
    # nothing else changed once 自分 became a frame noun (it was the rarest word of a topic).
    exists_topic: bool = True
    # A yes/no question asking whether something holds for all (すべて, 全て) needs a sentence saying
    # how far it holds (agreement.states_predicate, patterns.EXTENT_A). Dev (session 15): one near
    # miss declined (「…市内のすべての児童会室に導入されていますか」), nothing else changed.
    asked_extent: bool = True
    # At ``paraphrase_predicate_cosine`` the lent expected question also says what a general
    # question asks of its topic (agreement.states_predicate): 「…知らせは、いまはデータで届くの？」
    # ↔ 「…知らせは役所にネットで届く?」, written as answered by the anchor's sentence.
    paraphrase_predicate_cosine: float = 0.95
    # The thesaurus's everyday words (corpus/plain_words.tsv) a question uses for a plan term count
    # as said by the sentences holding that term, for support and the choice, as an expected
    # question's words do (extractive.candidates): 「学童保育…」 is about the sentence naming
    # 留守家庭児童会室. The label stays what the sentence's own words earn. Dev (session 14, with
    # the predicate of a question without a topic, question.predicate_words): colloquial declined
    # 0.532 → 0.511, answered with evidence 16 → 18, plan-worded 283 → 284 with evidence; one
    # plan-worded unanswerable answered (スマート農業 → a national list naming スマート農林水産業).
    alias_lend: bool = True
    # A which-X question whose own topic names the category X (「施設予約システムでは、どの施設を…」
    # 「証明書自動発行機では、どのような証明書を…」) is declined when the answer's first quote names X
    # only as the question does, and no quote names a member (agreement.names_a_member): 「計画書には、
    # どの「施設」かの具体的な記載はありません。」 with the sentence shown as related. Dev (session 14):
    # near misses declined 0.750 → 0.810 (5 batch-6 questions), one plan-worded answer without its
    # evidence declined; test unchanged (no test question has that form).
    which_member: bool = True
    # A yes/no or how-to question asks its predicate of the topic before は (「おくやみ窓口は予約が
    # 必要ですか」): the sentence, its label, headings, the sentence it continues or the words lent to
    # it must name the topic's rarest word, where the passages use it (agreement.names_topic). Dev
    # (session 14): unanswerables declined +3 (保育所's 来庁予約 no longer answers おくやみ窓口), one
    # answer's first quote changed and lost its evidence.
    topic_named: bool = True
    # The subject or topic key must be named with the question's compound holding it, where the
    # passages write that compound whole (agreement._named): 「アクセシビリティガイドラインは
    # いつ作られた」 is not answered by a law's 「アクセシビリティの確保」.
    compound_named: bool = True
    # A question asking for a source (Question.source: 「…の図の出典は？」) may quote a figure's source
    # line, labelled with the text it is the source of (quotes.cited_text); it gets this bonus.
    source_bonus: float = 0.5
    # A figure in the clause of the question's focus (the noun the asked figure qualifies) is
    # attached to what is asked, as one in the clause of its rarest word is (figure_attached).
    focus_clause: bool = True
    # The same for a compound of a general question's predicate (「…観光DXを進める計画を持っています
    # か」): every word of it must be stated where the passages write it whole (states_predicate).
    predicate_compound: bool = True
    # A general question whose topic is the city itself (「…、枚方市は情報連携基盤についてどうする方針
    # ですか」) is not answered by another government's statement (国は…, 府は…, a national-strategy
    # passage) that does not name the city (agreement.other_government); typed questions had this
    # already (agrees). Dev (session 14): batch 8's ORDEN question now quotes the city's own
    # 「…基盤の活用を検討します」 instead of 「府は…構築し…」; nothing else changed on dev or test.
    city_statement: bool = True
    # The proper nouns of a question's predicate must be stated, whatever its coverage: 「自治体DX推進
    # 参考事例集には、枚方市の事例が掲載されていますか？」 is not answered by the sentence on the national
    # casebook that says 事例 but not 枚方 (or 本市). Dev (session 14): one near miss declined, nothing
    # else changed.
    predicate_names: bool = True
    # A declined question is shown the sentence under the anchor of an expected question at least
    # ``related_cosine`` close, in the top ``related_passages`` passages, labelled as related, not
    # as the answer (extractive.related_sentence). Dev (session 7): of the 27 declined colloquial
    # answerable questions, 21 are shown one and 10 of those hold the evidence (0.90: 12 / 6;
    # 0.92: 6 / 3); declined unanswerables are shown one in about half the cases, labelled.
    related_cosine: float = 0.88
    related_passages: int = 2
    # A date question's event (「公布されたのはいつ」 → 公布): where the passages name it, the sentence
    # (or its label and headings) must too (agreement.names_event). Dev (session 7): one date
    # question's evidence moved into the first line (a law's 公布 date over its 施行 date), nothing
    # else changed.
    date_event: bool = True
    # A general question's predicate (what it asks of its topic: all nouns after は for a yes/no
    # question, the practical details 手続き/申請/登録/料金… for one with a question word) must be
    # this much (IDF-weighted) in the sentence that answers it (agreement.states_predicate). Dev
    # (session 7, with batch 6's 30 near misses in yes/no, how-to, list and which forms): near misses
    # declined 0.581 → 0.716 (74) at 0.25-0.3, nothing else moved; 0.2: 0.703; 0.35-0.5 also
    # decline a plan-worded and a colloquial answerable. All nouns after は for every question:
    # 0.730 but five plan-worded answerables declined (変遷, 姿勢, 役割, 推移, 利点 name the kind of
    # answer, not a detail).
    predicate_coverage: float = 0.25
    list_chars: int = 400
