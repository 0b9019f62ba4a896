"""Subject agreement and sentence choice on small made-up passages (no index)."""

from __future__ import annotations

from kb.answer import AnswerWeights, analyse
from kb.answer.agreement import (
    agrees,
    figure_attached,
    missing_kind,
    names_a_member,
    names_event,
    names_subject,
    spelled,
    subject_key,
)
from kb.answer.extractive import candidates, choose
from kb.answer.quotes import quotable_sentences
from kb.answer.terms import TermStats
from kb.chunk import Chunk
from kb.retrieve import Hit
from kb.text import normalize


def _chunk(cid: str, text: str, heading: str = "第1章") -> Chunk:
    return Chunk(cid, "plan", "計画", "plan", (heading,), 0, len(text), text)


CHUNKS = [
    _chunk(
        "a", "本市では、平成27年度から資料の公開を開始し、その後発表会の開催による意見の把握を進めました。"
    ),
    _chunk("b", "窓口の受付は平日に行います。発表会は毎年開催しています。"),
    _chunk(
        "c",
        "期待する効果: 市民の待ち時間の短縮\n施策の方向性: 申請手続きのオンライン化を進めます。",
        "取組2-4 窓口",
    ),
    _chunk("d", "研修を実施しました。職員の知識を高めます。"),
]
STATS = TermStats(CHUNKS)


def test_a_date_of_another_event_in_the_same_sentence_is_not_the_answer() -> None:
    sentence = normalize(CHUNKS[0].text)
    # 平成27年度 is when publishing began, not when the 発表会 was held
    assert not figure_attached(analyse("発表会は何年度に開催した？"), sentence, "plan", STATS)
    assert figure_attached(analyse("資料の公開は何年度に開始した？"), sentence, "plan", STATS)


def test_a_question_with_no_term_in_the_sentence_is_left_to_the_coverage_rule() -> None:
    assert figure_attached(analyse("いつ？"), normalize("令和6年度に始めます。"), "plan", STATS)


def test_row_labels_are_kept_beside_the_quote() -> None:
    pairs = quotable_sentences(CHUNKS[2].text)
    assert ("市民の待ち時間の短縮", "期待する効果") in pairs
    assert ("申請手続きのオンライン化を進めます。", "施策の方向性") in pairs
    assert all(quote in CHUNKS[2].text for quote, _ in pairs)  # quotes stay verbatim


def test_a_question_naming_a_row_gets_that_row() -> None:
    q = analyse("取組2-4の期待する効果")
    hits = [Hit(1, 1.0, CHUNKS[2])]
    best = choose(candidates(q, hits, STATS, AnswerWeights()), AnswerWeights())[0]
    assert best.quote == "市民の待ち時間の短縮"


def test_labels_that_only_name_a_part_are_not_quoted() -> None:
    text = "【基本目標1】\n基本目標 ／ 第3期の取り組み\n2. 自治体にとってのオープンデータの意義（1）\n本市は窓口を改善します。"
    assert [quote for quote, _ in quotable_sentences(text)] == ["本市は窓口を改善します。"]


MEASURE = Chunk(
    "measure",
    "plan",
    "計画",
    "plan",
    ("取組2-3 ICT基盤の集約・効率化、安定稼働の確保",),
    0,
    0,
    "施策の方向性: 仮想基盤を活用したサーバ機器のさらなる集約化を図ります。\n\n"
    "関連する法令・制度・指針等: 【自治体DX推進計画】 重点取組事項（テレワークの導入）",
)


def test_a_reference_row_answers_only_a_question_about_what_a_measure_relates_to() -> None:
    row = "【自治体DX推進計画】 重点取組事項（テレワークの導入）"
    assert (row, "関連する法令・制度・指針等") in quotable_sentences(MEASURE.text)
    stats, w = TermStats([MEASURE]), AnswerWeights()

    def first(question: str) -> str:
        return choose(candidates(analyse(question), [Hit(1, 1.0, MEASURE)], stats, w), w)[0].quote

    assert first("取組2-3に関連する指針にはどんなものがありますか？") == row
    # a question about the measure gets its own sentence, not the documents it relates to
    assert first("取組2-3は何を目指していますか？").startswith("仮想基盤")


