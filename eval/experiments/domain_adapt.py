"""Domain adaptation of e5-small on pairs taken from the corpus itself (issue #8, item 5).

Nothing here is wired into kb/: this script builds the training pairs, fine-tunes a copy of the
packaged model and scores evaluation runs by group. Results and commands: domain_adapt.md.

    python -m eval.experiments.domain_adapt pairs                       # counts per kind, examples
    python -m eval.experiments.domain_adapt train --out /tmp/h7/model/e5-adapt-a [--kinds ...] [--lr ...]
    KB_EMBEDDING_MODEL=/tmp/h7/model/e5-adapt-a python -m kb.cli --index-dir /tmp/h7/index index
    python -m eval.retrieval --questions eval/questions.jsonl --modes semantic,hybrid --split dev \
        --no-baseline --quiet --index-dir /tmp/h7/index --out /tmp/h7/ra
    python -m eval.experiments.domain_adapt score /tmp/h7/rbase /tmp/h7/ra   # colloquial / plan-worded

Pairs (never from eval/questions.jsonl; only corpus/*.md through kb.corpus / kb.chunk):
- heading:  a section's last heading (numbering stripped) -> each chunk of that section;
- glossary: a glossary term -> its definition (the text after 「term: 」; pointer definitions
            such as 「次節…のとおり」 skipped);
- ict:      a sentence of a chunk -> the rest of that chunk (inverse cloze), at most
            --ict-per-chunk sentences per chunk, chosen with the seed;
- abbrev:   an abbreviation -> its expansion, from 「expansion（ABBR）」, 「ABBR（expansion）」 and the
            glossary's 「ABBR (… の略)」 headings;
- expected: an expected question of corpus/expected_questions.tsv (everyday words, written blind
            to eval/) -> the sentence unit(s) of the corpus holding its anchor (what the answerer
            scores), or with --expected-side chunk the chunk holding it. Anchors are placed with
            kb.expected_questions (ExpectedQuestions.units), sentences with kb.text.sentence_units.
            Not in the default --kinds (session 12; domain_adapt.md "Expected-question pairs").

Session 12 tools (domain_adapt.md, "Expected-question pairs (session 12)"):

    python -m eval.experiments.domain_adapt signals --index-dir DIR --out S.json   # answerer's cosines
    python -m eval.experiments.domain_adapt bands BASE.json NEW.json # cosine settings by percentile
    python -m eval.experiments.domain_adapt separation S.json ...    # AUC answerable vs not
    python -m eval.experiments.domain_adapt answers-with --set k=v ... -- --split dev --out OUT ...
    python -m eval.experiments.domain_adapt answers RUN... [--split dev]   # group table

Training: in-batch negatives (MultipleNegativesRankingLoss semantics: cross-entropy over the
cosine matrix of a batch's queries and passages, scale 20 unless --scale), "query: " on the short side,
"passage: " on the long side, AdamW, linear warm-up 10 % then linear decay, one epoch, fixed
seed, no two pairs with the same query or passage in one batch. The word-embedding table
(96 M of the 118 M parameters) is frozen: the corpus touches a few thousand of its 250 k rows,
and updating it dense every step would cost more than the transformer itself.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import resource
import shutil
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from kb.chunk import Chunk, chunk_documents
from kb.config import Settings, load_settings
from kb.corpus import load_corpus
from kb.expected_questions import load_expected_questions
from kb.text import sentence_units

KINDS = ("heading", "glossary", "ict", "abbrev", "expected")
DEFAULT_KINDS = KINDS[:4]  # variants A-C (session 7); "expected" is asked for by name
EXPECTED_SIDES = ("sentence", "chunk")
SCALE = 20.0  # sentence-transformers' MultipleNegativesRankingLoss default (temperature 0.05);
# e5 itself was trained at temperature 0.01 (scale 100): --scale

_NUMBERING = re.compile(
    r"^\s*(?:第[0-9０-９一二三四五六七八九十]+[章節]|[0-9０-９]+(?:[.．][0-9０-９]+)*|[(（][0-9０-９ivx]+[)）]"
    r"|[ivx]+\b|取組[0-9０-９\-－]+|[①-⑳])\s*"
)
_POINTER = re.compile(r"のとおり。?$")
_GLOSS_ABBR = re.compile(r"^([A-Za-z][A-Za-z0-9\-]{1,10})\s*[(（](.+?)(?:の略)?[)）]$")
_EXP_ABBR = re.compile(r"([^\s、。，,「」『』（）()・:：]{3,30})（([A-Za-z][A-Za-z0-9\-]{1,10})）")
_ABBR_EXP = re.compile(r"\b([A-Z][A-Za-z0-9\-]{1,10})（([^）]{3,30})）")


@dataclass(frozen=True)
class Pair:
    kind: str
    query: str
    passage: str


def _clean_heading(heading: str) -> str:
    text = _NUMBERING.sub("", heading).strip()
    return text or heading.strip()


def build_pairs(
    corpus_dir: Path, ict_per_chunk: int = 2, seed: int = 0, expected_side: str = "sentence"
) -> list[Pair]:
    """All training pairs of the corpus, in a fixed order (before shuffling)."""
    settings = load_settings().replace(corpus_dir=corpus_dir)
    documents, _errors = load_corpus(settings.corpus_dir)
    chunks = chunk_documents(
        documents, settings.chunk_target_chars, settings.chunk_max_chars, settings.chunk_overlap_chars
    )
    rng = random.Random(seed)
    pairs: list[Pair] = []
    glossary_terms: set[tuple[str, ...]] = set()

    # glossary: term -> definition (the glossary's term sections are one chunk each).
    for chunk in chunks:
        if chunk.kind != "glossary" or len(chunk.heading_path) < 3 or "用語集" not in chunk.heading_path[1]:
            continue
        term = chunk.heading_path[-1]
        glossary_terms.add(chunk.heading_path)
        first = chunk.text.split("\n", 1)[0]
        definition = first.split(": ", 1)[1].strip() if ": " in first else first.strip()
        if len(definition) < 15 or _POINTER.search(definition):
            continue
        pairs.append(Pair("glossary", term, definition))

    # heading -> each chunk of its section (glossary term sections are covered above).
    for chunk in chunks:
        if not chunk.heading_path or chunk.heading_path in glossary_terms:
            continue
        heading = _clean_heading(chunk.heading_path[-1])
        if len(heading) < 4 or len(chunk.text) < 40:
            continue
        pairs.append(Pair("heading", heading, chunk.text))

    # ict: a sentence -> the rest of its chunk.
    for chunk in chunks:
        if _POINTER.search(chunk.text.split("\n", 1)[0]):
            continue
        units = [
            (a, b)
            for a, b in sentence_units(chunk.text, 8)
            if 15 <= b - a <= 200 and not chunk.text[a:b].startswith("掲載ページ")
        ]
        rng.shuffle(units)
        for a, b in units[:ict_per_chunk]:
            rest = (chunk.text[:a] + chunk.text[b:]).strip()
            if len(rest) >= 40:
                pairs.append(Pair("ict", chunk.text[a:b].strip(), rest))

    pairs.extend(_abbreviation_pairs(documents, chunks))
    pairs.extend(expected_pairs(settings, chunks, expected_side))
    return pairs


def expected_pairs(settings: Settings, chunks: Sequence[Chunk], side: str = "sentence") -> list[Pair]:
    """Expected question -> the sentence unit(s) holding its anchor (``side`` "sentence": the
    units of kb.text.sentence_units that overlap the anchor, joined from the first to the last, as
    the answerer scores them) or the chunk holding it (``side`` "chunk").

    An anchor in the overlap of two chunks gives the same sentence twice: one pair per (question,
    passage). A question with an unplaced anchor, or whose anchor overlaps no sentence unit, is
    left out."""
    if side not in EXPECTED_SIDES:
        raise ValueError(f"expected side must be one of {EXPECTED_SIDES}: {side!r}")
    table = load_expected_questions(settings.expected_questions_path)
    seen: set[tuple[str, str]] = set()
    pairs: list[Pair] = []
    spans: dict[str, list[tuple[int, int]]] = {}
    for unit in table.units(chunks):
        if unit.end <= unit.start:
            continue
        text = unit.chunk.text
        if side == "chunk":
            passage = text
        else:
            units = spans.setdefault(unit.chunk.chunk_id, sentence_units(text, settings.sentence_min_chars))
            held = [(a, b) for a, b in units if a < unit.end and b > unit.start]
            if not held:
                continue
            passage = text[held[0][0] : held[-1][1]].strip()
        if (unit.question, passage) not in seen:
            seen.add((unit.question, passage))
            pairs.append(Pair("expected", unit.question, passage))
    return pairs


def _abbreviation_pairs(documents: Sequence[object], chunks: Sequence[Chunk]) -> list[Pair]:
    found: dict[str, str] = {}
    for chunk in chunks:  # glossary headings: 「EBPM (Evidence Based Policy Makingの略)」
        if chunk.kind == "glossary" and chunk.heading_path:
            m = _GLOSS_ABBR.match(chunk.heading_path[-1].strip())
            if m:
                found.setdefault(m.group(1), m.group(2).strip())
    for doc in documents:
        text = doc.text  # type: ignore[attr-defined]
        for m in _EXP_ABBR.finditer(text):
            expansion = re.sub(r"^.*[「『]", "", m.group(1))
            if len(expansion) >= 3:
                found.setdefault(m.group(2), expansion)
        for m in _ABBR_EXP.finditer(text):
            if re.search(r"[\u3040-\u30ff\u4e00-\u9fff]", m.group(2)) and "、" not in m.group(2):
                found.setdefault(m.group(1), m.group(2))
    return [Pair("abbrev", abbr, expansion) for abbr, expansion in sorted(found.items())]


def batches(pairs: list[Pair], batch_size: int, seed: int) -> list[list[Pair]]:
    """Shuffled batches with no repeated query or passage inside a batch (no false negatives)."""
    rng = random.Random(seed)
    pool = pairs[:]
    rng.shuffle(pool)
    out: list[list[Pair]] = []
    while pool:
        batch: list[Pair] = []
        queries: set[str] = set()
        passages: set[str] = set()
        rest: list[Pair] = []
        for p in pool:
            if len(batch) < batch_size and p.query not in queries and p.passage not in passages:
                batch.append(p)
                queries.add(p.query)
                passages.add(p.passage)
            else:
                rest.append(p)
        if len(batch) < 2:
            break
        out.append(batch)
        pool = rest
    return out


def train(args: argparse.Namespace) -> int:
    import numpy as np
    import torch
    from sentence_transformers import SentenceTransformer

    from kb.e5_convert import ensure_packaged_e5

    t_start = time.perf_counter()
    cpu_start = time.process_time()
    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    kinds = [k for k in args.kinds.split(",") if k]
    unknown = set(kinds) - set(KINDS)
    if unknown:
        raise SystemExit(f"unknown kinds: {sorted(unknown)} (known: {', '.join(KINDS)})")
    pairs = [
        p
        for p in build_pairs(Path(args.corpus_dir), args.ict_per_chunk, args.seed, args.expected_side)
        if p.kind in kinds
    ]
    plan = batches(pairs, args.batch_size, args.seed)
    settings = load_settings()
    base = ensure_packaged_e5(settings.model_cache_dir)
    model = SentenceTransformer(str(base), device="cpu")
    model.max_seq_length = args.max_seq_length
    bert = model[0].auto_model
    if args.freeze_embeddings:
        bert.embeddings.word_embeddings.weight.requires_grad_(False)
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=args.lr, weight_decay=0.01)
    steps = len(plan)
    warmup = max(1, int(0.1 * steps))
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer,
        lambda s: (s + 1) / warmup if s < warmup else max(0.0, (steps - s) / max(1, steps - warmup)),
    )
    counts = {k: sum(p.kind == k for p in pairs) for k in KINDS}
    print(f"pairs {len(pairs)} {counts}; {steps} batches of ≤ {args.batch_size}; base {base}", flush=True)
    t_train = time.perf_counter()
    model.train()
    losses: list[float] = []
    for step, batch in enumerate(plan):
        q = model.tokenize(["query: " + p.query for p in batch])
        d = model.tokenize(["passage: " + p.passage for p in batch])
        qe = model(q)["sentence_embedding"]
        de = model(d)["sentence_embedding"]
        qe = torch.nn.functional.normalize(qe, dim=-1)
        de = torch.nn.functional.normalize(de, dim=-1)
        logits = args.scale * qe @ de.T
        loss = torch.nn.functional.cross_entropy(logits, torch.arange(len(batch)))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        optimizer.step()
        scheduler.step()
        losses.append(float(loss.detach()))
        if step % 10 == 0 or step == steps - 1:
            print(
                f"step {step + 1}/{steps} loss {np.mean(losses[-10:]):.4f} "
                f"{time.perf_counter() - t_train:.0f}s",
                flush=True,
            )
    model.eval()
    train_s = time.perf_counter() - t_train
    out = Path(args.out)
    if out.exists():
        shutil.rmtree(out)
    model.max_seq_length = 512  # only the weights differ from the packaged model
    model.save(str(out))
    total_s = time.perf_counter() - t_start
    cpu_s = time.process_time() - cpu_start
    with open("/proc/loadavg", encoding="utf-8") as fh:
        load = fh.read().split()[:3]
    report = {
        "pairs": counts,
        "batches": steps,
        "args": {k: v for k, v in vars(args).items() if k != "func"},
        "first_loss": losses[0] if losses else None,
        "last10_loss": float(np.mean(losses[-10:])) if losses else None,
        "train_seconds": round(train_s, 1),
        "total_seconds": round(total_s, 1),
        "process_cpu_seconds": round(cpu_s, 1),
        "max_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "loadavg_after": load,
    }
    (out / "domain_adapt.json").write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n")
    print(json.dumps(report, ensure_ascii=False), flush=True)
    return 0


def show_pairs(args: argparse.Namespace) -> int:
    pairs = build_pairs(Path(args.corpus_dir), args.ict_per_chunk, args.seed, args.expected_side)
    for kind in KINDS:
        mine = [p for p in pairs if p.kind == kind]
        print(f"{kind}: {len(mine)}")
        for p in mine[: args.examples]:
            print(f"    {p.query[:40]!r} -> {p.passage[:60]!r}")
    print(
        f"total: {len(pairs)}; batches of {args.batch_size}: {len(batches(pairs, args.batch_size, args.seed))}"
    )
    return 0


# --- scoring eval.retrieval runs by group -------------------------------------------------

#: As tests/integration/test_eval_floor.py: plan-worded = none of these tags.
FOCUS_TAGS = {"colloquial", "western_year", "session"}


def group_scores(run_dir: Path, questions_path: Path) -> dict[str, dict[str, dict[str, float]]]:
    """{system: {"split/group": {hit@1, hit@5, mrr@10, n}}} from an eval.retrieval output folder."""
    from eval.metrics import QuestionRun, load_question_file, summarise

    questions = {q.id: q for q in load_question_file(questions_path)}
    out: dict[str, dict[str, dict[str, float]]] = {}
    for path in sorted(run_dir.glob("*.jsonl")):
        runs = []
        for line in path.read_text(encoding="utf-8").splitlines():
            rec = json.loads(line)
            runs.append(QuestionRun(questions[rec["id"]], tuple(rec["hits"]), rec["latency_ms"]))
        table: dict[str, dict[str, float]] = {}
        for split in sorted({r.question.split for r in runs}):
            for group in ("colloquial", "plan-worded", "all"):
                sel = [
                    r
                    for r in runs
                    if r.question.split == split
                    and (
                        group == "all"
                        or (group == "colloquial" and "colloquial" in r.question.tags)
                        or (group == "plan-worded" and not FOCUS_TAGS & set(r.question.tags))
                    )
                ]
                s = summarise(sel, k=10)
                table[f"{split}/{group}"] = {
                    "n": s["answerable"],
                    "hit@1": s["hit@1"],
                    "hit@5": s["hit@5"],
                    "mrr@10": s["mrr@10"],
                }
        out[path.stem] = table
    return out


def score(args: argparse.Namespace) -> int:
    print("| run | mode | split / group | n | hit@1 / hit@5 / MRR@10 |")
    print("|---|---|---|---|---|")
    for run_dir in args.runs:
        for system, table in group_scores(Path(run_dir), Path(args.questions)).items():
            for key, s in table.items():
                print(
                    f"| {Path(run_dir).name} | {system} | {key} | {s['n']} | "
                    f"{s['hit@1']:.3f} / {s['hit@5']:.3f} / {s['mrr@10']:.3f} |"
                )
    return 0


def answer_table(args: argparse.Namespace) -> int:
    """Base vs variants from eval.answers output folders (answers_metrics.json), per group."""
    groups = (
        ("all", None),
        ("plan-worded", "plan-worded"),
        ("colloquial", "tag:colloquial"),
        ("near-miss", "tag:near_miss"),
    )
    print(
        "| run | group | n (ans. / unans.) | unanswerable declined | false abstention "
        "| evidence in answer | evidence in 1st line |"
    )
    print("|---|---|---|---|---|---|---|")
    for run_dir in args.runs:
        data = json.loads((Path(run_dir) / "answers_metrics.json").read_text(encoding="utf-8"))
        split = args.split
        for name, key in groups:
            m = data["splits"][split] if key is None else data["groups"][split].get(key)
            if not m:
                continue

            def cell(value: object) -> str:
                return "–" if value is None else f"{value:.3f}"

            print(
                f"| {Path(run_dir).name} | {name} | {m['answerable']} / {m['unanswerable']} | "
                f"{cell(m['abstention_rate'])} | {cell(m['false_abstention_rate'])} | "
                f"{cell(m['evidence_in_answer'])} | {cell(m['evidence_in_first_line'])} |"
            )
    return 0


# --- re-fitting the answerer's cosine bands to another model ------------------------------

#: AnswerWeights fields that are absolute cosines, by the signal they are compared with:
#: "chunk" the best chunk cosine (confidence), "sentence" the top passage's sentence cosine and the
#: corpus's closest sentence (semantic_lead), "question" the closest expected question of a hit.
BANDS = {
    "chunk": ("semantic_floor", "semantic_top"),
    "sentence": ("sentence_floor", "sentence_top", "lead_cosine"),
    "question": (
        "related_cosine",
        "paraphrase_cosine",
        "paraphrase_predicate_cosine",
        "paraphrase_agree_cosine",
    ),
}


def cosine_signals(args: argparse.Namespace) -> int:
    """The cosine signals the answerer reads, per question of a split, with the configured model
    (KB_EMBEDDING_MODEL) and index: written as JSON for ``bands``."""
    from eval.metrics import load_question_file
    from eval.retrieval import open_kb, torch_threads
    from kb.answer.question import analyse

    kb = open_kb(Path(args.index_dir) if args.index_dir else None)
    out: dict[str, list[float]] = {"chunk": [], "sentence": [], "closest": [], "question": []}
    ids: list[str] = []
    with torch_threads(2):
        for q in load_question_file(Path(args.questions), args.split):
            ids.append(q.id)
            query = analyse(q.question).query
            hits = kb.search(query, mode="hybrid", k=kb.settings.answer_passages)
            out["chunk"].append(kb.retriever.best_chunk_cosine(query))
            closest = kb.retriever.closest_sentences(query, 1)
            out["closest"].append(closest[0] if closest else 0.0)
            sentence = [h.sentence_cosine for h in hits if h.sentence_cosine is not None]
            out["sentence"].append(max(sentence, default=0.0))
            asked = [
                h.similar_question.cosine
                for h in hits
                if h.similar_question is not None and not h.similar_question.stand_in
            ]
            out["question"].append(max(asked, default=0.0))
    Path(args.out).write_text(json.dumps({"ids": ids, **out}) + "\n", encoding="utf-8")
    for name, values in out.items():
        v = sorted(values)
        print(
            f"{name}: n {len(v)}, p10 {v[len(v) // 10]:.4f}, median {v[len(v) // 2]:.4f}, p90 {v[9 * len(v) // 10]:.4f}"
        )
    return 0


def _quantile_map(value: float, source: Sequence[float], target: Sequence[float]) -> float:
    """``value``'s percentile in ``source``, read back as a value of ``target``."""
    import numpy as np

    share = float(np.mean(np.asarray(source) < value))
    return float(np.quantile(np.asarray(target), min(1.0, max(0.0, share))))


