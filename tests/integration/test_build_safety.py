"""Serving while re-indexing: versioned builds, the CURRENT switch, crashes and broken state.

Each test builds a small corpus in tmp_path (one shared Embedder, so the model loads once per
module). "Apps" are KBService objects that follow CURRENT between requests; re-indexing runs in
this process (default tests) or as ``python -m kb.cli index`` subprocesses (crash tests, and
the slow ones). Crashes are real SIGKILLs: at fixed points through the documented
``KBTEST_FAULT`` variable (indexer/build.py), and in the slow tests also after a delay or as
soon as the new build's folder appears.
"""

from __future__ import annotations

import gc
import os
import signal
import subprocess
import sys
import threading
import time
import traceback
from collections import Counter
from pathlib import Path

import pytest

from indexer.build import FAULT_ENV, BuildReport, build_index
from kb.app.service import KBService
from kb.config import PROJECT_ROOT, Settings
from kb.corpus import load_corpus
from kb.embed import Embedder
from kb.errors import IndexCorruptError, IndexMismatchError, IndexMissingError, IndexWriteError, KBError
from kb.knowledge import KnowledgeBase
from kb.manifest import read_current
from kb.retrieve import Filters

PLAN = """---
title: テスト計画
kind: plan
---
# 第1章 窓口

## 1.1 書かない窓口

申請書を書かずに手続きができる「書かない窓口」を令和6年度に導入します。待ち時間を短縮します。

## 1.2 キャッシュレス

窓口でキャッシュレス決済を導入し、多様な支払方法を選べるようにしました。

# 第2章 職員

## 2.1 テレワーク

職員のテレワーク環境を整備し、災害時にも業務を続けられるようにします。
"""

GLOSSARY = """---
title: 用語
kind: glossary
---
# 用語集

## ORDEN

ORDEN: 大阪広域データ連携基盤のこと。府内の自治体がデータを連携する仕組み。
"""

#: One new document per re-index, each with a word no other document has.
NEW_WORDS = ("PELICAN", "MAGNOLIA", "OCELOT", "TAMARIND")

QUERIES = ("書かない窓口はいつから", "キャッシュレス決済", "ORDEN", "テレワーク")
MODES = ("keyword", "semantic", "hybrid")
FILTERS = (None, Filters(kinds=("plan",)), Filters(chapter="第1章 窓口"))


def new_doc(word: str) -> str:
    return f"---\ntitle: {word}\nkind: plan\n---\n# 第9章 {word}\n\n## 9.1 {word}\n\n{word} は新しく追加した取り組みの名前です。\n"


@pytest.fixture(scope="module")
def embedder(base_settings: Settings) -> Embedder:
    return Embedder(base_settings)


@pytest.fixture
def settings(tmp_path: Path, base_settings: Settings) -> Settings:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "plan.md").write_text(PLAN, encoding="utf-8")
    (corpus / "glossary.md").write_text(GLOSSARY, encoding="utf-8")
    return base_settings.replace(corpus_dir=corpus, index_dir=tmp_path / "index")


def builds(settings: Settings) -> set[str]:
    """Build folders present (leftovers of interrupted removals included)."""
    root = settings.index_dir / "builds"
    return {p.name for p in root.iterdir()} if root.is_dir() else set()


def answers(kb: KnowledgeBase) -> dict[tuple[str, str, int], list[tuple[str, float]]]:
    """Every query in every mode and filter: (chunk id, rounded score) per hit."""
    return {
        (query, mode, i): [
            (h.chunk_id, round(h.score, 4)) for h in kb.search(query, mode=mode, k=3, filters=f)
        ]
        for query in QUERIES
        for mode in MODES
        for i, f in enumerate(FILTERS)
    }


