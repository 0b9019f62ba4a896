"""The knowledge base as a LangChain retriever, for LCEL chains and agents.

>>> from kb.langchain import KnowledgeBaseRetriever
>>> retriever = KnowledgeBaseRetriever.from_index(k=3, kinds=("plan",))   # doctest: +SKIP
>>> docs = retriever.invoke("書かない窓口の取り組み")                        # doctest: +SKIP
>>> docs = retriever.invoke("書かない窓口の取り組み", k=1, mode="keyword")   # doctest: +SKIP
>>> docs = retriever.invoke("窓口", years="R6-R9")   # passages naming 2024-2027  # doctest: +SKIP

Each ``Document`` holds one chunk: ``page_content`` is the chunk text (exactly
``doc.text[start:end]`` of its corpus document) and ``metadata`` says where it sits and how
it ranked (see :func:`hit_to_document`). This module is the only place where our ``Hit``
becomes a LangChain ``Document``.

Errors: the retriever's own fields (``mode``, ``k``, ...) are checked by pydantic when it is
built; what arrives with a call — the query and any per-call ``k`` / ``mode`` / ``kinds`` /
``chapter`` / ``years`` — raises :class:`kb.errors.InvalidQueryError` with its Japanese / English message.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from langchain_core.callbacks import (
    AsyncCallbackManagerForRetrieverRun,
    CallbackManagerForRetrieverRun,
)
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from langchain_core.runnables.config import run_in_executor
from pydantic import Field, field_validator

from kb.config import Settings, load_settings
from kb.era import check_year_range, parse_year_range
from kb.errors import InvalidQueryError
from kb.knowledge import KnowledgeBase
from kb.retrieve import Filters, Hit

Mode = Literal["keyword", "semantic", "hybrid"]  # kb.retrieve.MODES (a test keeps them equal)

#: Keyword arguments a call may override: ``retriever.invoke(query, k=3, mode="keyword")``.
CALL_OVERRIDES = ("k", "mode", "kinds", "chapter", "years")


def hit_to_document(hit: Hit) -> Document:
    """One search hit as a LangChain Document: the chunk text, with its place and rank as metadata.

    Metadata keys: ``chunk_id``, ``doc_id``, ``doc_title``, ``kind``, ``chapter``, ``section``
    (heading path joined with " › "), ``heading_path`` (list), ``location`` (「document ›
    section」 as cited to people), ``start`` / ``end`` (offsets in the document text), ``rank``,
    ``score`` and ``best_sentence`` ([start, end] in the chunk text, or None); and ``page``
    (the page of the original PDF, as citations show 「p. 12」) only when the chunk has one.
    """
    data = hit.to_dict()
    text = data.pop("text")
    metadata = {
        "chunk_id": data["chunk_id"],
        "doc_id": data["doc_id"],
        "doc_title": data["doc_title"],
        "kind": data["kind"],
        "chapter": hit.chunk.chapter,
        "section": data["section"],
        "heading_path": data["heading_path"],
        "location": hit.location,
        "start": data["start"],
        "end": data["end"],
        "rank": data["rank"],
        "score": data["score"],
        "best_sentence": data["best_sentence"],
    }
    if hit.page is not None:  # absent rather than None: vector stores refuse None metadata values
        metadata["page"] = hit.page
    return Document(id=hit.chunk_id, page_content=text, metadata=metadata)


def _as_kinds(kinds: Any) -> tuple[str, ...]:
    """A kinds filter as a tuple; one kind may be given as a plain string."""
    if kinds is None:
        return ()
    if isinstance(kinds, str):
        return (kinds,) if kinds else ()
    if not all(isinstance(kind, str) for kind in kinds):
        raise InvalidQueryError(
            "文書の種類（kinds）は文字列のリストで指定してください", "kinds must be a list of strings"
        )
    return tuple(kinds)


def _as_years(years: Any) -> tuple[int, int] | None:
    """A years filter as an inclusive (start, end): also one year (2024) or as typed ("R6-R9")."""
    if years is None:
        return None
    if isinstance(years, str):
        return parse_year_range(years)
    if isinstance(years, int) and not isinstance(years, bool):
        years = (years, years)
    elif isinstance(years, list):
        years = tuple(years)
    return check_year_range(years)


class KnowledgeBaseRetriever(BaseRetriever):
    """Search a built index (keyword, semantic or hybrid) and return the passages as Documents.

    Build it with :meth:`from_index`, or from an open KnowledgeBase:
    ``KnowledgeBaseRetriever(knowledge_base=kb, k=3)``.
    """

    #: The open index. Checked only with isinstance (arbitrary type), never copied or dumped.
    knowledge_base: KnowledgeBase = Field(exclude=True, repr=False)
    mode: Mode = "hybrid"
    #: How many documents a call returns (``invoke(query, k=...)`` overrides it for one call).
    k: int = Field(default=5, ge=1, le=100)
    #: Only these document kinds ("plan", "glossary", "national_strategy"); empty = all.
    kinds: tuple[str, ...] = ()
    #: Only this top-level chapter (see ``KnowledgeBase.chapters()``); None = all.
    chapter: str | None = None
    #: Only passages naming or spanning a year in this inclusive range of Western years, 和暦
    #: included (``(2024, 2027)``; ``2024`` and ``"R6-R9"`` are read too); None = all.
    years: tuple[int, int] | None = None

    @field_validator("kinds", mode="before")
    @classmethod
    def _one_kind_is_a_tuple(cls, value: Any) -> Any:
        return (value,) if isinstance(value, str) else value

    @field_validator("years", mode="before")
    @classmethod
    def _read_years(cls, value: Any) -> Any:
        try:
            return _as_years(value)
        except InvalidQueryError as exc:
            raise ValueError(str(exc)) from exc  # pydantic reports ValueErrors as ValidationError

    @classmethod
    def from_index(
        cls,
        index_dir: str | Path | None = None,
        mode: Mode = "hybrid",
        k: int = 5,
        kinds: tuple[str, ...] | list[str] | str = (),
        chapter: str | None = None,
        years: tuple[int, int] | int | str | None = None,
        settings: Settings | None = None,
        **kwargs: Any,
    ) -> KnowledgeBaseRetriever:
        """Open the configured index (``load_settings()``, or ``settings``; ``index_dir`` overrides
        where it lives) and search it. Other keyword arguments (``tags``, ``metadata``) go to the
        retriever. Raises IndexMissingError / IndexMismatchError / IndexCorruptError like
        ``KnowledgeBase.open``."""
        settings = settings if settings is not None else load_settings()
        if index_dir is not None:
            settings = settings.replace(index_dir=index_dir)
        knowledge_base = KnowledgeBase.open(settings)
        kinds = (kinds,) if isinstance(kinds, str) else tuple(kinds)
        # `years` may be 2024 or "R6-R9": the field's validator reads them.
        fields: dict[str, Any] = {"mode": mode, "k": k, "kinds": kinds, "chapter": chapter, "years": years}
        return cls(knowledge_base=knowledge_base, **fields, **kwargs)

    def _search_args(self, overrides: dict[str, Any]) -> tuple[str, int, Filters]:
        """The mode, k and filters of one call: the fields, with the call's overrides."""
        # BaseRetriever.invoke leaves `verbose` among the kwargs it passes on.
        unknown = sorted(set(overrides) - set(CALL_OVERRIDES) - {"verbose"})
        if unknown:
            raise TypeError(
                f"{type(self).__name__} got unexpected keyword arguments {unknown}; "
                f"a call may override {', '.join(CALL_OVERRIDES)}"
            )
        k = overrides.get("k", self.k)
        if isinstance(k, bool) or not isinstance(k, int) or k < 1:
            # kb.search treats k=0 as "the default"; here it is a mistake. The upper limit is kb's.
            raise InvalidQueryError(
                "件数 k は 1 以上の整数で指定してください", f"k must be a whole number >= 1 (got {k!r})"
            )
        mode = overrides.get("mode", self.mode)  # kb.search rejects unknown modes
        kinds = _as_kinds(overrides["kinds"]) if "kinds" in overrides else self.kinds
        chapter = overrides.get("chapter", self.chapter) or None
        if chapter is not None and not isinstance(chapter, str):
            raise InvalidQueryError("章（chapter）は文字列で指定してください", "chapter must be a string")
        years = _as_years(overrides["years"]) if "years" in overrides else self.years
        return mode, k, Filters(kinds=kinds, chapter=chapter, years=years)

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun, **kwargs: Any
    ) -> list[Document]:
        mode, k, filters = self._search_args(kwargs)
        hits = self.knowledge_base.search(query, mode=mode, k=k, filters=filters)
        return [hit_to_document(hit) for hit in hits]

    async def _aget_relevant_documents(
        self, query: str, *, run_manager: AsyncCallbackManagerForRetrieverRun, **kwargs: Any
    ) -> list[Document]:
        # The base class would drop the per-call overrides; search is CPU-bound, so a thread.
        return await run_in_executor(
            None, self._get_relevant_documents, query, run_manager=run_manager.get_sync(), **kwargs
        )
