"""Answer evaluation: abstention, false abstention, citation correctness and latency of kb.answer.

    python -m eval.answers --questions eval/questions.jsonl --out DIR [--split dev|test|all] [--index-dir PATH]

Writes ``DIR/answers.jsonl`` (one answer per question), ``DIR/answers_metrics.json`` and
``DIR/answers_report.md``, then prints the summary table. Definitions, per split:

* abstention rate: share of unanswerable questions the answerer declines (higher is better);
* false abstention rate: share of answerable questions it declines (lower is better);
* citation correct: share of answered answerable questions where at least one cited chunk is
  relevant (contains an evidence span, the retrieval relevance rule);
* quotes verbatim: share of answers with citations whose every quote is an exact substring of
  its chunk's text (looked up with ``kb.chunk``) — anything below 1.0 is a bug;
* evidence in answer: share of answered answerable questions whose answer text or quotes contain
  an evidence span (the same relevance rule, applied to what the user reads, not to the chunks);
* evidence in first line: the same, for the answer's first line alone (the direct answer);
* subject errors: answered unanswerable questions whose answer states a figure or a date — a
  number about something else, presented as the answer.

Rates are given per split, per question type (the first type tag), per focus tag, and for the
plan-worded questions (none of the colloquial, near_miss, western_year, session tags).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from eval.metrics import Question, is_relevant, load_question_file, percentile, split_names
from eval.report import NOT_PLAN_WORDED, markdown_table
from eval.retrieval import DEFAULT_TORCH_THREADS, display_path, open_kb, torch_threads
from kb.answer.patterns import CITATION_MARK, WESTERN_GLOSS
from kb.errors import KBError
from kb.knowledge import KnowledgeBase


@dataclass(frozen=True)
class AnswerRun:
    """One question's answer with the checks made on it."""

    question: Question
    answer: dict[str, Any]
    latency_ms: float
    abstained: bool
    citation_relevant: bool
    quotes_verbatim: bool
    evidence_in_answer: bool = False
    evidence_in_first_line: bool = False
    subject_error: bool = False
    #: declined, but the passage shown as related (or as a neighbour) holds an evidence span
    evidence_when_declined: bool = False


def check_answer(kb: KnowledgeBase, question: Question, answer: Any) -> tuple[bool, bool]:
    """(a cited chunk contains an evidence span, every quote is verbatim in its chunk)."""
    relevant = False
    verbatim = True
    for citation in answer.citations:
        chunk = kb.chunk(citation.chunk_id)
        text = chunk.text if chunk is not None else ""
        relevant = relevant or (question.answerable and is_relevant(text, question.evidence))
        verbatim = verbatim and chunk is not None and bool(citation.quote) and citation.quote in text
    return relevant, verbatim


_FIGURE = re.compile(
    r"[0-9０-９〇一二三四五六七八九十百千万]+\s*(人|件|回|%|％|割|円|年|月|日|か所|箇所|台|名|冊|時)"
)


def first_line(answer_text: str) -> str:
    """The answer's first line: what a user reads as the direct answer."""
    return answer_text.split("\n", 1)[0]


def content_checks(question: Question, answer: Any) -> tuple[bool, bool, bool]:
    """(evidence in answer or quotes, evidence in the first line, subject error)."""
    if answer.answerable and question.answerable:
        # The Western years the answer adds after era years (令和6年度（2024年度）) and its citation
        # marks (…のこと[1]。, which would hide a span ending in 。) are not the plan's words:
        # evidence is looked for in the text without them.
        text = CITATION_MARK.sub("", WESTERN_GLOSS.sub("", answer.answer))
        quotes = " ".join(c.quote for c in answer.citations)
        in_answer = is_relevant(text + " " + quotes, question.evidence)
        return in_answer, is_relevant(first_line(text), question.evidence), False
    if answer.answerable and not question.answerable:
        return False, False, bool(_FIGURE.search(first_line(answer.answer)))
    return False, False, False


