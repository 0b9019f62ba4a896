"""The builds folder of an index: one build at a time, flushing a finished build, and removing
old builds once no process has them open (kb/manifest.py describes the layout)."""

from __future__ import annotations

import errno
import fcntl
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from kb.config import Settings
from kb.errors import IndexWriteError, KBError
from kb.knowledge import open_store
from kb.manifest import BUILD_LOCK, CHUNKS, CURRENT, IN_USE, MANIFEST, builds_dir, fsync_dir
from kb.progress import Progress

_TRASH = ".trash-"


def write_error(where: Path, exc: BaseException) -> IndexWriteError | None:
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
def one_build_at_a_time(index_dir: Path, report: Progress) -> Iterator[None]:
    """Hold ``index_dir/.build.lock`` exclusively (waiting for another build to finish)."""
    try:
        builds_dir(index_dir).mkdir(parents=True, exist_ok=True)
        fd = os.open(index_dir / BUILD_LOCK, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise (write_error(index_dir, exc) or exc) from exc
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            report("別の索引作成の終了を待っています / waiting for another build to finish", 0.0)
            fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def fsync_tree(folder: Path) -> None:
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


def remove_old_builds(settings: Settings, keep: str) -> tuple[list[str], list[str]]:
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
        drop_collections(settings, unused)
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


def remove_legacy_layout(index_dir: Path) -> None:
    """Delete an old-layout index (files directly in index_dir, now replaced by a build),
    manifest first. Stop apps of the old version before upgrading: they read these files."""
    if not (index_dir / MANIFEST).exists():
        return
    for name in (MANIFEST, CHUNKS):
        (index_dir / name).unlink(missing_ok=True)
    for name in ("keyword", "chroma"):
        shutil.rmtree(index_dir / name, ignore_errors=True)


def drop_collections(settings: Settings, names: list[str]) -> None:
    """Delete collections from the Chroma server (server mode only)."""
    for name in names:
        try:
            store = open_store(settings, settings.index_dir, name)
            store.delete_collection()
            store.close()
        except Exception:  # best effort: a later build retries
            pass
