"""What a question asks for (answer type, counter, focus): pure functions over fugashi, no index."""

from __future__ import annotations

import pytest

from kb.answer import analyse
from kb.text import normalize


@pytest.mark.parametrize(
    ("question", "qtype", "counter"),
    [
        # 「いくつかの」 is "several", not "how many"
        ("いくつかの市でシステムを一緒に使う仕組みのことを何て言う？", "definition", ""),
        ("基本目標はいくつある？", "number", ""),
        # 「だれも」「どこでも」 are not asking who or where
        ("だれも置き去りにしないという方向性は？", "general", ""),
        ("どこの会社の機械でも使える仕組みは？", "who", ""),
        ("どこでも使える仕組みは？", "general", ""),
        ("役所のIT関係を話し合う会議のトップは誰？", "who", ""),
        # 「誰でも」「誰一人」 are "anyone" and "no one": 「担当は誰ですか」 still asks who
        ("誰でも無料で使える端末はある？", "general", ""),
        ("誰一人取り残されないための取組は？", "general", ""),
        ("だれひとり取り残さない社会とは何ですか？", "definition", ""),
        ("この計画の担当は誰ですか？", "who", ""),
        ("支所にいながら本庁の担当とテレビ電話で話せる？", "general", ""),  # talking *to* staff
        ("保育ICTシステムの担当はどこ？", "who", ""),
        # asking for the term a description defines
        ("ネットを使える人と使えない人の差のことを何と言う？", "definition", ""),
        ("証拠をもとに判断するやり方の名前は？", "definition", ""),
        ("全部の役所が共同で使えるサーバ群を何て呼ぶ？", "definition", ""),
        ("枚方市長の名前は？", "who", ""),
        # 「Xって何？」 is a definition, 「Xって何台？」 a count, 「Xにとって何が…」 is "for X"
        ("電子図書館ってなに？", "definition", ""),
        ("図書館のパソコンって何台あるの？", "number", "台"),
        ("窓口って何か所あるの？", "number", "所"),
        ("ポイントって何円分もらえる？", "number", "円"),
        ("オープンデータは市民にとって何がうれしい？", "general", ""),
        # opening hours ask for a time of day
        ("北部リーフの場所と開いている時間は？", "number", "時"),
        # 率 inside a word (効率化) asks for no rate; 何年毎 is a period, not a year
        ("業務効率化のためのICT基盤整備の所管部署はどこですか？", "who", ""),
        ("テレワーク実施率は？", "number", "%"),
        ("タブレット型端末は何年毎に更新しますか？", "number", "年"),
        # any 何 + counter asks for a count with that counter
        ("自治体クラウド研究会には何市が参加しましたか？", "number", "市"),
        ("スマート街路灯は何基設置された？", "number", "基"),
        ("時間外勤務は何時間減った？", "number", "時間"),
        # a deadline asked for is a date; 期限内 ("within the deadline") asks for none
        ("基幹系20業務の標準準拠システムへの移行期限は？", "date", ""),
        # what kind of thing a name stands for is a definition; what kind of things are done is not
        ("計画に出てくる「スマート自治体」ってどんな自治体のこと？", "definition", ""),
        ("窓口DXではどんなことをしますか？", "general", ""),
        # a kind of company between どの and 事業者 still asks which company
        ("ガバメントクラウドは、どのクラウド事業者のものを使うの？", "who", ""),
        ("情報システムは、期限内に基準に適合させる必要がありますか？", "general", ""),
    ],
)
def test_question_types(question: str, qtype: str, counter: str) -> None:
    q = analyse(question)
    assert (q.qtype, q.counter) == (qtype, counter)


def test_the_unit_after_a_question_word_is_not_the_focus() -> None:
    # 「何年度」 asks for a year: 年度 is not what the question is about.
    q = analyse("備蓄の在庫管理システムは何年度に導入する予定？")
    assert "年度" not in q.focus and "年度" not in q.terms
    assert q.focus == ("在庫", "管理", "システム")
    # 「…するつもり？」 asks what is intended: つもり names nothing asked about
    target = analyse("2024年度末までに、取り組む自治体を何団体にするつもり？")
    assert "つもり" not in target.terms and target.focus == ("自治", "体")


