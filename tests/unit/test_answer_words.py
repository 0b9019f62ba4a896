"""Whole-word term matching, list questions and sentences that go on from the one before
(session 10, eval/experiments/answer_signals.md), on passages copied from the corpus."""

from __future__ import annotations

from kb.answer import AnswerWeights, analyse
from kb.answer.agreement import figure_attached
from kb.answer.answerer import answer_text
from kb.answer.extractive import candidates, choose, list_items
from kb.answer.quotes import cite, quotable_units
from kb.answer.terms import TermStats, Words
from kb.chunk import Chunk
from kb.retrieve import Hit
from kb.text import normalize


def _chunk(cid: str, text: str, *headings: str, start: int = 0) -> Chunk:
    return Chunk(cid, "plan", "計画", "plan", headings or ("第1章",), start, start + len(text), text)


# 2.2 (2), 基本目標1, 取り組み：ICT/IoTを活用した都市機能の強化
CAMERA = normalize(
    "また、公民連携により、人流データを把握・解析できるネットワークカメラを搭載したスマート街路灯の"
    "設置など、IoTを活用した社会実験を実施しました。"
)
# 2.2 (2), 基本目標3, 取り組み：デジタル化による効率的で持続可能な行政事務の実現
ROWS = _chunk(
    "rows",
    "取り組み：デジタル化による効率的で持続可能な行政事務の実現\n\n"
    "主な実施施策【所管部署】: 端末管理（シャットダウン）システムの導入【職員課】\n\n"
    "ICTを活用した業務効率化（AI-OCR、RPA）【DX推進課】\n\n"
    "固定資産税課税システムと法務局電子データとの連携【資産税課】\n\n"
    "建築行政データベースシステムの導入【開発調整課・審査指導課】\n\n"
    "成果: 端末管理（シャットダウン）システムを導入することで、管理職員の労務マネジメント力の向上、"
    "時間外勤務の事前申請の徹底による長時間労働の縮減、健康障害の防止に努めました。",
    "第2章 計画策定の背景",
    "2.2 枚方市の情報化の現状",
    "(2) 第2次枚方市情報化計画 第2期取り組みの結果",
    "基本目標3：スマート自治体へと転換を図るデジタル化の推進",
    "取り組み：デジタル化による効率的で持続可能な行政事務の実現",
)
# 2.1 国のICT戦略動向等 › 国のICT戦略の展開
DECLARATION = _chunk(
    "decl",
    "その後、平成25年6月に閣議決定された「世界最先端IT国家創造宣言」では、利用者ニーズの把握不足や"
    "組織を超えた業務改革に至っていない等、従来の戦略における課題を指摘、府省庁へ横串を通す政府CIOの"
    "設置等によって取り組みを推進してきました。以後、本宣言の改訂を重ねつつ、技術の進展に伴うデータ流通量の"
    "飛躍的増大を受けたデータ利活用の方針や、利用者中心のサービス提供を進めるといったデジタル・ガバメントの"
    "方針等を打ち出し、デジタル化の推進を図ってきました。",
    "2.1 国のICT戦略動向等",
    "国のICT戦略の展開",
)


def test_a_term_matches_only_whole_words() -> None:
    words = Words(CAMERA)
    assert "ネット" in CAMERA and not words.has("ネット")  # ネットワーク is one word
    assert words.has("ネットワーク") and words.has("カメラ") and words.has("街路灯")
    assert words.has("ネットワークカメラ")  # a run of words: part of a compound
    assert not Words(normalize("個人情報の保護")).has("人")
    assert Words(normalize("マイナンバーカードの普及")).has("マイナンバー")


def test_a_term_may_stop_before_the_okurigana_the_text_writes() -> None:
    assert Words(normalize("新たな取組みを進めます。")).has("取組")
    assert not Words(normalize("ネットワークの整備")).has("ネット")


def test_coverage_does_not_count_a_term_inside_another_word() -> None:
    stats = TermStats([_chunk("c", CAMERA)])
    q = analyse("ネットで避難所の空きを見られる？")
    assert "ネット" in q.terms
    assert stats.coverage(["ネット"], CAMERA) == 0.0
    assert stats.coverage(["カメラ"], CAMERA) == 1.0


