"""Load test: concurrent clients against one app replica, then two, on one Chroma server.

    python bench/load.py [--clients 16] [--requests 50] [--replicas 1,2] [--out bench/reports]

Starts everything itself on free loopback ports and stops it at the end: a ``chroma run``
server with its data in a temp dir, the real corpus built into it (vectors copied from the
local index at ``--vectors-from`` when it matches, so no re-embedding; otherwise embedded),
then for each replica count that many ``python app.py`` processes sharing the index folder and
the server. Each of ``--clients`` threads sends ``--requests`` requests one after another
through Gradio's HTTP API (``POST /gradio_api/call/<api>``, then the event stream), cycling
through keyword / semantic / hybrid search and ask; every request's question text differs
(12 questions in 72 phrasings), so none is answered from the app's cache of query vectors. Requests go to
the replicas in plain round-robin (a shared counter), standing in for a load balancer.

Reported per replica count: throughput, p50/p95/p99/max latency, errors (an exception, an error
event or an error notice in the output), and each replica's RSS before and after. Written as
markdown and JSON to ``--out`` (load.md, load.json). The client threads run on the same machine
as the servers, so they take CPU from them: figures are lower bounds for throughput.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the model is local; never reach for the hub
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))  # the server helpers are shared with the tests

from helpers.servers import ApiError, Replica, call_api, chroma_server, replica_env, replicas  # noqa: E402

QUESTIONS = [
    "書かない窓口はいつから",
    "RPAの導入効果",
    "窓口の待ち時間を減らす取り組み",
    "情報セキュリティ対策",
    "マイナンバーカードの活用",
    "EBPMとは",
    "テレワークの推進",
    "オープンデータの取り組み",
    "電子申請で手続きできるものは？",
    "計画期間はいつまで？",
    "DX推進の体制について",
    "キャッシュレス決済の導入",
]
KINDS = ("keyword", "semantic", "hybrid", "ask")
# Ways staff phrase the same question: combined with QUESTIONS they give 864 different texts,
# so no request of a run is answered from the app's cache of recent query vectors.
PREFIXES = (
    "",
    "すみません、",
    "質問です。",
    "確認ですが、",
    "教えてください。",
    "至急、",
    "担当者より：",
    "市民から：",
)
SUFFIXES = (
    "",
    "について",
    "を知りたい",
    "の詳細",
    "の概要",
    "はどうなっていますか",
    "を教えて",
    "の説明",
    "の状況",
)


def question(n: int) -> str:
    """The ``n``-th question of a run: different texts for n < 864, then they repeat."""
    base, k = QUESTIONS[n % len(QUESTIONS)], n // len(QUESTIONS)
    return PREFIXES[k % len(PREFIXES)] + base + SUFFIXES[(k // len(PREFIXES)) % len(SUFFIXES)]


@dataclass
class Result:
    replicas: int
    clients: int
    requests: int
    errors: int
    seconds: float
    throughput_rps: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    by_kind_p50_ms: dict[str, float]
    rss_mib_before: list[float]
    rss_mib_after: list[float]
    error_samples: list[str] = field(default_factory=list)


def request_args(kind: str, question: str) -> tuple[str, list[Any]]:
    """The API name and inputs for one request of ``kind``."""
    # Gradio's HTTP API wants every input (gradio_client fills defaults; plain HTTP does not):
    # /ask (question, chat, years), /search (query, mode, kinds, chapter, k, years); "" = all years.
    if kind == "ask":
        return "ask", [question, [], ""]
    return "search", [question, kind, [], "", 5, ""]


def failure(output: list[Any]) -> str | None:
    """Why an output counts as an error (the app's error notice), or None."""
    text = json.dumps(output, ensure_ascii=False)
    return "error notice in the output" if "kb-error" in text else None


def rss_mib(pid: int) -> float:
    """Resident memory of a process (Linux /proc), in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return float("nan")


def percentile(values: Sequence[float], pct: int) -> float:
    """The ``pct``-th percentile (inclusive method, as numpy's default linear interpolation)."""
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[pct - 1]


def run_load(
    urls: Sequence[str], clients: int, requests: int
) -> tuple[list[tuple[str, float]], list[str], float]:
    """``clients`` threads × ``requests`` requests; returns (kind, seconds) per success, the
    errors, and the wall time."""
    turn = itertools.count()
    lock = threading.Lock()
    latencies: list[tuple[str, float]] = []
    errors: list[str] = []

    def client(number: int) -> None:
        for i in range(requests):
            kind = KINDS[(number + i) % len(KINDS)]
            text = question(number * requests + i)
            with lock:
                url = urls[next(turn) % len(urls)]
            api, data = request_args(kind, text)
            started = time.perf_counter()
            try:
                problem = failure(call_api(url, api, data, timeout=300))
            except (OSError, ApiError, ValueError) as exc:
                problem = f"{type(exc).__name__}: {exc}"
            elapsed = time.perf_counter() - started
            with lock:
                if problem is None:
                    latencies.append((kind, elapsed))
                else:
                    errors.append(f"{kind} {text}: {problem}"[:300])

    threads = [threading.Thread(target=client, args=(n,), name=f"client-{n}") for n in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, errors, time.perf_counter() - started


def measure(replica_set: Sequence[Replica], clients: int, requests: int) -> Result:
    urls = [r.url for r in replica_set]
    for url in urls:  # one of each kind first, so no replica is measured cold
        for kind in KINDS:
            call_api(url, *request_args(kind, QUESTIONS[0]))
    before = [rss_mib(r.proc.pid) for r in replica_set]
    latencies, errors, seconds = run_load(urls, clients, requests)
    after = [rss_mib(r.proc.pid) for r in replica_set]
    ms = sorted(1000 * s for _, s in latencies) or [float("nan")]
    by_kind = {
        kind: round(statistics.median([1000 * s for k, s in latencies if k == kind] or [float("nan")]), 1)
        for kind in KINDS
    }
    total = clients * requests
    return Result(
        replicas=len(urls),
        clients=clients,
        requests=total,
        errors=len(errors),
        seconds=round(seconds, 1),
        throughput_rps=round(len(latencies) / seconds, 2),
        p50_ms=round(percentile(ms, 50), 1),
        p95_ms=round(percentile(ms, 95), 1),
        p99_ms=round(percentile(ms, 99), 1),
        max_ms=round(ms[-1], 1),
        by_kind_p50_ms=by_kind,
        rss_mib_before=before,
        rss_mib_after=after,
        error_samples=errors[:5],
    )


def build(env: dict[str, str], vectors_from: Path | None) -> dict[str, Any]:
    """Build the corpus into the server; vectors come from ``vectors_from`` when it matches."""
    from helpers.vectors import ReusingEmbedder, known_question_vectors, known_vectors

    from indexer.build import build_index
    from kb.config import load_settings
    from kb.embed import Embedder
    from kb.errors import KBError
    from kb.knowledge import KnowledgeBase

    settings = load_settings(env=env)
    embedder = Embedder(settings)
    known, questions = {}, {}
    if vectors_from is not None:
        try:
            with KnowledgeBase.open(
                settings.replace(index_dir=vectors_from, chroma_host=None), embedder
            ) as local:
                known, questions = known_vectors(local, settings), known_question_vectors(local)
        except KBError as exc:
            print(f"not reusing {vectors_from} ({exc.en}): embedding the corpus", file=sys.stderr)
    reusing = ReusingEmbedder(settings, embedder, known, questions)
    report = build_index(settings, reusing)
    return {"chunks": report.chunks, "sentences": report.sentences, "embedded": reusing.computed}


def machine() -> dict[str, Any]:
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": commit.stdout.strip(),
        "cpus": os.cpu_count(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


def markdown(
    results: list[Result], before: dict[str, Any], after: dict[str, Any], args: argparse.Namespace
) -> str:
    lines = [
        "# Load test (bench/load.py)",
        "",
        f"{args.clients} concurrent clients × {args.requests} requests each, cycling keyword / semantic / "
        "hybrid search (k=5) and ask (every request a different question text, so no cached query vector), through Gradio's HTTP API (`/gradio_api/call/<api>`), round-robin "
        "over the replicas; one Chroma server; all on loopback on one machine (clients included).",
        "",
        f"{before['date']}, commit {before['commit']}, {before['cpus']} CPUs, load average "
        f"{before['load_average']} before, {after['load_average']} after (other jobs share the machine: "
        "latencies are upper bounds).",
        "",
        "| replicas | requests | errors | wall s | throughput req/s | p50 ms | p95 ms | p99 ms | max ms "
        "| p50 keyword / semantic / hybrid / ask ms | RSS MiB before → after |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        kinds = " / ".join(f"{r.by_kind_p50_ms[k]:.0f}" for k in KINDS)
        rss = ", ".join(f"{b:.0f} → {a:.0f}" for b, a in zip(r.rss_mib_before, r.rss_mib_after, strict=True))
        lines.append(
            f"| {r.replicas} | {r.requests} | {r.errors} | {r.seconds} | {r.throughput_rps} | {r.p50_ms:.0f} "
            f"| {r.p95_ms:.0f} | {r.p99_ms:.0f} | {r.max_ms:.0f} | {kinds} | {rss} |"
        )
    samples = [s for r in results for s in r.error_samples]
    if samples:
        lines += ["", "Errors (first few):", ""] + [f"- {s}" for s in samples]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--requests", type=int, default=50, help="requests per client")
    parser.add_argument("--replicas", default="1,2", help="replica counts to measure, e.g. 1,2")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "reports")
    parser.add_argument(
        "--vectors-from", type=Path, default=ROOT / ".kb" / "index", help="a local index to copy vectors from"
    )
    args = parser.parse_args(argv)
    counts = [int(n) for n in args.replicas.split(",")]
    before = machine()
    results: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="kb-load-") as tmp:
        work = Path(tmp)
        with chroma_server(work / "chroma", work / "chroma.log") as port:
            env = {
                "KB_CHROMA_HOST": "127.0.0.1",
                "KB_CHROMA_PORT": str(port),
                "KB_INDEX_DIR": str(work / "index"),
                "KB_CORPUS_DIR": str(ROOT / "corpus"),
            }
            started = time.perf_counter()
            built = build(env, args.vectors_from if args.vectors_from.exists() else None)
            print(f"built {built} in {time.perf_counter() - started:.1f} s", file=sys.stderr)
            for count in counts:
                with replicas(count, replica_env(env), work) as replica_set:
                    result = measure(replica_set, args.clients, args.requests)
                print(json.dumps(asdict(result), ensure_ascii=False), file=sys.stderr)
                results.append(result)
    after = machine()
    args.out.mkdir(parents=True, exist_ok=True)
    report = markdown(results, before, after, args)
    (args.out / "load.md").write_text(report, encoding="utf-8")
    payload = {"machine_before": before, "machine_after": after, "results": [asdict(r) for r in results]}
    (args.out / "load.json").write_text(
        json.dumps(payload, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    print(report)
    return 1 if any(r.errors for r in results) else 0


if __name__ == "__main__":
    raise SystemExit(main())
