"""Build or update the index: corpus -> chunks -> BM25 + vectors in Chroma, as a new build.

Every build is written into its own folder ``index_dir/builds/<build-id>/`` and becomes live
only when complete, by replacing the one-line ``index_dir/CURRENT`` atomically (see
kb/manifest.py for the layout). No folder that a reader may have open is ever changed: a
failed or killed build leaves the previous build serving, apps switch to the new build between
requests, and old builds are deleted once no process holds them (their ``in-use.lock``).
One build runs at a time per index folder (``.build.lock``); a second one waits.

Chunk ids are content hashes: vectors of unchanged chunks and sentences are copied from the
current build instead of being embedded again, which makes re-indexing incremental.

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
import fcntl
import os
import shutil
import signal
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
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
from kb.errors import IndexWriteError, KBError
from kb.keyword import KeywordIndex
from kb.knowledge import open_store, sentence_collection
from kb.manifest import (
    BUILD_LOCK,
    CHUNKS,
    CURRENT,
    EMBEDDING_KEYS,
    IN_USE,
    MANIFEST,
    Manifest,
    builds_dir,
    fsync_dir,
    index_contract,
    is_legacy_layout,
    load_chunks,
    read_current,
    save_chunks,
    write_current,
)
from kb.progress import Progress
from kb.store import VectorStore

#: Environment variable for fault injection in tests (see the module docstring).
FAULT_ENV = "KBTEST_FAULT"
_TRASH = ".trash-"


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
    build_id: str = ""  # the build CURRENT names now
    removed_builds: list[str] = field(default_factory=list)  # old builds deleted
    kept_builds: list[str] = field(default_factory=list)  # old builds still open somewhere


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


def _write_error(where: Path, exc: BaseException) -> IndexWriteError | None:
    """A bilingual IndexWriteError for a full disk or a read-only folder (None for other errors)."""
    code = getattr(exc, "errno", None)
    text = str(exc).lower()
    keeps = ("現在の索引はそのまま使えます", "the current index keeps serving")
    if code in (errno.ENOSPC, errno.EDQUOT) or "disk is full" in text or "no space left" in text:
        return IndexWriteError(
            f"ディスクの空き容量が足りず索引を書き込めません: {where}（空きを作ってから `kb index` を"
            f"再実行してください。{keeps[0]}）",
            f"no space left on the device while writing {where}: free some space and run "
            f"`kb index` again ({keeps[1]}): {exc}",
        )
    if code in (errno.EACCES, errno.EPERM, errno.EROFS) or "readonly" in text or "read-only" in text:
        return IndexWriteError(
            f"索引フォルダに書き込めません: {where}（書き込み権限を確認するか、`kb --index-dir` で"
            f"書き込めるフォルダを指定してください。{keeps[0]}）",
            f"cannot write to the index folder {where}: check its permissions or give a writable "
            f"folder with `kb --index-dir` ({keeps[1]}): {exc}",
        )
    if isinstance(exc, OSError):
        return IndexWriteError(
            f"索引を書き込めません: {where}（{exc.strerror or exc}。{keeps[0]}）",
            f"cannot write the index at {where} ({keeps[1]}): {exc}",
        )
    return None


@contextmanager
def _one_build_at_a_time(index_dir: Path, report: Progress) -> Iterator[None]:
    """Hold ``index_dir/.build.lock`` exclusively (waiting for another build to finish)."""
    try:
        builds_dir(index_dir).mkdir(parents=True, exist_ok=True)
        fd = os.open(index_dir / BUILD_LOCK, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise (_write_error(index_dir, exc) or exc) from exc
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            report("別の索引作成の終了を待っています / waiting for another build to finish", 0.0)
            fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _previous(index_dir: Path) -> tuple[Manifest, Path] | None:
    """The current build's manifest and folder (or an old-layout index's), if readable.
    Safe without a lease: only builds delete builds, and we hold the build lock."""
    build_id = read_current(index_dir)
    if build_id:
        folder = builds_dir(index_dir) / build_id
    elif is_legacy_layout(index_dir):
        folder = index_dir
    else:
        return None
    try:
        return Manifest.load(folder), folder
    except KBError:
        return None


def _intact(folder: Path, manifest: Manifest, settings: Settings) -> bool:
    """Whether a build's files read back whole (a damaged build is rebuilt, not kept)."""
    try:
        chunks = load_chunks(folder)
        keyword = KeywordIndex.load(folder / "keyword", settings.bigram_weight)
    except Exception:  # damaged in any way
        return False
    return (
        len(chunks) == manifest.chunk_count
        and keyword.chunk_ids == [c.chunk_id for c in chunks]
        and (bool(settings.chroma_host) or (folder / "chroma").is_dir())
    )


