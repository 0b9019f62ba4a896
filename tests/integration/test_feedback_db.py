"""FeedbackStore on both of its databases: SQLite (the default) and a real PostgreSQL server.

Every test here runs once per backend. The PostgreSQL server is Debian's (installed by
scripts/install-services.sh): the module runs ``initdb`` into a temp dir and starts
``postgres`` on a free port of 127.0.0.1 (as the ``postgres`` user when the tests run as root,
since the server refuses to run as root), gives each test a fresh database and stops the
server at the end. Only missing PostgreSQL binaries skip the PostgreSQL half.
"""

from __future__ import annotations

import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text

from kb.errors import KBError
from kb.feedback import FeedbackError, FeedbackStore

CITATIONS = [{"n": 1, "chunk_id": "abc", "section": "第4章 › 4.2 › 取組1-2", "quote": "書かない窓口"}]
COLUMNS = ["id", "created_at", "question", "answer", "citations", "vote", "comment", "query"]
STARTUP_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 30.0


def _postgres_bin() -> Path | None:
    """The newest /usr/lib/postgresql/<version>/bin holding initdb and postgres."""
    candidates = [
        d
        for d in Path("/usr/lib/postgresql").glob("*/bin")
        if (d / "initdb").is_file() and (d / "postgres").is_file() and d.parent.name.isdigit()
    ]
    return max(candidates, key=lambda d: int(d.parent.name)) if candidates else None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class _Postgres:
    """A throwaway PostgreSQL server: trust authentication for role ``kb`` on 127.0.0.1 only."""

    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.root = Path(tempfile.mkdtemp(prefix="kb-pg-"))
        self.data = self.root / "data"
        self.sockets = self.root / "sockets"
        self.sockets.mkdir()
        self.port = _free_port()
        self.log = self.root / "postgres.log"
        self.proc: subprocess.Popen[bytes] | None = None
        # PostgreSQL refuses to run as root: run it as the postgres user (or nobody) then.
        self.user: str | None = None
        if os.geteuid() == 0:
            self.user = "postgres" if _user_exists("postgres") else "nobody"
            entry = pwd.getpwnam(self.user)
            for path in (self.root, self.sockets):
                os.chown(path, entry.pw_uid, entry.pw_gid)

    def _as_server_user(self) -> dict[str, object]:
        if self.user is None:
            return {}
        entry = pwd.getpwnam(self.user)
        return {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}

    def start(self) -> None:
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C", "TZ": "UTC"}
        subprocess.run(
            [
                str(self.bindir / "initdb"),
                "-D",
                str(self.data),
                "-U",
                "kb",
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C",
                "--no-sync",
            ],
            check=True,
            capture_output=True,
            env=env,
            timeout=STARTUP_TIMEOUT_S,
            cwd=self.root,
            **self._as_server_user(),  # type: ignore[arg-type]
        )
        log = self.log.open("wb")
        self.proc = subprocess.Popen(
            [
                str(self.bindir / "postgres"),
                "-D",
                str(self.data),
                "-k",
                str(self.sockets),
                "-p",
                str(self.port),
                "-h",
                "127.0.0.1",
                # A test server: durability off, small footprint.
                "-c",
                "fsync=off",
                "-c",
                "synchronous_commit=off",
                "-c",
                "full_page_writes=off",
                "-c",
                "shared_buffers=16MB",
                "-c",
                "max_connections=60",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            cwd=self.root,
            **self._as_server_user(),  # type: ignore[arg-type]
        )
        log.close()
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while not self._ready():
            if self.proc.poll() is not None:
                raise RuntimeError(f"postgres exited with {self.proc.returncode}: {self._log_tail()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"postgres not ready within {STARTUP_TIMEOUT_S:.0f}s: {self._log_tail()}")
            time.sleep(0.2)

    def _ready(self) -> bool:
        try:
            engine = create_engine(self.url("postgres"), connect_args={"connect_timeout": 2})
            try:
                with engine.connect() as conn:
                    conn.execute(text("SELECT 1"))
            finally:
                engine.dispose()
            return True
        except Exception:
            return False

    def _log_tail(self) -> str:
        try:
            return self.log.read_text(errors="replace")[-2000:]
        except OSError:
            return "(no log)"

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://kb@127.0.0.1:{self.port}/{database}"

    def create_database(self) -> str:
        name = f"fb_{uuid.uuid4().hex[:12]}"
        engine = create_engine(self.url("postgres"), isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
        finally:
            engine.dispose()
        return self.url(name)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)  # "fast" shutdown: ends open sessions
            try:
                self.proc.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=STOP_TIMEOUT_S)
        shutil.rmtree(self.root, ignore_errors=True)


def _user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False


@pytest.fixture(scope="module")
def postgres() -> Iterator[_Postgres]:
    bindir = _postgres_bin()
    if bindir is None:
        pytest.skip(
            "PostgreSQL binaries not found under /usr/lib/postgresql/*/bin "
            "(run `sudo bash scripts/install-services.sh`, as `make test` does)"
        )
    server = _Postgres(bindir)
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.server)])
def new_target(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[], Path | str]:
    """Makes a fresh, empty feedback database: a SQLite path or a PostgreSQL URL."""
    if request.param == "sqlite":
        counter = iter(range(1_000))
        return lambda: tmp_path / f"db{next(counter)}" / "feedback.sqlite3"
    server: _Postgres = request.getfixturevalue("postgres")
    return server.create_database


