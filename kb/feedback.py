"""👍/👎 feedback from the app, kept in SQLite beside the index, exportable as eval questions.

Each operation opens its own connection (sqlite3 connections must not be shared between
threads) with a busy timeout, and the database runs in WAL mode, so several app workers can
record at once without losing rows or blocking readers.

>>> store = FeedbackStore(settings.feedback_db)                       # doctest: +SKIP
>>> store.record("EBPMとは？", "EBPMは…[1]", [{"n": 1, "section": "…"}], vote=-1)  # doctest: +SKIP
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kb.errors import KBError

_SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at  TEXT    NOT NULL,
    question    TEXT    NOT NULL,
    answer      TEXT    NOT NULL,
    citations   TEXT    NOT NULL DEFAULT '[]',
    vote        INTEGER NOT NULL CHECK (vote IN (-1, 1)),
    comment     TEXT    NOT NULL DEFAULT '',
    query       TEXT    NOT NULL DEFAULT ''
)
"""
_COLUMNS = "id, created_at, question, answer, citations, vote, comment, query"
MAX_FIELD_CHARS = 20_000
NOTE_ANSWER_CHARS = 120
DRAFT_NOTE = (
    "要確認の下書き（フィードバック由来）: 回答可否を資料で判断し、evidence に根拠の抜粋を入れるか"
    " answerable=false・unanswerable タグにする。id は次の q 番号、split は split_for_new_question(id)、"
    "tags は種類タグ＋型タグに付け替える / DRAFT from app feedback: answerable=true and evidence=[] are"
    " placeholders; decide from the document, fill 1-3 verbatim evidence spans (or mark unanswerable),"
    " renumber the id, add split and real tags (eval/QUESTIONS.md)"
)


class FeedbackError(KBError):
    """Feedback cannot be stored or exported (bad vote, unwritable database or file)."""


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


class FeedbackStore:
    """SQLite table of feedback at ``path`` (created with its folder on first use)."""

    def __init__(self, path: Path | str, timeout: float = 30.0) -> None:
        self.path = Path(path)
        self.timeout = timeout
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self._connect() as conn:
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute(_SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            raise FeedbackError(
                f"フィードバックのデータベースを開けません: {self.path}",
                f"cannot open the feedback database {self.path}: {exc}",
            ) from exc

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        """A fresh connection for one operation: committed on success, always closed."""
        with closing(sqlite3.connect(self.path, timeout=self.timeout)) as conn, conn:
            yield conn

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
        row = (
            datetime.now(UTC).isoformat(timespec="seconds"),
            question[:MAX_FIELD_CHARS],
            answer[:MAX_FIELD_CHARS],
            json.dumps(list(citations), ensure_ascii=False),
            vote,
            (comment or "").strip()[:MAX_FIELD_CHARS],
            (query or "")[:MAX_FIELD_CHARS],
        )
        try:
            with self._connect() as conn:
                cursor = conn.execute(
                    "INSERT INTO feedback (created_at, question, answer, citations, vote, comment, query)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?)",
                    row,
                )
                return int(cursor.lastrowid or 0)
        except sqlite3.Error as exc:
            raise FeedbackError(
                f"フィードバックを保存できません: {self.path}",
                f"cannot store feedback in {self.path}: {exc}",
            ) from exc

    def records(self, only_negative: bool = False) -> list[FeedbackRecord]:
        """Stored feedback, oldest first (only 👎 when ``only_negative``)."""
        where = " WHERE vote < 0" if only_negative else ""
        try:
            with self._connect() as conn:
                rows = conn.execute(f"SELECT {_COLUMNS} FROM feedback{where} ORDER BY id").fetchall()
        except sqlite3.Error as exc:
            raise FeedbackError(
                f"フィードバックを読めません: {self.path}", f"cannot read feedback from {self.path}: {exc}"
            ) from exc
        return [
            FeedbackRecord(r[0], r[1], r[2], r[3], tuple(json.loads(r[4] or "[]")), r[5], r[6], r[7])
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
