"""Word lists and patterns the answer code reads questions and sentences with: data, not logic.

Question patterns decide what shape of answer is asked for (いつ → a date, 何人 → a number with
人, どこの課 → a department, とは → a definition); answer patterns recognise that shape in a
sentence. All match normalised text (kb.text.normalize: NFKC, lower-case).
"""

from __future__ import annotations

import re

ABSTAIN_TEXT = "計画書には該当する記載が見つかりませんでした。"
SUGGESTIONS_LABEL = "関連しそうな箇所:"

# -- questions --------------------------------------------------------------------------------
#: Nouns that frame a question rather than name its topic (「…の理由は？」「…の担当課」): they are
#: answered by the sentence's shape, not by the same word, so they are not required in passages.
FRAME_NOUNS = frozenset(
    "こと もの ため よう 意味 内容 方 場合 ところ とき 時 ほう 全部 うち 中 等 的 化 理由 名称 一覧 違い "
    "予定 担当 担当課 目的 方法 特徴 概要 状況 それぞれ 今 定義 感じ 数 規模 呼び名 呼び方 つもり 自分".split()
)
#: Time words: they choose sentences (今後 → what the plan will do) but name no subject to report as
#: missing (「…人数、最近はどれくらい？」 is not about 「最近」).
TIME_NOUNS = frozenset("最近 現在 今後 将来 近年 昨今 いま 今 当時".split())
INTERROGATIVES = tuple("何 いく 幾 どこ どれ どの 誰 だれ いつ どう なに なん どんな".split())
#: 「…のことを何て言う？」「…の仕組みの名前は？」 ask for the term a description defines: the
#: question describes it in its own words, so the term itself cannot be in the question.
NAMING_Q = re.compile(
    r"(何|なん)(て|と)(言|い|呼|よ)|呼び名|呼び方"
    r"|(仕組み|やり方|方法|形態|こと|もの|制度|考え方|サービス|技術|手法|取り組み)の(名前|名称)"
)
#: 「どんな…がある？」「…は何がある？」「…を一覧で」 ask for several things: the plan's answer is often a
#: table's rows or a list's items, each short. Between どんな/どのような and が/は ある only the asked
#: noun (「どのような機能があり」), not a clause (「どのような姿勢で取り組む必要があり」).
LIST_Q = re.compile(
    r"(どんな|どのような|どういった|どういう)[^、。？?をでにてと]{0,12}(が|は|も)(ある|あり)"
    r"|(何|なに)が(ある|あり)|一覧(で|を)?(教え|見せ|出し|ください|[?？]|$)"
)
#: A question for the members of a counted set (「3つの基本理念とは」「対象20業務を全部教えて」「…の3つの
#: 種類」「基本原則（10原則）」): the answer lists them, and a sentence that only names the set (「3つの基本
#: 理念、5つの基本原則を提示し」) does not answer it. Not a set the question only mentions (「対象20業務
#: について」「20業務以外の」).
COUNTED_SET_Q = re.compile(
    r"(?P<count>[0-9]{1,2})\s*(?P<unit>つの|個の|段階|箇条|項目|原則|種類|分野|業務|視点|本の柱|の柱)"
    r"(?P<noun>[一-龥々ァ-ヶー]{0,8})[」』)）]?\s*"
    r"(?=とは|は(何|なに|どれ)|って(何|なに)|を(全部|全て|すべて|教え|挙げ|一覧)|の(内容|一覧|中身)|、?それぞれ"
    r"|には(何|どんな|どのような)|は?[?？。]?$)"
)
#: What a set counted only by kind is called (「3つの種類」「4段階」): no quote need name it.
COUNTED_KINDS = frozenset({"", "種類", "項目", "段階", "分野", "視点", "点", "つ"})
#: The count that opens a counted set's name (「3つの」 of 「3つの基本理念」): what is left names its kind.
COUNT_PREFIX = re.compile(r"^[0-9]+\s*(つの|個の)?")
#: Members of a list as the plan writes them: numbers (①②), quoted names, or short segments
#: between separators. A numbered member in normalised text, where ①② have become 1 2
#: (「1 組織体制の整備 2 デジタル人材…」).
NUMBERED_MEMBER = re.compile(r"(?:^|[\s、/／])([0-9]{1,2})(?![0-9.．,])")
QUOTED_MEMBER = re.compile(r"「[^」]{1,30}」")
#: A ・ between two katakana is part of a name (クラウド・バイ・デフォルト), not a separator.
LIST_SEPARATOR = re.compile(r"[、／/,，]|(?<![ァ-ヶー])・|・(?![ァ-ヶー])")
#: A list member's number at its start, normalised (「① 組織体制の整備」 → 「1 組織体制の整備」).
LEADING_NUMBER = re.compile(r"^([0-9]{1,2})(?![0-9.．,])")
#: A segment ending like a clause (「…を提示し」「…を進めて」) is prose, not a list member.
CLAUSE_ENDING = re.compile(r"[しりてきいえけせめれたるうくずす]$")
#: 「…とは」 asks for a definition; a naming question is answered by the same glossary line.
#: 「Xって何？」 asks what X is, but 「Xって何台ある？」 asks for a count (何 + a counter) and
#: 「Xにとって何が…」 is "for X": neither is a definition question.
DEFINITION_Q = re.compile(
    r"(?<!こ)とは|(?<!にと)って(何|なに)(?!人|名|件|回|%|パーセント|割|年|月|日|時|か所|箇所|台|冊|校|歳|円|種類|項目|個)"
    rf"|意味|定義|何のこと|{NAMING_Q.pattern}"
    # 「スマート自治体ってどんな自治体のこと？」: what kind of thing the name stands for
    r"|(どんな|どういう|どのような)[^、。？?]{0,12}のこと(?!を|が|に|で)"
)
DATE_Q = re.compile(r"いつ|何年(?!間|ごと|毎|おき)|何月(?!間)|何日(?!間)|時期|期限(?!内)|日付|決定日|施行日")
#: Counters a count can carry besides those NUMBER_Q names one by one (何市 → 「3市」).
COUNTERS = (
    "市町村 自治体 団体 市 町 村 社 基 本 枚 頭 世帯 業務 拠点 機関 施設 店舗 種 点 倍 段階 "
    "時間 日間 か月 カ月 ヶ月 週間 分野 項目 機種 システム 課".split()
)
#: (question pattern, counter the answer must carry; "" = any number; "*" = the counter the
#: question names after 何)
NUMBER_Q = tuple(
    (re.compile(pattern), counter)
    for pattern, counter in (
        ("何人|何名", "人"),
        ("何件", "件"),
        ("何回", "回"),
        # 率 asks for a rate where it ends the asked noun (普及率は何%, 実施率は), not inside a
        # word (効率化の所管部署はどこ？ asks for a department)
        ("何%|何パーセント|割合|率(は|って|を|が|も|$|\\?)", "%"),
        ("何割", "割"),
        ("いくら|料金|費用|金額|予算|何円", "円"),
        ("何年間|何年ごと|何年毎|何年おき", "年"),
        ("何か所|何箇所", "所"),
        ("何台", "台"),
        ("何冊", "冊"),
        ("何校", "校"),
        ("何歳", "歳"),
        ("何時(?!点|期|代|間)|(開いて|あいて|受け付けて|やって)いる時間|営業時間|開庁時間|受付時間", "時"),
        ("いくつ(?!か)|幾つ(?!か)|何種類|何項目|何個|の数|数は|者数|規模|どのくらい|どれくらい", ""),
    )
) + (
    # Any other 何 + counter (何市, 何基, 何社, 何団体, 何業務 …) asks for a count with that counter.
    (re.compile(rf"何({'|'.join(COUNTERS)})"), "*"),
)
#: A count qualifying the noun that ends the question before a copula (「何人くらいの組織だった？」
#: 「何ページの資料ですか」): that noun classifies the topic, the topic is what is asked about.
COUNT_PREDICATE_NOUN = re.compile(
    r"(何|いくつ)[^、。？?の]{0,6}の(?P<noun>[一-龥ァ-ヶー]{2,8})(だっ|だ|です|でし|なの|なん)"
)
#: Nouns that name the slot a number/date/who question asks to fill (「…の期間」「…の割合」
#: 「最初に…」「担当の課」), not the thing it asks about: never the subject a sentence must name.
MEASURE_NOUNS = frozenset(
    "期間 割合 比率 最初 最後 最新 初め 担当 所管 部署 時期 年度 予定 期限 開始 スタート 終了 "
    "人数 件数 台数 回数 頻度 金額 費用 予算 規模 場所 名前 名称 事業者 会社 メーカー 製品 製品名 "
    "メンバー リーダー 責任者".split()
)
#: The practical details a plan names a topic without (how to apply, what to prepare, the fee):
#: asked with a question word, they must be in the sentence that answers (Question.predicate).
PROCEDURE_NOUNS = frozenset(
    "手続き 手続 手順 申請 準備 登録 申し込み 申込 申込み 方法 条件 要件 料金 費用 書類 対象 資格".split()
)
KANJI = re.compile(r"[一-龥々]")
#: A word of kanji or katakana (入札, ストック): not a Latin name or a word of hiragana.
KANJI_OR_KANA_WORD = re.compile(r"[一-龥々ァ-ヶー]{2,}")
#: A name the question quotes (「ぼーち」「福祉サービス検索システム」).
QUOTED = re.compile(r"[「『]([^」』]{2,40})[」』]")
#: Ordinals and numbered items that tell the plan's parts apart (第2期 vs 第3期, 第4章, 取組2-4,
#: 基本目標3): MeCab cuts them into 第 / 3 / 期 and numbers are not terms, so they are taken from
#: the question whole.
ORDINAL = re.compile(
    r"第\s*[0-9一二三四五六七八九十]+\s*[期章次節条回]|取組み?\s*[0-9]+\s*-\s*[0-9]+(?![0-9])"
    r"|基本目標\s*[0-9]+(?![0-9])"
)
#: A numbered item of the plan as a heading names it (取組3-1) or a sentence points at it
#: (「取り組み3-1に掲げる…」): groups are the two numbers.
ITEM_REF = re.compile(r"取り?組み?\s*([0-9]+)\s*-\s*([0-9]+)(?![0-9])")
#: 誰 / だれ asking who: not 誰も, 誰か, 誰でも (anyone) or 誰一人 (no one).
_WHO_WORD = r"誰(?!も|か|でも|一人|ひとり)|だれ(?!も|か|でも|一人|ひとり)|どなた"
#: Words for a company, and what may name a kind of one before them (「どのクラウド事業者」).
_COMPANY_WORDS = "(会社|企業|メーカー|事業者|業者|ベンダー)"
_KIND_OF_COMPANY = r"[ァ-ヶー一-龥a-zA-Z]{0,8}?"
WHO_Q = re.compile(
    _WHO_WORD
    + r"|どこ(?!まで|でも|か(?!ら))|どの課|どの部|部署|担当(?![とにへ])|所管|省庁|発行元|どの機関|どの組織|名前"
    + rf"|どの{_KIND_OF_COMPANY}{_COMPANY_WORDS}"
)

