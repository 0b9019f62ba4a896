"""The scale benchmark's corpus generator (indexer/scale_corpus.py): reproducible, really shuffled
and perturbed, and still a corpus the indexer reads and chunks like the real one."""

from __future__ import annotations

import random
import re
from collections import Counter
from pathlib import Path

import pytest

from indexer.scale_corpus import NAME_POOLS, distinct_texts, generate, shuffle_sections, variant, wareki
from kb.chunk import chunk_documents
from kb.corpus import load_corpus, load_document

_WAREKI = re.compile(r"(令和|平成)(元|\d+)年")
_HEADING = re.compile(r"^#{1,6} ", re.M)


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def _body(text: str) -> str:
    return text.split("\n---\n", 1)[1]


def _sections(text: str) -> dict[tuple[str, ...], str]:
    """Each heading path -> the text from its heading to the next heading."""
    stack: list[tuple[int, str]] = []
    out: dict[tuple[str, ...], str] = {}
    parts = re.split(r"^(#{1,6}) (.*)$", text, flags=re.M)
    for i in range(1, len(parts) - 2, 3):
        level = len(parts[i])
        while stack and stack[-1][0] >= level:
            stack.pop()
        stack.append((level, parts[i + 1]))
        path = tuple(t for _, t in stack)
        assert path not in out
        out[path] = parts[i + 2].strip()
    return out


@pytest.fixture(scope="module")
def twice(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("scale") / "x2"
    generate(Path(__file__).resolve().parents[2] / "corpus", out, 2, seed=12)
    return out


def test_same_seed_same_corpus_other_seed_other_corpus(corpus_dir: Path, tmp_path: Path) -> None:
    generate(corpus_dir, tmp_path / "a", 3, seed=7)
    generate(corpus_dir, tmp_path / "b", 3, seed=7)
    generate(corpus_dir, tmp_path / "c", 3, seed=8)
    a, b, c = _files(tmp_path / "a"), _files(tmp_path / "b"), _files(tmp_path / "c")
    assert len(a) == 9 and a == b
    assert a["plan-c001.md"] == (corpus_dir / "plan.md").read_bytes() == c["plan-c001.md"]  # copy 1: the file
    assert a["plan-c002.md"] != c["plan-c002.md"] and a["plan-c002.md"] != a["plan-c003.md"]


def test_sections_move_with_their_heading_and_body(corpus_dir: Path) -> None:
    body = _body((corpus_dir / "plan.md").read_text(encoding="utf-8"))
    shuffled = shuffle_sections(body, random.Random(1))
    before, after = _sections(body), _sections(shuffled)
    # Every section keeps its body and its place under its parent heading (paths unchanged) …
    assert before == after
    assert list(before) != list(after)  # … in another order
    top_level = [p for p in before if len(p) == 1]
    assert [p for p in after if len(p) == 1] != top_level  # chapters too
    preamble = _HEADING.split(body)[0].strip()
    assert shuffled.startswith(preamble)  # the text before the first heading stays first


def test_copies_perturb_numbers_names_and_titles(corpus_dir: Path) -> None:
    original = (corpus_dir / "national_strategies.md").read_text(encoding="utf-8")
    plan = (corpus_dir / "plan.md").read_text(encoding="utf-8")
    copies = [variant(original, 12, "national_strategies", i) for i in range(2, 8)]
    plans = [variant(plan, 12, "plan", i) for i in range(2, 8)]
    years = Counter(m.group(0) for m in _WAREKI.finditer(original))
    for text in copies:
        assert Counter(m.group(0) for m in _WAREKI.finditer(text)) != years  # years moved
        assert "20業務" not in text or text.count("20業務") < original.count("20業務")
        assert re.findall(r"\d+(?:\.\d+)?%", text) != re.findall(r"\d+(?:\.\d+)?%", original)
        for era, number in _WAREKI.findall(text):  # still valid 和暦
            n = 1 if number == "元" else int(number)
            assert number != "1" and (n <= 31 if era == "平成" else n >= 1)
    titles = {re.search(r"^title: (.*)$", t, re.M).group(1) for t in plans}  # type: ignore[union-attr]
    assert len(titles) == len(plans)
    assert any("枚方" not in _body(t) for t in plans)  # the city renamed in some copies
    assert any(alt in t for t in plans for alt in NAME_POOLS["DX推進課"])  # a department renamed
    # A sentence with no number or name is the same in every copy (boilerplate).
    boilerplate = "新たに情報化計画を策定する背景・目的、計画の位置付け、計画期間等の概要について説明します。"
    assert all(boilerplate in t for t in plans)


def test_wareki_is_written_validly() -> None:
    assert wareki(2019) == "令和元年" and wareki(2024) == "令和6年"
    assert wareki(2018) == "平成30年" and wareki(1989) == "平成元年" and wareki(1988) == "昭和63年"


def test_a_2x_corpus_converts_and_chunks_like_the_real_one(corpus_dir: Path, twice: Path) -> None:
    real, problems = load_corpus(corpus_dir)
    assert not problems
    docs, problems = load_corpus(twice)
    assert not problems and len(docs) == 2 * len(real)
    by_id = {d.doc_id: d for d in docs}
    for doc in real:
        copy = by_id[f"{doc.doc_id}-c002"]
        assert copy.kind == doc.kind and copy.title != doc.title
        assert len(copy.sections) == len(doc.sections)
        depths = sorted(len(s.heading_path) for s in doc.sections)
        assert sorted(len(s.heading_path) for s in copy.sections) == depths
        assert [s.heading_path for s in copy.sections] != [s.heading_path for s in doc.sections]  # shuffled
        assert load_document(copy.path).text == copy.text
    real_chunks = len(chunk_documents(real))
    chunks = chunk_documents(docs)
    assert abs(len(chunks) - 2 * real_chunks) <= 0.05 * real_chunks
    assert len({c.chunk_id for c in chunks}) == len(chunks)
    counts = distinct_texts(twice)
    assert counts["chunks"] == len(chunks)
    assert counts["distinct_chunks"] > real_chunks  # copy 2 has its own passages …
    assert counts["distinct_texts"] < counts["texts"]  # … and shares its boilerplate with copy 1
