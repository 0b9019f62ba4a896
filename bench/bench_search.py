"""`make bench`: search and answer latency, cold index time, encode throughput, torch vs ONNX.

    python bench/bench_search.py [--work-dir /tmp/kb-bench] [--queries 100] [--passages 188]
        [--backends onnx torch] [--skip-build] [--out bench/reports]

Writes ``<out>/bench-<UTC time>.md`` and ``.json`` (and ``latest.md``/``latest.json``). Every figure
comes with the 1-minute load average before and after it: on a shared machine they are upper
bounds. What is measured:

* cold index: a fresh process that imports the project and runs ``build_index`` (what
  ``kb index`` runs) into an empty ``<work>/index-<backend>``, the model already prepared: the
  process's wall time and the build's own stages;
* encode: passages/s (index texts, batches of 32, as a build does) and single-query latency per
  backend, each in its own process (torch and ONNX Runtime bring separate thread pools);
* search: warm p50/p95 per mode over the eval questions, the query-vector cache cleared before
  each query so the embedding is always included; semantic and hybrid also with Chroma's HNSW
  query instead of the in-memory exact search (``exact_search_max = 0``);
* ask: ``Answerer.answer`` (extractive), warm, cache cleared per question;
* the in-memory search alone at larger synthetic sizes (for ``exact_search_max``).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def load1() -> float:
    return round(os.getloadavg()[0], 2)


def percentiles(times_ms: list[float]) -> dict[str, float]:
    return {
        "p50_ms": round(statistics.median(times_ms), 1),
        "p95_ms": round(statistics.quantiles(times_ms, n=20)[18], 1),
        "n": len(times_ms),
    }


def questions(n: int) -> list[str]:
    rows = [json.loads(line) for line in (ROOT / "eval" / "questions.jsonl").read_text("utf-8").splitlines()]
    qs = [r["question"] for r in rows if r.get("split") == "dev"]
    return (qs * (n // max(1, len(qs)) + 1))[:n]


def index_texts() -> list[str]:
    from kb.chunk import chunk_documents, chunk_sentences
    from kb.config import load_settings
    from kb.corpus import load_corpus

    s = load_settings(env={})
    docs, _ = load_corpus(ROOT / "corpus")
    chunks = chunk_documents(docs, s.chunk_target_chars, s.chunk_max_chars, s.chunk_overlap_chars)
    return [c.embed_text for c in chunks] + [x.text for x in chunk_sentences(chunks, s.sentence_min_chars)]


def settings_for(backend: str, index_dir: Path | None = None, **changes: Any):  # type: ignore[no-untyped-def]
    from kb.config import load_settings

    s = load_settings(env={}).replace(embedding_backend=backend, corpus_dir=ROOT / "corpus", **changes)
    return s.replace(index_dir=index_dir) if index_dir else s


# ------------------------------------------------------------------ workers (one process each)


def worker_build(index_dir: Path, backend: str) -> dict[str, Any]:
    """Run in a fresh process: build the index, timing each stage the build reports."""
    started = time.perf_counter()
    from indexer.build import build_index

    imported = time.perf_counter() - started
    stages: dict[str, float] = {}
    last = [time.perf_counter(), "start"]

    def progress(stage: str, fraction: float) -> None:
        now = time.perf_counter()
        if stage != last[1]:
            stages[str(last[1])] = stages.get(str(last[1]), 0.0) + now - float(last[0])
            last[:] = [now, stage]

    report = build_index(settings_for(backend, index_dir), progress=progress, rebuild=True)
    progress("end", 1.0)
    return {
        "import_s": round(imported, 2),
        "build_s": report.seconds,
        "embedded": report.embedded,
        "stages_s": {k: round(v, 2) for k, v in stages.items()},
    }


def worker_encode(backend: str, passages: int, n_queries: int) -> dict[str, Any]:
    from kb.embed import Embedder

    texts = index_texts()
    texts = texts[:: max(1, len(texts) // passages)][:passages]
    t0 = time.perf_counter()
    embedder = Embedder(settings_for(backend))
    _ = embedder.dimension
    load_s = time.perf_counter() - t0
    embedder.embed_passages(texts[:32])
    t0 = time.perf_counter()
    embedder.embed_passages(texts)
    per_s = len(texts) / (time.perf_counter() - t0)
    qs = questions(n_queries)
    for q in qs[:5]:
        embedder.embed_queries([q])
    times = []
    for q in qs:
        t = time.perf_counter()
        embedder.embed_queries([q])
        times.append((time.perf_counter() - t) * 1000)
    return {
        "load_s": round(load_s, 2),
        "passages": len(texts),
        "passages_per_s": round(per_s, 1),
        **percentiles(times),
    }


def run_worker(*args: str) -> dict[str, Any]:
    t0 = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, __file__, "_worker", *args], capture_output=True, text=True, cwd=ROOT, check=False
    )
    if proc.returncode != 0:
        raise RuntimeError(f"worker {args} failed:\n{proc.stderr[-3000:]}")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    result["process_wall_s"] = round(time.perf_counter() - t0, 1)
    return result


# ------------------------------------------------------------------ in-process measurements


def search_latency(index_dir: Path, n: int, exact: bool) -> dict[str, Any]:
    from kb.knowledge import KnowledgeBase

    changes = {} if exact else {"exact_search_max": 0}
    kb = KnowledgeBase.open(settings_for("onnx", index_dir, **changes))
    embedder = kb.retriever.embedder
    assert embedder is not None
    qs = questions(n)
    out: dict[str, Any] = {}
    for mode in ("keyword", "semantic", "hybrid") if exact else ("semantic", "hybrid"):
        for q in qs[:5]:
            kb.search(q, mode=mode, k=10)
        times = []
        for q in qs:
            embedder._query_cache.clear()  # always include the query embedding
            t = time.perf_counter()
            kb.search(q, mode=mode, k=10)
            times.append((time.perf_counter() - t) * 1000)
        out[mode] = {**percentiles(times), "load1": load1()}
    if exact:
        from kb.answer import Answerer

        answerer = Answerer.from_settings(kb, kb.settings)
        for q in qs[:3]:
            answerer.answer(q)
        times = []
        for q in qs[: max(10, n // 2)]:
            embedder._query_cache.clear()
            t = time.perf_counter()
            answerer.answer(q)
            times.append((time.perf_counter() - t) * 1000)
        out["ask"] = {**percentiles(times), "load1": load1()}
    kb.close()
    return out


def exact_scaling(sizes: list[int], dim: int = 384) -> dict[str, Any]:
    from kb.store import ExactIndex

    rng = np.random.default_rng(0)
    out: dict[str, Any] = {}
    for size in sizes:
        vectors = rng.normal(size=(size, dim)).astype(np.float32)
        metas = [{"kind": ("plan", "glossary")[i % 2]} for i in range(size)]
        index = ExactIndex([f"v{i}" for i in range(size)], vectors, metas)
        times = []
        for i in range(30):
            t = time.perf_counter()
            index.search(vectors[i], 200, {"kind": {"$in": ["plan"]}} if i % 2 else None)
            times.append((time.perf_counter() - t) * 1000)
        out[str(size)] = {**percentiles(times), "memory_MB": round(index.vectors.nbytes / 1e6, 1)}
    return out


# ------------------------------------------------------------------ report


def markdown(r: dict[str, Any]) -> str:
    lines = [
        f"# make bench, {r['started']}",
        "",
        f"Machine: {r['cpus']} CPUs; 1-minute load average {r['load1_start']} at the start, "
        f"{r['load1_end']} at the end (foreign load makes every figure an upper bound).",
        "",
    ]
    if r.get("cold_index"):
        lines += ["## Cold `kb index` (model prepared, empty index folder)", ""]
        lines += [
            "| backend | process wall s | build s | embedded | stages s | load1 after |",
            "|---|---|---|---|---|---|",
        ]
        for backend, b in r["cold_index"].items():
            stages = ", ".join(f"{k} {v}" for k, v in b["stages_s"].items())
            lines.append(
                f"| {backend} | {b['process_wall_s']} | {b['build_s']} | {b['embedded']} | {stages} | {b['load1']} |"
            )
        lines.append("")
    lines += [
        "## Encoding",
        "",
        "| backend | load s | passages/s | query p50 ms | query p95 ms | load1 after |",
        "|---|---|---|---|---|---|",
    ]
    for backend, e in r["encode"].items():
        lines.append(
            f"| {backend} | {e['load_s']} | {e['passages_per_s']} | {e['p50_ms']} | {e['p95_ms']} | {e['load1']} |"
        )
    lines += ["", "## Warm search (k = 10, query embedding included) and ask", ""]
    lines += ["| what | vectors searched | p50 ms | p95 ms | n | load1 after |", "|---|---|---|---|---|---|"]
    for label, block in (("in memory (exact)", r["search"]), ("Chroma HNSW", r["search_chroma"])):
        for mode, m in block.items():
            lines.append(f"| {mode} | {label} | {m['p50_ms']} | {m['p95_ms']} | {m['n']} | {m['load1']} |")
    lines += ["", "## In-memory exact search alone (k = 200, synthetic 384-d vectors)", ""]
    lines += ["| vectors | p50 ms | p95 ms | memory MB |", "|---|---|---|---|"]
    for size, m in r["exact_scaling"].items():
        lines.append(f"| {size} | {m['p50_ms']} | {m['p95_ms']} | {m['memory_MB']} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("rest", nargs="*", help=argparse.SUPPRESS)
    p.add_argument("--work-dir", type=Path, default=Path("/tmp/kb-bench"))
    p.add_argument("--queries", type=int, default=100)
    p.add_argument("--passages", type=int, default=188)
    p.add_argument("--backends", nargs="+", default=["onnx", "torch"])
    p.add_argument("--skip-build", action="store_true", help="reuse <work-dir>/index-onnx")
    p.add_argument("--out", type=Path, default=ROOT / "bench" / "reports")
    args = p.parse_args()
    if args.rest and args.rest[0] == "_worker":
        kind, *rest = args.rest[1:]
        if kind == "build":
            result = worker_build(Path(rest[0]), rest[1])
        else:
            result = worker_encode(rest[0], int(rest[1]), int(rest[2]))
        print(json.dumps(result))
        return

    r: dict[str, Any] = {
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "cpus": os.cpu_count(),
        "load1_start": load1(),
    }
    Embedder = __import__("kb.embed", fromlist=["Embedder"]).Embedder
    for backend in args.backends:  # prepare (convert / export) outside every timing
        _ = Embedder(settings_for(backend)).dimension
    index_onnx = args.work_dir / "index-onnx"
    if not args.skip_build:
        r["cold_index"] = {}
        for backend in args.backends:
            folder = args.work_dir / f"index-{backend}"
            shutil.rmtree(folder, ignore_errors=True)
            folder.parent.mkdir(parents=True, exist_ok=True)
            result = run_worker("build", str(folder), backend)  # a fresh process, as `kb index` is
            r["cold_index"][backend] = {**result, "load1": load1()}
            print(f"cold index {backend}: {result['process_wall_s']} s", file=sys.stderr)
    r["encode"] = {}
    for backend in args.backends:
        r["encode"][backend] = {
            **run_worker("encode", backend, str(args.passages), str(args.queries)),
            "load1": load1(),
        }
        print(f"encode {backend}: {r['encode'][backend]}", file=sys.stderr)
    r["search"] = search_latency(index_onnx, args.queries, exact=True)
    r["search_chroma"] = search_latency(index_onnx, args.queries, exact=False)
    r["exact_scaling"] = exact_scaling([1_000, 10_000, 50_000, 100_000])
    r["load1_end"] = load1()
    args.out.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    text = markdown(r)
    for name in (f"bench-{stamp}", "latest"):
        (args.out / f"{name}.json").write_text(json.dumps(r, indent=1, ensure_ascii=False) + "\n", "utf-8")
        (args.out / f"{name}.md").write_text(text, "utf-8")
    print(text)


if __name__ == "__main__":
    main()
