"""Subject agreement and sentence choice on small made-up passages (no index)."""

from __future__ import annotations

from kb.answer import AnswerWeights, analyse
from kb.answer.extractive import TermStats, candidates, choose, figure_attached, quotable_sentences
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


def test_a_bullet_after_a_row_label_is_not_quoted() -> None:
    text = "期待する効果: ・手続きに要する負担の低減"
    assert quotable_sentences(text) == [("手続きに要する負担の低減", "期待する効果")]