def test_a_bullet_after_a_row_label_is_not_quoted() -> None:
    text = "期待する効果: ・手続きに要する負担の低減"
    assert quotable_sentences(text) == [("手続きに要する負担の低減", "期待する効果")]


# Real corpus text (plan.md, §2.2): the policy's 制定 and the plan's 改訂 are chained by 「経て、」.
CHAIN = (
    "平成14年3月には、『枚方市地域情報化計画（e-ひらかたアクション・プラン）』を策定し、それまで個別の計画と"
    "して推進してきた地域情報化と行政情報化を総合的に展開、平成18年の一部改訂を経て、市ホームページの開設、"
    "情報セキュリティポリシーの制定等を行ってきました。"
)


SUBJECT_CHUNKS = [
    _chunk(
        "s1",
        "スマートフォン等を利用して自分が対象となる支援制度を見つけることができる「福祉サービス検索システム」を導入しました。",
    ),
    _chunk("s2", "※ 20業務 (児童手当、子ども・子育て支援、障害者福祉、介護保険) のシステムを標準化します。"),
    _chunk(
        "s3",
        "主な実施施策【所管部署】: 戸籍総合システムの再構築【市民課】 業務効率化のためのICT基盤整備【DX推進課】",
    ),
]
OTHER_CHUNKS = [
    _chunk("o1", CHAIN),
    _chunk(
        "o2",
        "アプリケーション「ぼーち」の導入と、「子ども見守りシステム」の導入を通じて環境整備を行いました。",
    ),
    _chunk("o3", "本市の情報化は、市税・住民記録等の基幹業務における一括システム処理を端緒とします。"),
    _chunk("o4", "情報化の取り組みを支える機器・通信ネットワーク等のICT基盤について"),
    _chunk("o5", "取り組み：行政サービスのデジタル化による市民等の利便性向上"),
    _chunk("o6", "社会保障・税番号制度（マイナンバー制度）は、平成25年5月に成立した法律に基づく制度です。"),
]
SUBJECT_STATS = TermStats([*CHUNKS, *SUBJECT_CHUNKS, *OTHER_CHUNKS])


def _agreeing(question: str, chunks: list[Chunk]) -> list[str]:
    hits = [Hit(i, 1.0, c) for i, c in enumerate(chunks, start=1)]
    cands = candidates(analyse(question), hits, SUBJECT_STATS, AnswerWeights())
    return [c.quote for c in cands if c.typed and c.agrees]


def test_a_count_must_be_about_the_thing_the_question_singles_out() -> None:
    q = analyse("福祉サービス検索システムで検索できる支援制度はいくつありますか？")
    count = normalize(SUBJECT_CHUNKS[1].text)
    named = normalize(SUBJECT_CHUNKS[0].text)
    # 20業務 shares 福祉 and システム with the question, not 検索, which the passages do use
    assert subject_key(q, SUBJECT_STATS) == "検索"
    assert not names_subject(q, count, "第1章", f"{named} {count}", SUBJECT_STATS)
    assert names_subject(q, named, "第1章", f"{named} {count}", SUBJECT_STATS)
    # passages that never use the word: the question may name its subject in words of its own
    assert names_subject(q, count, "第1章", count, SUBJECT_STATS)
    assert _agreeing("福祉サービス検索システムで検索できる支援制度はいくつありますか？", SUBJECT_CHUNKS) == []


def test_a_quoted_name_is_the_subject_and_okurigana_may_differ() -> None:
    q = analyse("アプリケーション「ぼーち」を開発した事業者はどこですか？")
    assert q.names == ("ぼーち",)
    assert subject_key(q, SUBJECT_STATS) == "ぼーち"
    assert spelled("取組").search("第3期の取り組み") and spelled("取組").search("取組み")


