"""kb.langchain.KnowledgeBaseRetriever over the real index: LangChain's standard retriever tests,
our metadata, filters and errors, and the LCEL snippet of docs/langchain.md run as written.

The chain test uses a fake chat model (canned reply), so it checks wiring only: that the
retriever's passages reach the prompt. With ``KB_LLM_BASE_URL`` (and ``KB_LLM_MODEL``) set, the
same snippet also runs against that OpenAI-compatible endpoint.
"""

from __future__ import annotations

import os
import re
import typing
from typing import Any

import pytest
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.documents import Document
from langchain_core.language_models.fake_chat_models import FakeListChatModel
from langchain_core.messages import BaseMessage
from langchain_core.retrievers import BaseRetriever
from langchain_core.runnables import ConfigurableField
from langchain_tests.integration_tests import RetrieversIntegrationTests
from pydantic import ValidationError

from kb.config import PROJECT_ROOT, Settings
from kb.corpus import SECTION_SEPARATOR
from kb.errors import InvalidQueryError
from kb.langchain import KnowledgeBaseRetriever
from kb.retrieve import MODES, Filters

QUERY = "書かない窓口の取り組み"
QUESTION = "書かない窓口とは何ですか？"

METADATA_KEYS = {
    "chunk_id",
    "doc_id",
    "doc_title",
    "kind",
    "chapter",
    "section",
    "heading_path",
    "location",
    "start",
    "end",
    "rank",
    "score",
    "best_sentence",
}


# -- LangChain's standard retriever tests --------------------------------------------------------


# pytest-asyncio runs in strict mode here, so the suite's one async test needs the asyncio mark;
# on the class it also lands on the sync tests, where pytest-asyncio only warns.
@pytest.mark.asyncio
@pytest.mark.filterwarnings("ignore:The test <.*> is marked with '@pytest.mark.asyncio'")
class TestStandardRetriever(RetrieversIntegrationTests):
    """The suite builds retrievers from ``retriever_constructor(**retriever_constructor_params)``:
    here the real entry point, ``from_index``, on the session's built index."""

    settings: Settings

    @pytest.fixture(autouse=True, scope="class")
    @classmethod
    def _session_index(cls, built_kb) -> None:  # type: ignore[no-untyped-def]
        cls.settings = built_kb.settings

    @property
    def retriever_constructor(self) -> type[BaseRetriever]:
        return typing.cast(type[BaseRetriever], KnowledgeBaseRetriever.from_index)

    @property
    def retriever_constructor_params(self) -> dict[str, Any]:
        # settings: the fixture's (env vars and kb.toml ignored); index_dir: where it built.
        return {"index_dir": self.settings.index_dir, "settings": self.settings, "mode": "hybrid"}

    @property
    def retriever_query_example(self) -> str:
        return QUERY


# -- our own ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def retriever(built_kb) -> KnowledgeBaseRetriever:  # type: ignore[no-untyped-def]
    return KnowledgeBaseRetriever(knowledge_base=built_kb, k=5)


def test_documents_carry_the_hits_text_and_metadata(retriever: KnowledgeBaseRetriever, built_kb) -> None:  # type: ignore[no-untyped-def]
    docs = retriever.invoke(QUERY)
    hits = built_kb.search(QUERY, mode="hybrid", k=5)
    assert [d.id for d in docs] == [h.chunk_id for h in hits] and len(docs) == 5
    for n, (doc, hit) in enumerate(zip(docs, hits, strict=True), start=1):
        assert isinstance(doc, Document)
        meta = doc.metadata
        assert set(meta) == METADATA_KEYS
        chunk = built_kb.chunk(meta["chunk_id"])
        assert doc.page_content == chunk.text == hit.text
        assert meta["rank"] == n and meta["score"] == hit.score
        assert (meta["doc_id"], meta["doc_title"], meta["kind"]) == (
            chunk.doc_id,
            chunk.doc_title,
            chunk.kind,
        )
        assert meta["heading_path"] == list(chunk.heading_path)
        assert meta["section"] == SECTION_SEPARATOR.join(chunk.heading_path) == chunk.section
        assert meta["chapter"] == chunk.heading_path[0]
        assert meta["location"] == chunk.location and meta["location"].startswith(chunk.doc_title)
        assert meta["end"] - meta["start"] == len(doc.page_content)
        if meta["best_sentence"] is not None:
            start, end = meta["best_sentence"]
            assert 0 <= start < end <= len(doc.page_content)
    scores = [d.metadata["score"] for d in docs]
    assert scores == sorted(scores, reverse=True)
    # The text is the corpus document's, at the recorded offsets.
    source = next(d for d in built_kb.documents() if d.doc_id == docs[0].metadata["doc_id"])
    assert source.text[docs[0].metadata["start"] : docs[0].metadata["end"]] == docs[0].page_content