@pytest.fixture
def target(new_target: Callable[[], Path | str]) -> Path | str:
    return new_target()


def test_record_and_read_back(target: Path | str) -> None:
    store = FeedbackStore(target)
    first = store.record(
        "書かない窓口って何？", "申請書を書かずに…[1]", CITATIONS, vote=1, query="書かない窓口"
    )
    second = store.record("食堂のメニューは？", "資料には記載がありません", [], vote=-1, comment="  残念  ")
    assert second > first

    rows = store.records()
    assert [r.id for r in rows] == [first, second]
    assert rows[0].question == "書かない窓口って何？"
    assert rows[0].citations == tuple(CITATIONS)
    assert rows[0].vote == 1 and rows[0].query == "書かない窓口"
    assert rows[1].comment == "残念"
    assert rows[1].created_at.endswith("+00:00")
    assert [r.id for r in store.records(only_negative=True)] == [second]

    # Reopening sees the same rows; the table has the documented columns.
    assert FeedbackStore(target).records() == rows
    engine = create_engine(target if isinstance(target, str) else f"sqlite:///{target}")
    try:
        assert [c["name"] for c in inspect(engine).get_columns("feedback")] == COLUMNS
    finally:
        engine.dispose()


def test_bad_vote_is_a_bilingual_error(target: Path | str) -> None:
    store = FeedbackStore(target)
    with pytest.raises(FeedbackError) as info:
        store.record("q", "a", vote=0)
    assert isinstance(info.value, KBError) and info.value.ja and info.value.en
    assert store.records() == []


def test_the_database_refuses_a_bad_vote_too(target: Path | str) -> None:
    """The CHECK constraint holds for writers that bypass FeedbackStore."""
    FeedbackStore(target)
    engine = create_engine(target if isinstance(target, str) else f"sqlite:///{target}")
    try:
        with pytest.raises(Exception, match="(?i)check|constraint"), engine.begin() as conn:
            conn.execute(
                text("INSERT INTO feedback (created_at, question, answer, vote) VALUES ('t', 'q', 'a', 5)")
            )
    finally:
        engine.dispose()


def test_concurrent_writers_lose_no_rows(target: Path | str) -> None:
    threads, per_thread = 8, 25
    errors: list[BaseException] = []
    ids: list[int] = []
    lock = threading.Lock()
    start = threading.Barrier(threads)

    def writer(n: int) -> None:
        # Each thread opens its own store at once, as separate app workers or replicas would
        # (the table is created by whichever comes first).
        try:
            start.wait()
            store = FeedbackStore(target)
            for i in range(per_thread):
                new_id = store.record(f"質問 {n}-{i}", "回答", CITATIONS, vote=1 if i % 2 else -1)
                with lock:
                    ids.append(new_id)
            store.close()
        except BaseException as exc:
            errors.append(exc)

    workers = [threading.Thread(target=writer, args=(n,)) for n in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=120)
    assert not any(w.is_alive() for w in workers)

    assert errors == []
    rows = FeedbackStore(target).records()
    assert len(rows) == threads * per_thread
    assert sorted(ids) == [r.id for r in rows]
    assert {r.question for r in rows} == {f"質問 {n}-{i}" for n in range(threads) for i in range(per_thread)}