# -- answers ----------------------------------------------------------------------------------
NUMBER = r"[0-9〇一二三四五六七八九十百千万億][0-9〇一二三四五六七八九十百千万億,.\s]*"
#: 一 inside a word counts nothing: 誰一人, 統一, 唯一, 万一, 第一 (the kanji before it makes the
#: word), 一元化, 一体的, 一部, 一層, 一括, 一方で, 一人ひとり (the kanji after it does). 一人一台 and
#: 年に一度 stay counts.
WORD_ONE = re.compile(
    r"(?<=[誰統唯均画同単逐第万])一|一(?=[元体部層括律環般方定貫連極覧緒丸斉因助翼]|人ひとり|人一人)"
)
#: What a counter looks like in the plan's text (何人 is answered by 人 or 名, …).
COUNTER_FORMS = {"人": "人|名", "%": "%|パーセント", "所": "か所|箇所|カ所"}
#: A count labelled by what it counts, without a counter (「有効回答数：1808」, a table cell).
COUNT_NOUN = re.compile(r"(?P<noun>[一-龥ァ-ヶー]{2,}数)")
LABELLED_COUNT = re.compile(COUNT_NOUN.pattern + r"\s*[：:]\s*[0-9][0-9,]*")
DATE_A = re.compile(
    r"(令和|平成|昭和)\s*(元|[0-9]+)\s*年|[0-9]{4}\s*年|[0-9]{4}\s*[./]\s*[0-9]{1,2}|[0-9]+\s*月"
)
#: A who question asking which body (どこが/どこの/どの課/部署/所管/省庁/発行元 …), not which person
#: (誰) or where (どこに/どこで): answered only by a sentence that names a body.
BODY_Q = re.compile(
    r"どこ(?!まで|でも|か|に|で|へ|から)|どの(課|部|組織|機関|団体|省庁|会社|企業|メーカー|事業者|業者|ベンダー)|部署|所管|省庁|発行元|主催|担当課"
)
#: A which-department question (どの課, 担当課, どの部署): answered by a sentence naming a department
#: (…課, …室, …部, …局, …センター, 図書館), not only a headquarters, a team or a council (本部,
#: プロジェクトチーム, 協議会), which the plan names as the bodies departments take part in.
DEPT_Q = re.compile(r"どの課|どこの課|何課|担当課|所管課|どの部署|どこの部署")
DEPT_A = re.compile(r"[一-龥ァ-ヶー]+(課|室|(?<!本)部|局|センター)|図書館")
#: A which-company question (「連携した民間企業はどこ」「どこの会社の製品」「どのメーカー」): answered by a
#: sentence naming a company (株式会社…, …社, a Latin-letter name), not by the department that ran
#: the project. Not 「どこの会社の機械でも使える」 (any company's).
COMPANY_Q = re.compile(
    rf"{_COMPANY_WORDS}(は|が)?(どこ|誰|どちら)"
    rf"|(どこの|どの){_KIND_OF_COMPANY}{_COMPANY_WORDS}(?![^、。？?]*でも)"
)
COMPANY_A = re.compile(
    r"株式会社|有限会社|合同会社|（株）|\(株\)|[ァ-ヶー]{2,}社(?!会)|[一-龥]{2,}社(?![会員内長])"
)
#: A where question (どこに/どこで設置・実施): answered by a sentence naming a body or a place.
PLACE_Q = re.compile(r"どこ(に|で)|場所")
PLACE_A = re.compile(
    r"庁舎|本庁|支所|駅|館|施設|センター|街区|窓口|学校|現場|周辺|市内|府内|府下|区域|において|にて"
)
#: A body's name as the plan writes it (…課, …省, 大阪府, 中核市長会, 中央図書館).
BODY_A = re.compile(
    r"[一-龥ァ-ヶー]+(課|部|室|局|省|庁|府|県|本部|委員会|事務局|センター|チーム|機構|協議会|(?<![社機都])会|官房|法人|図書館)"
    r"|本部長|市長|大臣|cio"
)
#: A who question asking which person (誰/だれ/どなた): answered by a body (BODY_A) or a sentence
#: naming people — 「住民票を有する全ての方」, 市民, 職員, 事業者, 保護者, 児童 — not by one naming
#: nobody (「…を一元化、…を共同で管理」).
PERSON_Q = re.compile(_WHO_WORD)
#: A who question asking for a named individual (「…には誰が就任していますか」「今の大臣ってだれ？」「市長の
#: 名前は？」): only a sentence naming a person answers it (an honorific after a name, 氏名); the post
#: alone (デジタル大臣, フェロー) does not.
NAMED_PERSON_Q = re.compile(
    r"就任|氏名|(今|現在|いま)の[^、。？?]{0,12}(" + _WHO_WORD + r")|(長|大臣|知事|委員|フェロー)の名前"
)
NAMED_PERSON_A = re.compile(r"[一-龥]{1,4}\s?[一-龥]{1,3}(氏|さん)(?![一-龥])|氏名")
PERSON_A = re.compile(
    r"[一-龥]+(者|員|民)|(?<![一-龥])(方|人)(?![法式針向面策])|[一-龥]人(?![口材工])"
    r"|児童|生徒|子ども|子供|本部長|市長|大臣|知事|cio|フェロー"
)
#: A question asking for a name (製品名, 名称, 愛称 …), not for a definition (「…の仕組みの名前は？」
#: is NAMING_Q): answered by a sentence holding a name — one it quotes (「…」『…』) or a Latin-letter
#: name (LINE, ORDEN) that the question does not already say — or by the heading of a numbered part
#: the question names (「取組1-2の名称」).
NAME_Q = re.compile(
    r"製品名|商品名|名称|名前|愛称|呼称|(サービス|システム|ツール|アプリ|ソフト)の?名(?!前|称)"
    r"|どの(製品|商品|機種|ブランド|ソフト|ツール|アプリ|サービス|システム)"
)
NAME_A = re.compile(r"[「『]([^」』]{2,60})[」』]|([a-z][a-z0-9.\-]*[a-z0-9](?:\s?[a-z0-9][a-z0-9.\-]*)*)")
#: A name question asking for a product (どの製品, 製品名, どのアプリ …), not for the name of a
#: part, a law or a network (名称: 「行政専用のネットワークの名称は？」 → LGWAN is an answer).
PRODUCT_Q = re.compile(r"製品|商品|機種|ブランド|どの(ソフト|ツール|アプリ|サービス|システム)")
#: Latin-letter words that name a kind of technology or a practice, not a product:
#: 「…ICT基盤整備として…テレビ会議システムの導入」 names no product.
GENERIC_LATIN = frozenset(
    "ict it dx ai rpa ocr ai-ocr iot cio pc sns web gis ebpm saas paas iaas lan wan lgwan wi-fi "
    "5g pdca kpi bpr edr ict化 it化 dx化 faq qr url api app os".split()
)
ORG_A = re.compile(
    r"[一-龥ァ-ヶー]+(課|部|室|局|省|庁|本部|委員会|センター|チーム|機構|協議会)|本部長|市長|大臣|cio"
)
DEFINITION_A = re.compile(r"^[^。]{1,60}[:：]|のこと|を指す|をいう|とは")
#: The plan stating a definition in so many words (「…と定義する」「定義」): stronger than a gloss.
DEFINES_A = re.compile(r"定義")
#: 「…って何を定めた法律？」 asks what a law or plan lays down; the sentence saying so answers
#: (「…に必要な事項を定めたもの」「…を規定」).
STIPULATES_Q = re.compile(r"(何|なに|どんなこと|どのようなこと)を(定め|規定)")
STIPULATES_A = re.compile(r"を(定め|規定)|(定め|規定し)(た|る|ている)もの")
#: 「…の理由は？」「なぜ…」 ask for a cause; a sentence giving one says so (…ため、…から、…を踏まえ).
REASON_Q = re.compile(r"理由|なぜ|何故|どうして(?!いく)|何のため|目的は|を目的|目的と|背景")
REASON_A = re.compile(
    r"ため[、に]|ことから|(?<![0-9])から、|により|によって|を踏まえ|をふまえ|を受け|背景|を目的|目的と"
)

