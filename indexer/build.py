"""Build or update the index: corpus -> chunks -> BM25 + vectors in Chroma, as a new build.

Every build is written into its own folder ``index_dir/builds/<build-id>/`` and becomes live
only when complete, by replacing the one-line ``index_dir/CURRENT`` atomically (see
kb/manifest.py for the layout). No folder that a reader may have open is ever changed: a
failed or killed build leaves the previous build serving, apps switch to the new build between
requests, and old builds are deleted once no process holds them (their ``in-use.lock``).
One build runs at a time per index folder (``.build.lock``); a second one waits.

Vectors already in the current build are copied, by id or by identical text, instead of being
embedded again, which makes re-indexing incremental (indexer/reuse.py); the builds folder's
lock and clean-up are in indexer/builds.py.

Fault injection for tests: the environment variable ``KBTEST_FAULT`` (not ``KB_*``, which
settings reserve) holds ``point:action`` pairs separated by commas. Points, in build order:
``start`` (build lock held, nothing written), ``keyword``, ``chunks``, ``chroma`` (after writing
each), ``manifest`` (all files written, before the manifest), ``current`` (complete, before
CURRENT is replaced), ``flipped`` (CURRENT replaced, before old builds are removed). Actions:
``kill`` (SIGKILL this process), ``enospc`` / ``eacces`` (raise that OSError, as a full disk or
a read-only folder would), ``sleep=<seconds>``. Example: ``KBTEST_FAULT=chroma:kill``.
"""

from __future__ import annotations

import errno
import os
import shutil
import signal
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np

from indexer.builds import (
    drop_collections,
    fsync_tree,
    one_build_at_a_time,
    remove_legacy_layout,
    remove_old_builds,
    write_error,
)
from indexer.reuse import intact, previous_build, previous_question_vectors, previous_vectors
from kb import __version__
from kb.chunk import Chunk, Sentence, chunk_documents, chunk_sentences
from kb.config import Settings
from kb.corpus import Document, corpus_hash, load_corpus
from kb.embed import Embedder
from kb.errors import KBError
from kb.expected_questions import QuestionUnit, load_expected_questions, stand_in_units
from kb.keyword import KeywordIndex
from kb.knowledge import open_store, question_collection, sentence_collection
from kb.manifest import (
    IN_USE,
    Manifest,
    builds_dir,
    index_contract,
    save_chunks,
    write_current,
)
from kb.plain_words import FILE_NAME as PLAIN_WORDS_FILE
from kb.plain_words import keyword_text, load_plain_words
from kb.progress import Progress
from kb.store import VectorStore

#: Environment variable for fault injection in tests (see the module docstring).
FAULT_ENV = "KBTEST_FAULT"


@dataclass(frozen=True)
class BuildReport:
    index_dir: str
    documents: int
    chunks: int
    embedded: int  # vectors computed now (chunks, sentences, expected questions)
    reused: int  # vectors copied from the previous index
    sentences: int = 0
    skipped_files: list[str] = field(default_factory=list)
    seconds: float = 0.0
    unchanged: bool = False
    mean_chunk_chars: float = 0.0
    build_id: str = ""  # the build CURRENT names now
    removed_builds: list[str] = field(default_factory=list)  # old builds deleted
    kept_builds: list[str] = field(default_factory=list)  # old builds still open somewhere
    plain_words_terms: int = 0  # terms in the everyday-words thesaurus (kb/plain_words.py)
    plain_words_unused: list[str] = field(default_factory=list)  # its terms no chunk holds
    expected_questions: int = 0  # question-chunk pairs indexed (kb/expected_questions.py)
    expected_unused: list[str] = field(default_factory=list)  # anchors no chunk holds
    stand_in_questions: int = 0  # sentences standing in for the questions a chunk lacks
    documents_without_questions: list[str] = field(default_factory=list)  # none of their chunks has any


def _fault(point: str) -> None:
    """Test hook: act as ``KBTEST_FAULT`` says at ``point`` (nothing when it is unset)."""
    spec = os.environ.get(FAULT_ENV, "")
    for item in filter(None, (part.strip() for part in spec.split(","))):
        where, _, action = item.partition(":")
        if where != point:
            continue
        if action == "kill":
            os.kill(os.getpid(), signal.SIGKILL)
        elif action == "enospc":
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), f"{FAULT_ENV}={item}")
        elif action == "eacces":
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), f"{FAULT_ENV}={item}")
        elif action.startswith("sleep="):
            time.sleep(float(action.removeprefix("sleep=")))


def _metadata(chunk: Chunk) -> dict[str, str]:
    return {"doc_id": chunk.doc_id, "kind": chunk.kind, "chapter": chunk.chapter}


