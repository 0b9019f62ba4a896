"""Hybrid and semantic search no longer pass off weak results as matches: a hit found by meaning
alone and below Settings.relevance_floor is flagged ``weak`` (the search page shows it apart)."""

from __future__ import annotations

from kb.retrieve import Filters


def test_no_match_in_the_chapter_gives_only_weak_hits(built_kb) -> None:  # type: ignore[no-untyped-def]
    chapter = next(c for c in built_kb.chapters() if c.startswith("第1章"))
    hits = built_kb.search("テレワーク", mode="hybrid", k=5, filters=Filters(chapter=chapter))
    assert hits and all(h.weak for h in hits)  # chapter 1 never mentions telework
    assert built_kb.search("テレワーク", mode="keyword", k=5, filters=Filters(chapter=chapter)) == []


def test_matching_hits_are_not_weak(built_kb) -> None:  # type: ignore[no-untyped-def]
    for mode in ("hybrid", "semantic"):
        top = built_kb.search("書かない窓口", mode=mode, k=3)
        assert top and not top[0].weak, mode
    assert all(not h.weak for h in built_kb.search("書かない窓口", mode="keyword", k=3))
    assert "weak" in top[0].to_dict()