# -- follow-ups -------------------------------------------------------------------------------
FOLLOW_REFER = re.compile(
    r"^(それ|その|これ|この|あれ|あの|そこ|そちら|こちら|同じ|前の|さっき|先ほど|では|じゃあ|じゃ|ちなみに|あと)"
)
FOLLOW_OTHER = re.compile(r"^(その他|そのほか|他|ほか|それ以外|別の|もっと)")
DEMONSTRATIVE = re.compile(r"^(それ|その|これ|この|あれ|あの|そこ|そちら|こちら)(は|って|の|に|を|で|が)?")
TOPIC_END = frozenset({"は", "って", "とは", "について", "では", "には", "を", "が"})

# -- quotable sentences -----------------------------------------------------------------------
LEADING_MARK = re.compile(r"^[\s・･\-－*●○◆■□✓⇒]+")
#: The mark that opens a figure's source line: (出典) or （出典）.
SOURCE_MARK = r"[(（]出典[)）]"
#: Page notes, figure captions, source references (『…』P8, 平成27年2月) and glossary
#: redirects (「次節、…のとおり」) are not answers.
SKIP_LINE = re.compile(
    rf"^(掲載ページ|図表|{SOURCE_MARK}|『[^』]*』\s*P[0-9])|^[^:：]{{1,40}}[:：]\s*次節、"
    # a piece of a figure cut mid-word by the PDF (「ービスデザイン…」) reads as nonsense
    r"|^[ーぁぃぅぇぉっゃゅょゎァィゥェォッャュョヮ]"
    # labels that only name a part: 【基本目標1】, a table's header row 「基本目標 ／ 第3期の取り組み」,
    # a numbered heading 「2. 自治体にとってのオープンデータの意義（1）」
    r"|^【[^】]*】$|^[^。]{1,30}\s／\s[^。]{1,30}$|^[0-9]+\.\s[^。、]{1,30}$"
)
#: A figure's source line (「(出典) 内閣府 『スマートシティの推進について』P3」): skipped as an answer
#: (SKIP_LINE), quoted only for a question asking where a figure or statement comes from (SOURCE_Q).
SOURCE_LINE = re.compile("^" + SOURCE_MARK)
#: Asks for a source: 「出典は？」「どこの調査の数字？」「どこの省庁の資料から引用」.
SOURCE_Q = re.compile(
    r"出典|引用元|(から|より)引用|出所|出どころ|(どこ|どちら)の[^、。？?]{0,8}?(調査|資料|統計|文書|報告書)|何の(調査|統計)"
    r"|(どの|どんな)(調査|資料|統計|報告書)から"
)
#: The words of a source question that name the source asked for, not what it is the source of
#: (「スマートシティの図は、どこの省庁の資料から引用されていますか」 is about スマートシティ).
SOURCE_NOUNS = frozenset("出典 引用 引用元 出所 出どころ 資料 省庁 図 図表 元 数字 数値".split())
#: What opens a heading without being its name: 「(1) 」「2.2 」「図表：」「取り組み：」「基本目標1：」.
#: The body repeats a heading without it (「取り組み：一人ひとりに…の推進」 → 「一人ひとりに…の推進」).
HEADING_PREFIX = re.compile(
    r"^(\([0-9]+\)\s*|[0-9]+\.[0-9]+\s+|図表[:：]\s*|取り?組み?[:：]\s*|基本目標\s*[0-9]*[:：]\s*)"
)