def run_answers(
    kb: KnowledgeBase, answerer: Any, questions: Sequence[Question], progress: bool = False
) -> list[AnswerRun]:
    """Answer every question (after one untimed warm-up) and check each answer."""
    from tqdm import tqdm

    if questions:
        answerer.answer(questions[0].question)
    runs: list[AnswerRun] = []
    for q in tqdm(questions, desc="answers", file=sys.stderr, disable=not progress, leave=False):
        started = time.perf_counter()
        answer = answerer.answer(q.question)
        elapsed = (time.perf_counter() - started) * 1000.0
        relevant, verbatim = check_answer(kb, q, answer)
        in_answer, in_first, subject = content_checks(q, answer)
        shown = " ".join(c.quote for c in answer.citations)
        declined_evidence = not answer.answerable and q.answerable and is_relevant(shown, q.evidence)
        runs.append(
            AnswerRun(
                q,
                answer.to_dict(),
                elapsed,
                not answer.answerable,
                relevant,
                verbatim,
                in_answer,
                in_first,
                subject,
                declined_evidence,
            )
        )
    return runs


def _rate(flags: Sequence[bool]) -> float | None:
    return round(sum(flags) / len(flags), 4) if flags else None


def summarise_answers(runs: Sequence[AnswerRun]) -> dict[str, Any]:
    """The four rates and latency over ``runs``."""
    unanswerable = [r for r in runs if not r.question.answerable]
    answerable = [r for r in runs if r.question.answerable]
    answered = [r for r in answerable if not r.abstained]
    cited = [r for r in runs if r.answer["citations"]]
    latencies = [r.latency_ms for r in runs]
    p50, p95 = percentile(latencies, 50), percentile(latencies, 95)
    return {
        "questions": len(runs),
        "unanswerable": len(unanswerable),
        "answerable": len(answerable),
        "abstention_rate": _rate([r.abstained for r in unanswerable]),
        "false_abstention_rate": _rate([r.abstained for r in answerable]),
        "citation_correct": _rate([r.citation_relevant for r in answered]),
        "evidence_in_answer": _rate([r.evidence_in_answer for r in answered]),
        "evidence_in_first_line": _rate([r.evidence_in_first_line for r in answered]),
        "evidence_when_declined": _rate([r.evidence_when_declined for r in answerable if r.abstained]),
        "subject_errors": sum(r.subject_error for r in unanswerable),
        "quotes_verbatim": _rate([r.quotes_verbatim for r in cited]),
        "latency_p50_ms": None if p50 is None else round(p50, 1),
        "latency_p95_ms": None if p95 is None else round(p95, 1),
    }


def _record(run: AnswerRun) -> dict[str, Any]:
    return {
        "id": run.question.id,
        "question": run.question.question,
        "split": run.question.split,
        "expected_answerable": run.question.answerable,
        "answer": run.answer,
        "latency_ms": round(run.latency_ms, 2),
        "checks": {
            "abstained": run.abstained,
            "citation_relevant": run.citation_relevant,
            "quotes_verbatim": run.quotes_verbatim,
            "evidence_in_answer": run.evidence_in_answer,
            "evidence_in_first_line": run.evidence_in_first_line,
            "subject_error": run.subject_error,
            "evidence_when_declined": run.evidence_when_declined,
        },
    }


def _problems(runs: Sequence[AnswerRun]) -> dict[str, list[str]]:
    """Question ids per kind of problem (test questions included; the report lists dev only)."""
    return {
        "answered_unanswerable": [
            r.question.id for r in runs if not r.question.answerable and not r.abstained
        ],
        "false_abstentions": [r.question.id for r in runs if r.question.answerable and r.abstained],
        "wrong_citations": [
            r.question.id
            for r in runs
            if r.question.answerable and not r.abstained and not r.citation_relevant
        ],
        "non_verbatim_quotes": [
            r.question.id for r in runs if r.answer["citations"] and not r.quotes_verbatim
        ],
        "evidence_missing_from_answer": [
            r.question.id
            for r in runs
            if r.question.answerable and not r.abstained and not r.evidence_in_answer
        ],
        "subject_errors": [r.question.id for r in runs if r.subject_error],
    }


FOCUS_TAGS = ("colloquial", "near_miss", "western_year", "session", "paraphrase")


