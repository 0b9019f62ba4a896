"""The index directory describes itself: what built it, and whether the settings still match.

Layout of an index directory (``Settings.index_dir``)::

    CURRENT               the id of the live build (one line), replaced atomically
    .build.lock           held (flock, exclusive) by the one build running at a time
    builds/<build-id>/    one complete index per build:
        manifest.json     this file's Manifest, written last (no manifest = unfinished build)
        chunks.jsonl      one Chunk per line (text, offsets, heading path)
        keyword/          the two BM25 indices (bm25s)
        chroma/           embedded Chroma (absent when a Chroma server is configured)
        in-use.lock       every process that has the build open holds a shared flock on it

A build never changes a folder anyone may have open: it writes a new ``builds/<id>/``, then
points ``CURRENT`` at it, then deletes the other builds it can lock exclusively (nobody holds
them). The kernel drops a process's locks when it exits or is killed, so a crashed reader
never pins a build for ever. :func:`open_current` is the readers' side of that protocol.

Everything that changes what the index contains or how it ranks is in one dict,
:func:`index_contract`, written at build time and compared at open time by the same function,
so editing a tokeniser setting, a stop list, a BM25 parameter or the model asks for a rebuild.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from kb import lexicon
from kb.chunk import Chunk
from kb.config import Settings
from kb.errors import IndexCorruptError, IndexMismatchError, IndexMissingError
from kb.text import tokenizer_description

FORMAT_VERSION = 2
# Bump when what is embedded or keyword-indexed per chunk changes (Chunk.embed_text /
# index_text): chunk ids hash only the content, so old vectors would otherwise be reused.
TEXT_FORMAT = "embed=body+sentences;v3"
# Bump when where chunks are cut changes (kb.chunk): the corpus hash would not see it.
CHUNK_FORMAT = "sentences+bullet-then-soft-cuts;v3"
# Bump when the keyword index's tokens change (kb.keyword.index_tokens): a keyword-only rebuild.
KEYWORD_FORMAT = "title|path+body;lemmas+compounds+latin+years;v1"
MANIFEST = "manifest.json"
CHUNKS = "chunks.jsonl"
CURRENT = "CURRENT"
BUILDS = "builds"
IN_USE = "in-use.lock"
BUILD_LOCK = ".build.lock"
_REBUILD = ("`kb index --rebuild` で作り直してください", "run `kb index --rebuild`")


#: The contract entries that vectors depend on (the rest only shape the keyword index or ranking).
EMBEDDING_KEYS = (
    "format_version",
    "text_format",
    "embedding_model",
    "query_prefix",
    "passage_prefix",
    "chroma_host",
)


def index_contract(settings: Settings, query_prefix: str, passage_prefix: str) -> dict[str, Any]:
    """Every setting an index depends on; an index is usable only where this is equal."""
    return {
        "format_version": FORMAT_VERSION,
        "text_format": TEXT_FORMAT,
        "keyword_format": KEYWORD_FORMAT,
        "embedding_model": settings.embedding_model,
        "query_prefix": query_prefix,
        "passage_prefix": passage_prefix,
        "tokenizer": tokenizer_description(),
        "stop_lists": lexicon.fingerprint(),
        "chunk_format": CHUNK_FORMAT,
        "chunk_target_chars": settings.chunk_target_chars,
        "chunk_max_chars": settings.chunk_max_chars,
        "chunk_overlap_chars": settings.chunk_overlap_chars,
        "sentence_min_chars": settings.sentence_min_chars,
        "bm25_k1": settings.bm25_k1,
        "bm25_b": settings.bm25_b,
        "bigram_weight": settings.bigram_weight,
        "chroma_host": settings.chroma_host,
    }


@dataclass(frozen=True)
class Manifest:
    """The contract an index was built under, and facts about the build."""

    contract: dict[str, Any]
    package_version: str
    embedding_dimension: int
    corpus_hash: str
    collection: str
    chunk_count: int
    built_at: str
    build_seconds: float

    @property
    def embedding_model(self) -> str:
        return str(self.contract.get("embedding_model", ""))

    @property
    def tokenizer(self) -> str:
        return str(self.contract.get("tokenizer", ""))

    def save(self, directory: Path) -> None:
        write_durably(directory / MANIFEST, json.dumps(asdict(self), ensure_ascii=False, indent=2))

    @classmethod
    def load(cls, directory: Path) -> Manifest:
        path = directory / MANIFEST
        if not path.is_file():
            raise IndexMissingError(
                f"インデックスがありません: {directory}（`kb index` を実行してください）",
                f"no index at {directory}: run `kb index`",
            )
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise IndexCorruptError(
                f"インデックスの manifest が壊れています: {path}（{_REBUILD[0]}）",
                f"index manifest is corrupt at {path} ({_REBUILD[1]}): {exc}",
            ) from exc
        if not isinstance(data, dict) or "contract" not in data:
            raise IndexMismatchError(
                f"インデックスは旧い形式で作られています: {directory}（{_REBUILD[0]}）",
                f"the index at {directory} was built by an older version ({_REBUILD[1]})",
            )
        try:
            return cls(**data)
        except TypeError as exc:
            raise IndexCorruptError(
                f"インデックスの manifest が壊れています: {path}（{_REBUILD[0]}）",
                f"index manifest is corrupt at {path} ({_REBUILD[1]}): {exc}",
            ) from exc

    def check(self, expected: dict[str, Any], only: tuple[str, ...] | None = None) -> None:
        """Raise IndexMismatchError naming every contract entry (of ``only``, if given) that
        differs from ``expected``."""
        keys = sorted(only if only is not None else set(expected) | set(self.contract))
        diffs = [
            f"{key}: index={self.contract.get(key)!r} settings={expected.get(key)!r}"
            for key in keys
            if self.contract.get(key) != expected.get(key)
        ]
        if diffs:
            raise IndexMismatchError(
                f"インデックスが現在の設定と一致しません（{_REBUILD[0]}）: " + "; ".join(diffs),
                f"the index was built with other settings ({_REBUILD[1]}): " + "; ".join(diffs),
            )


def save_chunks(directory: Path, chunks: list[Chunk]) -> None:
    with (directory / CHUNKS).open("w", encoding="utf-8") as out:
        for c in chunks:
            out.write(json.dumps(asdict(c), ensure_ascii=False) + "\n")


def load_chunks(directory: Path) -> list[Chunk]:
    path = directory / CHUNKS
    try:
        chunks = []
        with path.open(encoding="utf-8") as lines:
            for line in lines:
                data = json.loads(line)
                data["heading_path"] = tuple(data["heading_path"])
                chunks.append(Chunk(**data))
        return chunks
    except (OSError, ValueError, TypeError, KeyError) as exc:
        raise IndexCorruptError(
            f"チャンクファイルが壊れています: {path}（{_REBUILD[0]}）",
            f"chunk file is corrupt at {path} ({_REBUILD[1]}): {exc}",
        ) from exc


# Versioned builds -------------------------------------------------------------------------

_INDEX_AGAIN = ("`kb index` を実行してください", "run `kb index`")


def write_durably(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` all or nothing: a temporary file, fsync, then os.replace."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        with tmp.open("w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


def fsync_dir(directory: Path) -> None:
    """Make a rename or a new entry in ``directory`` survive a power cut."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def builds_dir(index_dir: Path) -> Path:
    return index_dir / BUILDS