def _sentence_metadata(sentence: Sentence) -> dict[str, Any]:
    return {
        **_metadata(sentence.chunk),
        "chunk_id": sentence.chunk.chunk_id,
        "start": sentence.start,
        "end": sentence.end,
    }


def _question_metadata(unit: QuestionUnit) -> dict[str, Any]:
    return {
        **_metadata(unit.chunk),
        "chunk_id": unit.chunk.chunk_id,
        "start": unit.start,
        "end": unit.end,
        "question": unit.question,
        "stand_in": unit.stand_in,
    }


def _without_questions(documents: list[Document], chunks: list[Chunk], anchors: list[list[str]]) -> list[str]:
    """The documents none of whose chunks holds an expected-question anchor."""
    answered = {c.doc_id for c, spots in zip(chunks, anchors, strict=True) if spots}
    return [d.doc_id for d in documents if d.doc_id not in answered]


def _new_build_id() -> str:
    """Sortable and unique: UTC time, then random hex (also a valid Chroma collection suffix)."""
    return f"{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}-{uuid.uuid4().hex[:6]}"


def build_index(
    settings: Settings,
    embedder: Embedder | None = None,
    progress: Progress | None = None,
    rebuild: bool = False,
) -> BuildReport:
    """Build (or update) the index at ``settings.index_dir``; return what was done."""
    report = progress or (lambda stage, fraction: None)
    with one_build_at_a_time(settings.index_dir, report):
        try:
            _fault("start")
        except OSError as exc:
            raise (write_error(settings.index_dir, exc) or exc) from exc
        return _build_locked(settings, embedder or Embedder(settings, progress), report, rebuild)