def _previous_vectors(
    settings: Settings,
    contract: dict[str, Any],
    texts: dict[str, str],
    previous: tuple[Manifest, Path] | None,
) -> dict[str, np.ndarray]:
    """Vectors (chunks and sentences) the current build already holds, when built the same way:
    by id, else by identical text. A vector depends only on the text (and the model and prefixes
    in the contract), so a renamed file, a moved section or a passage repeated in a new document
    keeps its vectors; ids alone would embed all of those again."""
    if previous is None:
        return {}
    old, folder = previous
    stores: list[VectorStore] = []
    try:
        # Only what the vectors depend on must match: a new stop list or BM25 parameter
        # rebuilds the keyword index but keeps every vector.
        old.check({key: contract[key] for key in EMBEDDING_KEYS}, only=EMBEDDING_KEYS)
        same_text = _previous_ids_by_text(settings, folder, texts)
        wanted = sorted(set(texts) | set(same_text.values()))
        found: dict[str, np.ndarray] = {}
        for name in (old.collection, sentence_collection(old.collection)):
            stores.append(open_store(settings, folder, name))
            found.update(stores[-1].get_vectors(wanted))
        reused = {vid: found[vid] for vid in texts if vid in found}
        for vid, old_id in same_text.items():
            if vid not in reused and old_id in found:
                reused[vid] = found[old_id]
        return reused
    except Exception:  # no usable previous build (other settings, damaged): embed all
        return {}
    finally:
        for store in stores:
            store.close()


def _previous_ids_by_text(settings: Settings, folder: Path, texts: dict[str, str]) -> dict[str, str]:
    """For each new id whose text the previous build embedded under another id: that old id.

    The previous build's texts come from its saved chunks (sentence ids are chunk id + offsets,
    so they are recomputed exactly); a build without readable chunks gives nothing here."""
    try:
        old_chunks = load_chunks(folder)
    except KBError:
        return {}
    old_sentences = chunk_sentences(old_chunks, settings.sentence_min_chars)
    old_id_of_text: dict[str, str] = {}
    for old_id, text in [(c.chunk_id, c.embed_text) for c in old_chunks] + [
        (s.sentence_id, s.text) for s in old_sentences
    ]:
        old_id_of_text.setdefault(text, old_id)
    return {
        vid: old_id_of_text[text]
        for vid, text in texts.items()
        if text in old_id_of_text and old_id_of_text[text] != vid
    }


def _metadata(chunk: Chunk) -> dict[str, str]:
    return {"doc_id": chunk.doc_id, "kind": chunk.kind, "chapter": chunk.chapter}


def _sentence_metadata(sentence: Sentence) -> dict[str, Any]:
    return {
        **_metadata(sentence.chunk),
        "chunk_id": sentence.chunk.chunk_id,
        "start": sentence.start,
        "end": sentence.end,
    }


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
    with _one_build_at_a_time(settings.index_dir, report):
        try:
            _fault("start")
        except OSError as exc:
            raise (_write_error(settings.index_dir, exc) or exc) from exc
        return _build_locked(settings, embedder or Embedder(settings, progress), report, rebuild)


def _build_locked(settings: Settings, embedder: Embedder, report: Progress, rebuild: bool) -> BuildReport:
    started = time.perf_counter()
    index_dir = settings.index_dir
    report("コーパス読み込み / reading corpus", 0.0)
    documents, problems = load_corpus(settings.corpus_dir)
    chunks = chunk_documents(
        documents, settings.chunk_target_chars, settings.chunk_max_chars, settings.chunk_overlap_chars
    )
    digest = corpus_hash(documents)
    mean_chars = round(sum(len(c.text) for c in chunks) / max(1, len(chunks)), 1)
    skipped = [e.en for e in problems]

    contract = index_contract(settings, embedder.query_prefix, embedder.passage_prefix)
    previous = _previous(index_dir)
    legacy = previous is not None and previous[1] == index_dir
    if not rebuild and previous is not None and not legacy:
        current, folder = previous
        try:
            current.check(contract)
            same = current.corpus_hash == digest and current.package_version == __version__
        except KBError:
            same = False
        if same and _intact(folder, current, settings):
            removed, kept = _remove_old_builds(settings, keep=folder.name)
            _remove_legacy_layout(index_dir)
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
    reused = {} if rebuild else _previous_vectors(settings, contract, texts, previous)
    to_embed = [vid for vid in texts if vid not in reused]
    report("モデル準備 / preparing model", 0.05)
    dimension = embedder.dimension

    def embed_progress(stage: str, fraction: float) -> None:
        report(stage, 0.1 + 0.8 * fraction)

    fresh = embedder.embed_passages([texts[vid] for vid in to_embed], embed_progress) if to_embed else None
    vectors = {vid: fresh[i] for i, vid in enumerate(to_embed)} if fresh is not None else {}
    vectors.update(reused)

    build_id = _new_build_id()
    build = builds_dir(index_dir) / build_id
    collection = f"{settings.collection}-{build_id}"
    stores: list[VectorStore] = []
    try:
        report("索引書き込み / writing index", 0.92)
        build.mkdir()
        (build / IN_USE).touch()  # before anything else, so readers and cleaners share one lock file
        KeywordIndex.build(
            [c.chunk_id for c in chunks],
            [c.index_text for c in chunks],
            settings.bm25_k1,
            settings.bm25_b,
            settings.bigram_weight,
        ).save(build / "keyword")
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
        for store in stores:
            store.close()
        stores.clear()
        _fault("chroma")
        _fsync_tree(build)
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
            _drop_collections(settings, [collection, sentence_collection(collection)])
        error = _write_error(build, exc) if isinstance(exc, Exception) else None
        if error is not None:
            raise error from exc
        raise
    _fault("flipped")
    removed, kept = _remove_old_builds(settings, keep=build_id)
    _remove_legacy_layout(index_dir)
    report("完了 / done", 1.0)
    return BuildReport(
        str(index_dir),
        len(documents),
        len(chunks),
        embedded=len(to_embed),
        reused=len(texts) - len(to_embed),
        sentences=len(sentences),
        skipped_files=skipped,
        seconds=round(time.perf_counter() - started, 2),
        mean_chunk_chars=mean_chars,
        build_id=build_id,
        removed_builds=removed,
        kept_builds=kept,
    )