def heading_forms(heading: str) -> set[str]:
    """A (normalised) heading as the body may repeat it: whole, without its opening number or
    label, and without the 『…』 around a quoted name."""
    forms = {heading}
    bare = HEADING_PREFIX.sub("", heading)
    forms |= {bare, bare.strip("『』")}
    if bare.startswith("『") and "』" in bare:
        forms.add(bare[1 : bare.index("』")])
    return {f for f in forms if f}


#: The row labels of the plan's tables (「施策の方向性: …」), as a regex alternation.
#: A table's reference row: the national documents a measure relates to.
REFERENCE_LABEL = "関連する法令・制度・指針等"
ROW_LABELS = "設定の背景|施策の方向性|期待する効果|課題|成果|取り組み|取組み|" + re.escape(REFERENCE_LABEL)
#: A line that is only a figure's box label (【基本目標3】).
BOX_LABEL = re.compile(r"^【[^】]{1,30}】$")
#: A row label (「施策の方向性: 」) or a connective (「また、」) that opens a sentence: the quote
#: starts after it, so the answer never begins with one.
LEADING_LABEL = re.compile(
    r"^(?:(" + ROW_LABELS + r")[:：]\s*)?" r"(?:また、|さらに、|一方で、|なお、|そのため、|加えて、)?"
)
#: A sentence that goes on from the one before it (「以後、本宣言の改訂を重ねつつ…」「またこの間、…」),
#: after any row label: its subject is the previous sentence's.
CONTINUATION = re.compile(
    r"^(?:(?:" + ROW_LABELS + r")[:：]\s*)?"
    r"(以後|以降|これにより|これを受け|これらにより|その後|また|さらに|加えて|なお|そのため|こうした|このため|この間|このように)"
)
#: Opening and closing brackets: a sentence is not cut inside 「…」 or （…）.
OPEN_BRACKETS = "「（(『【［"
CLOSE_BRACKETS = "」）)』】］"
#: Figure transcriptions run bullet after bullet without a full stop: cut there as well.
BULLET_CUT = re.compile(r"\s+(?=[✓■⇒①-⑳])")
#: A diagram read out as a word list (「高品質ケーブル/データセンター/自動運転/ドローン物流 ・…」):
#: this many "/" between words (URLs aside) in one piece make it a list of labels, not a sentence.
WORD_LIST_SLASHES = 5
URL = re.compile(r"https?://\S+")