def test_the_slot_a_question_asks_to_fill_is_not_its_subject() -> None:
    # 担当 and 期間 name what is asked for, not what it is asked about
    assert "担当" not in analyse("窓口のキャッシュレス決済導入を担当した課").subject
    assert "期間" not in analyse("第3期の計画期間はいつまで？").subject
    assert _agreeing("業務効率化のためのICT基盤整備の所管部署はどこですか？", SUBJECT_CHUNKS) != []


def test_a_te_form_ends_a_clause_but_a_topic_particle_does_not() -> None:
    sentence = normalize(CHAIN)
    # 平成18年 is when the plan was revised, not the security policy
    assert not figure_attached(
        analyse("情報セキュリティポリシーを改訂したのはいつ？"), sentence, "plan", SUBJECT_STATS
    )
    # 「…について、」 only introduces the topic of the figure that follows
    topic = normalize("デジタル推進人材について、2026年度末までに230万人育成。")
    assert figure_attached(analyse("デジタル推進人材を何人育成する？"), topic, "plan", SUBJECT_STATS)


def test_a_figure_in_the_clause_of_the_noun_it_qualifies_is_attached() -> None:
    strategy = _chunk(
        "strategy",
        "国は、2024年度までの地方に対する基本的方向を示すため、創生総合戦略を根本的に改訂し、"
        "構想の中長期的な基本的方向を提示する構想総合戦略（仮称）を策定。",
    )
    stats = TermStats([*CHUNKS, strategy])
    q = analyse("構想総合戦略（仮称）は、国は何年度までの地方の方向性を示すために作るの？")
    sentence = normalize(strategy.text)
    # the rarest word (仮称) stands in the last clause; the year qualifies 方向, the question's focus
    assert not figure_attached(q, sentence, "plan", stats)
    assert figure_attached(q, sentence, "plan", stats, focus_clause=True)
    # the focus does not attach a figure of another clause: 改訂 is not what 平成18年 qualifies
    assert not figure_attached(
        analyse("情報セキュリティポリシーを改訂したのはいつ？"), normalize(CHAIN), "plan", SUBJECT_STATS, True
    )


def test_a_national_body_acting_does_not_answer_a_question_about_the_city() -> None:
    q = analyse("枚方市オープンデータ推進に関するガイドラインはいつ策定されましたか？")
    national = normalize(
        "内閣官房は令和3年6月に「地方公共団体オープンデータ推進ガイドライン」（令和6年3月現在、デジタル庁にて分掌）を策定しました。"
    )
    city = normalize("本市では、平成27年度からオープンデータの公開を開始しました。")
    assert not agrees(q, national, "plan", 1.0, AnswerWeights())
    assert agrees(q, city, "plan", 1.0, AnswerWeights())
    # a question not about the city takes the national statement
    assert agrees(
        analyse("オープンデータ推進ガイドラインはいつ策定された？"), national, "plan", 1.0, AnswerWeights()
    )


# The 2nd-period item on data use, as the plan writes it: its heading opens with a label that the
# body's first line repeats without it.
ITEM_HEADING = "取り組み：施策立案・計画決定等を支援するデータ利活用（情報分析・見える化等）の推進"
ITEM = _chunk(
    "e",
    "施策立案・計画決定等を支援するデータ利活用（情報分析・見える化等）の推進\n"
    "課題: より効果的な政策を推進するためには、政策課題の把握や政策の効果検証において、"
    "より質の高いデータを利活用する必要があり、全庁業務の実績や進捗確認における有効なデータの収集に努めるとともに、"
    "引き続き、職員のデータ分析スキル向上を図っていきます。",
    ITEM_HEADING,
)