def test_mode_and_k_fields(built_kb) -> None:  # type: ignore[no-untyped-def]
    assert set(typing.get_args(KnowledgeBaseRetriever.model_fields["mode"].annotation)) == set(MODES)
    for mode in MODES:
        r = KnowledgeBaseRetriever(knowledge_base=built_kb, mode=mode, k=3)
        docs = r.invoke(QUERY)
        assert [d.id for d in docs] == [h.chunk_id for h in built_kb.search(QUERY, mode=mode, k=3)]
    keyword = KnowledgeBaseRetriever(knowledge_base=built_kb, mode="keyword", k=4)
    assert [d.id for d in keyword.invoke(QUERY, mode="semantic", k=2)] == [
        h.chunk_id for h in built_kb.search(QUERY, mode="semantic", k=2)
    ]
    # Built with bad fields: pydantic says so at once.
    for bad in ({"mode": "fuzzy"}, {"k": 0}, {"k": 101}):
        with pytest.raises(ValidationError):
            KnowledgeBaseRetriever(knowledge_base=built_kb, **bad)
    with pytest.raises(ValidationError):
        KnowledgeBaseRetriever(knowledge_base="not a knowledge base")  # type: ignore[arg-type]
    # The open index stays out of dumps and reprs; configurable fields rebuild with it.
    assert "knowledge_base" not in keyword.model_dump() and "knowledge_base" not in repr(keyword)
    configurable = keyword.configurable_fields(k=ConfigurableField(id="k"))
    assert len(configurable.invoke(QUERY, config={"configurable": {"k": 7}})) == 7


def test_filters_by_kind_and_chapter(built_kb) -> None:  # type: ignore[no-untyped-def]
    glossary = KnowledgeBaseRetriever(knowledge_base=built_kb, kinds=("glossary",), k=5)
    docs = glossary.invoke("デジタル")
    assert docs and all(d.metadata["kind"] == "glossary" for d in docs)
    # A single kind may be a string; a call may override the fields.
    assert KnowledgeBaseRetriever(knowledge_base=built_kb, kinds="glossary").kinds == ("glossary",)
    opened = KnowledgeBaseRetriever.from_index(settings=built_kb.settings, kinds="glossary")
    assert opened.kinds == ("glossary",)
    docs = glossary.invoke("デジタル", kinds=["plan", "national_strategy"])
    assert docs and all(d.metadata["kind"] in {"plan", "national_strategy"} for d in docs)

    chapter = next(c for c in built_kb.chapters() if c.startswith("第4章"))
    in_chapter = KnowledgeBaseRetriever.from_index(settings=built_kb.settings, chapter=chapter, k=5)
    for mode in MODES:
        docs = in_chapter.invoke(QUERY, mode=mode)
        assert docs and all(d.metadata["chapter"] == chapter for d in docs), mode
        expected = built_kb.search(QUERY, mode=mode, k=5, filters=Filters(chapter=chapter))
        assert [d.id for d in docs] == [h.chunk_id for h in expected]
    other = next(c for c in built_kb.chapters() if c.startswith("第2章"))
    docs = in_chapter.invoke("デジタル化の取り組み", chapter=other)
    assert docs and all(d.metadata["chapter"] == other for d in docs)


def test_years_field_and_per_call_override(built_kb) -> None:  # type: ignore[no-untyped-def]
    def in_range(doc: Document, start: int, end: int) -> bool:
        return any(start <= y <= end for y in built_kb.retriever.years_of(doc.id))

    period = KnowledgeBaseRetriever(knowledge_base=built_kb, years=(2024, 2027), k=5)
    for mode in MODES:
        docs = period.invoke("窓口のデジタル化", mode=mode)
        assert len(docs) == 5 and all(in_range(d, 2024, 2027) for d in docs), mode
        expected = built_kb.search("窓口のデジタル化", mode=mode, k=5, filters=Filters(years=(2024, 2027)))
        assert [d.id for d in docs] == [h.chunk_id for h in expected]
    # One year, a list, or the forms the CLI takes (和暦, R6-R9) are read as the same range.
    assert KnowledgeBaseRetriever(knowledge_base=built_kb, years="R6-R9").years == (2024, 2027)
    assert KnowledgeBaseRetriever(knowledge_base=built_kb, years=[2024, 2027]).years == (2024, 2027)
    assert KnowledgeBaseRetriever(knowledge_base=built_kb, years=2024).years == (2024, 2024)
    opened = KnowledgeBaseRetriever.from_index(settings=built_kb.settings, years="令和3")
    assert opened.years == (2021, 2021)
    docs = period.invoke("デジタル", years="H28")
    assert docs and all(in_range(d, 2016, 2016) for d in docs)
    assert KnowledgeBaseRetriever(knowledge_base=built_kb).years is None
    for bad in ("abc", (2027, 2024), 1800, (2024,)):
        with pytest.raises(ValidationError):
            KnowledgeBaseRetriever(knowledge_base=built_kb, years=bad)