def test_two_replicas_see_each_others_writes(target: Path | str) -> None:
    replica_a, replica_b = FeedbackStore(target), FeedbackStore(target)
    a1 = replica_a.record("EBPMとは？", "EBPMは…[1]", CITATIONS, vote=1)
    assert [r.id for r in replica_b.records()] == [a1]
    b1 = replica_b.record("食堂は？", "記載がありません", [], vote=-1, comment="なし")
    a2 = replica_a.record("RPAとは？", "RPAは…", [], vote=-1)
    assert a1 < b1 < a2
    for replica in (replica_a, replica_b):
        rows = replica.records()
        assert [(r.id, r.question) for r in rows] == [(a1, "EBPMとは？"), (b1, "食堂は？"), (a2, "RPAとは？")]
        assert [r.id for r in replica.records(only_negative=True)] == [b1, a2]
        assert rows[1].comment == "なし" and rows[0].citations == tuple(CITATIONS)


def test_export_writes_draft_eval_questions(target: Path | str, tmp_path: Path) -> None:
    store = FeedbackStore(target)
    good = store.record("EBPMとは？", "EBPM（証拠に基づく政策立案）とは…[1]", CITATIONS, vote=1)
    bad = store.record(
        "市役所の食堂のメニューは？",
        "資料には記載がありません。",
        [],
        vote=-1,
        comment="載っていない？",
        query="食堂 メニュー",
    )
    again = store.record("市役所の食堂のメニューは？", "資料には記載がありません。", [], vote=-1)

    out = tmp_path / "out" / "feedback.jsonl"
    assert store.export_questions(out) == 1
    lines = out.read_text(encoding="utf-8").splitlines()
    item = json.loads(lines[0])
    assert set(item) == {"id", "question", "evidence", "answerable", "tags", "origin", "note"}
    assert item["id"] == f"fb-{bad}"
    assert item["question"] == "市役所の食堂のメニューは？"
    assert item["evidence"] == [] and item["answerable"] is True
    assert item["tags"] == ["feedback"] and item["origin"] == "feedback"
    note = item["note"]
    assert "DRAFT" in note and "evidence" in note
    assert f"#{bad}" in note and f"#{again}" in note
    assert "載っていない？" in note and "searched: 食堂 メニュー" in note and "👎" in note
    assert "市役所" in lines[0]  # written as UTF-8 text, not \\u escapes

    assert store.export_questions(out, only_negative=False) == 2
    items = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [i["id"] for i in items] == [f"fb-{good}", f"fb-{bad}"]
    assert "[1] 第4章 › 4.2 › 取組1-2" in items[0]["note"]


def test_empty_store_exports_an_empty_file(target: Path | str, tmp_path: Path) -> None:
    store = FeedbackStore(target)
    out = tmp_path / "empty.jsonl"
    assert store.export_questions(out) == 0
    assert out.read_text(encoding="utf-8") == ""


def test_long_fields_are_cut_not_refused(target: Path | str) -> None:
    store = FeedbackStore(target)
    store.record("質" * 30_000, "答" * 30_000, [], vote=-1, comment="c" * 30_000, query="q" * 30_000)
    (row,) = store.records()
    assert len(row.question) == len(row.answer) == len(row.comment) == len(row.query) == 20_000


@pytest.mark.server
def test_a_missing_database_is_a_feedback_error(postgres: _Postgres) -> None:
    """The server is up but the database in the URL was never created (create it first)."""
    with pytest.raises(FeedbackError) as missing:
        FeedbackStore(postgres.url("no_such_database"), timeout=5)
    assert "no_such_database" in missing.value.en and missing.value.ja