def test_a_heading_repeated_without_its_label_does_not_answer_about_the_part() -> None:
    stats = TermStats([*CHUNKS, ITEM])
    assert stats.names_a_part(
        normalize("施策立案・計画決定等を支援するデータ利活用（情報分析・見える化等）の推進")
    )
    q = analyse("施策立案を支援するデータ利活用について、第2期の課題は何ですか？")
    best = choose(candidates(q, [Hit(1, 1.0, ITEM)], stats, AnswerWeights()), AnswerWeights())[0]
    assert "有効なデータの収集" in best.quote


def test_a_question_about_the_part_itself_is_answered_by_its_heading() -> None:
    from kb.answer.agreement import asks_for_a_part

    assert asks_for_a_part(analyse("基本目標1は何ですか"))
    assert asks_for_a_part(analyse("取組1-2の名称"))
    assert not asks_for_a_part(analyse("取組2-3で期待する効果は何ですか？"))
    assert not asks_for_a_part(analyse("基本目標1では、どのような社会の実現に寄与するとしていますか？"))


LAW = Chunk(
    "law",
    "ns",
    "国の戦略",
    "national_strategy",
    ("2.1 国の動向", "地方公共団体情報システムの標準化に関する法律"),
    0,
    0,
    "令和3年（2021年）9月に「地方公共団体情報システムの標準化に関する法律」が施行され、地方公共団体が"
    "利用する基幹業務システムについて、標準化基準に準拠したシステムへ移行します。\n\n"
    "地方公共団体情報システムの標準化を推進するために必要な事項を定めたもので、令和3年5月19日に公布されました。",
)


def test_a_date_question_needs_the_event_it_asks_about() -> None:
    q = analyse("地方公共団体情報システムの標準化に関する法律が公布されたのはいつですか？")
    assert q.events == ("公布",)
    stats = TermStats([LAW])
    enacted, published = (normalize(s) for s, _ in quotable_sentences(LAW.text))
    passages = normalize(LAW.text)
    assert not names_event(q, enacted, "", passages, stats)
    assert names_event(q, published, "", passages, stats)
    # passages that never name the event leave it to the other rules
    assert names_event(q, enacted, "", enacted, stats)
    chosen = choose(candidates(q, [Hit(1, 1.0, LAW)], stats, AnswerWeights()), AnswerWeights())
    assert chosen[0].quote.endswith("令和3年5月19日に公布されました。")
    off = AnswerWeights(date_event=False)
    assert choose(candidates(q, [Hit(1, 1.0, LAW)], stats, off), off)[0].quote.startswith(
        "令和3年（2021年）9月"
    )


LAN = Chunk(
    "lan",
    "plan",
    "計画",
    "plan",
    ("2.2 枚方市の情報化の現状",),
    0,
    0,
    "公共施設で誰もが便利に情報を享受できる環境を提供するため、公衆無線LANを設置しました。\n\n"
    "時間外勤務の事前申請の徹底と、端末の強制シャットダウンを行いました。",
)