def test_the_noun_a_count_classifies_the_topic_by_is_not_the_focus() -> None:
    # 「何人くらいの組織だった」: 組織 says what the topic is; デジタル庁 is what was counted
    q = analyse("デジタル庁って発足したとき何人くらいの組織だったんですか？")
    assert q.focus == ("デジタル", "庁") and "組織" not in q.subject
    # the noun counted (職員) stays what the question is about
    assert analyse("デジタル庁には何人の職員がいますか？").focus == ("職員",)


def test_naming_questions_are_told_from_definitions() -> None:
    # A naming question describes the thing in its own words: its last noun is not a focus to find.
    assert analyse("いくつかの市でシステムを一緒に使う仕組みのことを何て言う？").naming
    assert analyse("証拠をもとに判断するやり方の名前は？").naming
    assert not analyse("RPAとは何ですか？").naming
    assert not analyse("枚方市長の名前は？").naming


def test_a_which_body_question_needs_a_body_in_the_sentence() -> None:
    from kb.answer.question import answer_shape
    from kb.text import normalize

    partners = normalize(
        "スマートシティの実現に向けては、…枚方市駅周辺での導入の可能性について検討するとともに、"
        "事業者等との連携による持続可能なサービス提供の仕組みについても検討します。"
    )
    q = analyse("枚方市駅周辺のスマートサービスはどこの事業者と連携して提供しますか？")
    assert not answer_shape(q, partners, "plan")[0]
    workshop = normalize("大阪府主催のデータ利活用ワークショップや、市町村向け勉強会へ参加し")
    assert answer_shape(analyse("データ利活用ワークショップを主催したのはどこですか？"), workshop, "plan")[0]
    # 誰 asks for a person or group, which need not be a body: 「住民票を有する全ての方」
    everyone = normalize("住民票を有する全ての方に固有の番号（マイナンバー）を付して")
    assert answer_shape(analyse("マイナンバーは誰に付けられる？"), everyone, "plan")[0]


def test_a_where_question_needs_a_body_or_a_place_in_the_sentence() -> None:
    from kb.answer.question import answer_shape
    from kb.text import normalize

    q = analyse("都市づくりに係る情報を一元化した情報収集コーナーはどこに設置されていますか？")
    corner = normalize("そのほか、都市づくりに係る情報を一元化した情報収集コーナーを設置しました。")
    assert not answer_shape(q, corner, "plan")[0]
    remote = normalize(
        "さらに、北部リーフにおいて、相談・案内業務や申請手続き等のリモート対応について、試行実施しました。"
    )
    assert answer_shape(analyse("リモート対応はどこで試行しましたか？"), remote, "plan")[0]


def test_one_inside_a_word_is_not_a_count() -> None:
    from kb.answer.question import answer_shape

    q = analyse("基本目標はいくつある？")
    # 誰一人 and 一元化 hold 一, but count nothing
    row = normalize("第3期の取り組み: 誰一人取り残されない、みんなにやさしい行政の推進")
    assert not answer_shape(q, row, "plan")[0]
    assert not answer_shape(
        q, normalize("都市づくりに係る情報を一元化した情報収集コーナーを設置しました"), "plan"
    )[0]
    # 一人一台 and a written-out figure still count
    assert answer_shape(analyse("職員の端末は何台？"), normalize("職員一人一台への端末配備"), "plan")[0]
    assert answer_shape(q, normalize("諸課題に対応するため、3つの柱となる目標を示し"), "plan")[0]