# -- subject agreement ------------------------------------------------------------------------
#: The question is about the city itself (its population, its PCs, its staff …).
CITY_Q = re.compile(r"枚方|本市|市内|市役所|庁内|市民|市職員|市の職員")
#: A sentence about the nation (全国 figures, 国 policy) …
NATION_A = re.compile(
    r"全国|国内|日本|我が国|わが国|国民|政府|各府省|国は|国が|国の"
    # … or a national body acting (内閣官房は…を策定しました)
    r"|内閣|デジタル庁|(総務|文部科学|厚生労働|経済産業|国土交通|財務|法務|外務|農林水産|環境)省"
)
#: … unless it also speaks of the city.
#: A topic that is the city itself (枚方市, 本市, 市役所, 枚方市役所).
CITY_TOPIC = re.compile(r"(枚方)?(市|本市|市役所|市役所内|市当局)")
#: A question opening with the city as its agent (「枚方市として、…」).
CITY_AS_SUBJECT = re.compile(r"(枚方市|本市|市|市役所)として")
#: A yes/no question asking whether something holds for all of a kind (「すべての児童会室に」); a
#: sentence answers it only by saying how far it holds: all, each, or which part.
ALL_Q = re.compile(r"すべて|全て|全部")
EXTENT_A = re.compile(r"すべて|全て|全部|全[一-龥]|各[一-龥]|のうち|一部|順次|いずれも|部分的")
#: A yes/no question whether its topic exists at all (「…取り組みはありますか」「…計画ってある？」).
EXISTS_Q = re.compile(r"(は|って|も)[、\s]*(ある|あります|あり)(ます)?(か|の)?[？?。]*$")
#: A sentence about another government than the city: the nation, or the prefecture acting (府は…).
OTHER_GOVERNMENT_A = re.compile(NATION_A.pattern + r"|府は|府が|府の|大阪府|都道府県")
CITY_A = re.compile(r"枚方|本市|市内|市民|庁内|本庁|市役所")
#: Where a sentence passes from one event to the next (「…を開始し、その後…」「…であり、…」).
#: A te-form chains events too (「…の一部改訂を経て、…の制定等を行ってきました」), but not the
#: compound particles that only introduce a topic (「…について、」「…において、」「…によって、」).
CLAUSE_CUT = re.compile(r"(?<=[しり])、|(?<!ついて|おいて|とって|よって|もって)(?<=て)、")
MISSING_TEXT = "計画書には「{word}」についての記載は見つかりませんでした。"
NEIGHBOUR_TEXT = "計画書には「{focus}」{asked}の記載はありません。"
NEIGHBOUR_CITY_TEXT = "計画書には枚方市の「{focus}」{asked}の記載はありません。"
#: A counted set the plan names without listing its members.
#: Prefixes that change what a noun names (副本部長 is not the 本部長, 旧システム not the システム).
REFERENT_PREFIXES = frozenset("副 前 元 旧 非 未 無 不".split())
#: The words that ask which of a category (「どの施設」「どのような証明書」), as MeCab cuts them, and
#: the words between them and the category's noun (どの / よう / な / 証明書).
WHICH_WORDS = frozenset("どの どんな どういう どういった".split())
WHICH_TAIL = frozenset("よう な いう いった 言う".split())
#: A which-X question answered by a sentence that names X only as the question does.
KIND_MISSING_TEXT = "計画書には、どの「{kind}」かの具体的な記載はありません。"
COUNTED_MISSING_TEXT = "計画書には「{counted}」の一つひとつの記載はありません。"
#: What a typed question asks about its subject: the plan may name the subject but not this.
ASKED_MEASURE = {"date": "の時期", "number": "の数値", "who": "の担当・主体"}
NEIGHBOUR_LABEL = "参考（質問とは別の事柄についての記載です）:"
#: A declined question's closest passage: shown, never presented as the answer.
RELATED_LABEL = "参考（答えとは確認できませんでしたが、近い内容の記載です）:"
#: The citation mark an answer puts after a quote (「…のこと[1]。」): not the plan's words.
CITATION_MARK = re.compile(r"\[\d+\]")
LOW_CONFIDENCE = "「{quote}」と書かれた箇所があります"
#: The Western year kb.era.with_western writes after an era year in answer text (令和6年度（2024年度）):
#: taken out again wherever answer text is compared with the plan's own words.
WESTERN_GLOSS = re.compile(r"（[0-9]{4}年度?）")
