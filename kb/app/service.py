"""The knowledge base behind the app: opened (or built) in the background, with progress.

:class:`KBService` owns the KnowledgeBase and the Answerer. When the index is missing, built
with other settings or older than the corpus, it is (re)built in a background thread while
``status`` reports the stage; a stale index keeps answering until the new one is ready, and a
failed build leaves the old one in place. When ``kb index`` (any process) makes a new build
current, the next request switches to it (:meth:`KBService.require`); requests already running
finish on the build they started with. It also resolves what the UI sends (a chapter, a
document, a section) to library objects, with bilingual errors for anything unknown.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kb.answer import Answerer
from kb.app.outline import SectionView, TreeNode, find_node, section_tree, section_view
from kb.chunk import SectionRef
from kb.config import Settings
from kb.corpus import SECTION_SEPARATOR, Document
from kb.errors import IndexCorruptError, IndexMismatchError, IndexMissingError, KBError
from kb.knowledge import KnowledgeBase
from kb.manifest import read_current

log = logging.getLogger("kb.app")

#: Seconds before a build that failed to open is tried again (it may have been a passing problem).
RETRY_REFUSED_S = 30.0

#: Called with (stage, fraction 0..1) on every preparation step.
ProgressHook = Callable[[str, float], None]


class InternalError(KBError):
    """An unexpected failure, shown without a stack trace (the terminal log has it)."""

    def __init__(self) -> None:
        super().__init__(
            "内部エラーが発生しました。もう一度お試しください。続く場合は管理者に連絡してください。",
            "internal error: please try again; if it persists, tell the administrator (details in the server log)",
        )


@dataclass
class Status:
    stage: str = "起動中 / starting"
    fraction: float = 0.0
    ready: bool = False
    building: bool = False
    error: KBError | None = None


class TerminalProgress:
    """Prints build stages and every 10 % to stderr, so a first run is never a long silence."""

    def __init__(self) -> None:
        self._last: tuple[str, int] = ("", -1)

    def __call__(self, stage: str, fraction: float) -> None:
        step = int(fraction * 10)
        if (stage, step) != self._last:
            self._last = (stage, step)
            _say(f"{stage} {int(fraction * 100):3d}%")


def _say(message: str) -> None:
    sys.stderr.write(f"[kb] {message}\n")
    sys.stderr.flush()


@dataclass(frozen=True)
class _Live:
    """What requests use, replaced as one object so a request never mixes two builds."""

    kb: KnowledgeBase
    answerer: Answerer
    documents: dict[str, Document]
    outlines: dict[str, list[TreeNode]]


class KBService:
    """Owns the KnowledgeBase and Answerer for the app, (re)building the index when needed.

    ``progress`` (optional) is called with every preparation stage, after ``status`` changed.
    ``check_interval``: how often (seconds, at most) a request looks at ``CURRENT`` for a newer
    build.
    """

    def __init__(
        self,
        settings: Settings,
        kb: KnowledgeBase | None = None,
        progress: ProgressHook | None = None,
        check_interval: float = 2.0,
    ):
        self.settings = settings
        self.status = Status()
        self.check_interval = check_interval
        self._live: _Live | None = None
        self._thread: threading.Thread | None = None
        self._hooks: list[ProgressHook] = [TerminalProgress()] + ([progress] if progress else [])
        self._switching = threading.Lock()
        self._checked_at = time.monotonic()
        self._refused: tuple[str, float] = ("", 0.0)  # a build that failed to open, and when
        if kb is not None:
            self._install(kb)

    @property
    def kb(self) -> KnowledgeBase | None:
        live = self._live
        return live.kb if live else None

    @property
    def answerer(self) -> Answerer | None:
        live = self._live
        return live.answerer if live else None

    @property
    def documents(self) -> dict[str, Document]:
        live = self._live
        return live.documents if live else {}

    # Preparation -----------------------------------------------------------------------

    def start(self) -> None:
        """Open (or build) the index in a background thread; does nothing if already started."""
        if self.status.ready or self._thread is not None:
            return
        self._thread = threading.Thread(target=self._prepare, name="kb-prepare", daemon=True)
        self._thread.start()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until preparation finished (ready or failed); True when ready."""
        if self._thread is not None:
            self._thread.join(timeout)
        return self.status.ready

    def _report(self, stage: str, fraction: float) -> None:
        self.status.stage, self.status.fraction = stage, fraction
        for hook in self._hooks:
            hook(stage, fraction)

    def _prepare(self) -> None:
        started = time.perf_counter()
        try:
            self._report("索引を開いています / opening the index", 0.0)
            try:
                kb: KnowledgeBase | None = KnowledgeBase.open(self.settings)
            except (IndexMissingError, IndexMismatchError, IndexCorruptError) as exc:
                _say(f"{exc.ja}\n[kb] {exc.en}")
                kb = None
            if kb is not None and not kb.is_stale():
                self._install(self._warm_up(kb))
            else:
                self._build(stale=kb)
        except KBError as exc:
            self.status.error = exc
            _say(f"エラー: {exc.ja}\n[kb] error: {exc.en}")
        except Exception:  # the app must stay up and say so
            log.exception("index preparation failed")
            self.status.error = InternalError()
        finally:
            self.status.building = False
            _say(f"準備時間 / prepared in {time.perf_counter() - started:.1f} s")

    def _build(self, stale: KnowledgeBase | None) -> None:
        """Build the index; a stale one keeps answering meanwhile and stays if the build fails."""
        from indexer.build import build_index  # only needed on first run

        self.status.building = True
        if stale is not None:
            _say("コーパスが変更されています。古い索引で回答しながら更新します / corpus changed: rebuilding")
            self._install(stale)
        build_index(self.settings, progress=self._report)
        self._report("索引を開いています / opening the index", 1.0)
        self._install(self._warm_up(KnowledgeBase.open(self.settings)))

    def _install(self, kb: KnowledgeBase, previous: Answerer | None = None) -> None:
        # The writer (an LLM client, if any) does not depend on the build: keep it on a switch.
        answerer = (
            Answerer(kb, self.settings, previous.writer)
            if previous
            else Answerer.from_settings(kb, self.settings)
        )
        documents = {d.doc_id: d for d in kb.documents()}
        self._live = _Live(kb, answerer, documents, {})  # one assignment: the switch is atomic
        self.status.ready, self.status.error = True, None

    def follow_current(self, force: bool = False) -> None:
        """Switch to the build ``CURRENT`` names if it changed (checked at most every
        ``check_interval`` seconds unless ``force``). Only one request opens the new build;
        the others meanwhile go on with the old one. The old build is released when the last
        request using it finishes (garbage collection closes its KnowledgeBase)."""
        live = self._live
        now = time.monotonic()
        if live is None or (not force and now - self._checked_at < self.check_interval):
            return
        if not self._switching.acquire(blocking=False):
            return
        current: str | None = None
        try:
            self._checked_at = now
            current = read_current(self.settings.index_dir)
            live = self._live
            if live is None or current in (None, live.kb.build_id) or not live.kb.build_id:
                return
            if current == self._refused[0] and now - self._refused[1] < RETRY_REFUSED_S:
                return
            kb = KnowledgeBase.open(self.settings, embedder=live.kb.retriever.embedder)
            self._install(kb, previous=live.answerer)
            _say(f"新しい索引に切り替えました / switched to build {kb.build_id}")
        except KBError as exc:
            self._refused = (current or "", now)
            _say(
                f"新しい索引を開けません。前の索引で回答を続けます: {exc.ja}\n[kb] cannot open the new build, still serving the previous one: {exc.en}"
            )
        except Exception:
            self._refused = (current or "", now)
            log.exception("switching to build %s failed", current)
        finally:
            self._switching.release()

    def _warm_up(self, kb: KnowledgeBase) -> KnowledgeBase:
        """Load the embedding model now rather than on the first question."""
        self._report("モデルを読み込んでいます / loading the model", 1.0)
        kb.search("情報化計画", mode="hybrid", k=1)
        self._report("準備完了 / ready", 1.0)
        return kb

    # What the UI needs ---------------------------------------------------------------------

    def require(self) -> tuple[KnowledgeBase, Answerer]:
        """The KB and answerer (of the newest build, see :meth:`follow_current`), or a bilingual
        KBError explaining why they are not there yet."""
        self.follow_current()
        live = self._live
        if live is not None:
            return live.kb, live.answerer
        if self.status.error is not None:
            raise self.status.error
        pct = int(self.status.fraction * 100)
        raise KBError(
            f"索引を準備しています（{self.status.stage} {pct}%）。完了までしばらくお待ちください。",
            f"the index is being prepared ({pct}%); please wait until it is ready",
        )

    def chapters(self) -> list[str]:
        """Top-level headings for the chapter filter ([] until the index is open)."""
        kb = self.kb
        return kb.chapters() if kb else []

    def chunk_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        kb = self.kb
        for chunk in kb.chunks if kb else []:
            counts[chunk.doc_id] = counts.get(chunk.doc_id, 0) + 1
        return counts

    def resolve_chapter(self, name: str | None) -> str | None:
        """A chapter by its heading (or a unique part of it); None for "all chapters"."""
        if not name or not str(name).strip():
            return None
        name = str(name).strip()
        chapters = self.chapters()
        found = _pick(name, chapters, chapters)
        if found is None:
            raise KBError(
                f"「{name}」という章はありません。次から選んでください: {'、'.join(chapters)}",
                f"unknown chapter {name!r}; choose one of: {', '.join(chapters)}",
            )
        return found

    def resolve_document(self, name: str | None) -> Document:
        """A document by its id or title (or a unique part of the title)."""
        name = str(name or "").strip()
        docs = list(self.documents.values())
        doc = _pick(name, [d.doc_id for d in docs] + [d.title for d in docs], docs + docs) if name else None
        if doc is None:
            titles = "、".join(d.title for d in docs)
            raise KBError(
                f"「{name}」という資料はありません。次から選んでください: {titles}",
                f"unknown document {name!r}; choose one of: {', '.join(d.doc_id for d in docs)}",
            )
        return doc

    def outline(self, doc: Document) -> list[TreeNode]:
        """The document's headings (cached until the index is reinstalled)."""
        live = self._live
        outlines: dict[str, list[TreeNode]] = live.outlines if live else {}
        nodes = outlines.get(doc.doc_id)
        if nodes is None:
            nodes = outlines[doc.doc_id] = section_tree(doc)
        return nodes

    def resolve_section(self, doc: Document, name: str | None) -> TreeNode:
        """A heading of ``doc`` by its path (「第1章 … › 1.3 計画期間」), its label, or a unique
        heading or part of one (「1.3 計画期間」)."""
        nodes = self.outline(doc)
        name = str(name or "").strip()
        if not name:
            return nodes[0]
        for node in nodes:
            if name in (node.key, node.label.strip("\u3000 ■└"), node.label):
                return node
        found = _pick(name, [n.title for n in nodes], nodes)
        if found is None:
            raise KBError(
                f"「{doc.title}」に「{name}」という節はありません。一覧から選んでください。",
                f"no section {name!r} in {doc.doc_id}; pick one from the list (path as 「A{SECTION_SEPARATOR}B」)",
            )
        return found

    def section_text(self, ref: SectionRef) -> str | None:
        """The text under a section (an abstention's suggestion), by its structured reference."""
        doc = self.documents.get(ref.doc_id)
        if doc is None:
            return None
        node = find_node(self.outline(doc), ref.heading_path)
        return doc.text[node.start : node.end].strip("\n") if node else None

    def section_view(self, citation: Any) -> SectionView | None:
        """The whole section around a cited chunk (kb.answer.Citation)."""
        kb = self.kb
        chunk = kb.chunk(citation.chunk_id) if kb else None
        return section_view(
            self.documents.get(citation.doc_id),
            citation.chunk_text,
            chunk.start if chunk else None,
            chunk.end if chunk else None,
        )


def _pick(name: str, keys: list[str], values: list[Any]) -> Any:
    """The value whose key equals ``name``, else the only one whose key contains it, else None."""
    for key, value in zip(keys, values, strict=True):
        if key == name:
            return value
    partial = {id(v): v for key, v in zip(keys, values, strict=True) if name in key}
    return next(iter(partial.values())) if len(partial) == 1 else None