def test_a_name_question_needs_a_name_in_the_sentence() -> None:
    from kb.answer.question import answer_shape

    q = analyse("導入を検討しているノーコード・ローコードツールの製品名は何ですか？")
    consider = normalize(
        "専門的な知識・技術を持たなくても手軽にツールの作成が可能なノーコード・ローコードツールの導入について検討します。"
    )
    assert not answer_shape(q, consider, "plan")[0]
    law = normalize("デジタル手続法(正式名称「情報通信技術を活用した行政の推進等に関する法律」)の成立等")
    assert answer_shape(analyse("デジタル手続法の正式名称を教えて"), law, "plan")[0]
    # a numbered part's heading is its name
    heading = normalize("取組1-2 誰一人取り残されない、みんなにやさしい行政の推進")
    assert answer_shape(analyse("取組1-2の名称"), heading, "plan")[0]
    assert not answer_shape(
        analyse("取組1-2の名称"), normalize("手続きに要する市民や事業者の負担低減"), "plan"
    )[0]
    # … and the line a box label heads is the name of the part the label names
    goal = normalize("安全で持続可能な情報化の取り組みを支えるICT基盤の強化")
    assert answer_shape(analyse("基本目標2の名称"), goal, "plan", label="【基本目標2】")[0]
    first = normalize("あらゆる主体が便利さ・豊かさを享受できるデジタル社会の推進")
    assert answer_shape(analyse("基本目標1の名称"), first, "plan", label="【基本目標1】")[0]
    assert not answer_shape(analyse("基本目標2の名称"), first, "plan", label="【基本目標1】")[0]


def test_a_who_question_needs_a_person_or_a_body() -> None:
    from kb.answer.question import answer_shape

    q = analyse("マイナンバーは誰に付けられる？")
    assert answer_shape(
        q, normalize("住民票を有する全ての方に固有の番号（マイナンバー）を付して"), "glossary"
    )[0]
    assert not answer_shape(q, normalize("マイナンバー制度全般の企画立案を一元化"), "glossary")[0]
    assert answer_shape(q, normalize("市長を本部長とする枚方市情報化推進本部を設置し"), "plan")[0]


def test_an_honorific_prefix_and_the_verb_stem_it_makes_a_noun_of_are_one_word() -> None:
    # MeCab reads おくやみ as お (prefix) + くやみ (悔やむ): the subject would be lost to a lone お
    q = analyse("おくやみ窓口は予約が必要ですか")
    assert "おくやみ" in q.terms and ("おくやみ", "窓口") in q.compounds
    assert "お" not in q.terms
    # before a noun the prefix is dropped, so the plan's 利用 matches the question's ご利用
    assert analyse("ご利用できる時間は？").terms == ("利用", "時間")


def test_a_which_product_question_needs_a_name_not_a_technology_acronym() -> None:
    from kb.answer.question import answer_shape

    q = analyse("テレビ会議システムにはどの製品を導入しましたか？")
    conference = normalize(
        "ICT基盤整備として、職員の労働生産性の向上や業務効率化を進めるため、遠隔地とコミュニケーションの"
        "取れるテレビ会議システムの導入、移動先でも業務が行えるモバイルワークの実現を行いました。"
    )
    assert not answer_shape(q, conference, "plan")[0]  # ICT names a kind of technology
    portal = normalize("スマートフォンアプリ「ひらかたポータル」を導入しました。")
    assert answer_shape(analyse("どのアプリを導入しましたか？"), portal, "plan")[0]
    assert answer_shape(analyse("どのサービスと連携しますか？"), normalize("ORDENと連携します。"), "plan")[0]
    # asked for the name of a network, not a product, LGWAN is a name
    lgwan = normalize("地方公共団体を相互に接続する行政専用のネットワーク（LGWAN）を利用します。")
    assert answer_shape(analyse("行政専用のネットワークの名称は？"), lgwan, "plan")[0]
    assert not answer_shape(analyse("行政専用のネットワークの製品名は？"), lgwan, "plan")[0]
    # which company is a which-body question
    assert analyse("どのメーカーの端末を使っていますか？").qtype == "who"


def test_a_which_department_question_needs_a_department() -> None:
    from kb.answer.question import answer_shape

    q = analyse("DX推進プロジェクトチームにはどの課が参加していますか？")
    team = normalize(
        "令和4年度には、情報化推進本部の下に施策の調査、検討を行うDX推進プロジェクトチームを新たに設置しました。"
    )
    assert not answer_shape(q, team, "plan")[0]  # a headquarters and a team, no department
    assert answer_shape(q, normalize("おくやみ手続き窓口の設置【地域サービス課】"), "plan")[0]
    # a which-body question that is not about departments still takes the headquarters
    assert answer_shape(analyse("プロジェクトチームはどこの下に設置された？"), team, "plan")[0]