def _groups(runs: Sequence[AnswerRun]) -> dict[str, dict[str, dict[str, Any]]]:
    """Rates per question type and per focus tag, for each split."""
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for split in ("dev", "test"):
        in_split = [r for r in runs if r.question.split == split]
        groups: dict[str, list[AnswerRun]] = {}
        for r in in_split:
            groups.setdefault(f"type:{r.question.primary_type}", []).append(r)
            if not NOT_PLAN_WORDED & set(r.question.tags):
                groups.setdefault("plan-worded", []).append(r)
            for tag in FOCUS_TAGS:
                if tag in r.question.tags:
                    groups.setdefault(f"tag:{tag}", []).append(r)
        out[split] = {name: summarise_answers(rs) for name, rs in sorted(groups.items())}
    return out


#: The confidence labels answers carry (kb/answer), strongest first.
CONFIDENCE_LABELS = ("高", "中", "低")


def by_confidence(runs: Sequence[AnswerRun]) -> dict[str, dict[str, dict[str, Any]]]:
    """Per split and confidence label, what the answers shown with that label turned out to be:
    how far a user can trust 高 over 低. Declined questions carry no label and are left out."""

    def order(label: str) -> tuple[int, str]:
        known = CONFIDENCE_LABELS.index(label) if label in CONFIDENCE_LABELS else len(CONFIDENCE_LABELS)
        return known, label

    out: dict[str, dict[str, dict[str, Any]]] = {}
    for split in split_names(r.question for r in runs):
        by_label: dict[str, list[AnswerRun]] = {}
        for r in runs:
            if not r.abstained and split in ("all", r.question.split):
                by_label.setdefault(str(r.answer.get("confidence_label") or ""), []).append(r)
        rows: dict[str, dict[str, Any]] = {}
        for label in sorted(by_label, key=order):
            rs = by_label[label]
            holds = [r.question.answerable and r.evidence_in_answer for r in rs]
            unanswerable = sum(not r.question.answerable for r in rs)
            rows[label or "–"] = {
                "answered": len(rs),
                "with_evidence": sum(holds),
                "answerable_without_evidence": len(rs) - sum(holds) - unanswerable,
                "unanswerable": unanswerable,
                "evidence_share": _rate(holds),
            }
        out[split] = rows
    return out


def confidence_table(metrics: dict[str, Any]) -> str:
    """Markdown: one row per split and label."""
    header = ["split", "label", "answered", "hold the evidence", "answerable, evidence missing"]
    header += ["unanswerable (should have declined)", "share holding the evidence"]
    rows = [
        [split, label, str(c["answered"]), str(c["with_evidence"]), str(c["answerable_without_evidence"])]
        + [str(c["unanswerable"]), "–" if c["evidence_share"] is None else f"{c['evidence_share']:.3f}"]
        for split, labels in metrics.get("by_confidence", {}).items()
        for label, c in labels.items()
    ]
    return markdown_table(header, rows)


def answer_metrics(runs: Sequence[AnswerRun], meta: dict[str, Any]) -> dict[str, Any]:
    names = split_names(r.question for r in runs)
    splits = {n: summarise_answers([r for r in runs if n == "all" or r.question.split == n]) for n in names}
    return {
        "meta": meta,
        "splits": splits,
        "groups": _groups(runs),
        "by_confidence": by_confidence(runs),
        "problems": _problems(runs),
    }


