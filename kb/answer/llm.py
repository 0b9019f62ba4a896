"""The LLM writer: optional answers through any OpenAI-compatible chat endpoint (Ollama, vLLM,
llama.cpp), with the same interface as the extractive writer.

Off by default: no small model on PyPI answers grounded Japanese questions acceptably on CPU
(see the team notes), so answers are extractive unless ``llm_base_url`` and ``llm_model`` are
set. The prompt holds only the retrieved passages, numbered [1]..[n]. Every failure here is a
GenerationError, and the caller falls back to the extractive answer.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace
from typing import Any

from kb.answer.extractive import ExtractiveWriter
from kb.answer.quotes import cite
from kb.answer.types import Answer, Draft
from kb.config import Settings
from kb.era import with_western
from kb.errors import GenerationError
from kb.retrieve import Hit

SYSTEM_PROMPT = (
    "あなたは「第2次枚方市情報化計画 情報化基本計画（第3期取組版）」について市職員の質問に答えるアシスタントです。\n"
    "次の規則を必ず守ってください。\n"
    "1. 下に番号付きで示す資料 [1]〜[{n}] に書かれていることだけを根拠に答える。資料にないことは推測しない。\n"
    "2. 日本語で、3文以内で簡潔に答える。\n"
    "3. 各文の末尾（句点の前）に、根拠とした資料の番号を [1] のように付ける。存在しない番号は使わない。\n"
    "4. 資料に答えがない場合は「計画書には該当する記載が見つかりませんでした。」とだけ答える。"
)
_MARKER = re.compile(r"\[\s*(\d+)\s*\]")


def make_chat_model(settings: Settings) -> Any:
    """A ``langchain_openai.ChatOpenAI`` for the configured endpoint, or None when not configured."""
    if not (settings.llm_base_url and settings.llm_model):
        return None
    try:
        # Imported on use: the optional path should cost nothing when no LLM is configured.
        from langchain_openai import ChatOpenAI
        from pydantic import SecretStr

        return ChatOpenAI(
            base_url=settings.llm_base_url,
            model=settings.llm_model,
            # Local servers (Ollama, llama.cpp) ignore the key, but the client requires one.
            api_key=SecretStr(settings.llm_api_key or "not-needed"),
            timeout=settings.llm_timeout_s,
            max_retries=1,
            temperature=0,
        )
    except Exception as exc:  # any client construction problem means "no LLM"
        raise GenerationError(
            f"LLM の設定を読み込めません（{settings.llm_base_url}）。抽出型の回答を使います",
            f"cannot set up the LLM client for {settings.llm_base_url}: {type(exc).__name__}: {exc}",
        ) from exc


def build_messages(question: str, passages: Sequence[Hit]) -> list[Any]:
    """System instructions plus one user message holding the numbered passages and the question."""
    from langchain_core.messages import HumanMessage, SystemMessage

    blocks = []
    for i, hit in enumerate(passages, start=1):
        blocks.append(f"[{i}] （{hit.location}）\n{hit.text}")
    user = "資料:\n\n" + "\n\n".join(blocks) + f"\n\n質問: {question}"
    return [SystemMessage(SYSTEM_PROMPT.format(n=len(passages))), HumanMessage(user)]


def cited_numbers(text: str, n_passages: int) -> list[int]:
    """Passage numbers cited in ``text``, in order of first use.

    Raises GenerationError if a number does not exist or nothing is cited: an answer that cites
    a passage it was not given, or none at all, cannot be checked against the plan.
    """
    # Models often write full-width brackets and digits (［１］); NFKC folds them to [1].
    found = [int(m) for m in _MARKER.findall(unicodedata.normalize("NFKC", text))]
    bad = sorted({k for k in found if not 1 <= k <= n_passages})
    if bad:
        raise GenerationError(
            f"生成回答が存在しない資料番号 {bad} を引用しました",
            f"the generated answer cites passages that do not exist: {bad} (given {n_passages})",
        )
    if not found:
        raise GenerationError("生成回答に資料番号の引用がありません", "the generated answer cites no passage")
    return list(dict.fromkeys(found))


def renumber(text: str, mapping: Mapping[int, int]) -> str:
    """Rewrite citation markers ``[k]`` to ``[mapping[k]]`` (full-width forms included)."""

    def sub(m: re.Match[str]) -> str:
        k = int(unicodedata.normalize("NFKC", m.group(1)))
        return f"[{mapping.get(k, k)}]"

    return re.sub(r"[\[［]\s*([0-9０-９]+)\s*[\]］]", sub, text)


def closest_sentence(generated: str, sentences: Sequence[str]) -> str:
    """The sentence sharing most character bigrams with the generated text (the one to quote)."""
    grams = {generated[i : i + 2] for i in range(len(generated) - 1)}
    best, best_overlap = "", -1
    for sentence in sentences:
        overlap = sum(sentence[i : i + 2] in grams for i in range(len(sentence) - 1))
        if overlap > best_overlap:
            best, best_overlap = sentence, overlap
    return best


def _content(message: Any) -> str:
    content = getattr(message, "content", message)
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # content blocks: keep the text parts
        return "".join(b.get("text", "") if isinstance(b, dict) else str(b) for b in content)
    return str(content)


def _failure(exc: Exception) -> GenerationError:
    return GenerationError(
        f"LLM の呼び出しに失敗しました（{type(exc).__name__}）。抽出型の回答を返します",
        f"LLM call failed: {type(exc).__name__}: {exc}",
    )


def generate(chat_model: Any, question: str, passages: Sequence[Hit]) -> str:
    """The model's answer text (citations not yet checked); GenerationError on any failure."""
    try:
        text = _content(chat_model.invoke(build_messages(question, passages)))
    except Exception as exc:  # timeouts, connection and server errors alike
        raise _failure(exc) from exc
    if not text.strip():
        raise GenerationError("LLM が空の回答を返しました", "the LLM returned an empty answer")
    return text


