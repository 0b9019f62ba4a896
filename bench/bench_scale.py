"""Scale benchmark: an N× corpus made from the real one, indexed in a temp dir; build time, size, RSS, search.

    python bench/bench_scale.py [--multiples 1,10,100] [--seed 12] [--out bench/reports]
    python bench/bench_scale.py --reuse-vectors --corpus numbered   # the old quick check (no embedding)

**Corpus** (``--corpus perturbed``, the default): indexer/scale_corpus.py writes copy 1 of each
corpus file as is and copies 2…N as variants, reproducibly from ``--seed``: sections shuffled
within each document, names (city, 〜課, facilities, systems) and numbers (years in both
calendars, days, counts, percentages) perturbed, a distinct title per copy. A sentence with no
name or number is the same in every copy, so the build embeds fewer distinct texts than it
indexes; the report gives both. ``--corpus numbered`` is the earlier corpus: the files written N
times with numbered titles and identical bodies.

**Embedding.** By default every build embeds its corpus for real, with the index's own
embedder (ONNX Runtime, e5-small, batches of 4 sorted by length; the indexer embeds each
distinct text once) and nothing reused from another index. ``--reuse-vectors`` is the old quick
mode, **which excludes most embedding from the build time**: vectors are copied by text from the
local index (``--vectors-from``) and each new text is embedded once per run; its report goes to
``scale-reuse.md`` so it never overwrites the real one.

Each build runs in its own process (``--build-only``): its wall time and CPU seconds (user + sys,
all threads; less sensitive to other jobs on the machine than wall time), the time and CPU of the
embedding phase (texts/s), its peak RSS and the load average at its start and end. The searches
run in another fresh process (``--search-only``), so its RSS is what a replica serving that index
would hold: each query of a fixed list (bench/load.py, a new text every time, so no cached query
vector) in each mode, k=10, after one warm-up query per mode.

From the measured embedding rate the report also extrapolates, labelled as such, what embedding
*every* text would take (a corpus with no repeated sentence): all texts × seconds per character
embedded. Written as markdown and JSON to ``--out``; a ``## History`` section already in the
markdown file is kept.
"""

from __future__ import annotations

import argparse
import contextlib
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
_EMBEDDING = "埋め込み計算"  # the build's progress stage while it embeds (indexer/build.py, kb/embed.py)
HISTORY = "## History"


def numbered_corpus(source: Path, target: Path, multiple: int) -> int:
    """The earlier corpus: every ``source/*.md`` written ``multiple`` times with numbered titles
    and identical bodies; returns the number of characters written."""
    target.mkdir(parents=True)
    written = 0
    for path in sorted(source.glob("*.md")):
        text = path.read_text(encoding="utf-8")
        for i in range(1, multiple + 1):
            copy = _TITLE.sub(rf"title: \g<1>（複製{i:03d}）", text, count=1)
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


def cpu_seconds() -> float:
    """User + system CPU seconds of this process so far (all its threads)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def reusing_embedder(settings: Any, vectors_from: Path | None) -> Any:
    from helpers.vectors import ReusingEmbedder, known_question_vectors, known_vectors

    from kb.embed import Embedder
    from kb.errors import KBError
    from kb.knowledge import KnowledgeBase

    embedder = Embedder(settings)
    known, questions = {}, {}
    if vectors_from is not None and vectors_from.exists():
        try:
            with KnowledgeBase.open(settings.replace(index_dir=vectors_from), embedder) as local:
                known, questions = known_vectors(local, settings), known_question_vectors(local)
        except KBError as exc:
            print(f"not reusing {vectors_from} ({exc.en}): embedding the corpus once", file=sys.stderr)
    return ReusingEmbedder(settings, embedder, known, questions)


class PhaseClock:
    """The build's progress callback: wall and CPU time of the embedding phase (from its first
    progress report to the first report of a later stage)."""

    def __init__(self) -> None:
        self.start: tuple[float, float] | None = None
        self.end: tuple[float, float] | None = None

    def __call__(self, stage: str, fraction: float) -> None:
        if self.start is None and _EMBEDDING in stage:
            self.start = (time.perf_counter(), cpu_seconds())
        elif self.start is not None and self.end is None and _EMBEDDING not in stage:
            self.end = (time.perf_counter(), cpu_seconds())

    def seconds(self) -> tuple[float, float]:
        if self.start is None or self.end is None:
            return 0.0, 0.0
        return self.end[0] - self.start[0], self.end[1] - self.start[1]


def counting_embedder(settings: Any) -> Any:
    """The index's embedder, counting the passages it really encodes (``computed``)."""
    from kb.embed import Embedder

    class CountingEmbedder(Embedder):
        computed = 0

        def _encode(self, texts, prefix, show_progress=False):  # type: ignore[no-untyped-def]
            if prefix == self.passage_prefix:
                self.computed += len(texts)
            return super()._encode(texts, prefix, show_progress)

    return CountingEmbedder(settings)