def bands(args: argparse.Namespace) -> int:
    """Map the answerer's cosine settings from one model to another at equal percentiles of the
    dev questions' signals (``signals`` output of both); prints --set flags for answer_signals."""
    from kb.answer import AnswerWeights

    base = json.loads(Path(args.base).read_text(encoding="utf-8"))
    new = json.loads(Path(args.new).read_text(encoding="utf-8"))
    w = AnswerWeights()
    values = {
        "semantic_floor": w.semantic_floor,
        "semantic_top": w.semantic_floor + w.semantic_span,
        "sentence_floor": w.sentence_floor,
        "sentence_top": w.sentence_floor + w.sentence_span,
        "lead_cosine": w.lead_cosine,
        "related_cosine": w.related_cosine,
        "paraphrase_cosine": w.paraphrase_cosine,
        "paraphrase_predicate_cosine": w.paraphrase_predicate_cosine,
        "paraphrase_agree_cosine": w.paraphrase_agree_cosine,
    }
    signal_of = {"lead_cosine": "closest"}
    mapped: dict[str, float] = {}
    print("| setting | base | percentile (base dev) | mapped |")
    print("|---|---|---|---|")
    for family, names in BANDS.items():
        for name in names:
            signal = signal_of.get(name, family)
            value = values[name]
            mapped[name] = _quantile_map(value, base[signal], new[signal])
            share = sum(v < value for v in base[signal]) / len(base[signal])
            print(f"| {name} | {value:.3f} | {share:.3f} | {mapped[name]:.4f} |")
    flags = {
        "semantic_floor": mapped["semantic_floor"],
        "semantic_span": mapped["semantic_top"] - mapped["semantic_floor"],
        "sentence_floor": mapped["sentence_floor"],
        "sentence_span": mapped["sentence_top"] - mapped["sentence_floor"],
        **{k: mapped[k] for k in BANDS["question"] + ("lead_cosine",)},
    }
    print(" ".join(f"--set {k}={v:.4f}" for k, v in flags.items()))
    return 0