def read_current(index_dir: Path) -> str | None:
    """The live build's id, or None when there is none (cheap: one small file)."""
    try:
        text = (index_dir / CURRENT).read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return None
    return text or None


def write_current(index_dir: Path, build_id: str) -> None:
    """Point CURRENT at ``build_id`` atomically (readers see the old or the new id, never a mix)."""
    write_durably(index_dir / CURRENT, build_id + "\n")


def is_legacy_layout(index_dir: Path) -> bool:
    """An index written before versioned builds: manifest.json directly in index_dir."""
    return (index_dir / MANIFEST).is_file() and not (index_dir / CURRENT).exists()


class BuildLease:
    """A shared flock on a build's in-use.lock: while any process holds one, no build deletes
    that folder. Released by :meth:`release`, or by the kernel when the process ends."""

    def __init__(self, build_dir: Path, fd: int | None) -> None:
        self.build_dir = build_dir
        self._fd = fd

    @property
    def build_id(self) -> str:
        return self.build_dir.name

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)  # closing the last descriptor drops the flock


def _lock_shared(build_dir: Path) -> int | None:
    """A descriptor holding a shared lock on ``build_dir``'s in-use.lock, None when the index is
    on read-only media without one (nothing can delete it then); raises FileNotFoundError when
    the folder is gone."""
    path = build_dir / IN_USE
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        if not build_dir.is_dir():
            raise
        try:
            fd = os.open(path, os.O_RDONLY | os.O_CREAT, 0o644)
        except OSError as exc:
            if exc.errno not in (errno.EROFS, errno.EACCES, errno.EPERM):
                raise
            if not (build_dir / MANIFEST).is_file():
                raise FileNotFoundError(errno.ENOENT, "unfinished build", str(build_dir)) from exc
            return None
    try:
        fcntl.flock(fd, fcntl.LOCK_SH)  # waits only while a build is deleting this folder
        if not (build_dir / MANIFEST).is_file() or os.stat(path).st_ino != os.fstat(fd).st_ino:
            raise FileNotFoundError(errno.ENOENT, "build removed while opening", str(build_dir))
    except BaseException:
        os.close(fd)
        raise
    return fd