def _fsync_tree(folder: Path) -> None:
    """Flush every file and folder of a finished build to disk before CURRENT names it."""
    for path in sorted(folder.rglob("*"), reverse=True):
        if path.is_file():
            fd = os.open(path, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        elif path.is_dir():
            fsync_dir(path)
    fsync_dir(folder)
    fsync_dir(folder.parent)


def _remove_old_builds(settings: Settings, keep: str) -> tuple[list[str], list[str]]:
    """Delete every build but ``keep`` that no process has open (unfinished ones included);
    return (removed, kept because in use). Call with the build lock held."""
    removed: list[str] = []
    kept: list[str] = []
    root = builds_dir(settings.index_dir)
    for tmp in settings.index_dir.glob(f".{CURRENT}.tmp-*"):  # a replace that was interrupted
        tmp.unlink(missing_ok=True)
    for folder in sorted(root.iterdir()):
        if folder.name == keep or not folder.is_dir():
            continue
        if folder.name.startswith(_TRASH):  # a removal that was interrupted
            shutil.rmtree(folder, ignore_errors=True)
        elif _remove_if_unused(folder):
            removed.append(folder.name)
        else:
            kept.append(folder.name)
    if settings.chroma_host:
        prefix = f"{settings.collection}-"
        live = {p.name for p in root.iterdir() if not p.name.startswith(_TRASH)}
        try:
            names = open_store(settings, root / keep, f"{prefix}{keep}").list_collections()
        except KBError:
            names = []
        unused = [n for n in names if n.startswith(prefix) and n[len(prefix) :].split(".")[0] not in live]
        _drop_collections(settings, unused)
    return removed, kept


def _remove_if_unused(folder: Path) -> bool:
    """Remove ``folder`` if its in-use.lock can be locked exclusively now (no reader anywhere)."""
    try:
        # O_CREAT: a build killed before it made its lock file gets one, the same file a
        # reader would create, so the two can never both think they own the folder.
        fd = os.open(folder / IN_USE, os.O_RDONLY | os.O_CREAT, 0o644)
    except OSError:
        return False
    trash = folder.with_name(_TRASH + folder.name)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        os.rename(folder, trash)  # readers waiting for the lock then find the folder gone
    except OSError:  # BlockingIOError: someone has it open
        return False
    finally:
        os.close(fd)
    shutil.rmtree(trash, ignore_errors=True)
    return True


def _remove_legacy_layout(index_dir: Path) -> None:
    """Delete an old-layout index (files directly in index_dir, now replaced by a build),
    manifest first. Stop apps of the old version before upgrading: they read these files."""
    if not (index_dir / MANIFEST).exists():
        return
    for name in (MANIFEST, CHUNKS):
        (index_dir / name).unlink(missing_ok=True)
    for name in ("keyword", "chroma"):
        shutil.rmtree(index_dir / name, ignore_errors=True)


def _drop_collections(settings: Settings, names: list[str]) -> None:
    """Delete collections from the Chroma server (server mode only)."""
    for name in names:
        try:
            store = open_store(settings, settings.index_dir, name)
            store.delete_collection()
            store.close()
        except Exception:  # best effort: a later build retries
            pass
