"""Answer text shown to the user: era years with their Western year, verbatim quotes kept, and
follow-up input limits that speak of the question (no index needed)."""

from __future__ import annotations

import pytest

from kb.answer.answerer import answer_text
from kb.answer.followup import resolve
from kb.answer.quotes import cite, cited_in, display_quote
from kb.chunk import Chunk
from kb.errors import InvalidQueryError
from kb.retrieve import Hit

TEXT = "第3期（令和6年度から4年間）の取り組みを定めます。平成28年3月に策定しました。"


def _hit() -> Hit:
    return Hit(1, 1.0, Chunk("c1", "plan", "計画", "plan", ("第1章",), 0, len(TEXT), TEXT))


def test_answer_shows_both_era_forms_but_quotes_stay_verbatim() -> None:
    citations = cite([(_hit(), "第3期（令和6年度から4年間）の取り組みを定めます。")])
    first = answer_text(citations, "高").split("\n")[0]
    assert first == "第3期（令和6年度（2024年度）から4年間）の取り組みを定めます[1]。"
    assert citations[0].quote == "第3期（令和6年度から4年間）の取り組みを定めます。"  # verbatim
    assert display_quote("平成28年3月に策定") == "平成28年（2016年）3月に策定"
    assert display_quote("2024年度に開始") == "2024年度に開始"  # a Western year needs nothing


def test_a_previous_answer_with_western_years_is_still_recognised() -> None:
    shown = answer_text(cite([(_hit(), "平成28年3月に策定しました。")]), "高")
    assert "（2016年）" in shown
    assert cited_in(TEXT, shown)
    assert not cited_in("別の文章です。まったく関係のない内容。", shown)


def test_an_over_long_earlier_question_is_reported_as_a_question() -> None:
    long_turn = "書かない窓口" + "あ" * 60 + "って何？"
    with pytest.raises(InvalidQueryError) as info:
        resolve("それはいつから？", [(long_turn, "…")], max_chars=50)
    assert "質問" in info.value.ja and "検索語" not in info.value.ja
    assert "question" in info.value.en and "query" not in info.value.en
    # within the limit the follow-up is rewritten as before
    assert (
        resolve("それはいつから？", [("書かない窓口って何？", "…")], max_chars=50)[0]
        == "書かない窓口 いつから？"
    )


def test_a_follow_up_made_too_long_by_its_topic_is_reported_as_a_question() -> None:
    with pytest.raises(InvalidQueryError) as info:
        resolve("それは" + "い" * 40 + "？", [("書かない窓口" + "あ" * 20 + "は？", "…")], max_chars=50)
    assert "質問" in info.value.ja and "検索語" not in info.value.ja


def test_a_decline_names_the_asked_subject_as_the_user_wrote_it() -> None:
    from kb.answer import analyse
    from kb.answer.answerer import _asked_subject, _words_as_written

    # normalised words (lower case, no spaces) back to the question's own spelling
    assert _words_as_written(("窓口", "dx", "saas"), "窓口DX SaaSは何年度から使えますか？") == "窓口DX SaaS"
    assert _asked_subject(analyse("AI議事録作成システムはいつ導入されましたか？")) == "AI議事録作成システム"
    assert _words_as_written(("g", "基地局"), "市内の5G基地局は何か所？") == "5G基地局"
    # words the question does not hold in that order are joined as they are
    assert _words_as_written(("saas", "dx"), "窓口DX SaaS") == "saasdx"