def test_a_figure_belongs_to_the_clause_holding_the_whole_word() -> None:
    stats = TermStats(
        [_chunk("c", "本市では、平成27年度に個人番号の公開を開始し、その後人流の調査を行いました。")]
    )
    sentence = normalize("本市では、平成27年度に個人番号の公開を開始し、その後人流の調査を行いました。")
    # 人 of 人流 stands in the second clause, without a date; the 人 inside 個人 does not count
    q = analyse("人流は何年度に調べた？")
    assert not figure_attached(q, sentence, "plan", stats)


def test_list_questions_are_told_from_others() -> None:
    assert analyse("第2期の主な実施施策にはどんなものがありますか？").listing
    assert analyse("計画推進の基本的な視点は何がある？").listing
    assert analyse("基本目標2の下にある第3期の取組を一覧で").listing
    assert not analyse("行政サービスのデジタル化はどのような姿勢で取り組む必要がありますか？").listing
    assert not analyse("保育ICTシステムはいつ導入した？").listing


def test_a_list_question_quotes_every_close_row_first_line_a_bullet_list() -> None:
    q = analyse(
        "第2期の「デジタル化による効率的で持続可能な行政事務の実現」の主な実施施策にはどんなものがありますか？"
    )
    w, stats = AnswerWeights(), TermStats([ROWS, _chunk("c", CAMERA), DECLARATION])
    cands = candidates(q, [Hit(1, 1.0, ROWS)], stats, w)
    plain = [c.quote for c in choose(cands, w)]
    listed = choose(cands, w, listing=True)
    rows = {
        "固定資産税課税システムと法務局電子データとの連携【資産税課】",
        "建築行政データベースシステムの導入【開発調整課・審査指導課】",
    }
    assert not rows <= set(plain)  # three quotes / 300 characters leave rows out
    assert rows <= {c.quote for c in listed}
    assert set(plain) <= {c.quote for c in listed}  # the list adds to what was chosen
    citations = cite([(c.hit, c.quote) for c in listed])
    n = list_items(citations, w)
    assert n >= 3
    first = answer_text(citations, "高", n).split("\n")[0]
    assert first.startswith("・") and all(r.removesuffix("。") in first for r in rows)


def test_a_question_that_is_not_a_list_question_keeps_its_three_quotes() -> None:
    q = analyse("第2期の主な実施施策は？")
    w, stats = AnswerWeights(), TermStats([ROWS])
    cands = candidates(q, [Hit(1, 1.0, ROWS)], stats, w)
    assert not q.listing and len(choose(cands, w, q.listing)) <= w.max_quotes


def test_a_sentence_going_on_from_the_one_before_is_flagged() -> None:
    units = quotable_units(DECLARATION.text)
    assert units[1][2] and units[1][0].startswith("以後、本宣言の改訂")  # the quote keeps 以後
    rows = quotable_units(ROWS.text)
    assert not any(follows for _, _, follows in rows)
    camera = quotable_units(CAMERA)
    assert camera[0][2] and camera[0][0].startswith("公民連携により")  # また、 is cut from the quote


def test_a_continuation_counts_the_terms_of_the_sentence_before_it() -> None:
    q = analyse("世界最先端IT国家創造宣言の改訂を重ねる中で、国はどのような方針を打ち出してきましたか？")
    stats = TermStats([DECLARATION])

    def later_minus_former(share: float) -> float:
        w = AnswerWeights(inherited_share=share)
        by_quote = {c.quote[:2]: c.score for c in candidates(q, [Hit(1, 1.0, DECLARATION)], stats, w)}
        return by_quote["以後"] - by_quote["その"]

    # The 以後 sentence holds the answer (方針) but names the 宣言 only as 本宣言
    assert later_minus_former(0.0) < 0 < later_minus_former(0.5)


def test_a_chunk_s_first_sentence_goes_on_from_the_chunk_before() -> None:
    first = _chunk("a", DECLARATION.text, *DECLARATION.heading_path)
    second = _chunk(
        "b",
        "またこの間、官民データ活用基本法やデジタル手続法の成立等、デジタル化の原則についての法制化が進められてきました。",
        *DECLARATION.heading_path,
        start=len(DECLARATION.text),
    )
    stats = TermStats([second, first])
    assert stats.before["b"].startswith("以後、本宣言")
    assert "a" not in stats.before
