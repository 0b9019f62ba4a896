"""The optional LLM path, driven by langchain's fake chat models.

These tests check WIRING only: that the prompt holds the numbered passages, that citations in
the reply are validated and renumbered, that any failure falls back to the extractive answer,
and that streaming ends with the final Answer. The fake models return canned text, so nothing
here says anything about the quality of generated answers.
"""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.language_models.fake_chat_models import FakeListChatModel, GenericFakeChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatResult

from kb.answer import ABSTAIN_TEXT, Answerer
from kb.answer.llm import build_messages, cited_numbers, make_chat_model, renumber
from kb.chunk import Chunk
from kb.config import load_settings
from kb.errors import GenerationError
from kb.retrieve import Hit

QUESTION = "書かない窓口って何をするの？"


class _Failing(BaseChatModel):
    """A chat model whose every call times out."""

    calls: int = 0

    @property
    def _llm_type(self) -> str:
        return "failing"

    def _generate(
        self, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None, **kw: Any
    ) -> ChatResult:
        self.calls += 1
        raise TimeoutError("endpoint did not answer")


def _hit(n: int, text: str) -> Hit:
    return Hit(n, 1.0, Chunk(f"c{n}", "plan", "計画", "plan", (f"第{n}章",), 0, len(text), text))


# -- pure functions ----------------------------------------------------------------------------


def test_prompt_holds_only_numbered_passages_and_the_question() -> None:
    messages = build_messages("いつから？", [_hit(1, "本文その1。"), _hit(2, "本文その2。")])
    system, user = messages[0].content, messages[1].content
    assert "[1]〜[2]" in system and "だけを根拠" in system and ABSTAIN_TEXT in system
    assert "[1] （計画 › 第1章）\n本文その1。" in user
    assert "[2] （計画 › 第2章）\n本文その2。" in user
    assert user.rstrip().endswith("質問: いつから？")


def test_cited_numbers_are_validated() -> None:
    assert cited_numbers("Aです[2]。Bです[1][2]。", 3) == [2, 1]
    assert cited_numbers("全角です［１］。", 1) == [1]
    with pytest.raises(GenerationError):
        cited_numbers("引用なし。", 3)
    with pytest.raises(GenerationError):
        cited_numbers("存在しない番号[4]。", 3)
    assert renumber("A[3]。B［２］。", {3: 1, 2: 2}) == "A[1]。B[2]。"


def test_chat_model_only_when_configured() -> None:
    assert make_chat_model(load_settings(env={})) is None
    settings = load_settings(env={"KB_LLM_BASE_URL": "http://127.0.0.1:9/v1", "KB_LLM_MODEL": "qwen2.5:7b"})
    model = make_chat_model(settings)  # constructing the client makes no request
    assert model.model_name == "qwen2.5:7b"
    assert model.openai_api_base == "http://127.0.0.1:9/v1"
    assert model.request_timeout == settings.llm_timeout_s
    assert model.openai_api_key.get_secret_value() == "not-needed"


# -- wiring through the Answerer (real index, fake model) ---------------------------------------


def test_generated_answer_with_valid_citation(built_kb) -> None:  # type: ignore[no-untyped-def]
    fake = FakeListChatModel(responses=["窓口DXSaaSの導入などで「書かない」窓口を実現します[1]。"])
    ans = Answerer.from_settings(built_kb, built_kb.settings, chat_model=fake).answer(QUESTION)
    assert ans.generated and ans.answerable
    assert ans.answer == "窓口DXSaaSの導入などで「書かない」窓口を実現します[1]。"
    assert [c.n for c in ans.citations] == [1]
    assert ans.citations[0].quote in ans.citations[0].chunk_text


def test_citations_are_renumbered_in_order_of_use(built_kb) -> None:  # type: ignore[no-untyped-def]
    extractive = Answerer.from_settings(built_kb, built_kb.settings).answer(QUESTION)
    fake = GenericFakeChatModel(messages=iter([AIMessage("前半です[3]。後半です[1]。")]))
    answerer = Answerer.from_settings(built_kb, built_kb.settings, chat_model=fake)
    ans = answerer.answer(QUESTION)
    assert ans.generated
    assert ans.answer == "前半です[1]。後半です[2]。"
    hits = answerer.retrieve(ans.query)[0]
    assert [c.chunk_id for c in ans.citations] == [hits[2].chunk_id, hits[0].chunk_id]
    assert extractive.query == ans.query


@pytest.mark.parametrize(
    ("reply", "reason"),
    [
        ("根拠のない回答です。", "cites no passage"),
        ("架空の資料によると[9]。", "do not exist"),
        ("", "empty"),
    ],
)
def test_bad_replies_fall_back_to_extractive(built_kb, reply: str, reason: str) -> None:  # type: ignore[no-untyped-def]
    extractive = Answerer.from_settings(built_kb, built_kb.settings).answer(QUESTION)
    ans = Answerer.from_settings(
        built_kb, built_kb.settings, chat_model=FakeListChatModel(responses=[reply])
    ).answer(QUESTION)
    assert not ans.generated
    assert ans.answer == extractive.answer and ans.citations == extractive.citations
    assert reason in ans.note


def test_endpoint_errors_fall_back(built_kb) -> None:  # type: ignore[no-untyped-def]
    failing = _Failing()
    ans = Answerer.from_settings(built_kb, built_kb.settings, chat_model=failing).answer(QUESTION)
    assert failing.calls == 1
    assert not ans.generated and ans.answerable and ans.citations
    assert "TimeoutError" in ans.note


def test_unconfigured_endpoint_falls_back(built_kb) -> None:  # type: ignore[no-untyped-def]
    """A real ChatOpenAI pointed at a closed port: the connection error becomes a fallback."""
    settings = built_kb.settings.replace(
        llm_base_url="http://127.0.0.1:9/v1", llm_model="none", llm_timeout_s=2
    )
    ans = Answerer.from_settings(built_kb, settings).answer(QUESTION)
    assert not ans.generated and ans.answerable
    assert "LLM call failed" in ans.note


def test_abstention_does_not_call_the_model(built_kb) -> None:  # type: ignore[no-untyped-def]
    fake = FakeListChatModel(responses=["答えます[1]。"])
    ans = Answerer.from_settings(built_kb, built_kb.settings, chat_model=fake).answer(
        "粗大ごみの出し方を教えて"
    )
    assert not ans.answerable and not ans.generated
    assert fake.i == 0


def test_stream_generated_answer(built_kb) -> None:  # type: ignore[no-untyped-def]
    reply = "書かない窓口を目指します[1]。"
    answerer = Answerer.from_settings(
        built_kb, built_kb.settings, chat_model=FakeListChatModel(responses=[reply])
    )
    stream = answerer.stream(QUESTION)
    parts = list(stream)
    assert len(parts) >= len(reply)  # the fake streams one character at a time
    assert all(b.startswith(a) for a, b in zip(parts, parts[1:], strict=False))
    assert parts[-1] == stream.answer.answer == reply
    assert stream.answer.generated


def test_stream_failure_ends_with_the_extractive_text(built_kb) -> None:  # type: ignore[no-untyped-def]
    fake = FakeListChatModel(responses=["途中で切れる回答です[1]。"], error_on_chunk_number=4)
    stream = Answerer.from_settings(built_kb, built_kb.settings, chat_model=fake).stream(QUESTION)
    parts = list(stream)
    assert parts[:3] == ["途", "途中", "途中で"]
    final = stream.answer
    assert not final.generated and final.citations
    assert parts[-1] == final.answer  # the last item replaces the broken stream
    assert "LLM call failed" in final.note
