"""Every example question shown on the chat page gets a good answer: answered, with the plan's
own words for it in the answer or its quotes (checked by the evaluation's relevance rule)."""

from __future__ import annotations

import pytest

from eval.metrics import is_relevant
from kb.answer import Answerer
from kb.app import EXAMPLES

#: The passage that answers each example, verbatim from the plan.
EXPECTED = {
    "書かない窓口って何をするの？": "窓口DXSaaSの導入",
    "EBPMとは？": "データや証憑などに基づく政策立案・評価",
    "標準準拠システムへの移行はいつまで？": "令和7年度",
    "RPAでどんな業務を自動化している？": "各業務システムへの自動入力",
    "マイナンバーカードを使った手続きのオンライン化について教えて": "公的個人認証サービスを用いたオンライン手続き",
}


def test_every_example_has_its_expected_evidence() -> None:
    assert set(EXAMPLES) == set(EXPECTED), "an example was added or changed: give its evidence here"


@pytest.mark.parametrize("question", EXAMPLES)
def test_example_is_answered_with_its_evidence(built_kb, question: str) -> None:  # type: ignore[no-untyped-def]
    answer = Answerer.from_settings(built_kb, built_kb.settings).answer(question)
    assert answer.answerable, answer.answer
    shown = answer.answer + " " + " ".join(c.quote for c in answer.citations)
    assert is_relevant(shown, [EXPECTED[question]]), shown