def kb_env(settings: Settings, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KB_", FAULT_ENV))}
    env.update(HF_HUB_OFFLINE="1", KB_CORPUS_DIR=str(settings.corpus_dir), **extra)
    return env


def kb_cli(settings: Settings, *args: str, **extra: str) -> subprocess.Popen[str]:
    """``kb --index-dir <index> <args>`` as a separate process (not waited for)."""
    return subprocess.Popen(
        [sys.executable, "-m", "kb.cli", "--index-dir", str(settings.index_dir), *args],
        env=kb_env(settings, **extra),
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def run_cli(settings: Settings, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    proc = kb_cli(settings, *args, **extra)
    out, err = proc.communicate(timeout=600)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def assert_clear_cli_error(result: subprocess.CompletedProcess[str], *expected: str) -> None:
    assert result.returncode == 2, result.stderr
    assert "エラー" in result.stderr and "error:" in result.stderr
    assert "Traceback" not in result.stderr
    for text in expected:
        assert text in result.stderr, result.stderr


class Traffic:
    """Threads asking "apps" every mode and filter (and the answerer) until stopped; anything
    unexpected is an error. Each app is a KBService that follows CURRENT between requests."""

    def __init__(self, apps: list[KBService]) -> None:
        self.apps = apps
        self.errors: list[str] = []
        self.served: Counter[str] = Counter()  # build id -> requests answered from it
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._loop, args=(app, mode, f), daemon=True)
            for app in apps
            for mode in (*MODES, "answer")
            for f in ((None, FILTERS[1], FILTERS[2]) if mode == "hybrid" else (None,))
        ]

    def __enter__(self) -> Traffic:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=60)

    def _loop(self, app: KBService, mode: str, filters: Filters | None) -> None:
        n = 0
        while not self._stop.is_set():
            query = QUERIES[n % len(QUERIES)]
            n += 1
            try:
                kb, answerer = app.require()
                if mode == "answer":
                    answer = answerer.answer(query)
                    assert answer.answer and all(kb.chunk(c.chunk_id) for c in answer.citations)
                else:
                    hits = kb.search(query, mode=mode, k=3, filters=filters)
                    assert hits or filters is not None, (query, mode)
                    assert all(kb.chunk(h.chunk_id) is not None for h in hits)
                    if filters is not None:
                        assert all(filters.allows(kb.chunk(h.chunk_id)) for h in hits)  # type: ignore[arg-type]
                self.served[kb.build_id] += 1
            # Every failure is a finding; its traceback goes with it, so that a race seen once in
            # a CI log can be traced.
            except Exception as exc:
                self.errors.append(f"{mode} {query}: {type(exc).__name__}: {exc}\n{traceback.format_exc()}")
            time.sleep(0.01)


