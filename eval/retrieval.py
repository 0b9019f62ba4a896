"""Retrieval evaluation: run every question through each search mode and the tutorial baseline.

    python -m eval.retrieval --questions eval/questions.jsonl --modes keyword,semantic,hybrid \\
        --k 10 --out eval/reports/latest [--split dev|test|all] [--no-baseline] [--index-dir PATH]

Writes ``OUT/<system>.jsonl`` (one line per question with its ranked hits), ``OUT/metrics.json``,
``OUT/report.md`` and ``OUT/chart.png``, then prints the summary table. Metric definitions are
in eval/metrics.py; the baseline recipe in eval/baseline.py.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from eval import baseline as tutorial
from eval.metrics import Question, QuestionRun, by_group, by_split, load_question_file
from eval.report import format_summary_table, write_chart, write_report
from kb.config import load_settings
from kb.errors import InvalidQueryError, KBError
from kb.knowledge import KnowledgeBase
from kb.retrieve import MODES

Search = Callable[[str], list[dict[str, Any]]]

#: Torch intra-op threads while evaluating. One query is a tiny matrix product; on a busy
#: 2-core machine torch's default (one spinning OpenMP thread per core) made a single query
#: embedding 30-60x slower (1.5 s instead of 25 ms), and batch embedding 2x slower.
DEFAULT_TORCH_THREADS = 1


@contextmanager
def torch_threads(n: int | None) -> Iterator[None]:
    """Run the block with ``n`` torch threads (None: leave torch's default), then restore."""
    if n is None:
        yield
        return
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


@dataclass(frozen=True)
class SystemRun:
    """All questions' runs of one system (a search mode or the baseline)."""

    name: str
    label: str
    runs: list[QuestionRun]
    chunks: int | None = None


def kb_search(kb: KnowledgeBase, mode: str, k: int) -> Search:
    """A search function over the project's index returning the report's hit dicts."""

    def search(query: str) -> list[dict[str, Any]]:
        return [
            {"rank": h.rank, "score": h.score, "chunk_id": h.chunk_id, "section": h.section, "text": h.text}
            for h in kb.search(query, mode=mode, k=k)
        ]

    return search


def run_system(
    name: str, search: Search, questions: Sequence[Question], progress: bool = False
) -> list[QuestionRun]:
    """Time ``search`` on each question (after one untimed warm-up query)."""
    from tqdm import tqdm

    if questions:
        # Warm-up: the first query pays for lazy model loading and caches; it is not timed.
        search(questions[0].question)
    runs: list[QuestionRun] = []
    for q in tqdm(questions, desc=name, file=sys.stderr, disable=not progress, leave=False):
        started = time.perf_counter()
        try:
            hits, error = search(q.question), None
        except InvalidQueryError as exc:
            hits, error = [], exc.en
        elapsed = (time.perf_counter() - started) * 1000.0
        runs.append(QuestionRun(question=q, hits=tuple(hits), latency_ms=elapsed, error=error))
    return runs


def evaluate_mode(kb: KnowledgeBase, questions: Sequence[Question], mode: str, k: int = 10) -> SystemRun:
    """Run one search mode of ``kb`` over ``questions`` (the library entry point for tests)."""
    return SystemRun(mode, mode, run_system(mode, kb_search(kb, mode, k), questions), len(kb.chunks))


def evaluate(
    kb: KnowledgeBase,
    questions: Sequence[Question],
    modes: Sequence[str],
    k: int,
    with_baseline: bool = True,
    progress: bool = False,
) -> list[SystemRun]:
    """Every mode, then the tutorial baseline built over the same corpus and embedding model."""
    systems = [
        SystemRun(m, m, run_system(m, kb_search(kb, m, k), questions, progress), len(kb.chunks))
        for m in modes
    ]
    if with_baseline:
        with tempfile.TemporaryDirectory(prefix="kb-baseline-") as workdir:
            if progress:
                print("baseline: splitting and embedding the corpus …", file=sys.stderr)
            pipeline = tutorial.TutorialBaseline.build(
                kb.settings.corpus_dir, kb.retriever.embedder, Path(workdir), k
            )
            runs = run_system(tutorial.NAME, pipeline.search, questions, progress)
            systems.append(SystemRun(tutorial.NAME, tutorial.LABEL, runs, pipeline.chunk_count))
    return systems


def run_record(run: QuestionRun) -> dict[str, Any]:
    record: dict[str, Any] = {
        "id": run.question.id,
        "question": run.question.question,
        "hits": list(run.hits),
        "latency_ms": round(run.latency_ms, 2),
    }
    if run.error:
        record["error"] = run.error
    return record


def failure_record(run: QuestionRun) -> dict[str, Any]:
    """A failed question with the top 3 passages that ranked above the evidence."""
    return {
        "id": run.question.id,
        "split": run.question.split,
        "tags": list(run.question.tags),
        "question": run.question.question,
        "evidence": list(run.question.evidence),
        "first_relevant_rank": run.first_rank,
        "top": [
            {"rank": h["rank"], "section": h["section"], "snippet": h["text"][:80]} for h in run.hits[:3]
        ],
    }


def metrics_for(systems: Sequence[SystemRun], k: int, meta: dict[str, Any]) -> dict[str, Any]:
    """The metrics file's content: per system, per split, per tag and type, and the failures."""
    out: dict[str, Any] = {"meta": meta, "systems": {}}
    for s in systems:
        out["systems"][s.name] = {
            "label": s.label,
            "chunks": s.chunks,
            "splits": by_split(s.runs, k),
            "by_tag": by_group(s.runs, k, "tag"),
            "by_type": by_group(s.runs, k, "type"),
            "failures": [failure_record(r) for r in s.runs if r.is_failure()],
        }
    return out


def write_outputs(out_dir: Path, systems: Sequence[SystemRun], metrics: dict[str, Any]) -> None:
    """<system>.jsonl, metrics.json, chart.png and report.md in ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    for s in systems:
        lines = (json.dumps(run_record(r), ensure_ascii=False) for r in s.runs)
        (out_dir / f"{s.name}.jsonl").write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    (out_dir / "metrics.json").write_text(
        json.dumps(metrics, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    write_chart(metrics, out_dir / "chart.png")
    write_report(metrics, out_dir / "report.md", chart_name="chart.png")


def _meta(
    args: argparse.Namespace, kb: KnowledgeBase, questions: Sequence[Question], modes: Sequence[str]
) -> dict[str, Any]:
    return {
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "questions_file": str(args.questions),
        "split": args.split,
        "questions": len(questions),
        "answerable": sum(q.answerable for q in questions),
        "k": args.k,
        "modes": list(modes),
        "index_dir": display_path(kb.settings.index_dir),
        "embedding_model": kb.manifest.embedding_model,
        "chunks": len(kb.chunks),
        "torch_threads": args.torch_threads or "default",
        "baseline": tutorial.describe() if not args.no_baseline else None,
    }


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m eval.retrieval", description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=Path, default=Path("eval/questions.jsonl"))
    parser.add_argument("--modes", default=",".join(MODES), help="comma-separated: keyword,semantic,hybrid")
    parser.add_argument("--k", type=int, default=10, help="passages retrieved per question (1-100)")
    parser.add_argument("--out", type=Path, required=True, help="output folder")
    parser.add_argument("--split", choices=("dev", "test", "all"), default="all")
    parser.add_argument("--no-baseline", action="store_true", help="skip the tutorial-recipe baseline")
    parser.add_argument("--index-dir", type=Path, help="index folder (overrides settings)")
    parser.add_argument(
        "--torch-threads",
        type=int,
        default=DEFAULT_TORCH_THREADS,
        help="torch intra-op threads (0 = torch's default); latency is measured with this setting",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    return parser.parse_args(argv)


def display_path(path: Path) -> str:
    """``path`` relative to the working directory when inside it (reports get committed)."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def open_kb(index_dir: Path | None, threads: int | None = None) -> KnowledgeBase:
    """The knowledge base under test: ``index_dir`` if given, else the configured one. ``threads``
    also caps ONNX Runtime's threads (the default embedding backend ignores torch's setting)."""
    settings = load_settings()
    if index_dir:
        settings = settings.replace(index_dir=index_dir)
    if threads:
        settings = settings.replace(embedding_threads=threads)
    return KnowledgeBase.open(settings)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse_args(argv)
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    if not modes or any(m not in MODES for m in modes) or not 1 <= args.k <= 100:
        print(f"error: --modes must be among {', '.join(MODES)} and 1 <= --k <= 100", file=sys.stderr)
        return 2
    try:
        questions = load_question_file(args.questions, args.split)
    except (OSError, ValueError) as exc:
        print(f"error: cannot read questions: {exc}", file=sys.stderr)
        return 2
    try:
        kb = open_kb(args.index_dir, args.torch_threads or None)
        with torch_threads(args.torch_threads or None):
            systems = evaluate(kb, questions, modes, args.k, not args.no_baseline, progress=not args.quiet)
    except KBError as exc:
        print(f"エラー / error: {exc}", file=sys.stderr)
        return 2
    metrics = metrics_for(systems, args.k, _meta(args, kb, questions, modes))
    write_outputs(args.out, systems, metrics)
    print(format_summary_table(metrics))
    print(
        f"\nwrote {args.out}/: report.md, metrics.json, chart.png, "
        + ", ".join(f"{s.name}.jsonl" for s in systems)
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
