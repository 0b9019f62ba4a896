"""Open a built index and search it: the library's front door.

>>> from kb.config import load_settings
>>> from kb.knowledge import KnowledgeBase
>>> kb = KnowledgeBase.open(load_settings())          # doctest: +SKIP
>>> kb.search("窓口の待ち時間を減らす取り組み", mode="hybrid", k=3)  # doctest: +SKIP
"""

from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from kb.chunk import Chunk
from kb.config import Settings
from kb.corpus import Document, corpus_hash, load_corpus
from kb.embed import Embedder
from kb.errors import CorpusError, IndexCorruptError, KBError
from kb.expected_questions import load_expected_questions
from kb.keyword import KeywordIndex
from kb.manifest import BuildLease, Manifest, index_contract, load_chunks, open_current, read_current
from kb.plain_words import FILE_NAME as PLAIN_WORDS_FILE
from kb.plain_words import load_plain_words
from kb.progress import Progress
from kb.retrieve import Filters, Hit, Retriever
from kb.store import VectorStore


def open_store(settings: Settings, index_dir: Path, collection: str) -> VectorStore:
    """The vector store of an index: embedded in index_dir/chroma, or the configured server."""
    if settings.chroma_host:
        return VectorStore(
            collection,
            host=settings.chroma_host,
            port=settings.chroma_port,
            exact_search_max=settings.exact_search_max,
        )
    return VectorStore(collection, path=index_dir / "chroma", exact_search_max=settings.exact_search_max)


def sentence_collection(collection: str) -> str:
    """The name of the sentence-vector collection that belongs to a build's chunk collection."""
    return f"{collection}.sentences"


def question_collection(collection: str) -> str:
    """The name of the expected-question collection (kb/expected_questions.py) of a build."""
    return f"{collection}.questions"


@dataclass(frozen=True)
class IndexStats:
    index_dir: str
    build_id: str
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


def _load_keyword(folder: Path, bigram_weight: float) -> KeywordIndex:
    """KeywordIndex.load, with every way a damaged file fails (EOFError from a cut .npy file,
    a pickle error...) reported as IndexCorruptError."""
    try:
        return KeywordIndex.load(folder, bigram_weight)
    except KBError:
        raise
    except Exception as exc:
        raise IndexCorruptError(
            f"キーワード索引が壊れています: {folder}（`kb index --rebuild` で作り直してください）",
            f"keyword index is corrupt at {folder} (run `kb index --rebuild`): {type(exc).__name__}: {exc}",
        ) from exc


def _release(lease: BuildLease, stores: list[VectorStore], lock: threading.Lock) -> None:
    with lock:
        for store in stores:
            try:
                store.close()
            except Exception:  # closing must never fail a request or a shutdown
                pass
        stores.clear()
        lease.release()


class KnowledgeBase:
    """A built index, ready to search. Use :meth:`open`.

    It reads one build (``build_id``, under ``settings.index_dir/builds/``) and keeps using it
    after a newer build becomes current, which is what requests already running need; call
    :meth:`is_current` to find out and :meth:`open` again to follow. The build cannot be deleted
    while this object lives: :meth:`close` (or garbage collection, or the process ending)
    releases it, and the next ``kb index`` removes it if nobody else has it open.
    """

    def __init__(
        self,
        settings: Settings,
        manifest: Manifest,
        chunks: list[Chunk],
        retriever: Retriever,
        lease: BuildLease | None = None,
    ):
        self.settings = settings
        self.manifest = manifest
        self.chunks = chunks
        self.retriever = retriever
        self._by_id = {c.chunk_id: c for c in chunks}
        self.build_dir = lease.build_dir if lease else settings.index_dir
        self.build_id = lease.build_id if lease else ""
        stores = [
            s for s in (retriever.store, retriever.sentence_store, retriever.question_store) if s is not None
        ]
        self._finalizer = weakref.finalize(
            self, _release, lease or BuildLease(self.build_dir, None), stores, threading.Lock()
        )

    @classmethod
    def open(
        cls, settings: Settings, embedder: Embedder | None = None, progress: Progress | None = None
    ) -> KnowledgeBase:
        """Open the build ``settings.index_dir/CURRENT`` names; raise IndexMissingError /
        IndexMismatchError / IndexCorruptError with the fix."""
        lease = open_current(settings.index_dir)
        stores: list[VectorStore] = []
        try:
            build = lease.build_dir
            manifest = Manifest.load(build)
            embedder = embedder or Embedder(settings, progress)
            manifest.check(index_contract(settings, embedder.query_prefix, embedder.passage_prefix))
            chunks = load_chunks(build)
            if len(chunks) != manifest.chunk_count:
                raise IndexCorruptError(
                    f"チャンクファイルが途中で切れています（{len(chunks)}/{manifest.chunk_count} 件）: "
                    f"{build / 'chunks.jsonl'}（`kb index --rebuild` で作り直してください）",
                    f"chunk file is truncated at {build / 'chunks.jsonl'} ({len(chunks)} of "
                    f"{manifest.chunk_count} chunks; run `kb index --rebuild`)",
                )
            keyword = _load_keyword(build / "keyword", settings.bigram_weight)
            if keyword.chunk_ids != [c.chunk_id for c in chunks]:
                raise IndexCorruptError(
                    f"キーワード索引がチャンクと一致しません: {build / 'keyword'}（`kb index --rebuild` で作り直してください）",
                    f"keyword index does not match the chunks at {build / 'keyword'} (run `kb index --rebuild`)",
                )
            stores.append(open_store(settings, build, manifest.collection))
            stores.append(open_store(settings, build, sentence_collection(manifest.collection)))
            stores.append(open_store(settings, build, question_collection(manifest.collection)))
            for store in stores:  # read the vectors now, not during the first request
                store.exact_index()
            # The thesaurus the keyword index was built with (none in builds made before it).
            plain_words = load_plain_words(build / PLAIN_WORDS_FILE)
            retriever = Retriever(
                chunks, keyword, stores[0], embedder, settings, stores[1], plain_words, stores[2]
            )
        except BaseException:
            _release(lease, stores, threading.Lock())
            raise
        return cls(settings, manifest, chunks, retriever, lease)

    def is_current(self) -> bool:
        """False once ``kb index`` made another build current (open again to follow it)."""
        return read_current(self.settings.index_dir) in (None, self.build_id)

    def close(self) -> None:
        """Release the build (its Chroma client and its in-use lock); searching afterwards fails."""
        self._finalizer()

    def __enter__(self) -> KnowledgeBase:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def search(
        self, query: str, mode: str | None = None, k: int | None = None, filters: Filters | None = None
    ) -> list[Hit]:
        """Ranked passages for ``query`` (modes: keyword, semantic, hybrid)."""
        return self.retriever.search(
            query,
            self.settings.default_mode if mode is None else mode,
            self.settings.default_k if k is None else k,  # k=0 is an error, not "the default"
            filters,
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
        try:
            thesaurus = load_plain_words(self.settings.plain_words_path).digest
            questions = load_expected_questions(self.settings.expected_questions_path).digest
        except CorpusError:
            return True  # `kb index` will say what is wrong with it
        return corpus_hash(docs, thesaurus, questions) != self.manifest.corpus_hash

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
            build_id=self.build_id,
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
