"""The retrieval evaluation question set is well-formed and its evidence can be found.

See eval/QUESTIONS.md for the format and the relevance rule.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from eval.check_questions import (
    DEFAULT_QUESTIONS,
    DEFAULT_SOURCE,
    KIND_TAGS,
    check_file,
    load_questions,
    main,
    normalise_for_match,
    primary_type,
)

ROOT = Path(__file__).resolve().parent.parent
CORPUS_DIR = ROOT / "corpus"


@pytest.fixture(scope="module")
def questions() -> list[dict]:
    return load_questions(DEFAULT_QUESTIONS)


def test_file_validates() -> None:
    assert check_file(DEFAULT_QUESTIONS, DEFAULT_SOURCE) == []


def test_cli_exit_code(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(DEFAULT_QUESTIONS)]) == 0
    assert "OK" in capsys.readouterr().out


def test_counts(questions: list[dict]) -> None:
    assert len(questions) >= 150
    assert sum(1 for q in questions if not q["answerable"]) >= 20
    assert sum(1 for q in questions if "keyword" in q["tags"]) >= 15


def test_splits_cover_everything(questions: list[dict]) -> None:
    by_split = Counter(q["split"] for q in questions)
    assert by_split["dev"] > 0 and by_split["test"] > 0
    for split in ("dev", "test"):
        in_split = [q for q in questions if q["split"] == split]
        assert any(not q["answerable"] for q in in_split), f"no unanswerable question in {split}"
        kinds = {t for q in in_split for t in q["tags"] if t in KIND_TAGS}
        assert kinds == set(KIND_TAGS), f"{split} lacks kinds {set(KIND_TAGS) - kinds}"
    # every primary type is in both splits
    prim = {(primary_type(q["tags"]), q["split"]) for q in questions}
    for p in {p for p, _ in prim}:
        assert (p, "dev") in prim and (p, "test") in prim, f"type {p} missing from a split"
    # roughly 60/40
    assert 0.5 <= by_split["dev"] / len(questions) <= 0.7


def test_evidence_in_source(questions: list[dict]) -> None:
    source = normalise_for_match(DEFAULT_SOURCE.read_text(encoding="utf-8"))
    missing = [(q["id"], s) for q in questions for s in q["evidence"] if normalise_for_match(s) not in source]
    assert missing == []


def test_normalise_for_match() -> None:
    assert normalise_for_match("<p>Ｉ Ｃ Ｔ　を\t活用</p>") == "ICTを活用"
    assert normalise_for_match('<ul style="list-style-type: none"> ・ A I - O C R') == "・AI-OCR"
    # the document's own angle-bracket headings are text, not HTML tags
    assert normalise_for_match("＜本章の内容＞") == "<本章の内容>"


def _corpus_markdown() -> list[Path]:
    return sorted(CORPUS_DIR.glob("*.md"))


@pytest.mark.skipif(not _corpus_markdown(), reason="cleaned corpus/*.md files not produced yet")
def test_evidence_in_markdown_corpus(questions: list[dict]) -> None:
    corpus = normalise_for_match("\n".join(p.read_text(encoding="utf-8") for p in _corpus_markdown()))
    missing = [(q["id"], s) for q in questions for s in q["evidence"] if normalise_for_match(s) not in corpus]
    assert missing == [], f"{len(missing)} evidence span(s) not found in corpus/*.md: {missing[:20]}"


def test_checker_reports_problems(tmp_path: Path) -> None:
    good = {
        "id": "q001",
        "question": "計画期間は？",
        "evidence": ["平成28年度からの12年間"],
        "answerable": True,
        "tags": ["plan", "number"],
        "split": "dev",
    }
    bad_items = [
        dict(good, id="q002", question="a", evidence=["存在しない文字列です"]),  # span not in source
        dict(good, id="q003", question="b", answerable=False),  # unanswerable with evidence, no tag
        dict(good, id="q004", question="c", tags=["plan", "nonsense"]),  # unknown tag
        dict(good, id="q005", question="d", evidence=["平成"]),  # too short
        dict(good, id="q001", question="e", split="train"),  # duplicate id, bad split
    ]
    path = tmp_path / "q.jsonl"
    lines = [json.dumps(x, ensure_ascii=False) for x in [good, *bad_items]] + ["{not json"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    problems = check_file(path, DEFAULT_SOURCE)
    text = "\n".join(problems)
    for needle in [
        "q002",
        "not found in source",
        "unanswerable question must have empty evidence",
        "unknown tag",
        "outside 4-60",
        "duplicate id 'q001'",
        "split must be one of",
        "invalid JSON",
    ]:
        assert needle in text, needle
    assert main([str(path)]) == 1