def wait_until_searchable(app: KBService, word: str, timeout: float = 60.0) -> str:
    """Ask ``app`` for ``word`` until its new build answers; return that build's id."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        kb, _ = app.require()
        hits = kb.search(word, mode="keyword", k=1)
        if hits and hits[0].doc_id == word.lower():
            return kb.build_id
        time.sleep(0.1)
    raise AssertionError(f"{word} never became searchable")


# --- re-indexing while apps serve ----------------------------------------------------------


def test_reindex_in_process_while_two_apps_serve(settings: Settings, embedder: Embedder) -> None:
    first = build_index(settings, embedder)
    apps = [KBService(settings, KnowledgeBase.open(settings, embedder), check_interval=0.2) for _ in range(2)]
    seen = [first.build_id]
    with Traffic(apps) as traffic:
        for word in NEW_WORDS[:3]:
            time.sleep(0.5)  # let every thread run on the current build
            (settings.corpus_dir / f"{word.lower()}.md").write_text(new_doc(word), encoding="utf-8")
            report = build_index(settings, embedder)
            assert report.reused > 0 and report.embedded > 0  # incremental: old vectors copied
            for app in apps:
                assert wait_until_searchable(app, word) == report.build_id
            seen.append(report.build_id)
        time.sleep(0.5)
    assert traffic.errors == []
    assert set(traffic.served) == set(seen)  # every build answered requests
    assert sum(traffic.served.values()) > 100
    # The apps let go of the builds they switched away from: the next build removes them all.
    del traffic
    gc.collect()
    (settings.corpus_dir / "last.md").write_text(new_doc(NEW_WORDS[3]), encoding="utf-8")
    last = build_index(settings, embedder)
    # (builds released earlier were removed by the builds during the traffic already)
    assert set(last.removed_builds) <= set(seen[:-1])
    assert last.kept_builds == [seen[-1]]  # both apps still serve it until their next request
    assert builds(settings) == {seen[-1], last.build_id}


def test_app_checks_current_at_most_every_interval(settings: Settings, embedder: Embedder) -> None:
    build_index(settings, embedder)
    app = KBService(settings, KnowledgeBase.open(settings, embedder), check_interval=3600)
    old = app.require()[0]
    (settings.corpus_dir / "pelican.md").write_text(new_doc("PELICAN"), encoding="utf-8")
    new = build_index(settings, embedder).build_id
    assert app.require()[0] is old  # CURRENT was read less than check_interval ago
    app.check_interval = 0.5
    time.sleep(0.6)
    kb, answerer = app.require()
    assert kb.build_id == new and answerer.kb is kb
    assert old.search("PELICAN", mode="keyword", k=1) == []  # a running request keeps its build
    assert kb.search("PELICAN", mode="keyword", k=1)[0].doc_id == "pelican"


@pytest.mark.slow
def test_reindex_by_another_process_while_serving(settings: Settings, embedder: Embedder) -> None:
    first = build_index(settings, embedder)
    apps = [KBService(settings, KnowledgeBase.open(settings, embedder), check_interval=0.5)]
    seen = [first.build_id]
    with Traffic(apps) as traffic:
        for word in NEW_WORDS[:3]:
            (settings.corpus_dir / f"{word.lower()}.md").write_text(new_doc(word), encoding="utf-8")
            result = run_cli(settings, "index", "--quiet", "--json")
            assert result.returncode == 0, result.stderr
            seen.append(wait_until_searchable(apps[0], word))
            assert seen[-1] == read_current(settings.index_dir)
    assert traffic.errors == []
    assert set(traffic.served) == set(seen)
    assert len(set(seen)) == 4


# --- crash safety -----------------------------------------------------------------------------


def _crash_and_check(settings: Settings, embedder: Embedder, kills: list[dict[str, object]]) -> None:
    """Build, change the corpus, kill `kb index` as each entry of ``kills`` says, and check that
    the previous build answers exactly as before, then that the next build completes and cleans."""
    first = build_index(settings, embedder).build_id
    expected = answers(KnowledgeBase.open(settings, embedder))
    app = KBService(settings, KnowledgeBase.open(settings, embedder), check_interval=0)
    (settings.corpus_dir / "pelican.md").write_text(new_doc("PELICAN"), encoding="utf-8")
    for kill in kills:
        existing = builds(settings)
        fault = kill.get("fault")
        if "after" in kill:
            # A kill after N seconds must find the process alive: a small build can finish in a
            # few seconds (and faster now that vectors are reused by text), so it waits before
            # the switch instead of completing; the kill lands wherever it is at N seconds.
            fault = "current:sleep=60"
        proc = kb_cli(settings, "index", "--quiet", **({FAULT_ENV: str(fault)} if fault else {}))
        if "after" in kill:
            time.sleep(float(kill["after"]))  # type: ignore[arg-type]
            proc.send_signal(signal.SIGKILL)
        elif kill.get("when") == "new build folder":
            while proc.poll() is None and builds(settings) <= existing:
                time.sleep(0.005)
            proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=600)
        assert proc.returncode == -signal.SIGKILL, (kill, proc.returncode)
        assert read_current(settings.index_dir) == first, kill
        assert answers(KnowledgeBase.open(settings, embedder)) == expected, kill
        assert answers(app.require()[0]) == expected, kill  # the serving app never noticed
    gc.collect()
    report = build_index(settings, embedder)
    assert not report.unchanged and report.reused > 0
    assert builds(settings) == {report.build_id, first}  # the app still holds the first
    assert report.kept_builds == [first]
    assert wait_until_searchable(app, "PELICAN") == report.build_id
    gc.collect()
    (settings.corpus_dir / "magnolia.md").write_text(new_doc("MAGNOLIA"), encoding="utf-8")
    last = build_index(settings, embedder)
    assert last.removed_builds == [first] and last.kept_builds == [report.build_id]  # the app's


def test_killed_just_before_the_switch_leaves_the_previous_build(
    settings: Settings, embedder: Embedder
) -> None:
    """The most complete a killed build gets: every file written, CURRENT not yet replaced."""
    _crash_and_check(settings, embedder, [{"fault": "current:kill"}])


@pytest.mark.slow
def test_killed_at_every_stage_leaves_the_previous_build(settings: Settings, embedder: Embedder) -> None:
    _crash_and_check(
        settings,
        embedder,
        [
            {"after": 0.5},
            {"after": 2.0},
            {"after": 5.0},
            {"when": "new build folder"},
            {"fault": "keyword:kill"},
            {"fault": "chunks:kill"},
            {"fault": "chroma:kill"},
            {"fault": "manifest:kill"},
        ],
    )


def test_killed_after_the_switch_serves_the_new_build(settings: Settings, embedder: Embedder) -> None:
    first = build_index(settings, embedder).build_id
    (settings.corpus_dir / "pelican.md").write_text(new_doc("PELICAN"), encoding="utf-8")
    result = run_cli(settings, "index", "--quiet", **{FAULT_ENV: "flipped:kill"})
    assert result.returncode == -signal.SIGKILL
    new = read_current(settings.index_dir)
    assert new != first and builds(settings) == {first, new}  # killed before removing the old one
    assert (
        KnowledgeBase.open(settings, embedder).search("PELICAN", mode="keyword", k=1)[0].doc_id == "pelican"
    )
    gc.collect()
    report = build_index(settings, embedder)
    assert report.unchanged and report.removed_builds == [first] and builds(settings) == {new}


# --- old builds: deleted when nobody holds them -------------------------------------------------


READER = """
import sys
from kb.config import load_settings
from kb.knowledge import KnowledgeBase
kb = KnowledgeBase.open(load_settings().replace(index_dir=sys.argv[1]))
print(kb.build_id, flush=True)
sys.stdin.readline()
"""


def test_old_builds_removed_only_when_released(settings: Settings, embedder: Embedder) -> None:
    def rebuild(word: str) -> BuildReport:
        (settings.corpus_dir / f"{word.lower()}.md").write_text(new_doc(word), encoding="utf-8")
        return build_index(settings, embedder)

    b1 = build_index(settings, embedder).build_id
    held = KnowledgeBase.open(settings, embedder)
    before = answers(held)
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(settings.index_dir)],
        env=kb_env(settings),
        cwd=PROJECT_ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert reader.stdout is not None and reader.stdout.readline().strip() == b1
        r2 = rebuild("PELICAN")
        assert r2.kept_builds == [b1] and r2.removed_builds == []
        assert answers(held) == before  # the held build still answers, unchanged
        r3 = rebuild("MAGNOLIA")
        assert r3.removed_builds == [r2.build_id] and r3.kept_builds == [b1]
        held.close()
        r4 = rebuild("OCELOT")
        assert r4.kept_builds == [b1]  # the other process still has it open
    finally:
        reader.kill()  # SIGKILL: the kernel drops its lock
        reader.wait()
    r5 = rebuild("TAMARIND")
    assert set(r5.removed_builds) == {b1, r4.build_id}
    # A KnowledgeBase nobody references any more is released without close().
    KnowledgeBase.open(settings, embedder).search("ORDEN", mode="hybrid", k=1)
    gc.collect()
    (settings.corpus_dir / "pelican.md").unlink()
    assert build_index(settings, embedder).removed_builds == [r5.build_id]
    assert len(builds(settings)) == 1


def test_unfinished_build_folders_are_removed_by_the_next_build(
    settings: Settings, embedder: Embedder
) -> None:
    first = build_index(settings, embedder).build_id
    root = settings.index_dir / "builds"
    (root / "20000101T000000Z-dead00" / "keyword").mkdir(parents=True)  # killed before its lock file
    (root / "20000101T000000Z-dead01").mkdir()
    (root / "20000101T000000Z-dead01" / "in-use.lock").touch()
    (root / ".trash-20000101T000000Z-dead02").mkdir()  # killed while deleting
    report = build_index(settings, embedder)  # corpus unchanged: no new build, still cleans
    assert report.unchanged and report.build_id == first
    assert set(report.removed_builds) == {"20000101T000000Z-dead00", "20000101T000000Z-dead01"}
    assert builds(settings) == {first}


def test_old_layout_is_refused_then_migrated(settings: Settings, embedder: Embedder) -> None:
    first = build_index(settings, embedder)
    # Turn the index into the layout of earlier versions: the build's files directly in index_dir.
    build = settings.index_dir / "builds" / first.build_id
    (build / "in-use.lock").unlink()
    for item in build.iterdir():
        item.rename(settings.index_dir / item.name)
    build.rmdir()
    (settings.index_dir / "CURRENT").unlink()
    with pytest.raises(IndexMismatchError) as info:
        KnowledgeBase.open(settings, embedder)
    assert "kb index" in info.value.ja and "run `kb index`" in info.value.en and "old layout" in info.value.en
    report = build_index(settings, embedder)
    assert report.embedded == 0 and report.reused == first.chunks + first.sentences  # vectors kept
    assert not (settings.index_dir / "manifest.json").exists()
    assert not (settings.index_dir / "chroma").exists()
    assert KnowledgeBase.open(settings, embedder).search("ORDEN", mode="hybrid", k=1)[0].doc_id == "glossary"


# --- broken state: specific bilingual messages, never a traceback ------------------------------


def test_current_naming_a_missing_build(settings: Settings, embedder: Embedder) -> None:
    build_index(settings, embedder)
    (settings.index_dir / "CURRENT").write_text("20000101T000000Z-gone00\n", encoding="utf-8")
    with pytest.raises(IndexMissingError) as info:
        KnowledgeBase.open(settings, embedder)
    assert "20000101T000000Z-gone00" in info.value.ja and "`kb index`" in info.value.ja
    assert "run `kb index`" in info.value.en
    result = run_cli(settings, "search", "ORDEN", "--mode", "keyword")
    assert_clear_cli_error(result, "20000101T000000Z-gone00", "kb index")
    report = build_index(settings, embedder)  # the fix the message gives
    assert not report.unchanged
    assert KnowledgeBase.open(settings, embedder).search("ORDEN", mode="keyword", k=1)


@pytest.mark.parametrize("cut", ["whole lines", "mid line"])
def test_truncated_chunk_file(settings: Settings, embedder: Embedder, cut: str) -> None:
    build_index(settings, embedder)
    path = KnowledgeBase.open(settings, embedder).build_dir / "chunks.jsonl"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    path.write_text(
        "".join(lines[: len(lines) // 2]) + ("" if cut == "whole lines" else lines[-1][:20]), encoding="utf-8"
    )
    with pytest.raises(IndexCorruptError) as info:
        KnowledgeBase.open(settings, embedder)
    assert "chunks.jsonl" in info.value.ja and "kb index --rebuild" in info.value.ja
    assert "run `kb index --rebuild`" in info.value.en
    report = build_index(settings, embedder)  # even a plain `kb index` sees the damage
    assert not report.unchanged
    assert len(KnowledgeBase.open(settings, embedder).chunks) == report.chunks


def test_truncated_keyword_files(settings: Settings, embedder: Embedder) -> None:
    build_index(settings, embedder)
    keyword = KnowledgeBase.open(settings, embedder).build_dir / "keyword"
    files = sorted(p for p in keyword.rglob("*") if p.is_file() and p.stat().st_size > 8)
    assert len(files) >= 5
    for path in files:
        original = path.read_bytes()
        path.write_bytes(original[: len(original) // 2])
        with pytest.raises(IndexCorruptError) as info:
            KnowledgeBase.open(settings, embedder)
        assert "kb index --rebuild" in info.value.ja and "run `kb index --rebuild`" in info.value.en, path
        path.write_bytes(original)
    path = keyword / "chunk_ids.json"
    path.write_text(path.read_text(encoding="utf-8")[:10], encoding="utf-8")
    result = run_cli(settings, "search", "ORDEN")
    assert_clear_cli_error(result, "キーワード索引が壊れています", "keyword index is corrupt")


def test_read_only_index_folder_keeps_serving(
    settings: Settings, embedder: Embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    build_index(settings, embedder)
    app = KBService(settings, KnowledgeBase.open(settings, embedder), check_interval=0)
    before = answers(app.require()[0])
    (settings.corpus_dir / "pelican.md").write_text(new_doc("PELICAN"), encoding="utf-8")
    index = settings.index_dir
    writable = [index, index / "builds"]
    if os.geteuid() != 0:
        for folder in writable:
            folder.chmod(0o555)
        fault: dict[str, str] = {}
    else:  # root writes anyway: make the build fail as a read-only folder would
        fault = {FAULT_ENV: "start:eacces"}
    try:
        result = run_cli(settings, "index", "--quiet", **fault)
        assert_clear_cli_error(result, "書き込めません", "cannot write to the index folder", "--index-dir")
        for name, value in fault.items():
            monkeypatch.setenv(name, value)
        with pytest.raises(IndexWriteError):
            build_index(settings, embedder)
    finally:
        for folder in writable:
            folder.chmod(0o755)
    assert answers(app.require()[0]) == before
    assert answers(KnowledgeBase.open(settings, embedder)) == before


@pytest.mark.parametrize("point", ["keyword", "chroma", "manifest", "current"])
def test_full_disk_during_a_build(
    settings: Settings, embedder: Embedder, point: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = build_index(settings, embedder).build_id
    before = answers(KnowledgeBase.open(settings, embedder))
    (settings.corpus_dir / "pelican.md").write_text(new_doc("PELICAN"), encoding="utf-8")
    monkeypatch.setenv(FAULT_ENV, f"{point}:enospc")  # the documented fault hook, not a patch
    with pytest.raises(IndexWriteError) as info:
        build_index(settings, embedder)
    assert "空き容量" in info.value.ja and "kb index" in info.value.ja and "そのまま使えます" in info.value.ja
    assert "no space left" in info.value.en and "keeps serving" in info.value.en
    assert builds(settings) == {first}  # the half-written build is gone
    assert read_current(settings.index_dir) == first
    assert answers(KnowledgeBase.open(settings, embedder)) == before
    monkeypatch.delenv(FAULT_ENV)
    assert build_index(settings, embedder).build_id != first


def test_non_utf8_corpus_files_are_skipped_with_the_fix(settings: Settings, embedder: Embedder) -> None:
    (settings.corpus_dir / "sjis.txt").write_bytes("第1章 概要\n\n市の計画です。\n".encode("shift_jis"))
    (settings.corpus_dir / "bad.md").write_bytes(b"# title\n\nok \xff\xfe\x80 broken\n")
    report = build_index(settings, embedder)
    assert report.documents == 2
    skipped = " ".join(report.skipped_files)
    assert "sjis.txt" in skipped and "bad.md" in skipped and "re-save it as UTF-8" in skipped
    _, problems = load_corpus(settings.corpus_dir)
    assert all("UTF-8 で保存し直してください" in p.ja for p in problems) and len(problems) == 2
    result = run_cli(settings, "index", "--quiet")
    assert result.returncode == 0 and "Traceback" not in result.stderr
    assert "sjis.txt" in result.stderr and "re-save it as UTF-8" in result.stderr


def test_errors_are_kb_errors(settings: Settings, embedder: Embedder) -> None:
    """Opening an index that was never built is the usual first error: specific, bilingual."""
    with pytest.raises(KBError) as info:
        KnowledgeBase.open(settings, embedder)
    assert isinstance(info.value, IndexMissingError) and "kb index" in info.value.ja
