"""Build or update the index: corpus -> chunks -> BM25 + vectors in Chroma, atomically.

The new index is written into a sibling temporary folder and swapped into place only when
complete, so a failed or killed build leaves the previous index serving. Chunk ids are
content hashes: vectors of unchanged chunks are copied from the previous index instead of
being embedded again, which makes re-indexing incremental.
"""

from __future__ import annotations

import shutil
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from kb import __version__
from kb.chunk import Chunk, Sentence, chunk_documents, chunk_sentences
from kb.config import Settings
from kb.corpus import corpus_hash, load_corpus
from kb.embed import Embedder
from kb.errors import KBError
from kb.keyword import KeywordIndex
from kb.knowledge import open_store, sentence_collection
from kb.manifest import EMBEDDING_KEYS, Manifest, index_contract, save_chunks
from kb.progress import Progress
from kb.store import release_clients


@dataclass(frozen=True)
class BuildReport:
    index_dir: str
    documents: int
    chunks: int
    embedded: int  # vectors computed now (chunks and sentences)
    reused: int  # vectors copied from the previous index
    sentences: int = 0
    skipped_files: list[str] = field(default_factory=list)
    seconds: float = 0.0
    unchanged: bool = False
    mean_chunk_chars: float = 0.0


def _previous_vectors(settings: Settings, contract: dict[str, Any], ids: list[str]) -> dict[str, np.ndarray]:
    """Vectors (chunks and sentences) the current index already holds, when built the same way."""
    try:
        old = Manifest.load(settings.index_dir)
        # Only what the vectors depend on must match: a new stop list or BM25 parameter
        # rebuilds the keyword index but keeps every vector.
        old.check({key: contract[key] for key in EMBEDDING_KEYS}, only=EMBEDDING_KEYS)
        found: dict[str, np.ndarray] = {}
        for name in (old.collection, sentence_collection(old.collection)):
            found.update(open_store(settings, settings.index_dir, name).get_vectors(ids))
        return found
    except KBError:  # no usable previous index (missing, other settings, corrupt): embed all
        return {}


def _metadata(chunk: Chunk) -> dict[str, str]:
    return {"doc_id": chunk.doc_id, "kind": chunk.kind, "chapter": chunk.chapter}


def _sentence_metadata(sentence: Sentence) -> dict[str, Any]:
    return {
        **_metadata(sentence.chunk),
        "chunk_id": sentence.chunk.chunk_id,
        "start": sentence.start,
        "end": sentence.end,
    }


def build_index(
    settings: Settings,
    embedder: Embedder | None = None,
    progress: Progress | None = None,
    rebuild: bool = False,
) -> BuildReport:
    """Build (or update) the index at ``settings.index_dir``; return what was done."""
    started = time.perf_counter()
    report = progress or (lambda stage, fraction: None)
    embedder = embedder or Embedder(settings, progress)

    report("コーパス読み込み / reading corpus", 0.0)
    documents, problems = load_corpus(settings.corpus_dir)
    chunks = chunk_documents(
        documents, settings.chunk_target_chars, settings.chunk_max_chars, settings.chunk_overlap_chars
    )
    digest = corpus_hash(documents)
    mean_chars = round(sum(len(c.text) for c in chunks) / max(1, len(chunks)), 1)

    contract = index_contract(settings, embedder.query_prefix, embedder.passage_prefix)
    if not rebuild:
        try:
            current = Manifest.load(settings.index_dir)
            current.check(contract)
            if current.corpus_hash == digest and current.package_version == __version__:
                report("変更なし / index is up to date", 1.0)
                return BuildReport(
                    str(settings.index_dir),
                    len(documents),
                    len(chunks),
                    embedded=0,
                    reused=0,
                    skipped_files=[e.en for e in problems],
                    seconds=round(time.perf_counter() - started, 2),
                    unchanged=True,
                    mean_chunk_chars=mean_chars,
                )
        except KBError:
            pass

    sentences = chunk_sentences(chunks, settings.sentence_min_chars)
    # Everything that gets a vector, by id: chunk bodies and their sentences.
    texts = {c.chunk_id: c.embed_text for c in chunks} | {s.sentence_id: s.text for s in sentences}
    reused = {} if rebuild else _previous_vectors(settings, contract, list(texts))
    to_embed = [vid for vid in texts if vid not in reused]
    report("モデル準備 / preparing model", 0.05)
    dimension = embedder.dimension

    def embed_progress(stage: str, fraction: float) -> None:
        report(stage, 0.1 + 0.8 * fraction)

    fresh = embedder.embed_passages([texts[vid] for vid in to_embed], embed_progress) if to_embed else None
    vectors = {vid: fresh[i] for i, vid in enumerate(to_embed)} if fresh is not None else {}
    vectors.update(reused)

    build_id = uuid.uuid4().hex[:12]
    target = settings.index_dir
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.parent / f".{target.name}.build-{build_id}"
    collection = f"{settings.collection}-{build_id}"
    try:
        tmp.mkdir(parents=True)
        report("索引書き込み / writing index", 0.92)
        KeywordIndex.build(
            [c.chunk_id for c in chunks],
            [c.index_text for c in chunks],
            settings.bm25_k1,
            settings.bm25_b,
            settings.bigram_weight,
        ).save(tmp / "keyword")
        save_chunks(tmp, chunks)
        store = open_store(settings, tmp, collection)
        store.add(
            [c.chunk_id for c in chunks],
            np.stack([vectors[c.chunk_id] for c in chunks]) if chunks else np.zeros((0, dimension)),
            [_metadata(c) for c in chunks],
        )
        sentence_store = open_store(settings, tmp, sentence_collection(collection))
        sentence_store.add(
            [s.sentence_id for s in sentences],
            np.stack([vectors[s.sentence_id] for s in sentences]) if sentences else np.zeros((0, dimension)),
            [_sentence_metadata(s) for s in sentences],
        )
        del store, sentence_store
        seconds = round(time.perf_counter() - started, 2)
        Manifest(
            contract=contract,
            package_version=__version__,
            embedding_dimension=dimension,
            corpus_hash=digest,
            collection=collection,
            chunk_count=len(chunks),
            built_at=datetime.now(UTC).isoformat(timespec="seconds"),
            build_seconds=seconds,
        ).save(tmp)  # written last: a folder without it is never a usable index
        _swap_into_place(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        if settings.chroma_host:
            _drop_collection(settings, collection)
            _drop_collection(settings, sentence_collection(collection))
        raise
    if settings.chroma_host:
        open_store(settings, target, collection).drop_other_collections(f"{settings.collection}-")
    report("完了 / done", 1.0)
    return BuildReport(
        str(target),
        len(documents),
        len(chunks),
        embedded=len(to_embed),
        reused=len(texts) - len(to_embed),
        sentences=len(sentences),
        skipped_files=[e.en for e in problems],
        seconds=round(time.perf_counter() - started, 2),
        mean_chunk_chars=mean_chars,
    )


def _swap_into_place(tmp: Path, target: Path) -> None:
    """Replace ``target`` with ``tmp``: two renames, the old folder removed last."""
    release_clients()
    old = target.parent / f".{target.name}.old-{uuid.uuid4().hex[:8]}"
    if target.exists():
        target.rename(old)
    tmp.rename(target)
    release_clients()
    shutil.rmtree(old, ignore_errors=True)


def _drop_collection(settings: Settings, collection: str) -> None:
    try:
        open_store(settings, settings.index_dir, collection).delete_collection()
    except KBError:
        pass