def separation(args: argparse.Namespace) -> int:
    """How well each cosine signal tells answerable from unanswerable questions (ROC AUC), from
    ``signals`` files; groups as eval.experiments.answer_signals."""
    from eval.experiments.answer_signals import group_of
    from eval.metrics import load_question_file

    questions = {q.id: q for q in load_question_file(Path(args.questions))}

    def auc(pos: list[float], neg: list[float]) -> float:
        if not pos or not neg:
            return float("nan")
        return sum((p > n) + 0.5 * (p == n) for p in pos for n in neg) / (len(pos) * len(neg))

    print(
        "| signals | cosine | colloquial ans. vs colloquial unans. | colloquial ans. vs all unans. "
        "| plan-worded ans. vs all unans. |"
    )
    print("|---|---|---|---|---|")
    for path in args.files:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        groups = [group_of(questions[i]) for i in data["ids"]]
        for signal in ("chunk", "sentence", "closest", "question"):
            by: dict[str, list[float]] = {}
            for value, group in zip(data[signal], groups, strict=True):
                by.setdefault(group, []).append(value)
            unans = by.get("colloq_unans", []) + by.get("near_miss", []) + by.get("plan_unans", [])
            print(
                f"| {Path(path).stem} | {signal} | {auc(by.get('colloquial', []), by.get('colloq_unans', [])):.3f} "
                f"| {auc(by.get('colloquial', []), unans):.3f} | {auc(by.get('plan', []), unans):.3f} |"
            )
    return 0


