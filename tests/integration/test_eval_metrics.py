"""The retrieval evaluation: metric functions on hand-made rankings, the relevance rule, the
question loader, the tutorial baseline and the CLI end to end on a tiny question file."""

from __future__ import annotations

import json
import math
from pathlib import Path
from types import SimpleNamespace

import pytest

from eval import answers, baseline, retrieval
from eval.metrics import (
    Question,
    QuestionRun,
    first_hit_ndcg,
    first_relevant_rank,
    hit_at,
    is_relevant,
    load_question_file,
    ndcg_at,
    percentile,
    question_from_dict,
    reciprocal_rank,
    summarise,
)
from kb.corpus import load_corpus


def _run(
    evidence: tuple[str, ...], texts: list[str], answerable: bool = True, latency: float = 10.0
) -> QuestionRun:
    q = Question(id="q", question="?", evidence=evidence, answerable=answerable)
    hits = tuple(
        {"rank": i, "score": 0.0, "chunk_id": f"c{i}", "section": "", "text": t}
        for i, t in enumerate(texts, 1)
    )
    return QuestionRun(question=q, hits=hits, latency_ms=latency)


# --- ranking metrics ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rank", "n", "expected"),
    [(1, 1, 1.0), (2, 1, 0.0), (3, 3, 1.0), (4, 3, 0.0), (None, 10, 0.0)],
)
def test_hit_at(rank: int | None, n: int, expected: float) -> None:
    assert hit_at(rank, n) == expected


@pytest.mark.parametrize(
    ("rank", "expected"), [(1, 1.0), (2, 0.5), (4, 0.25), (10, 0.1), (11, 0.0), (None, 0.0)]
)
def test_reciprocal_rank_at_10(rank: int | None, expected: float) -> None:
    assert reciprocal_rank(rank, 10) == pytest.approx(expected)


def test_ndcg_standard_binary_definition() -> None:
    # Relevant at ranks 2 and 4, two relevant items exist: DCG = 1/log2(3) + 1/log2(5),
    # IDCG = 1 + 1/log2(3).
    expected = (1 / math.log2(3) + 1 / math.log2(5)) / (1 + 1 / math.log2(3))
    assert ndcg_at([0, 1, 0, 1], 10, n_relevant=2) == pytest.approx(expected)
    assert ndcg_at([1, 1, 0, 0], 10, n_relevant=2) == pytest.approx(1.0)
    assert ndcg_at([0, 0, 1], 2, n_relevant=1) == 0.0  # beyond the cut-off
    assert ndcg_at([0, 0], 10, n_relevant=0) == 0.0


def test_first_hit_ndcg_is_one_over_log2_rank_plus_one() -> None:
    assert first_hit_ndcg(1, 10) == pytest.approx(1.0)
    assert first_hit_ndcg(3, 10) == pytest.approx(0.5)
    assert first_hit_ndcg(7, 10) == pytest.approx(1 / 3)
    assert first_hit_ndcg(11, 10) == 0.0
    assert first_hit_ndcg(None, 10) == 0.0


def test_percentile() -> None:
    assert percentile([10.0, 20.0, 30.0, 40.0, 50.0], 50) == 30.0
    assert percentile([0.0, 100.0], 95) == pytest.approx(95.0)
    assert percentile([], 50) is None


# --- relevance rule ----------------------------------------------------------------------


def test_relevance_ignores_width_whitespace_and_html_tags() -> None:
    passage = "<p>紙の申請書を ＡＩ－ＯＣＲ で\nデータ化します。</p>"
    assert is_relevant(passage, ["AI-OCRでデータ化"])
    assert is_relevant(passage, ["申請書をAI - OCR"])
    assert not is_relevant(passage, ["RPAでデータ化"])


def test_relevance_any_span_and_bracket_headings_kept() -> None:
    assert is_relevant("ORDENの利用を進めます", ["存在しない語句", "ORDEN"])
    # The document's own <…> headings are text, not HTML tags.
    assert is_relevant("＜本章の内容＞ 計画の概要", ["<本章の内容>"])
    assert not is_relevant("計画の概要", [])
    assert not is_relevant("計画の概要", ["   "])  # an empty span must not match everything


