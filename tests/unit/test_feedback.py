"""FeedbackStore: SQLite record/read, concurrent writers, export as draft eval questions."""

from __future__ import annotations

import json
import sqlite3
import threading
from pathlib import Path

import pytest

from eval.check_questions import check_items
from kb.errors import KBError
from kb.feedback import FeedbackError, FeedbackStore

CITATIONS = [{"n": 1, "chunk_id": "abc", "section": "第4章 › 4.2 › 取組1-2", "quote": "書かない窓口"}]


def test_record_and_read_back(tmp_path: Path) -> None:
    store = FeedbackStore(tmp_path / "sub" / "feedback.sqlite3")
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

    # Reopening the same file sees the same rows; the table has the documented columns.
    assert FeedbackStore(store.path).records() == rows
    with sqlite3.connect(store.path) as conn:
        columns = [row[1] for row in conn.execute("PRAGMA table_info(feedback)")]
        mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
    assert columns == ["id", "created_at", "question", "answer", "citations", "vote", "comment", "query"]
    assert mode == "wal"


def test_bad_vote_is_a_bilingual_error(tmp_path: Path) -> None:
    store = FeedbackStore(tmp_path / "f.sqlite3")
    with pytest.raises(FeedbackError) as info:
        store.record("q", "a", vote=0)
    assert isinstance(info.value, KBError) and info.value.ja and info.value.en
    assert store.records() == []


def test_unwritable_location_is_a_feedback_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(FeedbackError):
        FeedbackStore(blocker / "feedback.sqlite3")


def test_concurrent_writers_lose_no_rows(tmp_path: Path) -> None:
    path = tmp_path / "feedback.sqlite3"
    threads, per_thread = 8, 40
    errors: list[BaseException] = []
    ids: list[int] = []
    lock = threading.Lock()
    start = threading.Barrier(threads)

    def writer(n: int) -> None:
        # Each thread has its own store object, as separate app workers would.
        store = FeedbackStore(path)
        start.wait()
        try:
            for i in range(per_thread):
                new_id = store.record(f"質問 {n}-{i}", "回答", CITATIONS, vote=1 if i % 2 else -1)
                with lock:
                    ids.append(new_id)
        except BaseException as exc:
            errors.append(exc)

    workers = [threading.Thread(target=writer, args=(n,)) for n in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()

    assert errors == []
    rows = FeedbackStore(path).records()
    assert len(rows) == threads * per_thread
    assert sorted(ids) == [r.id for r in rows]
    assert {r.question for r in rows} == {f"質問 {n}-{i}" for n in range(threads) for i in range(per_thread)}


def test_export_writes_draft_eval_questions(tmp_path: Path) -> None:
    store = FeedbackStore(tmp_path / "feedback.sqlite3")
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


def test_empty_store_exports_an_empty_file(tmp_path: Path) -> None:
    store = FeedbackStore(tmp_path / "feedback.sqlite3")
    out = tmp_path / "empty.jsonl"
    assert store.export_questions(out) == 0
    assert out.read_text(encoding="utf-8") == ""