def open_current(index_dir: Path) -> BuildLease:
    """Lease the build CURRENT names; raise IndexMissingError / IndexMismatchError with the fix.

    A build may replace CURRENT and delete the build it named between our reading CURRENT
    and locking that build; then CURRENT has changed and we try again with the new id.
    """
    for _ in range(20):
        build_id = read_current(index_dir)
        if build_id is None:
            if is_legacy_layout(index_dir):
                raise IndexMismatchError(
                    f"索引が旧い配置（{index_dir} 直下に manifest.json）で作られています。"
                    f"{_INDEX_AGAIN[0]}（新しい配置に作り直し、ベクトルは再利用されます）",
                    f"the index at {index_dir} uses the old layout (manifest.json directly in it): "
                    f"{_INDEX_AGAIN[1]} to rebuild it as versioned builds (vectors are reused)",
                )
            raise IndexMissingError(
                f"インデックスがありません: {index_dir}（{_INDEX_AGAIN[0]}）",
                f"no index at {index_dir}: {_INDEX_AGAIN[1]}",
            )
        if "/" in build_id or build_id.startswith("."):
            raise IndexCorruptError(
                f"索引の {CURRENT} ファイルが壊れています: {index_dir / CURRENT}（{_INDEX_AGAIN[0]}）",
                f"{index_dir / CURRENT} is corrupt ({_INDEX_AGAIN[1]}): {build_id[:80]!r}",
            )
        build_dir = builds_dir(index_dir) / build_id
        try:
            return BuildLease(build_dir, _lock_shared(build_dir))
        except FileNotFoundError:
            if read_current(index_dir) != build_id:
                continue  # a new build replaced it meanwhile
            raise IndexMissingError(
                f"{CURRENT} が指す索引 {build_id} がありません: {build_dir}（{_INDEX_AGAIN[0]}）",
                f"{index_dir / CURRENT} names build {build_id}, which is missing or unfinished at "
                f"{build_dir} ({_INDEX_AGAIN[1]})",
            ) from None
        except OSError as exc:
            raise IndexCorruptError(
                f"索引を開けません: {build_dir}（{exc.strerror}）",
                f"cannot open the index build at {build_dir}: {exc}",
            ) from exc
    raise IndexMissingError(
        f"索引が次々に作り直されていて開けません: {index_dir}（しばらくしてから再試行してください）",
        f"the index at {index_dir} kept changing while opening it: try again in a moment",
    )