@pytest.mark.parametrize("query", ["", "   \n", "窓口\x00", "窓" * 5000, 42])
def test_an_unusable_query_raises_our_bilingual_error(retriever: KnowledgeBaseRetriever, query: Any) -> None:
    with pytest.raises(InvalidQueryError) as caught:
        retriever.invoke(query)
    err = caught.value
    assert re.search(r"[ぁ-んァ-ン一-龥]", err.ja) and re.search(r"[A-Za-z]", err.en)
    assert str(err) == f"{err.ja} / {err.en}"


@pytest.mark.parametrize(
    "override",
    [
        {"k": 0},
        {"k": 101},
        {"k": "3"},
        {"k": True},
        {"mode": "fuzzy"},
        {"kinds": [1]},
        {"chapter": 4},
        {"years": "abc"},
        {"years": (2027, 2024)},
        {"years": (2024.5, 2025)},
        {"years": 1800},
    ],
)
def test_a_bad_per_call_override_raises_our_error(
    retriever: KnowledgeBaseRetriever, override: dict[str, Any]
) -> None:
    with pytest.raises(InvalidQueryError) as caught:
        retriever.invoke(QUERY, **override)
    assert caught.value.ja and caught.value.en


@pytest.mark.asyncio
async def test_async_calls_keep_overrides_and_errors(retriever: KnowledgeBaseRetriever) -> None:
    assert len(await retriever.ainvoke(QUERY, k=2)) == 2
    with pytest.raises(InvalidQueryError):
        await retriever.ainvoke("")


def test_an_unknown_keyword_argument_is_a_type_error(retriever: KnowledgeBaseRetriever) -> None:
    with pytest.raises(TypeError, match="top_k"):
        retriever.invoke(QUERY, top_k=3)


# -- the LCEL snippet of docs/langchain.md ---------------------------------------------------------


def lcel_snippet() -> str:
    """The python block after the ``snippet: lcel-chain`` marker, exactly as the docs show it."""
    text = (PROJECT_ROOT / "docs" / "langchain.md").read_text(encoding="utf-8")
    found = re.search(r"<!-- snippet: lcel-chain[^>]*-->\s*```python\n(.*?)```", text, re.S)
    assert found, "docs/langchain.md lost its lcel-chain snippet"
    return found.group(1)


class _Prompts(BaseCallbackHandler):
    """Records the messages each chat model call was given."""

    def __init__(self) -> None:
        self.calls: list[list[BaseMessage]] = []

    def on_chat_model_start(self, serialized: Any, messages: list[list[BaseMessage]], **kwargs: Any) -> None:
        self.calls.extend(messages)


def run_snippet(retriever: KnowledgeBaseRetriever, llm: Any) -> dict[str, Any]:
    namespace: dict[str, Any] = {"retriever": retriever, "llm": llm}
    exec(compile(lcel_snippet(), "docs/langchain.md", "exec"), namespace)
    return namespace


def test_the_docs_chain_runs_with_a_fake_chat_model(built_kb) -> None:  # type: ignore[no-untyped-def]
    retriever = KnowledgeBaseRetriever.from_index(settings=built_kb.settings, k=4)
    prompts = _Prompts()
    reply = "書かない窓口は、申請書を書かずに手続きできる窓口です [1]。"
    llm = FakeListChatModel(responses=[reply], callbacks=[prompts])
    namespace = run_snippet(retriever, llm)
    assert namespace["answer"] == reply
    # The retriever's passages, numbered, with their places, reached the model's prompt.
    (messages,) = prompts.calls
    system, human = messages
    assert human.content == QUESTION
    for n, doc in enumerate(retriever.invoke(QUESTION), start=1):
        assert f"[{n}] {doc.metadata['location']}\n{doc.page_content}" in system.content


@pytest.mark.skipif(not os.environ.get("KB_LLM_BASE_URL"), reason="KB_LLM_BASE_URL not set (no LLM endpoint)")
def test_the_docs_chain_runs_with_the_configured_llm(built_kb) -> None:  # type: ignore[no-untyped-def]
    if not os.environ.get("KB_LLM_MODEL"):
        pytest.skip("KB_LLM_BASE_URL is set but KB_LLM_MODEL is not")
    from langchain_openai import ChatOpenAI
    from pydantic import SecretStr

    llm = ChatOpenAI(
        base_url=os.environ["KB_LLM_BASE_URL"],
        model=os.environ["KB_LLM_MODEL"],
        api_key=SecretStr(os.environ.get("KB_LLM_API_KEY") or "not-needed"),
        timeout=float(os.environ.get("KB_LLM_TIMEOUT_S") or 120),
        max_retries=1,
        temperature=0,
    )
    retriever = KnowledgeBaseRetriever.from_index(settings=built_kb.settings, k=4)
    answer = run_snippet(retriever, llm)["answer"]
    assert isinstance(answer, str) and answer.strip()