def test_first_relevant_rank() -> None:
    texts = ["無関係", "これも無関係", "令和6年度から4年間", "令和6年度"]
    assert first_relevant_rank(texts, ["令和 6 年度"]) == 3
    assert first_relevant_rank(texts, ["平成"]) is None


# --- summaries ---------------------------------------------------------------------------


def test_summarise_excludes_unanswerable_from_ranking_metrics() -> None:
    runs = [
        _run(("答え",), ["答え"], latency=10.0),  # rank 1
        _run(("答え",), ["x", "y", "答え"], latency=20.0),  # rank 3
        _run(("答え",), ["x"] * 10, latency=30.0),  # missing
        _run((), ["答え", "x"], answerable=False, latency=40.0),  # not scored, but timed
    ]
    s = summarise(runs, k=10)
    assert (s["questions"], s["answerable"]) == (4, 3)
    assert s["hit@1"] == pytest.approx(1 / 3, abs=1e-4)
    assert s["hit@3"] == pytest.approx(2 / 3, abs=1e-4)
    assert s["hit@10"] == pytest.approx(2 / 3, abs=1e-4)
    assert s["mrr@10"] == pytest.approx((1 + 1 / 3) / 3, abs=1e-4)
    assert s["ndcg@10"] == pytest.approx((1 + 0.5) / 3, abs=1e-4)
    assert s["latency_p50_ms"] == 25.0
    assert s["mean_chunk_chars"] == pytest.approx((2 + (1 + 1 + 2) + 10 + (2 + 1)) / 16, abs=0.05)


def test_summarise_only_reports_cutoffs_up_to_k() -> None:
    s = summarise([_run(("a",), ["a"])], k=3)
    assert "hit@3" in s and "hit@5" not in s and "mrr@3" in s


def test_failure_rule() -> None:
    assert not _run(("a",), ["x"] * 4 + ["a"]).is_failure()  # rank 5 is not a failure
    assert _run(("a",), ["x"] * 5 + ["a"]).is_failure()
    assert _run(("a",), ["x"]).is_failure()
    assert not _run((), ["x"], answerable=False).is_failure()


# --- question files ----------------------------------------------------------------------


def test_question_loader_accepts_minimal_and_extra_fields(tmp_path: Path) -> None:
    path = tmp_path / "q.jsonl"
    lines = [
        {"id": "a1", "question": "RPA", "evidence": ["RPA"], "split": "dev", "extra": 1},
        {"id": "a2", "question": "宇宙開発は？", "evidence": [], "answerable": False},
        {"id": "a3", "question": "EBPM", "evidence": ["EBPM"]},
    ]
    path.write_text("".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines), encoding="utf-8")
    all_q = load_question_file(path)
    assert [q.id for q in all_q] == ["a1", "a2", "a3"]
    assert all_q[1].answerable is False and all_q[2].split is None and all_q[2].tags == ()
    assert [q.id for q in load_question_file(path, "dev")] == ["a1"]


def test_question_without_id_is_rejected() -> None:
    with pytest.raises(ValueError, match="'id'"):
        question_from_dict({"question": "x"}, "line 1")


def test_answerable_without_evidence_is_not_scored() -> None:
    assert question_from_dict({"id": "x", "question": "y"}, "line 1").answerable is False


# --- tutorial baseline -------------------------------------------------------------------


def test_baseline_chunks_follow_the_tutorial_splitter(corpus_dir: Path) -> None:
    documents, _ = load_corpus(corpus_dir)
    chunks = baseline.split_corpus(documents)
    by_id = {d.doc_id: d for d in documents}
    assert chunks and all(len(c.page_content) <= baseline.CHUNK_SIZE for c in chunks)
    for c in chunks[:50]:
        start = c.metadata["start_index"]
        assert by_id[c.metadata["doc_id"]].text[start : start + len(c.page_content)] == c.page_content