def test_a_which_company_question_needs_a_company_in_the_sentence() -> None:
    from kb.answer.question import answer_shape
    from kb.text import normalize

    q = analyse("スマート街路灯の社会実験で連携した民間企業はどこですか？")
    # the department that ran the trial is not the company asked for
    department = normalize("公民連携によるスマート街路灯等の実験【政策推進課】")
    assert not answer_shape(q, department, "plan")[0]
    assert answer_shape(q, normalize("株式会社〇〇と連携してスマート街路灯を設置しました"), "plan")[0]
    assert answer_shape(q, normalize("ORDENを提供する事業者と連携しました"), "plan")[0]  # a Latin-letter name
    assert not answer_shape(q, normalize("AIを活用した実験を行いました"), "plan")[0]  # a kind of technology
    # 「どこの会社の機械でも」 is any company's: not a which-company question
    assert analyse("どこの会社の機械でも使える仕組みの呼び名は？").qtype != "who"
    # a kind of company named between (どのクラウド事業者) is still a company
    cloud = analyse("ガバメントクラウドは、どのクラウド事業者のものを使うの？")
    assert not answer_shape(
        cloud, normalize("ガバメントクラウド上への構築による運用コストの適正化に努めます"), "plan"
    )[0]


def test_a_declined_figure_names_what_it_was_asked_of_not_a_time_word() -> None:
    from kb.answer.answerer import _asked_subject

    assert _asked_subject(analyse("日本の働き手世代の人数、最近はどれくらい？")) == "働き手世代"
    assert _asked_subject(analyse("枚方市の生産年齢人口は何人ですか？")) == "生産年齢人口"
    assert _asked_subject(analyse("避難行動要支援者名簿はどのくらいの頻度で更新していますか？")) == "頻度"


def test_a_question_for_a_named_person_needs_a_name_not_the_post() -> None:
    from kb.answer.question import answer_shape

    def shaped(question: str, sentence: str) -> bool:
        return answer_shape(analyse(question), normalize(sentence), "plan")[0]

    post = "組織の長を内閣総理大臣とし、デジタル大臣、副大臣を置く。"
    assert not shaped("デジタル庁の今の大臣ってだれ？", post)
    assert not shaped("DXフェローには誰が就任していますか？", "助言を行うDXフェローを設置しました。")
    assert shaped("DXフェローには誰が就任していますか？", "DXフェローに山田太郎氏が就任しました。")
    # who holds a post the plan describes by another post is still answered by that post
    assert shaped("情報化推進本部の本部長は誰？", "市長を本部長とする枚方市情報化推進本部を設置し")


def test_a_count_labelled_by_the_asked_noun_needs_no_counter() -> None:
    from kb.answer.question import answer_shape

    q = analyse("オープンデータの課題の調査で、有効回答数は何件でしたか？")
    assert (q.qtype, q.counter) == ("number", "件")
    assert answer_shape(q, normalize("有効回答数：1808"), "glossary")[0]
    # another count, whose label is only part of the asked noun, does not answer
    assert not answer_shape(q, normalize("順位: 1、課題: 少子高齢化・人口減少、回答数: 547"), "glossary")[0]
    # nor a bare number without a label
    assert not answer_shape(q, normalize("調査は2019年に行われ、1808の自治体が答えた"), "glossary")[0]


def test_a_question_what_a_law_lays_down_is_answered_by_the_sentence_saying_so() -> None:
    from kb.answer.question import answer_shape

    q = analyse("地方公共団体情報システムの標準化に関する法律って、何を定めた法律なんですか？")
    lays_down = normalize("…標準化を推進するために必要な事項を定めたもの")
    enforced = normalize(
        "令和3年9月に「地方公共団体情報システムの標準化に関する法律」が施行され、…移行します。"
    )
    assert answer_shape(q, lays_down, "national_strategy") == (True, 1.0)
    assert answer_shape(q, enforced, "national_strategy") == (True, 0.0)
    # another general question gets no such preference
    assert answer_shape(analyse("標準化法の対象業務は？"), lays_down, "national_strategy") == (True, 0.0)