def test_a_general_question_needs_what_it_asks_of_its_topic() -> None:
    from kb.answer.agreement import states_predicate

    stats, w = TermStats([LAN]), AnswerWeights()
    installed, overtime = (normalize(s) for s, _ in quotable_sentences(LAN.text))
    # yes/no: every noun after the topic
    signup = analyse("公共施設の公衆無線LANを利用するには、事前の登録が必要ですか？")
    assert signup.predicate == ("事前", "登録", "必要")
    assert not states_predicate(signup, (installed,), stats, w)
    overtime_q = analyse("時間外勤務は、事前に申請する必要がありますか？")
    assert states_predicate(overtime_q, (overtime,), stats, w)
    # a proper noun of the predicate must be stated, whatever the coverage (本市 states 枚方)
    casebook = analyse("自治体DX推進参考事例集には、枚方市の事例が掲載されていますか？")
    assert casebook.predicate_names == ("枚方",)
    national = normalize("全国の自治体におけるDXの最新の取組を、参考事例集として掲載")
    assert not states_predicate(casebook, (national,), stats, w)
    assert states_predicate(casebook, (normalize("本市の事例が参考事例集に掲載されました"),), stats, w)
    # with a question word: only the practical details, not the kind of answer
    assert analyse("公衆無線LANを利用するには、どのような手続きが必要ですか？").predicate == ("手続き",)
    assert analyse("DXフェローはどのような役割を担いますか？").predicate == ()
    # without a topic, nothing is asked of one; a question word still asks for the practical details
    assert analyse("公衆無線LANの登録方法").predicate == ()
    assert analyse("公衆無線LANを使うための登録ってどうやるの？").predicate == ("登録",)
    assert analyse("公衆無線LANの登録ってできる？").predicate == ()
    # the rule decides which sentences may answer
    cands = candidates(signup, [Hit(1, 1.0, LAN)], stats, w)
    assert not any(c.agrees for c in cands if "公衆無線LAN" in c.quote)
    off = AnswerWeights(predicate_coverage=0.0, topic_named=False)
    assert all(c.agrees for c in candidates(signup, [Hit(1, 1.0, LAN)], stats, off))
    # the topic (公衆無線LAN) must be named too: the overtime sentence states a 事前申請 of another topic
    topic_only = {
        c.quote[:4]: c.agrees
        for c in candidates(signup, [Hit(1, 1.0, LAN)], stats, AnswerWeights(predicate_coverage=0.0))
    }
    assert topic_only == {"公共施設": True, "時間外勤": False}


def test_a_which_question_about_its_own_topic_needs_a_member_named() -> None:
    # the category is asked of a topic that names it: 施設 of 施設予約システム, 証明書 of 証明書自動発行機
    facility = analyse("施設予約システムでは、どの施設を予約できますか？")
    assert facility.kind == ("施設", "施設")
    assert analyse("証明書自動発行機では、どのような証明書を取得できますか？").kind == ("証明書", "証明書")
    assert analyse("スマートフォンアプリで市税を納付する場合、どの決済アプリが使えますか？").kind == (
        "決済アプリ",
        "アプリ",
    )
    # nothing else in the question names the category, or the other one is a numbered item
    assert analyse("アプリケーション「ぼーち」にはどのような機能がありますか？").kind == ()
    assert analyse("取組1-1はどんな取組？").kind == ()
    assert analyse("デジタル庁はどのような役割を担う組織ですか？").kind == ()

    def member(q: str, sentence: str) -> bool | None:
        return names_a_member(analyse(q), normalize(sentence))

    # restating the topic names no member
    assert member(facility.query, "施設予約システムを導入し、24時間予約できるようにしました。") is False
    skills = "情報スキル向上計画では、職員に求められる情報スキルとしてどのようなスキルを定義していますか？"
    assert (
        member(skills, "職員に求められる情報スキルを定義し、その向上のための取り組み方針を示したもの")
        is False
    )
    # a longer compound, a phrase before の, a clause, a parenthesis: a member
    assert member(facility.query, "体育館や市民会館等の施設をネットで予約できます。") is True
    assert member(facility.query, "スポーツ施設の予約を受け付けます。") is True
    measures = "第3期の情報セキュリティ対策では、どのような対策を検討しますか？"
    assert analyse(measures).kind == ("対策", "対策")
    assert member(measures, "EDRの導入等、必要となるセキュリティ対策を検討します。") is True
    assert member(facility.query, "施設（体育館、テニスコート）をネット予約の対象とします。") is True
    # what qualifies a compound qualifies its last word: 施設予約システム names no 施設
    assert member(facility.query, "ネットで予約できる施設予約システム（24時間）を導入しました。") is False
    # a sentence without the category says nothing either way
    assert member(facility.query, "電子申請システムを導入しました。") is None


