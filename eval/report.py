"""Render the metrics of a retrieval evaluation: a text table, a Markdown report and a PNG chart."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from eval.metrics import FAILURE_RANK, QuestionRun, load_question_file, summarise

SNIPPET_CHARS = 60
#: Tags shown per split right after the summary (``By focus tag``): the hard slices of the set.
#: "plan-worded" is not a tag: the questions with none of the focus tags below (as eval.answers groups them).
PLAN_WORDED = "plan-worded"
#: Focus tags whose questions are not worded from the plan (eval.answers groups by the same set).
NOT_PLAN_WORDED = frozenset({"colloquial", "near_miss", "western_year", "session"})
FOCUS_TAGS = (PLAN_WORDED, "colloquial", "western_year")
FOCUS_SPLITS = ("dev", "test")
_PROJECT_ROOT = Path(__file__).resolve().parent.parent


def metric_names(summary: dict[str, Any]) -> list[str]:
    """The ranking metrics present in a summary, in display order (hit@n, mrr@k, ndcg@k)."""
    return [name for name in summary if name.startswith(("hit@", "mrr@", "ndcg@"))]


def _fmt(value: Any, digits: int = 3) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def summary_rows(metrics: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    """Header and rows (one per system and split) of the summary table."""
    systems = metrics["systems"]
    first = next(iter(systems.values()))["splits"]["all"]
    names = metric_names(first)
    header = ["system", "split", "n", "answerable", *names, "p50 ms", "p95 ms", "mean chars"]
    rows: list[list[str]] = []
    for data in systems.values():
        for split, s in data["splits"].items():
            rows.append(
                [
                    data["label"],
                    split,
                    str(s["questions"]),
                    str(s["answerable"]),
                    *(_fmt(s[n]) for n in names),
                    _fmt(s["latency_p50_ms"], 1),
                    _fmt(s["latency_p95_ms"], 1),
                    _fmt(s["mean_chunk_chars"], 0),
                ]
            )
    return header, rows


def format_summary_table(metrics: dict[str, Any]) -> str:
    """The summary as a fixed-width text table for the terminal."""
    header, rows = summary_rows(metrics)
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = [
        "  ".join(
            cell.ljust(w) if i < 2 else cell.rjust(w)
            for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        )
        for row in [header, *rows]
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out.extend("| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows)
    return "\n".join(out)


def _group_table(metrics: dict[str, Any], key: str, k: int) -> str:
    """Per tag or primary type: n answerable, then hit@5 / MRR@k of every system."""
    systems = metrics["systems"]
    groups = next(iter(systems.values()))[key]
    header = ["group", "n", *(f"{d['label']} hit@5 / MRR" for d in systems.values())]
    rows = []
    for group in groups:
        first = groups[group]
        if not first["answerable"]:
            continue
        cells = [
            f"{_fmt(d[key][group].get('hit@5'), 2)} / {_fmt(d[key][group][f'mrr@{k}'], 2)}"
            for d in systems.values()
        ]
        rows.append([group, str(first["answerable"]), *cells])
    return markdown_table(header, rows)


def _focus_from_runs(metrics: dict[str, Any], run_dir: Path) -> dict[str, dict[str, dict[str, Any]]] | None:
    """Per system, per "tag/split": a summary recomputed from ``<run_dir>/<system>.jsonl``.

    metrics.json keeps tags over all splits only; the per-question hits the run wrote next to
    the report, with the questions file named in ``meta``, give the per-split numbers.  None
    when those files are not there (e.g. a report rendered from metrics.json alone).
    """
    meta = metrics["meta"]
    qfile = Path(str(meta.get("questions_file", "")))
    candidates = [qfile, _PROJECT_ROOT / qfile] if not qfile.is_absolute() else [qfile]
    qpath = next((c for c in candidates if c.is_file()), None)
    if qpath is None or not meta.get("questions_file"):
        return None
    try:
        questions = {q.id: q for q in load_question_file(qpath)}
        out: dict[str, dict[str, dict[str, Any]]] = {}
        for name in metrics["systems"]:
            runs_file = run_dir / f"{name}.jsonl"
            if not runs_file.is_file():
                return None
            groups: dict[str, list[QuestionRun]] = {}
            for line in runs_file.read_text(encoding="utf-8").splitlines():
                record = json.loads(line)
                question = questions.get(record["id"])
                if question is None:
                    continue
                run = QuestionRun(question, tuple(record["hits"]), float(record.get("latency_ms", 0.0)))
                for tag in set(question.tags) & set(FOCUS_TAGS):
                    groups.setdefault(f"{tag}/{question.split}", []).append(run)
                if not set(question.tags) & NOT_PLAN_WORDED:
                    groups.setdefault(f"{PLAN_WORDED}/{question.split}", []).append(run)
            out[name] = {key: summarise(runs, meta["k"]) for key, runs in groups.items()}
        return out
    except (OSError, ValueError, KeyError, TypeError):
        return None


def focus_rows(
    metrics: dict[str, Any], run_dir: Path | None = None
) -> tuple[list[str], list[list[str]]] | None:
    """Header and rows (focus tag x split) of hit@1 / hit@5 / MRR@k per system, or None.

    Uses ``by_split_tag`` from the metrics when a run stored it, else the run's per-question
    files in ``run_dir``, else the all-splits ``by_tag`` numbers (split shown as "all").
    """
    systems = metrics["systems"]
    k = metrics["meta"]["k"]
    per_system: dict[str, dict[str, dict[str, Any]]] | None = None
    if all("by_split_tag" in d for d in systems.values()):
        per_system = {
            name: {
                f"{tag}/{split}": s for split, tags in d["by_split_tag"].items() for tag, s in tags.items()
            }
            for name, d in systems.items()
        }
    elif run_dir is not None:
        per_system = _focus_from_runs(metrics, run_dir)
    if per_system is not None:
        keys = [f"{t}/{s}" for t in FOCUS_TAGS for s in FOCUS_SPLITS]
    else:
        per_system = {
            name: {f"{t}/all": d["by_tag"][t] for t in FOCUS_TAGS if t in d["by_tag"]}
            for name, d in systems.items()
        }
        keys = [f"{t}/all" for t in FOCUS_TAGS]
    first = per_system[next(iter(systems))]
    header = ["tag", "split", "n", *(f"{d['label']} hit@1 / hit@5 / MRR@{k}" for d in systems.values())]
    rows: list[list[str]] = []
    for key in keys:
        if key not in first or not first[key]["answerable"]:
            continue
        tag, split = key.split("/", 1)
        cells = []
        for name in systems:
            s = per_system[name].get(key, {})
            cells.append(" / ".join(_fmt(s.get(m), 2) for m in ("hit@1", "hit@5", f"mrr@{k}")))
        rows.append([tag, split, str(first[key]["answerable"]), *cells])
    return (header, rows) if rows else None


def _snippet(text: str) -> str:
    return " ".join(text.split())[:SNIPPET_CHARS]


def _short_section(section: str) -> str:
    """The last two headings of a path: enough to place a passage, short enough to scan."""
    return " › ".join(section.split(" › ")[-2:]) or "-"


def _failure_lines(failure: dict[str, Any]) -> list[str]:
    rank = failure["first_relevant_rank"]
    where = f"rank {rank}" if rank else "not in top k"
    tags = ", ".join(failure["tags"])
    lines = [
        f"- **{failure['id']}** ({failure['split'] or '-'}; {tags}) {failure['question']} — evidence {where}: "
        f"「{_snippet(failure['evidence'][0])}」"
    ]
    lines += [
        f"    {t['rank']}. `{_short_section(t['section'])}` — {_snippet(t['snippet'])}"
        for t in failure["top"]
    ]
    return lines


def _failures_section(metrics: dict[str, Any]) -> list[str]:
    # Test-split failures are only counted: QUESTIONS.md forbids tuning on test questions.
    lines = [
        "## Failures",
        "",
        f"Answerable questions whose first relevant passage is below rank {FAILURE_RANK} or missing, with the "
        "top 3 passages that ranked above it. Only dev (and unsplit) questions are listed; test-split "
        "failures are counted, not shown, so nobody tunes on them.",
        "",
    ]
    for data in metrics["systems"].values():
        failures = data["failures"]
        shown = [f for f in failures if f["split"] != "test"]
        lines += [
            f"### {data['label']}: {len(failures)} failures ({len(failures) - len(shown)} in test, not listed)",
            "",
        ]
        for failure in shown:
            lines += _failure_lines(failure)
        lines.append("")
    return lines


def _intro(metrics: dict[str, Any]) -> list[str]:
    meta = metrics["meta"]
    lines = [
        "# Retrieval evaluation",
        "",
        f"- created: {meta['created']}",
        f"- questions: `{meta['questions_file']}` (split: {meta['split']}), {meta['questions']} questions, "
        f"{meta['answerable']} answerable (unanswerable ones are run and timed, not scored)",
        f"- k = {meta['k']}; index `{meta['index_dir']}`: {meta['chunks']} chunks, model `{meta['embedding_model']}`; "
        f"torch threads: {meta.get('torch_threads', 'default')}",
    ]
    if meta.get("baseline"):
        b = meta["baseline"]
        chunks = metrics["systems"].get("baseline", {}).get("chunks")
        lines.append(
            f"- {b['label']}: {b['splitter']} ({chunks} chunks); {b['keyword']}; {b['vector']}; {b['fusion']}"
        )
    lines += [
        "",
        "Relevance: a passage is relevant when its normalised text (NFKC, HTML tags and whitespace removed) "
        "contains any evidence span of the question. hit@n: first relevant passage within the top n. "
        f"MRR@{meta['k']}: mean reciprocal rank of the first relevant passage. nDCG@{meta['k']}: binary gain, "
        "one relevant passage expected (IDCG = 1), i.e. 1/log2(1 + first relevant rank). Latency: per query, "
        "warm (one untimed warm-up query per system), wall clock in this process. mean chars: mean length of "
        "the returned passages (longer passages contain evidence more easily).",
        "",
    ]
    return lines


def write_report(metrics: dict[str, Any], path: Path, chart_name: str | None = None) -> None:
    """The Markdown report: summary by split, chart, breakdowns by tag and type, failures."""
    k = metrics["meta"]["k"]
    header, rows = summary_rows(metrics)
    lines = _intro(metrics) + ["## Summary", "", markdown_table(header, rows), ""]
    focus = focus_rows(metrics, path.parent)
    if focus:
        lines += [
            "## By focus tag",
            "",
            "Answerable questions per split: `plan-worded` (none of the tags colloquial, near_miss, "
            "western_year, session: questions worded close to the plan), and the hard slices "
            "`colloquial` (everyday wording, at most one "
            "content word shared with the evidence sentence) and `western_year` (2024年度 where the plan "
            "writes 令和6年度). See eval/QUESTIONS.md.",
            "",
            markdown_table(*focus),
            "",
        ]
    if chart_name:
        lines += [f"![hit@n, MRR and nDCG per system]({chart_name})", ""]
    lines += ["## By tag (all questions in the run)", "", _group_table(metrics, "by_tag", k), ""]
    lines += ["## By primary type", "", _group_table(metrics, "by_type", k), ""]
    lines += _failures_section(metrics)
    path.write_text("\n".join(lines).rstrip() + "\n", encoding="utf-8")


def write_chart(metrics: dict[str, Any], path: Path) -> None:
    """Grouped bars of the ranking metrics per system, one panel per split (ASCII labels only)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    systems = metrics["systems"]
    splits = list(next(iter(systems.values()))["splits"])
    names = metric_names(next(iter(systems.values()))["splits"]["all"])
    fig, axes = plt.subplots(1, len(splits), figsize=(5.5 * len(splits), 4.6), sharey=True, squeeze=False)
    width = 0.8 / max(1, len(systems))
    for ax, split in zip(axes[0], splits, strict=True):
        for i, data in enumerate(systems.values()):
            summary = data["splits"][split]
            values = [summary[n] or 0.0 for n in names]
            xs = [x + (i - (len(systems) - 1) / 2) * width for x in range(len(names))]
            ax.bar(xs, values, width, label=data["label"])
        ax.set_xticks(range(len(names)), names)
        ax.set_ylim(0, 1)
        ax.set_title(f"{split} (n={next(iter(systems.values()))['splits'][split]['answerable']} answerable)")
        ax.grid(axis="y", alpha=0.3)
    axes[0][0].set_ylabel("score")
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=len(systems), fontsize=9, frameon=False)
    fig.suptitle(f"Retrieval quality by system (k={metrics['meta']['k']})")
    fig.tight_layout(rect=(0, 0.07, 1, 1))
    fig.savefig(path, dpi=110)
    plt.close(fig)
