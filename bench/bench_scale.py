"""Scale benchmark: the corpus copied N times, indexed in a temp dir; build time, size, RSS, search.

    python bench/bench_scale.py [--multiples 1,100] [--out bench/reports]

The N× corpus is the real corpus files (corpus/*.md) written N times as separate documents:
copy ``i`` of ``plan.md`` is ``plan-c007.md`` with the title 「…（複製007）」, so every copy has
its own document id, chunk ids and title (which the keyword index sees) and the same body.
Bodies are not perturbed: identical passage texts have identical vectors, so the embedding is
done once (or copied from the local index at ``--vectors-from``) and reused for every copy by
text. Build time therefore excludes embedding — on 2 cores the whole corpus takes about two
minutes to embed, so a real 100× corpus would add about 100 × that; the report says how many
texts were embedded. What it measures is everything else at N×: chunking and tokenising,
the BM25 indexes, writing and indexing the vectors in (embedded) Chroma, and searching them.

Each multiple is built in this process (peak RSS of the build); the searches run in a fresh
process (``--search-only``), so its RSS is what a replica serving that index would hold. Search
latency: each query of a fixed list in each mode (k=10), after one warm-up query per mode.
Written as markdown and JSON to ``--out`` (scale.md, scale.json).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the model is local; never reach for the hub
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))  # ReusingEmbedder is shared with the tests

from load import QUESTIONS, question  # noqa: E402  (bench/ is on sys.path: this script's folder)

MODES = ("keyword", "semantic", "hybrid")
_TITLE = re.compile(r"^title: (.*)$", re.M)


def replicate_corpus(source: Path, target: Path, multiple: int) -> int:
    """Write every ``source/*.md`` ``multiple`` times into ``target`` with numbered titles;
    returns the number of characters written."""
    target.mkdir(parents=True)
    written = 0
    for path in sorted(source.glob("*.md")):
        text = path.read_text(encoding="utf-8")
        for i in range(1, multiple + 1):
            copy = _TITLE.sub(lambda m, i=i: f"title: {m.group(1)}（複製{i:03d}）", text, count=1)
            (target / f"{path.stem}-c{i:03d}.md").write_text(copy, encoding="utf-8")
            written += len(copy)
    return written


def folder_mib(folder: Path) -> float:
    return round(sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 2**20, 1)


def rss_mib() -> dict[str, float]:
    """This process's current and peak resident memory, in MiB (Linux)."""
    current = float("nan")
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            current = int(line.split()[1]) / 1024
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"rss_mib": round(current, 1), "peak_rss_mib": round(peak, 1)}


def reusing_embedder(settings: Any, vectors_from: Path | None) -> Any:
    from helpers.vectors import ReusingEmbedder, known_vectors

    from kb.embed import Embedder
    from kb.errors import KBError
    from kb.knowledge import KnowledgeBase

    embedder = Embedder(settings)
    known = {}
    if vectors_from is not None and vectors_from.exists():
        try:
            with KnowledgeBase.open(settings.replace(index_dir=vectors_from), embedder) as local:
                known = known_vectors(local, settings)
        except KBError as exc:
            print(f"not reusing {vectors_from} ({exc.en}): embedding the corpus once", file=sys.stderr)
    return ReusingEmbedder(settings, embedder, known)


def build(multiple: int, work: Path, embedder: Any) -> dict[str, Any]:
    from indexer.build import build_index
    from kb.config import load_settings
    from kb.manifest import builds_dir

    corpus = work / f"corpus-{multiple}"
    characters = replicate_corpus(ROOT / "corpus", corpus, multiple)
    settings = load_settings(env={}).replace(index_dir=work / f"index-{multiple}", corpus_dir=corpus)
    computed_before = embedder.computed
    started = time.perf_counter()
    report = build_index(settings, embedder)
    seconds = time.perf_counter() - started
    build_dir = builds_dir(settings.index_dir) / report.build_id
    return {
        "multiple": multiple,
        "documents": report.documents,
        "characters": characters,
        "chunks": report.chunks,
        "sentences": report.sentences,
        "embedded_now": embedder.computed - computed_before,
        "build_seconds": round(seconds, 1),
        "index_mib": folder_mib(build_dir),
        "keyword_mib": folder_mib(build_dir / "keyword"),
        "chroma_mib": folder_mib(build_dir / "chroma"),
        "build_process": rss_mib(),
        "index_dir": str(settings.index_dir),
        "corpus_dir": str(corpus),
    }


def search_only(index_dir: Path, corpus_dir: Path, rounds: int) -> dict[str, Any]:
    """Open the index as a replica would and time every query in every mode (milliseconds)."""
    from kb.config import load_settings
    from kb.knowledge import KnowledgeBase

    settings = load_settings(env={}).replace(index_dir=index_dir, corpus_dir=corpus_dir)
    started = time.perf_counter()
    knowledge = KnowledgeBase.open(settings)
    for mode in MODES:  # loads the model and warms the caches
        knowledge.search("情報化計画", mode=mode, k=10)
    open_seconds = time.perf_counter() - started
    latencies: dict[str, dict[str, float]] = {}
    asked = 0  # every search gets a new question text: no cached query vector
    for mode in MODES:
        ms = []
        for _ in range(rounds * len(QUESTIONS)):
            query = question(asked)
            asked += 1
            t = time.perf_counter()
            knowledge.search(query, mode=mode, k=10)
            ms.append(1000 * (time.perf_counter() - t))
        cuts = statistics.quantiles(ms, n=100, method="inclusive")
        latencies[mode] = {"p50_ms": round(cuts[49], 1), "p95_ms": round(cuts[94], 1), "n": len(ms)}
    return {"open_and_warm_seconds": round(open_seconds, 1), "search": latencies, "search_process": rss_mib()}


def markdown(rows: list[dict[str, Any]], machine: dict[str, Any]) -> str:
    lines = [
        "# Scale benchmark (bench/bench_scale.py)",
        "",
        "The corpus files written N times as separate documents with numbered titles (same bodies), "
        "indexed with embedded Chroma in a temp dir. Passage vectors are embedded once and reused for "
        "every copy (identical texts), so **build time excludes embedding**; `embedded` says how many "
        "texts were embedded in that build. Search: 12 questions × rounds per mode, each a different text "
        "(query embedding included), k=10, in a fresh process (its RSS is a serving replica's).",
        "",
        f"{machine['date']}, commit {machine['commit']}, {machine['cpus']} CPUs, load average "
        f"{machine['load_before']} before, {machine['load_after']} after (other jobs share the machine: "
        "times are upper bounds).",
        "",
        "| N× | documents | characters | chunks | sentences | embedded | build s | index MiB "
        "(keyword / chroma) | build peak RSS MiB | search RSS MiB | keyword p50/p95 ms "
        "| semantic p50/p95 ms | hybrid p50/p95 ms |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        s = r["search"]
        lines.append(
            f"| {r['multiple']} | {r['documents']} | {r['characters']:,} | {r['chunks']:,} | {r['sentences']:,} "
            f"| {r['embedded_now']} | {r['build_seconds']} | {r['index_mib']} ({r['keyword_mib']} / "
            f"{r['chroma_mib']}) | {r['build_process']['peak_rss_mib']:.0f} "
            f"| {r['search_process']['rss_mib']:.0f} | "
            + " | ".join(f"{s[m]['p50_ms']:.0f} / {s[m]['p95_ms']:.0f}" for m in MODES)
            + " |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--multiples", default="1,100", help="corpus multiples to build, e.g. 1,10,100")
    parser.add_argument("--rounds", type=int, default=3, help="passes over the query list per mode")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "reports")
    parser.add_argument(
        "--vectors-from", type=Path, default=ROOT / ".kb" / "index", help="a local index to copy vectors from"
    )
    parser.add_argument("--search-only", nargs=2, type=Path, metavar=("INDEX_DIR", "CORPUS_DIR"))
    args = parser.parse_args(argv)
    if args.search_only:
        print(json.dumps(search_only(*args.search_only, args.rounds)))
        return 0

    from kb.config import load_settings

    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    machine: dict[str, Any] = {
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "commit": commit.stdout.strip(),
        "cpus": os.cpu_count(),
        "load_before": [round(x, 2) for x in os.getloadavg()],
    }
    embedder = reusing_embedder(load_settings(env={}), args.vectors_from)
    rows = []
    with tempfile.TemporaryDirectory(prefix="kb-scale-") as tmp:
        for multiple in [int(n) for n in args.multiples.split(",")]:
            row = build(multiple, Path(tmp), embedder)
            print(json.dumps(row), file=sys.stderr)
            searched = subprocess.run(
                [sys.executable, __file__, "--rounds", str(args.rounds), "--search-only"]
                + [row["index_dir"], row["corpus_dir"]],
                capture_output=True,
                text=True,
                check=True,
            )
            row |= json.loads(searched.stdout.strip().splitlines()[-1])
            del row["index_dir"], row["corpus_dir"]  # temp paths, gone after the run
            print(json.dumps(row["search"]), file=sys.stderr)
            rows.append(row)
    machine["load_after"] = [round(x, 2) for x in os.getloadavg()]
    args.out.mkdir(parents=True, exist_ok=True)
    report = markdown(rows, machine)
    (args.out / "scale.md").write_text(report, encoding="utf-8")
    payload = {"machine": machine, "rows": rows}
    (args.out / "scale.json").write_text(
        json.dumps(payload, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    print(report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