def stream_generate(chat_model: Any, question: str, passages: Sequence[Hit]) -> Iterator[str]:
    """Cumulative answer text as the model streams it; GenerationError on any failure."""
    text = ""
    try:
        for chunk in chat_model.stream(build_messages(question, passages)):
            piece = _content(chunk)
            if piece:
                text += piece
                yield text
    except Exception as exc:
        raise _failure(exc) from exc
    if not text.strip():
        raise GenerationError("LLM が空の回答を返しました", "the LLM returned an empty answer")


def validated_answer(draft: Draft, text: str) -> Answer:
    """Answer from LLM text; GenerationError unless every cited passage yields a verbatim quote."""
    numbers = cited_numbers(text, len(draft.hits))
    hits = [draft.hits[k - 1] for k in numbers]
    quotes = [closest_sentence(text, [c.quote for c in draft.candidates if c.hit is h]) for h in hits]
    citations = cite(list(zip(hits, quotes, strict=True)))
    if len(citations) != len(numbers):
        raise GenerationError(
            "生成回答の引用元から引用文を確認できません", "a cited passage has no verifiable quote"
        )
    text = renumber(text, {k: i for i, k in enumerate(numbers, start=1)})
    # Era years get their Western year in what the model wrote, as in the extractive answer.
    text = with_western(text.strip())
    return replace(draft.answer, answer=text, citations=citations, generated=True, note="")


class LlmWriter:
    """Writes with a chat model; falls back to the draft's extractive answer on any failure."""

    def __init__(self, chat_model: Any) -> None:
        self.chat_model = chat_model
        self.note = ""

    def write(self, draft: Draft) -> Answer:
        if not draft.answer.answerable:
            return draft.answer
        try:
            return validated_answer(draft, generate(self.chat_model, draft.question.query, draft.hits))
        except GenerationError as exc:
            return replace(draft.answer, note=f"generation fell back to extractive: {exc.en}")

    def stream(self, draft: Draft) -> Iterator[str | Answer]:
        if not draft.answer.answerable:
            yield from ExtractiveWriter().stream(draft)
            return
        final = draft.answer
        partial = ""
        try:
            for partial in stream_generate(self.chat_model, draft.question.query, draft.hits):
                yield partial
            final = validated_answer(draft, partial)
        except GenerationError as exc:
            final = replace(final, note=f"generation fell back to extractive: {exc.en}")
        yield final