def test_a_prefix_that_changes_the_referent_makes_a_word_of_its_own() -> None:
    council = Chunk(
        "council",
        "plan",
        "計画",
        "plan",
        ("5.1 推進体制",),
        0,
        0,
        "市長を本部長とする枚方市情報化推進本部を設置し、全庁横断的な体制による審議等を行います。",
    )
    stats = TermStats([council])
    vice = analyse("枚方市情報化推進本部の副本部長は誰ですか？")
    assert ("副本部長", "本部") in vice.compounds
    # the plan names the 本部長, never a 副本部長: the sentence is about another role
    assert missing_kind(vice, [council.text], stats) == "副本部長"
    assert missing_kind(analyse("枚方市情報化推進本部の本部長は誰ですか？"), [council.text], stats) is None


def test_a_question_about_the_city_is_not_answered_by_the_prefectures_statement() -> None:
    from kb.answer.agreement import other_government

    q = analyse("大阪府がORDENを進めていますが、枚方市は情報連携基盤についてどうする方針ですか？")
    assert q.city_topic
    assert analyse("市としては、テレワークをどう進めますか？").city_topic
    assert not analyse("デジタル庁は何をする組織ですか？").city_topic
    prefecture = normalize("府は大阪広域データ連携基盤（ORDEN）を構築し、活用を進めているところです。")
    city = normalize("本市においても、多様な主体とシームレスな情報連携が可能な基盤の活用を検討します。")
    assert other_government(q, prefecture, "plan")
    assert not other_government(q, city, "plan")
    assert other_government(q, normalize("情報連携基盤の整備を進める。"), "national_strategy")
    # a question whose topic is not the city reads the prefecture's statement as any other
    assert not other_government(analyse("ORDENはどのように活用されていますか？"), prefecture, "plan")


TALENT = Chunk(
    "talent",
    "plan",
    "計画",
    "plan",
    ("取組3-3 データ利活用と人材育成",),
    0,
    0,
    "持続的な業務体制の整備の一環として、デジタル人材の確保、育成のための取り組みを進めていきます。",
)
WOMEN = Chunk(
    "women",
    "national",
    "国の戦略",
    "national_strategy",
    ("2.1 国のICT戦略動向等",),
    0,
    0,
    "「女性デジタル人材育成プラン」に基づく取組を推進。",
)


def test_a_question_whether_its_topic_exists_needs_the_topic_named_in_full() -> None:
    stats = TermStats([TALENT, WOMEN])
    q = analyse("枚方市として、女性のデジタル人材を育てる取り組みはありますか？")
    assert q.exists and q.city_topic and q.predicate == ()
    hits = [Hit(1, 1.0, TALENT), Hit(2, 0.9, WOMEN)]

    def agreeing(w: AnswerWeights) -> dict[str, bool]:
        return {c.hit.chunk.chunk_id: c.agrees for c in candidates(q, hits, stats, w)}

    # the city's sentence does not name 女性, which the passages use; the nation's is not the city's
    assert agreeing(AnswerWeights()) == {"talent": False, "women": False}
    # without the rule the city's sentence about デジタル人材 in general would answer
    assert agreeing(AnswerWeights(exists_topic=False))["talent"]
    # a question asking something of its topic, or a which-question, is not an existence question
    assert not analyse("デジタル人材の育成は、どのように進めますか？").exists
    assert analyse("市のツイッター（X）ってある？").exists


def test_a_question_whether_something_holds_for_all_needs_a_sentence_saying_how_far() -> None:
    from kb.answer.agreement import states_predicate

    stats, w = TermStats([CHUNKS[0]]), AnswerWeights()
    q = analyse("留守家庭児童会室のICTシステムは、市内のすべての児童会室に導入されていますか？")
    introduced = normalize("留守家庭児童会室にも同様のシステムを導入し、職員の負担軽減を進めました。")
    assert not states_predicate(q, (introduced,), stats, w)
    assert states_predicate(q, (introduced,), stats, AnswerWeights(asked_extent=False))
    # all, or only some of them: either says how far, and answers
    assert states_predicate(q, (normalize("市内の全児童会室にシステムを導入しました。"),), stats, w)
    assert states_predicate(q, (normalize("児童会室のうち10室にシステムを導入しました。"),), stats, w)