def _build_locked(settings: Settings, embedder: Embedder, report: Progress, rebuild: bool) -> BuildReport:
    started = time.perf_counter()
    index_dir = settings.index_dir
    report("コーパス読み込み / reading corpus", 0.0)
    documents, problems = load_corpus(settings.corpus_dir)
    chunks = chunk_documents(
        documents, settings.chunk_target_chars, settings.chunk_max_chars, settings.chunk_overlap_chars
    )
    plain_words = load_plain_words(settings.plain_words_path)
    expected = load_expected_questions(settings.expected_questions_path)
    digest = corpus_hash(documents, plain_words.digest, expected.digest)
    mean_chars = round(sum(len(c.text) for c in chunks) / max(1, len(chunks)), 1)
    skipped = [e.en for e in problems]

    contract = index_contract(settings, embedder.query_prefix, embedder.passage_prefix)
    previous = previous_build(index_dir)
    legacy = previous is not None and previous[1] == index_dir
    if not rebuild and previous is not None and not legacy:
        current, folder = previous
        try:
            current.check(contract)
            same = current.corpus_hash == digest and current.package_version == __version__
        except KBError:
            same = False
        if same and intact(folder, current, settings):
            removed, kept = remove_old_builds(settings, keep=folder.name)
            remove_legacy_layout(index_dir)
            report("変更なし / index is up to date", 1.0)
            return BuildReport(
                str(index_dir),
                len(documents),
                len(chunks),
                embedded=0,
                reused=0,
                skipped_files=skipped,
                seconds=round(time.perf_counter() - started, 2),
                unchanged=True,
                mean_chunk_chars=mean_chars,
                build_id=folder.name,
                removed_builds=removed,
                kept_builds=kept,
            )

    sentences = chunk_sentences(chunks, settings.sentence_min_chars)
    # Everything that gets a vector, by id: chunk bodies and their sentences.
    texts = {c.chunk_id: c.embed_text for c in chunks} | {s.sentence_id: s.text for s in sentences}
    reused = {} if rebuild else previous_vectors(settings, contract, texts, previous)
    to_embed = [vid for vid in texts if vid not in reused]
    report("モデル準備 / preparing model", 0.05)
    dimension = embedder.dimension

    def embed_progress(stage: str, fraction: float) -> None:
        report(stage, 0.1 + 0.6 * fraction)

    fresh = embedder.embed_passages([texts[vid] for vid in to_embed], embed_progress) if to_embed else None
    vectors = {vid: fresh[i] for i, vid in enumerate(to_embed)} if fresh is not None else {}
    vectors.update(reused)

    # Expected questions are embedded as queries (a question is compared with a question), and
    # reused by their text.
    # The question anchors each chunk holds; one no chunk holds does nothing, and the report says
    # so, so that a stale anchor is seen.
    anchors = [expected.anchors_in(c.text) for c in chunks]
    units = expected.units(chunks, anchors)
    if units:  # chunks without questions get their sentences as stand-ins (stand_in_units)
        bare = [c for c, spots in zip(chunks, anchors, strict=True) if not spots]
        units += stand_in_units(bare, settings.sentence_min_chars)
    known = {} if rebuild else previous_question_vectors(settings, contract, previous)
    new_questions = [q for q in dict.fromkeys(u.question for u in units) if q not in known]

    def question_progress(stage: str, fraction: float) -> None:
        report(stage, 0.7 + 0.2 * fraction)

    if new_questions:
        known = known | dict(
            zip(new_questions, embedder.embed_queries(new_questions, question_progress), strict=True)
        )
    reused_questions = len({u.question for u in units}) - len(new_questions)
    stand_ins = sum(u.stand_in for u in units)

    # The thesaurus terms each chunk holds; one no chunk holds does nothing, and the report says
    # so, so that a mistyped term is seen.
    held = [plain_words.terms_in(c.term_text) for c in chunks]
    unused = plain_words.unused_terms(held)

    build_id = _new_build_id()
    build = builds_dir(index_dir) / build_id
    collection = f"{settings.collection}-{build_id}"
    stores: list[VectorStore] = []
    try:
        report("索引書き込み / writing index", 0.92)
        build.mkdir()
        (build / IN_USE).touch()  # before anything else, so readers and cleaners share one lock file
        # Everyday words join the keyword text of the chunks holding their terms (kb/plain_words.py),
        # and expected questions that of the chunks holding their anchor (kb/expected_questions.py).
        KeywordIndex.build(
            [c.chunk_id for c in chunks],
            [
                keyword_text(c.index_text, [*plain_words.aliases_of(terms), *expected.questions_of(spots)])
                for c, terms, spots in zip(chunks, held, anchors, strict=True)
            ],
            settings.bm25_k1,
            settings.bm25_b,
            settings.bigram_weight,
        ).save(build / "keyword")
        (build / PLAIN_WORDS_FILE).write_text(plain_words.text, encoding="utf-8")
        _fault("keyword")
        save_chunks(build, chunks)
        _fault("chunks")
        stores.append(open_store(settings, build, collection))
        stores[0].add(
            [c.chunk_id for c in chunks],
            np.stack([vectors[c.chunk_id] for c in chunks]) if chunks else np.zeros((0, dimension)),
            [_metadata(c) for c in chunks],
        )
        stores.append(open_store(settings, build, sentence_collection(collection)))
        stores[1].add(
            [s.sentence_id for s in sentences],
            np.stack([vectors[s.sentence_id] for s in sentences]) if sentences else np.zeros((0, dimension)),
            [_sentence_metadata(s) for s in sentences],
        )
        stores.append(open_store(settings, build, question_collection(collection)))
        stores[2].add(
            [u.unit_id for u in units],
            np.stack([known[u.question] for u in units]) if units else np.zeros((0, dimension)),
            [_question_metadata(u) for u in units],
        )
        for store in stores:
            store.close()
        stores.clear()
        _fault("chroma")
        fsync_tree(build)
        _fault("manifest")
        Manifest(
            contract=contract,
            package_version=__version__,
            embedding_dimension=dimension,
            corpus_hash=digest,
            collection=collection,
            chunk_count=len(chunks),
            built_at=datetime.now(UTC).isoformat(timespec="seconds"),
            build_seconds=round(time.perf_counter() - started, 2),
        ).save(build)  # written last: a folder without it is never a usable build
        _fault("current")
        write_current(index_dir, build_id)  # the switch: readers now open this build
    except BaseException as exc:
        for store in stores:
            store.close()
        shutil.rmtree(build, ignore_errors=True)
        if settings.chroma_host:
            drop_collections(
                settings, [collection, sentence_collection(collection), question_collection(collection)]
            )
        error = write_error(build, exc) if isinstance(exc, Exception) else None
        if error is not None:
            raise error from exc
        raise
    _fault("flipped")
    removed, kept = remove_old_builds(settings, keep=build_id)
    remove_legacy_layout(index_dir)
    report("完了 / done", 1.0)
    return BuildReport(
        str(index_dir),
        len(documents),
        len(chunks),
        embedded=len(to_embed) + len(new_questions),
        reused=len(texts) - len(to_embed) + reused_questions,
        sentences=len(sentences),
        skipped_files=skipped,
        plain_words_terms=len(plain_words),
        plain_words_unused=unused,
        expected_questions=len(units) - stand_ins,
        stand_in_questions=stand_ins,
        documents_without_questions=_without_questions(documents, chunks, anchors) if len(expected) else [],
        expected_unused=expected.unused_anchors(anchors),
        seconds=round(time.perf_counter() - started, 2),
        mean_chunk_chars=mean_chars,
        build_id=build_id,
        removed_builds=removed,
        kept_builds=kept,
    )