def build_only(index_dir: Path, corpus_dir: Path, reuse: bool, vectors_from: Path) -> dict[str, Any]:
    """Index ``corpus_dir`` into ``index_dir`` in this process and measure it."""
    from indexer.build import build_index
    from kb.config import load_settings
    from kb.manifest import builds_dir

    settings = load_settings(env={}).replace(index_dir=index_dir, corpus_dir=corpus_dir)
    embedder = reusing_embedder(settings, vectors_from) if reuse else counting_embedder(settings)
    load_start = load_average()
    clock = PhaseClock()
    cpu_start, started = cpu_seconds(), time.perf_counter()
    report = build_index(settings, embedder, clock)
    seconds, cpu = time.perf_counter() - started, cpu_seconds() - cpu_start
    embed_seconds, embed_cpu = clock.seconds()
    embedded = embedder.computed
    build_dir = builds_dir(settings.index_dir) / report.build_id
    return {
        "indexed_chunks": report.chunks,
        "indexed_sentences": report.sentences,
        "embedded": embedded,
        "build_seconds": round(seconds, 1),
        "build_cpu_seconds": round(cpu, 1),
        "embed_seconds": round(embed_seconds, 1),
        "embed_cpu_seconds": round(embed_cpu, 1),
        "embed_texts_per_s": round(embedded / embed_seconds, 1) if embed_seconds and embedded else None,
        "index_mib": folder_mib(build_dir),
        "keyword_mib": folder_mib(build_dir / "keyword"),
        "chroma_mib": folder_mib(build_dir / "chroma"),
        "build_process": rss_mib(),
        "load_build_start": load_start,
        "load_build_end": load_average(),
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
    load_start, cpu_start = load_average(), cpu_seconds()
    ms: dict[str, list[float]] = {mode: [] for mode in MODES}
    for _ in range(rounds * len(QUESTIONS)):
        for mode in MODES:  # modes in turn, so a change of load on the machine hits all three alike
            query = question(asked)
            asked += 1
            t = time.perf_counter()
            knowledge.search(query, mode=mode, k=10)
            ms[mode].append(1000 * (time.perf_counter() - t))
    for mode, times in ms.items():
        cuts = statistics.quantiles(times, n=100, method="inclusive")
        latencies[mode] = {"p50_ms": round(cuts[49], 1), "p95_ms": round(cuts[94], 1), "n": len(times)}
    return {
        "open_and_warm_seconds": round(open_seconds, 1),
        "search": latencies,
        "search_cpu_seconds": round(cpu_seconds() - cpu_start, 1),
        "load_search": [load_start, load_average()],
        "search_process": rss_mib(),
    }


def _child(args: list[str]) -> dict[str, Any]:
    done = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True)
    if done.returncode:
        sys.stderr.write(done.stderr)
        raise SystemExit(f"{' '.join(args[:1])} failed ({done.returncode})")
    return json.loads(done.stdout.strip().splitlines()[-1])


def extrapolate(row: dict[str, Any]) -> dict[str, Any]:
    """Embedding every text (none repeated), at this build's measured rate per character."""
    if not row["embed_seconds"] or not row["embedded"] or row["embedded"] != row["distinct_texts"]:
        return {}
    scale = row["chars"] / row["distinct_chars"]
    all_seconds = row["embed_seconds"] * scale
    all_cpu = row["embed_cpu_seconds"] * scale
    return {
        "all_texts_embed_minutes": round(all_seconds / 60, 1),
        "all_texts_build_minutes": round((all_seconds + row["build_seconds"] - row["embed_seconds"]) / 60, 1),
        "all_texts_embed_cpu_minutes": round(all_cpu / 60, 1),
        "all_texts_build_cpu_minutes": round(
            (all_cpu + row["build_cpu_seconds"] - row["embed_cpu_seconds"]) / 60, 1
        ),
    }


