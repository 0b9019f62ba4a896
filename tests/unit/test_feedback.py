"""FeedbackStore on SQLite: the file format, WAL, old files, settings, errors, export format.

The behaviour both databases share (record/read, concurrent writers, replicas, export) is
tested on SQLite and on a real PostgreSQL server in tests/integration/test_feedback_db.py.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from eval.check_questions import check_items
from kb.config import load_settings
from kb.feedback import FeedbackError, FeedbackStore

#: The schema kb/feedback.py wrote with the sqlite3 module, before SQLAlchemy.
OLD_SCHEMA = """
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
COLUMNS = ["id", "created_at", "question", "answer", "citations", "vote", "comment", "query"]


def test_sqlite_file_has_the_documented_columns_in_wal_mode(tmp_path: Path) -> None:
    store = FeedbackStore(tmp_path / "sub" / "feedback.sqlite3")
    assert store.path == tmp_path / "sub" / "feedback.sqlite3" and store.is_sqlite
    store.record("q", "a", vote=1)
    with sqlite3.connect(store.path) as conn:
        columns = [row[1] for row in conn.execute("PRAGMA table_info(feedback)")]
        mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
        sql = conn.execute("SELECT sql FROM sqlite_master WHERE name = 'feedback'").fetchone()[0]
    assert columns == COLUMNS
    assert mode == "wal"
    assert "AUTOINCREMENT" in sql  # ids of deleted rows are never handed out again


def test_a_file_written_before_sqlalchemy_keeps_working(tmp_path: Path) -> None:
    path = tmp_path / "feedback.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.execute(OLD_SCHEMA)
        conn.execute(
            "INSERT INTO feedback (created_at, question, answer, citations, vote, comment, query)"
            " VALUES ('2025-01-02T03:04:05+00:00', '古い質問', '古い回答', ?, -1, 'old', '古い')",
            (json.dumps([{"n": 1, "section": "第1章"}], ensure_ascii=False),),
        )
        conn.execute("INSERT INTO feedback (created_at, question, answer, vote) VALUES ('t', 'x', 'y', 1)")
        conn.execute("DELETE FROM feedback WHERE question = 'x'")
    conn.close()

    store = FeedbackStore(path)
    (old,) = store.records()
    assert (old.id, old.question, old.vote, old.comment, old.query) == (1, "古い質問", -1, "old", "古い")
    assert old.citations == ({"n": 1, "section": "第1章"},)
    assert store.record("新しい質問", "回答", vote=1) == 3  # AUTOINCREMENT as before: 2 is not reused
    assert [r.question for r in FeedbackStore(path).records()] == ["古い質問", "新しい質問"]
    with sqlite3.connect(path) as conn:
        assert [row[1] for row in conn.execute("PRAGMA table_info(feedback)")] == COLUMNS
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()


def test_settings_choose_the_database(tmp_path: Path) -> None:
    settings = load_settings(env={"KB_INDEX_DIR": str(tmp_path / "kb" / "index")})
    assert settings.database_url is None
    default = FeedbackStore.from_settings(settings)
    assert default.path == settings.feedback_db == tmp_path / "kb" / "feedback.sqlite3"

    url = f"sqlite:///{tmp_path / 'shared' / 'fb.sqlite3'}"
    configured = load_settings(env={"KB_INDEX_DIR": str(tmp_path / "index"), "KB_DATABASE_URL": url})
    assert configured.database_url == url
    store = FeedbackStore.from_settings(configured)
    assert store.path == tmp_path / "shared" / "fb.sqlite3"
    new_id = store.record("q", "a", vote=-1)
    assert [r.id for r in FeedbackStore(store.path).records()] == [new_id]  # a path or its URL: one file


def test_unwritable_location_is_a_feedback_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(FeedbackError):
        FeedbackStore(blocker / "feedback.sqlite3")


@pytest.mark.parametrize(
    "url",
    ["nosuchdb://x/y", "postgresql+nosuchdriver://kb@127.0.0.1/kb", "postgresql+psycopg://kb@db:notaport/kb"],
)
def test_bad_database_url_is_a_feedback_error(url: str) -> None:
    with pytest.raises(FeedbackError) as info:
        FeedbackStore(url)
    assert info.value.ja and info.value.en


def test_unreachable_server_is_an_error_that_hides_the_password() -> None:
    with pytest.raises(FeedbackError) as info:
        FeedbackStore("postgresql+psycopg://kb:s3cret@127.0.0.1:1/kb", timeout=2)
    assert "s3cret" not in str(info.value) and "s3cret" not in info.value.en
    assert "127.0.0.1:1/kb" in info.value.en


def test_export_is_what_the_eval_checker_expects_a_maintainer_to_finish(tmp_path: Path) -> None:
    """The drafts fail eval/check_questions.py only on what a maintainer must fill in by hand.

    If this test breaks, the eval format changed: update the export (or the list below).
    """
    store = FeedbackStore(tmp_path / "feedback.sqlite3")
    store.record("市役所の食堂のメニューは？", "資料には記載がありません。", [], vote=-1)
    out = tmp_path / "feedback.jsonl"
    store.export_questions(out)
    draft = json.loads(out.read_text(encoding="utf-8"))

    problems = check_items([draft], source_text=None)
    expected = {
        "missing field 'split'",  # split_for_new_question(new id)
    }
    assert {p.split(": ", 1)[1] for p in problems} == expected

    # With split filled in, what is left is id, tags and evidence.
    problems = check_items([{**draft, "split": "dev"}], source_text=None)
    left = " | ".join(problems)
    assert "does not match q001-style pattern" in left
    assert "unknown tag(s) ['feedback']" in left
    assert "needs exactly one kind tag" in left
    assert "needs at least one type tag" in left
    assert "answerable question without evidence" in left

    # A maintainer's finished version passes (shape only: no source lookup here).
    finished = {**draft, "id": "q999", "split": "dev", "tags": ["plan", "unanswerable"], "answerable": False}
    assert check_items([finished], source_text=None) == []