def answers_with(args: argparse.Namespace) -> int:
    """eval.answers with some AnswerWeights changed (``--set name=value``, as answer_signals), so
    the re-fitted bands of an adapted model get the full report; the rest goes to eval.answers."""
    from dataclasses import replace

    from eval.answers import main as answers_main
    from kb.answer import Answerer, AnswerWeights

    defaults = AnswerWeights()
    pairs = dict(item.split("=", 1) for item in args.set)
    weights = replace(defaults, **{k: type(getattr(defaults, k))(float(v)) for k, v in pairs.items()})
    print(f"AnswerWeights changed: {pairs}", flush=True)

    def extractive(cls: type[Answerer], kb: object, settings: object, chat_model: object = None) -> Answerer:
        return cls(kb, settings, weights=weights)  # type: ignore[arg-type]

    Answerer.from_settings = classmethod(extractive)  # type: ignore[method-assign,assignment]
    rest = args.rest[1:] if args.rest[:1] == ["--"] else args.rest
    return answers_main(rest)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    sub = parser.add_subparsers(dest="command", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--corpus-dir", default="corpus")
    common.add_argument("--ict-per-chunk", type=int, default=2)
    common.add_argument("--seed", type=int, default=0)
    common.add_argument("--batch-size", type=int, default=16)
    common.add_argument(
        "--expected-side", choices=EXPECTED_SIDES, default="sentence", help="long side of 'expected' pairs"
    )
    p = sub.add_parser("pairs", parents=[common], help="count and show the training pairs")
    p.add_argument("--examples", type=int, default=3)
    p.set_defaults(func=show_pairs)
    t = sub.add_parser("train", parents=[common], help="fine-tune a copy of the packaged e5-small")
    t.add_argument(
        "--out", required=True, help="output folder (its name should contain 'e5' for the prefixes)"
    )
    t.add_argument("--kinds", default=",".join(DEFAULT_KINDS), help=f"any of {', '.join(KINDS)}")
    t.add_argument("--lr", type=float, default=2e-5)
    t.add_argument("--max-seq-length", type=int, default=256)
    t.add_argument("--threads", type=int, default=2)
    t.add_argument("--scale", type=float, default=SCALE, help="cosine scale (1 / temperature)")
    t.add_argument("--no-freeze-embeddings", dest="freeze_embeddings", action="store_false")
    t.set_defaults(func=train)
    s = sub.add_parser("score", help="colloquial / plan-worded table of eval.retrieval output folders")
    s.add_argument("runs", nargs="+")
    s.add_argument("--questions", default="eval/questions.jsonl")
    s.set_defaults(func=score)
    a = sub.add_parser("answers", help="group table of eval.answers output folders")
    a.add_argument("runs", nargs="+")
    a.add_argument("--split", default="dev")
    a.set_defaults(func=answer_table)
    g = sub.add_parser("signals", help="cosine signals of the answerer per question (JSON)")
    g.add_argument("--out", required=True)
    g.add_argument("--index-dir", default="")
    g.add_argument("--split", default="dev")
    g.add_argument("--questions", default="eval/questions.jsonl")
    g.set_defaults(func=cosine_signals)
    b = sub.add_parser("bands", help="map the answerer's cosine settings to another model by percentile")
    b.add_argument("base", help="signals JSON of the packaged model")
    b.add_argument("new", help="signals JSON of the adapted model")
    b.set_defaults(func=bands)
    r = sub.add_parser("separation", help="ROC AUC of each cosine signal, answerable vs unanswerable")
    r.add_argument("files", nargs="+", help="signals JSON files")
    r.add_argument("--questions", default="eval/questions.jsonl")
    r.set_defaults(func=separation)
    e = sub.add_parser("answers-with", help="eval.answers with AnswerWeights changed: --set k=v ... -- ARGS")
    e.add_argument("--set", action="append", default=[], help="AnswerWeights field=value")
    e.add_argument("rest", nargs=argparse.REMAINDER, help="eval.answers arguments, after --")
    e.set_defaults(func=answers_with)
    args = parser.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
