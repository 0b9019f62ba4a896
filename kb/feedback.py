"""👍/👎 feedback from the app, in one database table, exportable as eval questions.

The table lives in SQLite beside the index by default (``settings.feedback_db``, WAL mode, so
several workers of one app can record at once without losing rows or blocking readers) or,
for several app replicas, in the database ``settings.database_url`` names, such as
``postgresql+psycopg://kb:secret@db.internal/kb`` (SQLAlchemy Core, one engine per store).
Files written before the move to SQLAlchemy open as they are: same table, same columns.

>>> store = FeedbackStore.from_settings(settings)                      # doctest: +SKIP
>>> store.record("EBPMとは？", "EBPMは…[1]", [{"n": 1, "section": "…"}], vote=-1)  # doctest: +SKIP
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    CheckConstraint,
    Column,
    Integer,
    MetaData,
    Table,
    Text,
    create_engine,
    insert,
    select,
    text,
)
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import ArgumentError, OperationalError, SQLAlchemyError
from sqlalchemy.schema import CreateTable

from kb.errors import KBError

if TYPE_CHECKING:
    from kb.config import Settings

MAX_FIELD_CHARS = 20_000
NOTE_ANSWER_CHARS = 120
DRAFT_NOTE = (
    "要確認の下書き（フィードバック由来）: 回答可否を資料で判断し、evidence に根拠の抜粋を入れるか"
    " answerable=false・unanswerable タグにする。id は次の q 番号、split は split_for_new_question(id)、"
    "tags は種類タグ＋型タグに付け替える / DRAFT from app feedback: answerable=true and evidence=[] are"
    " placeholders; decide from the document, fill 1-3 verbatim evidence spans (or mark unanswerable),"
    " renumber the id, add split and real tags (eval/QUESTIONS.md)"
)

_metadata = MetaData()
#: The one table. Names, order and defaults are those of the SQLite files written before
#: SQLAlchemy (``CREATE TABLE feedback (id INTEGER PRIMARY KEY AUTOINCREMENT, ...)``).
FEEDBACK = Table(
    "feedback",
    _metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("created_at", Text, nullable=False),
    Column("question", Text, nullable=False),
    Column("answer", Text, nullable=False),
    Column("citations", Text, nullable=False, server_default="[]"),
    Column("vote", Integer, CheckConstraint("vote IN (-1, 1)", name="feedback_vote"), nullable=False),
    Column("comment", Text, nullable=False, server_default=""),
    Column("query", Text, nullable=False, server_default=""),
    sqlite_autoincrement=True,
)
_COLUMNS = [
    FEEDBACK.c.id,
    FEEDBACK.c.created_at,
    FEEDBACK.c.question,
    FEEDBACK.c.answer,
    FEEDBACK.c.citations,
    FEEDBACK.c.vote,
    FEEDBACK.c.comment,
    FEEDBACK.c.query,
]
#: PostgreSQL advisory lock key held while creating the table, so replicas starting together
#: do not race on CREATE TABLE (any constant works; this is "kbfb" in ASCII).
_SCHEMA_LOCK = 0x6B626662


class FeedbackError(KBError):
    """Feedback cannot be stored or exported (bad vote, unreachable database, unwritable file)."""


@dataclass(frozen=True)
class FeedbackRecord:
    """One stored vote on one answer."""

    id: int
    created_at: str
    question: str
    answer: str
    citations: tuple[dict[str, Any], ...]
    vote: int
    comment: str
    query: str


def _as_url(target: Path | str) -> URL:
    """A SQLAlchemy URL for ``target``: a URL as given, or a file path as a SQLite URL."""
    if isinstance(target, str) and "://" in target:
        return make_url(target)
    return URL.create("sqlite", database=str(Path(target).expanduser()))


class FeedbackStore:
    """The feedback table in ``target``: a SQLite file path (created with its folder on first
    use) or a SQLAlchemy database URL (``postgresql+psycopg://…``; the database must exist,
    the table is created if missing).

    ``timeout`` is how long to wait for SQLite's write lock, or to connect to a server.
    """

    def __init__(self, target: Path | str, timeout: float = 30.0) -> None:
        self.timeout = timeout
        try:
            url = _as_url(target)
        except (ArgumentError, ValueError) as exc:
            raise FeedbackError(
                "フィードバックのデータベース URL が不正です（KB_DATABASE_URL を確認してください）",
                f"invalid feedback database URL (check KB_DATABASE_URL): {exc}",
            ) from exc
        #: The URL with any password masked, for messages and logs.
        self.where = url.render_as_string(hide_password=True)
        self.is_sqlite = url.get_backend_name() == "sqlite"
        #: The SQLite file, or None for a database server.
        self.path: Path | None = (
            Path(url.database) if self.is_sqlite and url.database not in (None, "", ":memory:") else None
        )
        try:
            if self.path is not None:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            self._engine = self._create_engine(url)
            self._create_table()
        except (OSError, SQLAlchemyError, ImportError, ArgumentError) as exc:
            raise FeedbackError(
                f"フィードバックのデータベースを開けません: {self.where}",
                f"cannot open the feedback database {self.where}: {type(exc).__name__}: {exc}",
            ) from exc

    @classmethod
    def from_settings(cls, settings: Settings) -> FeedbackStore:
        """The store the app uses: ``settings.database_url``, or SQLite at ``settings.feedback_db``."""
        return cls(settings.database_url or settings.feedback_db)

    def _create_engine(self, url: URL) -> Engine:
        if self.is_sqlite:
            # pysqlite's own busy timeout makes concurrent writers wait for the lock.
            engine = create_engine(url, connect_args={"timeout": self.timeout})
            # WAL is a property of the file: set it once here. Setting it on every new connection
            # made concurrent first writers fail at once with "database is locked" (seen in CI).
            self._use_wal(engine)
            return engine
        connect_args: dict[str, Any] = {}
        if url.get_backend_name() == "postgresql":
            connect_args["connect_timeout"] = max(1, round(self.timeout))
        # pre_ping: a replica keeps working after the database server restarts.
        return create_engine(url, pool_pre_ping=True, connect_args=connect_args)

    def _use_wal(self, engine: Engine) -> None:
        """Switch a SQLite file to WAL, unless it already is. Several processes opening a new file
        at once race for the switch, and SQLite answers the loser "database is locked" at once,
        without its busy timeout (seen once in 8-thread tests under load): retry until ``timeout``."""
        deadline = time.monotonic() + self.timeout
        while True:
            try:
                with engine.connect() as conn:
                    if str(conn.exec_driver_sql("PRAGMA journal_mode").scalar()).lower() != "wal":
                        conn.exec_driver_sql("PRAGMA journal_mode=WAL")
                return
            except OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def _create_table(self) -> None:
        with self._engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _SCHEMA_LOCK})
            # IF NOT EXISTS: app workers opening a new SQLite file together do not race.
            conn.execute(CreateTable(FEEDBACK, if_not_exists=True))

    def close(self) -> None:
        """Close the store's pooled connections (a later call opens new ones)."""
        self._engine.dispose()

    def record(
        self,
        question: str,
        answer: str,
        citations: Sequence[dict[str, Any]] = (),
        vote: int = -1,
        comment: str = "",
        query: str = "",
    ) -> int:
        """Store one vote (+1 or -1) on an answer; return its id."""
        if vote not in (-1, 1):
            raise FeedbackError("評価は +1（👍）か -1（👎）です", f"vote must be +1 or -1 (got {vote!r})")
        row = {
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "question": question[:MAX_FIELD_CHARS],
            "answer": answer[:MAX_FIELD_CHARS],
            "citations": json.dumps(list(citations), ensure_ascii=False),
            "vote": vote,
            "comment": (comment or "").strip()[:MAX_FIELD_CHARS],
            "query": (query or "")[:MAX_FIELD_CHARS],
        }
        try:
            with self._engine.begin() as conn:
                result = conn.execute(insert(FEEDBACK).values(**row))
                key = result.inserted_primary_key
                return int(key[0]) if key else 0
        except SQLAlchemyError as exc:
            raise FeedbackError(
                f"フィードバックを保存できません: {self.where}",
                f"cannot store feedback in {self.where}: {type(exc).__name__}: {exc}",
            ) from exc

    def records(self, only_negative: bool = False) -> list[FeedbackRecord]:
        """Stored feedback, oldest first (only 👎 when ``only_negative``)."""
        query = select(*_COLUMNS).order_by(FEEDBACK.c.id)
        if only_negative:
            query = query.where(FEEDBACK.c.vote < 0)
        try:
            with self._engine.connect() as conn:
                rows = conn.execute(query).all()
        except SQLAlchemyError as exc:
            raise FeedbackError(
                f"フィードバックを読めません: {self.where}",
                f"cannot read feedback from {self.where}: {type(exc).__name__}: {exc}",
            ) from exc
        return [
            FeedbackRecord(
                int(r.id),
                r.created_at,
                r.question,
                r.answer,
                tuple(json.loads(r.citations or "[]")),
                int(r.vote),
                r.comment,
                r.query,
            )
            for r in rows
        ]

    def export_questions(self, out_path: Path | str, only_negative: bool = True) -> int:
        """Write feedback as draft eval questions (JSON Lines); return how many.

        The drafts are NOT ready for ``eval/questions.jsonl``: evidence is empty and id, split
        and tags must be set by a maintainer (see eval/QUESTIONS.md, "From app feedback
        exports"). Identical questions are written once.
        """
        drafts: dict[str, list[FeedbackRecord]] = {}
        for rec in self.records(only_negative=only_negative):
            drafts.setdefault(rec.question.strip(), []).append(rec)
        out = Path(out_path)
        lines = [
            json.dumps(_draft_question(question, recs), ensure_ascii=False)
            for question, recs in drafts.items()
            if question
        ]
        try:
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
        except OSError as exc:
            raise FeedbackError(f"書き出せません: {out}", f"cannot write {out}: {exc}") from exc
        return len(lines)


def _draft_question(question: str, recs: list[FeedbackRecord]) -> dict[str, Any]:
    """One eval-format draft for a question, its note summarising every vote on it."""
    first = recs[0]
    parts = [DRAFT_NOTE]
    for rec in recs:
        vote = "👎 -1" if rec.vote < 0 else "👍 +1"
        answer = " ".join(rec.answer.split())
        if len(answer) > NOTE_ANSWER_CHARS:
            answer = answer[:NOTE_ANSWER_CHARS] + "…"
        cited = "; ".join(f"[{c.get('n', '?')}] {c.get('section', '')}" for c in rec.citations)
        summary = f"#{rec.id} {rec.created_at} vote {vote}"
        if rec.comment:
            summary += f" | comment: {rec.comment}"
        if rec.query:
            summary += f" | searched: {rec.query}"
        summary += f" | answer: {answer}"
        if cited:
            summary += f" | cited: {cited}"
        parts.append(summary)
    return {
        "id": f"fb-{first.id}",
        "question": question,
        "evidence": [],
        "answerable": True,
        "tags": ["feedback"],
        "origin": "feedback",
        "note": "\n".join(parts),
    }
