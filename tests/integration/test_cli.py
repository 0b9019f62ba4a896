"""The `kb` CLI as a user runs it: JSON output, the issue's done-when queries, bad input."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from kb.knowledge import KnowledgeBase


def run_kb(*args: str, index_dir: str | None = None) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "kb.cli"]
    if index_dir:
        cmd += ["--index-dir", index_dir]
    return subprocess.run([*cmd, *args], capture_output=True, text=True, timeout=300)


def test_search_json_fields_and_window_question(built_kb: KnowledgeBase) -> None:
    result = run_kb(
        "search",
        "窓口の待ち時間を減らす取り組み",
        "--mode",
        "hybrid",
        "--json",
        index_dir=str(built_kb.settings.index_dir),
    )
    assert result.returncode == 0, result.stderr
    hits = json.loads(result.stdout)
    for field in (
        "rank",
        "score",
        "chunk_id",
        "doc_id",
        "doc_title",
        "kind",
        "section",
        "text",
        "start",
        "end",
    ):
        assert field in hits[0]
    top3 = [h["section"] for h in hits[:3]]
    assert any("取組1-1" in s or "取組1-2" in s for s in top3), top3


@pytest.mark.parametrize("term", ["ORDEN", "AI-OCR"])
def test_keyword_finds_exact_terms(built_kb: KnowledgeBase, term: str) -> None:
    hits = built_kb.search(term, mode="keyword", k=3)
    assert term in hits[0].text


# A command line cannot carry NUL bytes or a 100,000-character argument (the OS limits one
# argument to 128 KiB); the library tests cover those, the CLI gets what a shell can pass.
@pytest.mark.parametrize("query", ["", "   ", "\x07\x1b", "検" * 20_000])
def test_bad_queries_exit_nonzero_with_bilingual_message(built_kb: KnowledgeBase, query: str) -> None:
    result = run_kb("search", query, "--mode", "keyword", index_dir=str(built_kb.settings.index_dir))
    assert result.returncode == 2
    assert "エラー" in result.stderr and "error:" in result.stderr
    assert "Traceback" not in result.stderr


def test_missing_index_is_a_clear_error(tmp_path) -> None:  # type: ignore[no-untyped-def]
    result = run_kb("search", "DX", index_dir=str(tmp_path / "nothing"))
    assert result.returncode == 2
    assert "kb index" in result.stderr and "Traceback" not in result.stderr


def test_stats(built_kb: KnowledgeBase) -> None:
    result = run_kb("stats", "--json", index_dir=str(built_kb.settings.index_dir))
    assert result.returncode == 0, result.stderr
    stats = json.loads(result.stdout)
    assert stats["chunk_count"] == len(built_kb.chunks)
    assert set(stats["kinds"]) == {"plan", "glossary", "national_strategy"}
    assert stats["mean_chunk_chars"] <= 400


def _years_of(kb: KnowledgeBase, chunk_id: str) -> frozenset[int]:
    assert kb.chunk(chunk_id) is not None
    return kb.retriever.years_of(chunk_id)


def test_search_and_ask_year_filter(built_kb: KnowledgeBase) -> None:
    index_dir = str(built_kb.settings.index_dir)
    ids = {}
    for year in ("2024", "R6", "令和6年度"):
        result = run_kb("search", "デジタル化の取り組み", "--year", year, "--json", index_dir=index_dir)
        assert result.returncode == 0, result.stderr
        ids[year] = [h["chunk_id"] for h in json.loads(result.stdout)]
    assert ids["2024"] and ids["2024"] == ids["R6"] == ids["令和6年度"]
    assert all(2024 in _years_of(built_kb, cid) for cid in ids["2024"])

    result = run_kb("ask", "計画期間はいつまで？", "--year", "2025-2027", "--json", index_dir=index_dir)
    assert result.returncode == 0, result.stderr
    citations = json.loads(result.stdout)["citations"]
    assert citations
    assert all(_years_of(built_kb, c["chunk_id"]) & set(range(2025, 2028)) for c in citations)


@pytest.mark.parametrize("command", ["search", "ask"])
@pytest.mark.parametrize(
    ("year", "words"),
    [
        ("abc", ("読み取れません", "cannot read the year")),
        ("2027-2024", ("逆です", "reversed")),
        ("1800", ("1900〜2099", "between 1900 and 2099")),
        ("", ("読み取れません", "cannot read the year")),
    ],
)
def test_bad_year_exits_2_with_a_clear_message(command: str, year: str, words: tuple[str, str]) -> None:
    # Checked before the index is opened: no index is needed to refuse it.
    result = run_kb(command, "窓口", "--year", year, index_dir="/nonexistent/index")
    assert result.returncode == 2
    assert "エラー" in result.stderr and "error:" in result.stderr and "Traceback" not in result.stderr
    for word in words:
        assert word in result.stderr


def test_plain_words_report_and_a_broken_thesaurus(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """`kb plain-words` over the real corpus with a thesaurus of our own: the term no passage
    holds, the frequent phrases without an entry; a malformed line is exit 2 naming the line."""
    import os

    mine = tmp_path / "mine.tsv"
    mine.write_text("施設予約システム\t体育館の予約\n存在しない語\tなにか\n", encoding="utf-8")
    env = {**os.environ, "KB_PLAIN_WORDS_FILE": str(mine)}
    cmd = [sys.executable, "-m", "kb.cli", "plain-words", "--json", "--top", "5"]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["terms"] == 2 and report["aliases"] == 2
    assert report["unused_terms"] == ["存在しない語"]
    phrases = [row["phrase"] for row in report["uncovered"]]
    assert len(phrases) == 5 and not any("施設予約" in p for p in phrases)
    counts = [row["passages"] for row in report["uncovered"]]
    assert counts == sorted(counts, reverse=True) and counts[0] > 1
    mine.write_text("施設予約システム\n", encoding="utf-8")
    broken = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env)
    assert broken.returncode == 2 and "1 行目" in broken.stderr and "line 1" in broken.stderr
    bad_top = subprocess.run([*cmd[:-1], "0"], capture_output=True, text=True, timeout=300, env=env)
    assert bad_top.returncode == 2 and "--top" in bad_top.stderr


def test_expected_questions_report_and_a_broken_file(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """`kb expected-questions` over the real corpus with a file of our own: the anchor no passage
    holds, the passages without questions per document; a malformed line is exit 2 naming it."""
    import os

    mine = tmp_path / "mine.tsv"
    mine.write_text(
        "施設予約システムの提供開始\t体育館の予約はネットでできる？\n存在しない本文の抜き書き\tなにか？\n",
        encoding="utf-8",
    )
    env = {**os.environ, "KB_EXPECTED_QUESTIONS_FILE": str(mine)}
    cmd = [sys.executable, "-m", "kb.cli", "expected-questions", "--json", "--top", "3"]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["anchors"] == 2 and report["questions"] == 2
    assert report["unused_anchors"] == ["存在しない本文の抜き書き"]
    documents = report["documents"]
    assert set(documents) == {"plan", "glossary", "national_strategies"}
    # One plan passage holds the anchor; every other passage is without questions.
    assert documents["plan"]["without"] == documents["plan"]["passages"] - 1
    assert documents["glossary"]["without"] == documents["glossary"]["passages"]
    assert len(report["passages_without"]) == 3
    mine.write_text("施設予約システムの提供開始\n", encoding="utf-8")
    broken = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env)
    assert broken.returncode == 2 and "1 行目" in broken.stderr and "line 1" in broken.stderr
    bad_top = subprocess.run([*cmd[:-1], "1001"], capture_output=True, text=True, timeout=300, env=env)
    assert bad_top.returncode == 2 and "--top" in bad_top.stderr