def markdown(rows: list[dict[str, Any]], machine: dict[str, Any], history: str) -> str:
    reuse = machine["reuse_vectors"]
    corpus = (
        f"indexer/scale_corpus.py, seed {machine['seed']}: copy 1 of each file as is, copies 2…N with sections "
        "shuffled and names and numbers perturbed, a distinct title per copy"
        if machine["corpus"] == "perturbed"
        else "the corpus files written N times with numbered titles and identical bodies"
    )
    embedding = (
        "**Vectors reused by text from the local index (quick mode): the build time excludes the embedding "
        "of every text already in it.**"
        if reuse
        else "Real embedding: every distinct text of the N× corpus embedded in the build (ONNX Runtime, "
        "e5-small, batch 4, length-sorted; nothing reused from another index)."
    )
    lines = [
        "# Scale benchmark (bench/bench_scale.py)",
        "",
        f"Corpus: {corpus}. {embedding} Each build in its own process (CPU = user + sys seconds of all its "
        "threads; load = 1-minute load average at the start → end of the build; of the searches). Search: 12 questions × rounds per "
        "mode, modes in turn, each a different text (query embedding included), k=10, in a fresh process (its RSS is a "
        "serving replica's).",
        "",
        f"{machine['date']}, commit {machine['commit']}, {machine['cpus']} CPUs, load average "
        f"{machine['load_before']} before, {machine['load_after']} after (other engineers' jobs share the "
        "machine: times are upper bounds).",
        "",
        "| N× | docs | chunks (distinct) | sentences (distinct) | embedded texts | build s (CPU s) | embedding s "
        "(CPU s), texts/s | load | index MiB (keyword / chroma) | build peak RSS MiB | serving RSS MiB "
        "| keyword p50/p95 ms | semantic p50/p95 ms | hybrid p50/p95 ms |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        s = r["search"]
        lines.append(
            f"| {r.get('label', r['multiple'])} | {r['documents']} | {r['chunks']:,} ({r['distinct_chunks']:,}) "
            f"| {r['sentences']:,} ({r['distinct_sentences']:,}) | {r['embedded']:,} of {r['texts']:,} "
            f"| {r['build_seconds']} ({r['build_cpu_seconds']}) "
            f"| {r['embed_seconds']} ({r['embed_cpu_seconds']}), {r['embed_texts_per_s'] or '–'} "
            f"| {r['load_build_start'][0]} → {r['load_build_end'][0]}; "
            f"{r['load_search'][0][0]} → {r['load_search'][1][0]} "
            f"| {r['index_mib']} ({r['keyword_mib']} / {r['chroma_mib']}) | {r['build_process']['peak_rss_mib']:.0f} "
            f"| {r['search_process']['rss_mib']:.0f} | "
            + " | ".join(f"{s[m]['p50_ms']:.0f} / {s[m]['p95_ms']:.0f}" for m in MODES)
            + " |"
        )
    extrapolated = [r for r in rows if r.get("all_texts_embed_minutes")]
    if extrapolated:
        lines += [
            "",
            "**Extrapolated, not measured** — a corpus with no repeated text (every chunk and sentence "
            "embedded): all texts' characters × this build's embedding seconds (and CPU seconds) per "
            "character, plus the rest of the build as measured. CPU minutes / 2 is the least wall time on "
            "2 idle cores:",
            "",
        ]
        for r in extrapolated:
            label = r.get("label", f"{r['multiple']}×")
            lines.append(
                f"- {label}: {r['texts']:,} texts, {r['chars']:,} characters → embedding "
                f"≈ {r['all_texts_embed_minutes']} min, build ≈ {r['all_texts_build_minutes']} min at this "
                f"load ({r['all_texts_build_cpu_minutes']} CPU min) "
                f"(measured: {r['embedded']:,} distinct texts, {r['distinct_chars']:,} characters in "
                f"{r['embed_seconds']} s)."
            )
    text = "\n".join(lines) + "\n"
    return text + ("\n" + history if history else "")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--multiples", default="1,10,100", help="corpus multiples to build, e.g. 1,10,100")
    parser.add_argument("--corpus", choices=("perturbed", "numbered"), default="perturbed")
    parser.add_argument("--seed", type=int, default=None, help="generator seed (indexer/scale_corpus.py)")
    parser.add_argument("--rounds", type=int, default=3, help="passes over the query list per mode")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "reports")
    parser.add_argument(
        "--reuse-vectors",
        action="store_true",
        help="quick mode: copy vectors by text from --vectors-from (build time then excludes embedding)",
    )
    parser.add_argument(
        "--vectors-from", type=Path, default=ROOT / ".kb" / "index", help="a local index to copy vectors from"
    )
    parser.add_argument(
        "--work-dir", type=Path, default=None, help="keep corpora and indexes here (default: temp)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the corpora and indexes (path printed)")
    parser.add_argument("--search-only", nargs=2, type=Path, metavar=("INDEX_DIR", "CORPUS_DIR"))
    parser.add_argument("--build-only", nargs=2, type=Path, metavar=("INDEX_DIR", "CORPUS_DIR"))
    args = parser.parse_args(argv)
    if args.search_only:
        index_dir, corpus_dir = args.search_only
        print(json.dumps(search_only(index_dir, corpus_dir, args.rounds)))
        return 0
    if args.build_only:
        index_dir, corpus_dir = args.build_only
        print(json.dumps(build_only(index_dir, corpus_dir, args.reuse_vectors, args.vectors_from)))
        return 0

    from indexer.scale_corpus import DEFAULT_SEED, distinct_texts, generate

    seed = DEFAULT_SEED if args.seed is None else args.seed
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    machine: dict[str, Any] = {
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "commit": commit.stdout.strip(),
        "cpus": os.cpu_count(),
        "corpus": args.corpus,
        "seed": seed if args.corpus == "perturbed" else None,
        "reuse_vectors": args.reuse_vectors,
        "load_before": load_average(),
    }
    rows = []
    if args.work_dir:
        args.work_dir.mkdir(parents=True, exist_ok=True)
    work = (
        contextlib.nullcontext(tempfile.mkdtemp(prefix="kb-scale-", dir=args.work_dir))
        if args.keep
        else tempfile.TemporaryDirectory(prefix="kb-scale-", dir=args.work_dir)
    )
    with work as tmp:
        for multiple in [int(n) for n in args.multiples.split(",")]:
            corpus, index = Path(tmp) / f"corpus-{multiple}", Path(tmp) / f"index-{multiple}"
            if args.corpus == "perturbed":
                characters = generate(ROOT / "corpus", corpus, multiple, seed)
            else:
                characters = numbered_corpus(ROOT / "corpus", corpus, multiple)
            build_args = ["--build-only", str(index), str(corpus)]
            if args.reuse_vectors:
                build_args += ["--reuse-vectors", "--vectors-from", str(args.vectors_from)]
            # Counted here, not in the build's process, so its peak RSS is the build's alone.
            row: dict[str, Any] = {"multiple": multiple, "characters": characters, **distinct_texts(corpus)}
            row |= _child(build_args)
            print(json.dumps(row), file=sys.stderr)
            row |= _child(["--rounds", str(args.rounds), "--search-only", str(index), str(corpus)])
            row |= extrapolate(row)
            print(json.dumps(row["search"]), file=sys.stderr)
            rows.append(row)
        if args.keep:
            print(f"kept {tmp}", file=sys.stderr)
    machine["load_after"] = load_average()
    args.out.mkdir(parents=True, exist_ok=True)
    name = "scale-reuse" if args.reuse_vectors else "scale"
    old = args.out / f"{name}.md"
    history = ""
    if old.exists() and HISTORY in (text := old.read_text(encoding="utf-8")):
        history = text[text.index(HISTORY) :]
    report = markdown(rows, machine, history)
    old.write_text(report, encoding="utf-8")
    payload = {"machine": machine, "rows": rows}
    (args.out / f"{name}.json").write_text(
        json.dumps(payload, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    print(report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
