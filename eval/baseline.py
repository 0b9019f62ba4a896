"""The "baseline (tutorial recipe)": what a user would build from a langchain hybrid-search tutorial.

Recipe: the corpus Markdown files as they are on disk, ``RecursiveCharacterTextSplitter(
chunk_size=500, chunk_overlap=50)``, ``BM25Retriever.from_documents`` with its default
preprocessing (whitespace split, which barely tokenises Japanese), a Chroma vector store with
the project's own embedding model (same prefixes), fused by ``EnsembleRetriever`` with weights
0.5/0.5. Only the embedding model is shared with the project, so the comparison isolates
chunking, tokenisation and fusion.

This module is the one place where langchain Documents are turned into hit dicts.
"""

from __future__ import annotations

import uuid
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from langchain_core.documents import Document as LCDocument
from langchain_core.embeddings import Embeddings
from langchain_text_splitters import RecursiveCharacterTextSplitter

from kb.corpus import Document, load_corpus
from kb.embed import Embedder

NAME = "baseline"
LABEL = "baseline (tutorial recipe)"
CHUNK_SIZE = 500
CHUNK_OVERLAP = 50
WEIGHTS = (0.5, 0.5)


class KBEmbeddings(Embeddings):
    """langchain Embeddings over the project's Embedder (it applies the query/passage prefixes)."""

    def __init__(self, embedder: Embedder) -> None:
        self._embedder = embedder

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self._embedder.embed_passages(texts).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self._embedder.embed_queries([text])[0].tolist()


def describe() -> dict[str, Any]:
    """The recipe's parameters, for the metrics file and report."""
    return {
        "label": LABEL,
        "splitter": f"RecursiveCharacterTextSplitter(chunk_size={CHUNK_SIZE}, chunk_overlap={CHUNK_OVERLAP})",
        "keyword": "BM25Retriever.from_documents (default preprocessing: str.split)",
        "vector": "langchain_chroma.Chroma (temporary directory) + project embedding model",
        "fusion": f"EnsembleRetriever(weights={list(WEIGHTS)}), top k of the fused list",
    }


def split_corpus(documents: Sequence[Document]) -> list[LCDocument]:
    """Tutorial chunks of the Markdown files, each with its file and start offset."""
    splitter = RecursiveCharacterTextSplitter(
        chunk_size=CHUNK_SIZE, chunk_overlap=CHUNK_OVERLAP, add_start_index=True
    )
    sources = [
        LCDocument(page_content=doc.text, metadata={"source": str(doc.path), "doc_id": doc.doc_id})
        for doc in documents
        if doc.path.suffix.lower() == ".md"
    ]
    chunks = splitter.split_documents(sources)
    for n, chunk in enumerate(chunks):
        chunk.metadata["chunk_id"] = f"baseline-{n:05d}"
    return chunks


def _section_of(doc: Document, offset: int) -> str:
    """The heading path at ``offset`` (for reading failures only: retrieval never sees it)."""
    title = doc.doc_id
    for section in doc.sections:
        if section.start > offset:
            break
        title = f"{doc.doc_id}: {section.title}" if section.heading_path else doc.doc_id
    return title


@dataclass
class TutorialBaseline:
    """A built tutorial pipeline; ``search(query)`` returns hit dicts like the project's."""

    retriever: Any
    sections: dict[str, str]
    k: int

    @property
    def chunk_count(self) -> int:
        return len(self.sections)

    @classmethod
    def build(cls, corpus_dir: Path, embedder: Embedder, workdir: Path, k: int = 10) -> TutorialBaseline:
        """Split, index (BM25 + Chroma in ``workdir``) and fuse, as the tutorial does."""
        from langchain_chroma import Chroma
        from langchain_classic.retrievers import EnsembleRetriever

        with warnings.catch_warnings():
            # The tutorials still use langchain-community's BM25Retriever; its sunset notice is noise here.
            warnings.simplefilter("ignore", DeprecationWarning)
            from langchain_community.retrievers import BM25Retriever

        documents, _ = load_corpus(corpus_dir)
        chunks = split_corpus(documents)
        by_id = {doc.doc_id: doc for doc in documents}
        sections = {
            # The middle of a chunk: a chunk often starts with the heading line of its section.
            c.metadata["chunk_id"]: _section_of(
                by_id[c.metadata["doc_id"]], c.metadata["start_index"] + len(c.page_content) // 2
            )
            for c in chunks
        }
        bm25 = BM25Retriever.from_documents(chunks, k=k)
        # Always pass our embeddings: Chroma's default embedding function downloads a model.
        store = Chroma(
            collection_name=f"baseline_{uuid.uuid4().hex[:8]}",
            embedding_function=KBEmbeddings(embedder),
            persist_directory=str(workdir),
            client_settings=_chroma_settings(),
        )
        store.add_documents(chunks, ids=[c.metadata["chunk_id"] for c in chunks])
        vector = store.as_retriever(search_kwargs={"k": k})
        ensemble = EnsembleRetriever(retrievers=[bm25, vector], weights=list(WEIGHTS))
        return cls(retriever=ensemble, sections=sections, k=k)

    def search(self, query: str) -> list[dict[str, Any]]:
        """Top k of the fused ranking as hit dicts (the ensemble gives no score: ``None``)."""
        docs = self.retriever.invoke(query)[: self.k]
        return [
            {
                "rank": rank,
                "score": None,
                "chunk_id": d.metadata["chunk_id"],
                "section": self.sections.get(d.metadata["chunk_id"], ""),
                "text": d.page_content,
            }
            for rank, d in enumerate(docs, start=1)
        ]


def _chroma_settings():  # type: ignore[no-untyped-def]
    from chromadb.config import Settings as ChromaSettings

    return ChromaSettings(anonymized_telemetry=False)