def format_table(metrics: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    header = ["split", "n", "abstention (unans.)", "false abstention", "citation correct"]
    header += ["evidence in answer", "evidence in 1st line", "declined, related shows evidence"]
    header += ["subject errors", "quotes verbatim"]
    header += ["p50 ms", "p95 ms"]
    return header, [_row(split, s) for split, s in metrics["splits"].items()]


def _row(name: str, s: dict[str, Any]) -> list[str]:
    rates = [
        s["abstention_rate"],
        s["false_abstention_rate"],
        s["citation_correct"],
        s["evidence_in_answer"],
        s["evidence_in_first_line"],
        s.get("evidence_when_declined"),
    ]
    cells = ["–" if v is None else f"{v:.3f}" for v in rates]
    lat = ["–" if v is None else f"{v:.1f}" for v in (s["latency_p50_ms"], s["latency_p95_ms"])]
    verbatim = "–" if s["quotes_verbatim"] is None else f"{s['quotes_verbatim']:.3f}"
    return [name, str(s["questions"]), *cells, str(s["subject_errors"]), verbatim, *lat]


def group_tables(metrics: dict[str, Any]) -> list[str]:
    """One markdown table per split: the same rates per question type and focus tag."""
    header, _ = format_table(metrics)
    lines: list[str] = []
    for split, groups in metrics.get("groups", {}).items():
        rows = [_row(name, s) for name, s in groups.items()]
        lines += [f"### {split}", "", markdown_table(["group", *header[1:]], rows), ""]
    return lines


def write_answer_report(metrics: dict[str, Any], runs: Sequence[AnswerRun], path: Path) -> None:
    """Markdown: the rates per split, then the dev-split problems question by question."""
    meta = metrics["meta"]
    header, rows = format_table(metrics)
    lines = [
        "# Answer evaluation",
        "",
        f"- created: {meta['created']}; questions `{meta['questions_file']}` (split: {meta['split']}); "
        f"index `{meta['index_dir']}`; answers: {meta['answer_mode']}",
        "",
        "abstention: share of unanswerable questions declined. false abstention: share of answerable "
        "questions declined. citation correct: answered answerable questions with at least one cited "
        "chunk containing an evidence span. declined, related shows evidence: declined answerable "
        "questions whose passage shown as related holds an evidence span. quotes verbatim: answers "
        "whose every quote is an exact "
        "substring of its chunk. Latency per question, warm.",
        "",
        markdown_table(header, rows),
        "",
        "## By question type and focus tag",
        "",
        *group_tables(metrics),
        "## By confidence label",
        "",
        "The answers shown with each confidence label (高 / 中 / 低, see kb/answer), and what they "
        "turned out to be: the share holding the evidence is how far a label can be trusted.",
        "",
        confidence_table(metrics),
        "",
        "## Problems (dev and unsplit questions; test questions are counted only)",
        "",
    ]
    by_id = {r.question.id: r for r in runs}
    for kind, ids in metrics["problems"].items():
        shown = [i for i in ids if by_id[i].question.split != "test"]
        lines += [
            f"### {kind.replace('_', ' ')}: {len(ids)} ({len(ids) - len(shown)} in test, not listed)",
            "",
        ]
        for qid in shown:
            r = by_id[qid]
            first_line = r.answer["answer"].splitlines()[0][:80] if r.answer["answer"] else ""
            lines.append(
                f"- **{qid}** {r.question.question} → {first_line} (confidence {r.answer['confidence']})"
            )
        lines.append("")
    path.write_text("\n".join(lines).rstrip() + "\n", encoding="utf-8")


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m eval.answers", description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=Path, default=Path("eval/questions.jsonl"))
    parser.add_argument("--out", type=Path, required=True, help="output folder")
    parser.add_argument("--split", choices=("dev", "test", "all"), default="all")
    parser.add_argument("--index-dir", type=Path, help="index folder (overrides settings)")
    parser.add_argument(
        "--torch-threads", type=int, default=DEFAULT_TORCH_THREADS, help="0 = torch's default"
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    from kb.answer import Answerer, LlmWriter

    args = _parse_args(argv)
    try:
        questions = load_question_file(args.questions, args.split)
    except (OSError, ValueError) as exc:
        print(f"error: cannot read questions: {exc}", file=sys.stderr)
        return 2
    try:
        kb = open_kb(args.index_dir, args.torch_threads or None)
        answerer = Answerer.from_settings(kb, kb.settings)
        with torch_threads(args.torch_threads or None):
            runs = run_answers(kb, answerer, questions, progress=not args.quiet)
    except KBError as exc:
        print(f"エラー / error: {exc}", file=sys.stderr)
        return 2
    meta = {
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "questions_file": str(args.questions),
        "split": args.split,
        "index_dir": display_path(kb.settings.index_dir),
        "answer_mode": "LLM" if isinstance(answerer.writer, LlmWriter) else "extractive",
    }
    metrics = answer_metrics(runs, meta)
    args.out.mkdir(parents=True, exist_ok=True)
    lines = "".join(json.dumps(_record(r), ensure_ascii=False) + "\n" for r in runs)
    (args.out / "answers.jsonl").write_text(lines, encoding="utf-8")
    text = json.dumps(metrics, ensure_ascii=False, indent=2) + "\n"
    (args.out / "answers_metrics.json").write_text(text, encoding="utf-8")
    write_answer_report(metrics, runs, args.out / "answers_report.md")
    header, rows = format_table(metrics)
    print(markdown_table(header, rows))
    print(f"\nwrote {args.out}/: answers.jsonl, answers_metrics.json, answers_report.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