def test_baseline_pipeline_on_a_small_corpus(built_kb, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    filler = "本市では情報化計画に基づき、さまざまな取り組みを進めています。" * 10
    (corpus / "a.md").write_text(
        f"---\ntitle: A\nkind: plan\n---\n# 窓口\n\n{filler}おくやみ手続き窓口を設置しました。\n\n"
        f"# 情報セキュリティ\n\n{filler}標的型攻撃やランサムウェアへの対策を強化します。\n\n"
        f"# 子育て\n\n{filler}保育施設の入所申請をオンライン化しました。\n",
        encoding="utf-8",
    )
    pipeline = baseline.TutorialBaseline.build(corpus, built_kb.retriever.embedder, tmp_path / "chroma", k=2)
    assert pipeline.chunk_count >= 3
    hits = pipeline.search("ランサムウェアへの対策は？")
    assert [h["rank"] for h in hits] == [1, 2] and hits[0]["score"] is None
    assert "ランサムウェア" in hits[0]["text"] and hits[0]["section"] == "a: 情報セキュリティ"


# --- CLI end to end ----------------------------------------------------------------------


def _tiny_questions(path: Path) -> None:
    items = [
        {
            "id": "t1",
            "question": "ORDEN",
            "evidence": ["ORDEN"],
            "answerable": True,
            "tags": ["plan", "keyword"],
            "split": "dev",
        },
        {
            "id": "t2",
            "question": "第5次枚方市総合計画が策定されたのはいつ？",
            "evidence": ["平成 28 年 3 月"],
            "split": "test",
        },
        {
            "id": "t3",
            "question": "市営プールの営業時間は？",
            "evidence": [],
            "answerable": False,
            "tags": ["plan", "unanswerable"],
            "split": "dev",
        },
        {"id": "t4", "question": "RPAとは何ですか", "evidence": ["RPA"], "note": "no split, extra field"},
    ]
    path.write_text("".join(json.dumps(x, ensure_ascii=False) + "\n" for x in items), encoding="utf-8")


# The baseline embeds the whole corpus again (about a minute on 2 busy cores), so the full run
# is slow-marked; the baseline pipeline itself is tested above on a small corpus.
@pytest.mark.parametrize("with_baseline", [False, pytest.param(True, marks=pytest.mark.slow)])
def test_cli_end_to_end(
    built_kb, tmp_path: Path, capsys: pytest.CaptureFixture[str], with_baseline: bool
) -> None:  # type: ignore[no-untyped-def]
    questions = tmp_path / "q.jsonl"
    _tiny_questions(questions)
    out = tmp_path / "out"
    argv = [
        "--questions",
        str(questions),
        "--modes",
        "keyword,semantic,hybrid",
        "--k",
        "10",
        "--out",
        str(out),
    ]
    argv += ["--index-dir", str(built_kb.settings.index_dir), "--quiet"]
    assert retrieval.main(argv if with_baseline else [*argv, "--no-baseline"]) == 0

    systems = (
        ["keyword", "semantic", "hybrid", "baseline"] if with_baseline else ["keyword", "semantic", "hybrid"]
    )
    for name in systems:
        records = [
            json.loads(line) for line in (out / f"{name}.jsonl").read_text(encoding="utf-8").splitlines()
        ]
        assert [r["id"] for r in records] == ["t1", "t2", "t3", "t4"]
        hits = records[2]["hits"]  # the unanswerable question is run too
        assert len(hits) == 10 and [h["rank"] for h in hits] == list(range(1, 11))
        assert set(hits[0]) == {"rank", "score", "chunk_id", "section", "text"}
    metrics = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    assert list(metrics["systems"]) == systems
    assert list(metrics["systems"]["hybrid"]["splits"]) == ["dev", "test", "all"]
    assert metrics["systems"]["keyword"]["splits"]["all"]["answerable"] == 3
    assert "keyword" in metrics["systems"]["keyword"]["by_tag"]
    report = (out / "report.md").read_text(encoding="utf-8")
    assert "## Failures" in report and "## By tag" in report
    assert ("baseline (tutorial recipe)" in report) == with_baseline
    assert (out / "chart.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "hit@1" in capsys.readouterr().out


def test_cli_rejects_unknown_mode(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert retrieval.main(["--modes", "fuzzy", "--out", str(tmp_path)]) == 2
    assert "--modes" in capsys.readouterr().err


def test_cli_reports_missing_index(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    questions = tmp_path / "q.jsonl"
    _tiny_questions(questions)
    argv = [
        "--questions",
        str(questions),
        "--out",
        str(tmp_path / "out"),
        "--index-dir",
        str(tmp_path / "none"),
    ]
    assert retrieval.main(argv) == 2
    assert "kb index" in capsys.readouterr().err


# --- answer checks (eval.answers) ----------------------------------------------------------


class _Chunk:
    def __init__(self, text: str) -> None:
        self.text = text


class _KB:
    def __init__(self, chunks: dict[str, str]) -> None:
        self._chunks = {cid: _Chunk(text) for cid, text in chunks.items()}

    def chunk(self, chunk_id: str) -> _Chunk | None:
        return self._chunks.get(chunk_id)


class _Answer:
    def __init__(self, citations: list[tuple[str, str]]) -> None:
        self.citations = [
            SimpleNamespace(n=n, chunk_id=cid, quote=q) for n, (cid, q) in enumerate(citations, 1)
        ]


def test_answer_checks_relevance_and_verbatim_quotes() -> None:
    kb = _KB({"a": "第3期（令和6年度から4年間）に取り組む。", "b": "無関係な文です。"})
    q = Question(id="x", question="第3期はいつ？", evidence=("令和 6 年度から 4 年間",))
    assert answers.check_answer(
        kb, q, _Answer([("b", "無関係な文です。"), ("a", "第3期（令和6年度から4年間）")])
    ) == (True, True)
    assert answers.check_answer(kb, q, _Answer([("b", "無関係な文です。")])) == (False, True)
    assert answers.check_answer(kb, q, _Answer([("a", "第3期(令和6年度から4年間)")])) == (
        True,
        False,
    )  # not verbatim
    assert answers.check_answer(kb, q, _Answer([("missing", "x")])) == (False, False)


def test_answer_rates() -> None:
    def run(answerable: bool, abstained: bool, relevant: bool = False) -> answers.AnswerRun:
        q = Question(id="x", question="?", evidence=("e",) if answerable else (), answerable=answerable)
        cites = [] if abstained else [{"n": 1, "chunk_id": "a", "quote": "e"}]
        return answers.AnswerRun(q, {"citations": cites}, 10.0, abstained, relevant, True)

    s = answers.summarise_answers(
        [
            run(False, True),
            run(False, False),
            run(True, False, True),
            run(True, False, False),
            run(True, True),
        ]
    )
    assert s["abstention_rate"] == 0.5
    assert s["false_abstention_rate"] == pytest.approx(1 / 3, abs=1e-4)
    assert s["citation_correct"] == 0.5
    assert s["quotes_verbatim"] == 1.0


def test_answers_by_confidence_label() -> None:
    def run(
        split: str, label: str, answerable: bool, evidence: bool, abstained: bool = False
    ) -> answers.AnswerRun:
        q = Question(
            id="x", question="?", evidence=("e",) if answerable else (), answerable=answerable, split=split
        )
        answer = {"citations": [], "confidence_label": "" if abstained else label}
        return answers.AnswerRun(q, answer, 10.0, abstained, evidence, True, evidence_in_answer=evidence)

    runs = [
        run("dev", "高", True, True),
        run("dev", "高", True, True),
        run("dev", "高", False, False),  # an unanswerable answered with 高
        run("dev", "低", True, False),
        run("dev", "", True, False, abstained=True),  # declined: no label, left out
        run("test", "中", True, True),
    ]
    table = answers.by_confidence(runs)
    assert list(table) == ["dev", "test", "all"]
    assert list(table["dev"]) == ["高", "低"]
    assert table["dev"]["高"] == {
        "answered": 3,
        "with_evidence": 2,
        "answerable_without_evidence": 0,
        "unanswerable": 1,
        "evidence_share": pytest.approx(2 / 3, abs=1e-4),
    }
    assert table["dev"]["低"]["answerable_without_evidence"] == 1
    assert table["dev"]["低"]["evidence_share"] == 0.0
    assert list(table["all"]) == ["高", "中", "低"]
    assert "| dev | 高 | 3 | 2 | 0 | 1 | 0.667 |" in answers.confidence_table({"by_confidence": table})
