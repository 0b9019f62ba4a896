"""Open a built index and search it: the library's front door.

>>> from kb.config import load_settings
>>> from kb.knowledge import KnowledgeBase
>>> kb = KnowledgeBase.open(load_settings())          # doctest: +SKIP
>>> kb.search("窓口の待ち時間を減らす取り組み", mode="hybrid", k=3)  # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from kb.chunk import Chunk
from kb.config import Settings
from kb.corpus import Document, corpus_hash, load_corpus
from kb.embed import Embedder
from kb.errors import CorpusError
from kb.keyword import KeywordIndex
from kb.manifest import Manifest, index_contract, load_chunks
from kb.progress import Progress
from kb.retrieve import Filters, Hit, Retriever
from kb.store import VectorStore


def open_store(settings: Settings, index_dir: Path, collection: str) -> VectorStore:
    """The vector store of an index: embedded in index_dir/chroma, or the configured server."""
    if settings.chroma_host:
        return VectorStore(collection, host=settings.chroma_host, port=settings.chroma_port)
    return VectorStore(collection, path=index_dir / "chroma")


def sentence_collection(collection: str) -> str:
    """The name of the sentence-vector collection that belongs to a build's chunk collection."""
    return f"{collection}.sentences"


@dataclass(frozen=True)
class IndexStats:
    index_dir: str
    chunk_count: int
    documents: dict[str, int]
    kinds: dict[str, int]
    mean_chunk_chars: float
    embedding_model: str
    embedding_dimension: int
    tokenizer: str
    built_at: str
    build_seconds: float
    stale: bool


class KnowledgeBase:
    """A built index, ready to search. Use :meth:`open`."""

    def __init__(self, settings: Settings, manifest: Manifest, chunks: list[Chunk], retriever: Retriever):
        self.settings = settings
        self.manifest = manifest
        self.chunks = chunks
        self.retriever = retriever
        self._by_id = {c.chunk_id: c for c in chunks}

    @classmethod
    def open(
        cls, settings: Settings, embedder: Embedder | None = None, progress: Progress | None = None
    ) -> KnowledgeBase:
        """Open ``settings.index_dir``; raise IndexMissingError / IndexMismatchError / IndexCorruptError."""
        index_dir = settings.index_dir
        manifest = Manifest.load(index_dir)
        embedder = embedder or Embedder(settings, progress)
        manifest.check(index_contract(settings, embedder.query_prefix, embedder.passage_prefix))
        chunks = load_chunks(index_dir)
        keyword = KeywordIndex.load(index_dir / "keyword", settings.bigram_weight)
        store = open_store(settings, index_dir, manifest.collection)
        sentences = open_store(settings, index_dir, sentence_collection(manifest.collection))
        retriever = Retriever(chunks, keyword, store, embedder, settings, sentences)
        return cls(settings, manifest, chunks, retriever)

    def search(
        self, query: str, mode: str | None = None, k: int | None = None, filters: Filters | None = None
    ) -> list[Hit]:
        """Ranked passages for ``query`` (modes: keyword, semantic, hybrid)."""
        return self.retriever.search(
            query, mode or self.settings.default_mode, k or self.settings.default_k, filters
        )

    def chunk(self, chunk_id: str) -> Chunk | None:
        return self._by_id.get(chunk_id)

    def chapters(self) -> list[str]:
        """Top-level headings, in corpus order, for the chapter filter."""
        seen: dict[str, None] = {}
        for c in self.chunks:
            if c.chapter:
                seen.setdefault(c.chapter, None)
        return list(seen)

    def documents(self) -> list[Document]:
        """The corpus documents as they are on disk now (for browsing sections)."""
        try:
            docs, _ = load_corpus(self.settings.corpus_dir)
        except CorpusError:
            return []
        return docs

    def is_stale(self) -> bool:
        """True when corpus/ changed since the index was built (run `kb index`)."""
        try:
            docs, _ = load_corpus(self.settings.corpus_dir)
        except CorpusError:
            return False
        return corpus_hash(docs) != self.manifest.corpus_hash

    def stats(self) -> IndexStats:
        docs: dict[str, int] = {}
        kinds: dict[str, int] = {}
        for c in self.chunks:
            docs[c.doc_id] = docs.get(c.doc_id, 0) + 1
            kinds[c.kind] = kinds.get(c.kind, 0) + 1
        mean = sum(len(c.text) for c in self.chunks) / max(1, len(self.chunks))
        m = self.manifest
        return IndexStats(
            index_dir=str(self.settings.index_dir),
            chunk_count=len(self.chunks),
            documents=docs,
            kinds=kinds,
            mean_chunk_chars=round(mean, 1),
            embedding_model=m.embedding_model,
            embedding_dimension=m.embedding_dimension,
            tokenizer=m.tokenizer,
            built_at=m.built_at,
            build_seconds=m.build_seconds,
            stale=self.is_stale(),
        )