GUIDELINE = _chunk(
    "guide",
    "計画等の名称: アクセシビリティガイドライン、概要説明: 情報システムの操作環境の改善の指針です。",
)
OTHER_GUIDELINES = [
    _chunk(f"g{i}", f"{name}ガイドラインを定めました。")
    for i, name in enumerate(("セキュリティ", "データ", "研修"))
]
ACCESS_LAW = _chunk(
    "access-law",
    "令和3年9月に施行された法律は、アクセシビリティの確保や人材の育成を定めています。",
)


def test_a_compound_the_passages_write_whole_must_be_named_in_full() -> None:
    # ガイドライン is a common word here, アクセシビリティ a rare one: it is the subject key
    stats = TermStats([GUIDELINE, ACCESS_LAW, *OTHER_GUIDELINES])
    q = analyse("アクセシビリティガイドラインはいつ作られたものですか？")
    law = normalize(ACCESS_LAW.text)
    passages = [normalize(GUIDELINE.text), law]
    # the law's sentence holds the rarer word (アクセシビリティ) and a date, not the document asked about
    assert not names_subject(q, law, "", passages, stats, whole=True)
    assert names_subject(q, law, "", passages, stats, whole=False)
    # the words may stand apart: the sentence names every word of the compound
    apart = normalize("アクセシビリティに配慮したガイドラインを令和4年に改定しました。")
    assert names_subject(q, apart, "", [*passages, apart], stats, whole=True)
    # a compound no passage writes whole (the question's own coinage) asks only for its key word
    coined = analyse("アクセシビリティ憲章はいつ作られたものですか？")
    assert names_subject(coined, law, "", passages, stats, whole=True)


def test_a_compound_of_the_predicate_must_be_stated_in_full() -> None:
    from kb.answer.agreement import states_predicate

    tourism = _chunk("tour", "国の基本方針は、スマート農林水産業、観光DX、教育DXなどを挙げています。")
    city = _chunk("city", "本計画を枚方市DX推進計画として位置付け、施策の推進を図ります。")
    stats = TermStats([tourism, city])
    q = analyse("枚方市は観光DXを進める計画を持っていますか？")
    assert ("観光", "dx") in q.compounds and {"観光", "dx"} <= set(q.predicate)
    passages = [normalize(tourism.text), normalize(city.text)]
    sentence = (normalize(city.text),)
    assert not states_predicate(q, sentence, stats, AnswerWeights(), passages)
    assert states_predicate(q, sentence, stats, AnswerWeights(predicate_compound=False), passages)


def test_a_compound_written_whole_states_it_though_the_tokenizer_keeps_it_one_word() -> None:
    from kb.answer.agreement import states_predicate

    counter = _chunk("saas", "窓口DXSaaSの導入や、遠隔窓口システムの活用を推進します。")
    note = _chunk("note", "※1 自治体DX推進計画（令和4年9月2日総務省策定） ※2 多様な窓口の実現など")
    stats = TermStats([counter, note])
    passages = [normalize(counter.text), normalize(note.text)]
    # 「DX SaaS」 is two words to MeCab, 「DXSaaS」 one: the sentence writing it whole states it
    q = analyse("枚方市は窓口DX SaaSを導入する計画がありますか？")
    assert ("窓口", "dx", "saas") in q.compounds
    assert states_predicate(q, (normalize(counter.text),), stats, AnswerWeights(), passages)
    assert not states_predicate(q, (normalize(note.text),), stats, AnswerWeights(), passages)
    dated = analyse("窓口DX SaaSは何年度から使えるようになりますか？")
    assert not names_subject(dated, normalize(note.text), "", passages, stats, whole=True)
    assert names_subject(dated, normalize(counter.text), "", passages, stats, whole=True)
