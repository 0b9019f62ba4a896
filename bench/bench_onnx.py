"""ONNX Runtime (fp32 and dynamic int8) against torch for the default embedding model.

Reproduces eval/experiments/onnx.md. Runs in a THROWAWAY venv, never the project's:

    python3 -m venv /tmp/onnx/venv
    /tmp/onnx/venv/bin/pip install torch==2.13.0
    /tmp/onnx/venv/bin/pip install -e /work/main
    /tmp/onnx/venv/bin/pip install onnx==1.23.2          # only needed to export/quantise
    cd /work/main && HF_HUB_OFFLINE=1 /tmp/onnx/venv/bin/python bench/bench_onnx.py all

Steps (each also a subcommand): ``export`` (fp32 ONNX + dynamic int8 into --models-dir),
``agree`` (cosine of each ONNX variant's vectors with torch's, per text), ``speed`` (passages/s
over the 942 index texts, single-query latency over 200 queries, model load time; every
variant x thread count in its own fresh process, rounds interleaved, medians reported),
``quality`` (build an index per variant, dev MRR@10 / hit@1 / hit@5, semantic and hybrid).

Why not ``SentenceTransformer(path, backend="onnx")``: that path needs ``optimum-onnx``, whose
only release (0.1.0) requires ``transformers<4.58`` while sentence-transformers 6.2 requires
``transformers>=5`` (pip: ResolutionImpossible). Installed anyway with ``--no-deps``, it fails
on import (``cannot import name 'get_parameter_dtype' from 'transformers.modeling_utils'``).
So this script does what that backend does, without optimum: export the BERT encoder with
``torch.onnx.export`` (feature-extraction: input_ids/attention_mask/token_type_ids ->
last_hidden_state, dynamic batch and sequence axes), quantise it with ONNX Runtime's dynamic
quantiser using the settings of optimum's ``AutoQuantizationConfig.avx512_vnni(is_static=False)``
(what ``export_dynamic_quantized_onnx_model(model, "avx512_vnni", ...)`` runs: QInt8 symmetric
per-channel weights, QUInt8 asymmetric activations, IntegerOps, no reduce_range), and runs it in
an ``onnxruntime.InferenceSession`` behind the same tokenizer, mean pooling and normalisation
as the sentence-transformers folder.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # as kb/embed.py

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

VARIANTS = ("torch", "onnx", "onnx-int8")
FP32_FILE = "model.onnx"
INT8_FILE = "model_qint8_avx512_vnni.onnx"
OPSET = 17


# ---------------------------------------------------------------- model folder, texts


def source_folder() -> Path:
    """The default model's sentence-transformers folder (built by kb/e5_convert.py if missing)."""
    from kb.config import load_settings
    from kb.e5_convert import ensure_packaged_e5

    return ensure_packaged_e5(load_settings(env={}).model_cache_dir)


def index_texts() -> list[str]:
    """The 942 texts a build embeds (chunk bodies, then sentence units), prefix applied."""
    from kb.chunk import chunk_documents, chunk_sentences
    from kb.config import load_settings
    from kb.corpus import load_corpus

    s = load_settings(env={})
    documents, _ = load_corpus(ROOT / "corpus")
    chunks = chunk_documents(documents, s.chunk_target_chars, s.chunk_max_chars, s.chunk_overlap_chars)
    sentences = chunk_sentences(chunks, s.sentence_min_chars)
    return ["passage: " + c.embed_text for c in chunks] + ["passage: " + x.text for x in sentences]


def questions(split: str | None = None) -> list[str]:
    rows = [
        json.loads(line)
        for line in (ROOT / "eval" / "questions.jsonl").read_text("utf-8").splitlines()
        if line.strip()
    ]
    return ["query: " + r["question"] for r in rows if split is None or r.get("split") == split]


# ---------------------------------------------------------------- ONNX encoder


class OnnxEncoder:
    """SentenceTransformer.encode's contract for this model (mean pooling over every token,
    L2 normalise, texts sorted by length within the call) on an ONNX Runtime session."""

    def __init__(self, folder: Path, onnx_file: Path, threads: int | None = None) -> None:
        import onnxruntime as ort
        from transformers import AutoTokenizer

        self.tokenizer = AutoTokenizer.from_pretrained(str(folder))
        options = ort.SessionOptions()
        if threads:
            options.intra_op_num_threads = threads
            options.inter_op_num_threads = 1
        # Like OMP_WAIT_POLICY=PASSIVE for torch: spinning workers steal the shared cores.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.session = ort.InferenceSession(str(onnx_file), options, providers=["CPUExecutionProvider"])
        self.inputs = {i.name for i in self.session.get_inputs()}
        self.max_seq_length = 512

    def get_sentence_embedding_dimension(self) -> int:
        return 384

    get_embedding_dimension = get_sentence_embedding_dimension

    def encode(self, texts: Any, batch_size: int = 32, **_: Any) -> np.ndarray:
        single = isinstance(texts, str)
        texts = [texts] if single else list(texts)
        order = np.argsort([-len(t) for t in texts], kind="stable")
        out = np.zeros((len(texts), 384), dtype=np.float32)
        for i in range(0, len(texts), batch_size):
            idx = order[i : i + batch_size]
            enc = self.tokenizer(
                [texts[j] for j in idx], padding=True, truncation=True, max_length=512, return_tensors="np"
            )
            feeds = {k: v.astype(np.int64) for k, v in enc.items() if k in self.inputs}
            if "token_type_ids" in self.inputs and "token_type_ids" not in feeds:
                feeds["token_type_ids"] = np.zeros_like(feeds["input_ids"])
            hidden = self.session.run(["last_hidden_state"], feeds)[0]
            mask = enc["attention_mask"][..., None].astype(np.float32)
            pooled = (hidden * mask).sum(1) / np.clip(mask.sum(1), 1e-9, None)
            out[idx] = pooled / np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)
        return out[0] if single else out


def load_variant(variant: str, models_dir: Path, threads: int | None = None):  # type: ignore[no-untyped-def]
    folder = source_folder()
    if variant == "torch":
        from sentence_transformers import SentenceTransformer

        return SentenceTransformer(str(folder), device="cpu")
    name = FP32_FILE if variant == "onnx" else INT8_FILE
    return OnnxEncoder(folder, models_dir / name, threads)


def make_embedder(variant: str, settings, models_dir: Path, threads: int | None = None):  # type: ignore[no-untyped-def]
    """kb.embed.Embedder whose model is the given variant (prefixes and batching unchanged)."""
    from kb.embed import Embedder

    class VariantEmbedder(Embedder):
        def _load(self):  # type: ignore[no-untyped-def]
            return load_variant(variant, models_dir, threads)

    return VariantEmbedder(settings)


# ---------------------------------------------------------------- export


def cmd_export(args: argparse.Namespace) -> dict[str, Any]:
    import onnx  # noqa: F401  (needed by torch.onnx and the quantiser)
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from transformers import AutoModel

    folder = source_folder()
    out = Path(args.models_dir)
    out.mkdir(parents=True, exist_ok=True)
    result: dict[str, Any] = {}

    t0 = time.perf_counter()
    model = AutoModel.from_pretrained(str(folder), attn_implementation="eager").eval()
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(folder))
    dummy = tok(["passage: 枚方市の情報化計画", "query: test"], padding=True, return_tensors="pt")

    class Wrapper(torch.nn.Module):
        def __init__(self, m):  # type: ignore[no-untyped-def]
            super().__init__()
            self.m = m

        def forward(self, input_ids, attention_mask, token_type_ids):  # type: ignore[no-untyped-def]
            return self.m(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state

    tmp = out / (FP32_FILE + ".tmp")
    with torch.no_grad():
        torch.onnx.export(
            Wrapper(model),
            (dummy["input_ids"], dummy["attention_mask"], torch.zeros_like(dummy["input_ids"])),
            str(tmp),
            input_names=["input_ids", "attention_mask", "token_type_ids"],
            output_names=["last_hidden_state"],
            dynamic_axes={
                "input_ids": {0: "batch_size", 1: "sequence_length"},
                "attention_mask": {0: "batch_size", 1: "sequence_length"},
                "token_type_ids": {0: "batch_size", 1: "sequence_length"},
                "last_hidden_state": {0: "batch_size", 1: "sequence_length"},
            },
            opset_version=OPSET,
            do_constant_folding=True,
            dynamo=False,
        )
    os.replace(tmp, out / FP32_FILE)
    result["export_fp32_s"] = round(time.perf_counter() - t0, 1)

    t0 = time.perf_counter()
    tmp = out / (INT8_FILE + ".tmp.onnx")
    # = optimum AutoQuantizationConfig.avx512_vnni(is_static=False) (this CPU has avx512_vnni)
    quantize_dynamic(
        out / FP32_FILE,
        tmp,
        per_channel=True,
        reduce_range=False,
        weight_type=QuantType.QInt8,
        extra_options={"WeightSymmetric": True, "ActivationSymmetric": False},
    )
    os.replace(tmp, out / INT8_FILE)
    result["quantise_int8_s"] = round(time.perf_counter() - t0, 1)
    for name in (FP32_FILE, INT8_FILE):
        result[f"{name}_MB"] = round((out / name).stat().st_size / 1e6, 1)
    result["source_safetensors_MB"] = round((folder / "model.safetensors").stat().st_size / 1e6, 1)
    print(json.dumps(result))
    return result


# ---------------------------------------------------------------- agreement


def cmd_agree(args: argparse.Namespace) -> dict[str, Any]:
    import torch

    torch.set_num_threads(2)
    texts = index_texts()
    step = max(1, len(texts) // 300)
    passages = texts[::step][:300]
    queries = questions()[:: max(1, len(questions()) // 100)][:100]
    models = Path(args.models_dir)
    ref = load_variant("torch", models)
    result: dict[str, Any] = {"passages": len(passages), "queries": len(queries)}
    base = {
        k: ref.encode(v, batch_size=32, normalize_embeddings=True)
        for k, v in (("p", passages), ("q", queries))
    }
    for variant in ("onnx", "onnx-int8"):
        enc = load_variant(variant, models, 2)
        for k, v in (("p", passages), ("q", queries)):
            cos = np.sum(base[k] * enc.encode(v, batch_size=32), axis=1)
            label = "passages" if k == "p" else "queries"
            result[f"{variant} {label}"] = {"min": float(cos.min()), "mean": float(cos.mean())}
    print(json.dumps(result, indent=1))
    return result


# ---------------------------------------------------------------- speed (one process per cell)


def worker(variant: str, threads: int, models_dir: Path, n_queries: int) -> dict[str, float]:
    import torch

    torch.set_num_threads(threads)
    texts = index_texts()
    qs = questions()
    qs = (qs * (n_queries // len(qs) + 1))[:n_queries]
    t0 = time.perf_counter()
    model = load_variant(variant, models_dir, threads)
    load_s = time.perf_counter() - t0
    model.encode(texts[:32], batch_size=32, normalize_embeddings=True)  # warm-up
    t0 = time.perf_counter()
    for i in range(0, len(texts), 32):  # as Embedder.embed_passages: one encode per batch of 32
        model.encode(texts[i : i + 32], batch_size=32, normalize_embeddings=True)
    batch_s = time.perf_counter() - t0
    for q in qs[:5]:
        model.encode([q], batch_size=32, normalize_embeddings=True)
    times = []
    for q in qs:
        t = time.perf_counter()
        model.encode([q], batch_size=32, normalize_embeddings=True)
        times.append((time.perf_counter() - t) * 1000)
    return {
        "load_s": load_s,
        "passages_per_s": len(texts) / batch_s,
        "p50_ms": statistics.median(times),
        "p95_ms": statistics.quantiles(times, n=20)[18],
    }


def cmd_speed(args: argparse.Namespace) -> dict[str, Any]:
    cells = [(v, t) for t in args.threads for v in VARIANTS]
    raw: dict[str, list[dict[str, float]]] = {f"{v}/{t}": [] for v, t in cells}
    loads = [os.getloadavg()[0]]
    for r in range(args.rounds):
        order = cells if r % 2 == 0 else cells[::-1]  # interleave; alternate direction
        for v, t in order:
            proc = subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "_worker",
                    v,
                    str(t),
                    "--models-dir",
                    args.models_dir,
                    "--queries",
                    str(args.queries),
                ],
                capture_output=True,
                text=True,
                check=True,
            )
            res = json.loads(proc.stdout.strip().splitlines()[-1])
            raw[f"{v}/{t}"].append(res)
            loads.append(os.getloadavg()[0])
            print(f"round {r + 1} {v:10s} threads={t} {res} load1={loads[-1]:.2f}", file=sys.stderr)
    table = {
        cell: {k: round(statistics.median(x[k] for x in runs), 3) for k in runs[0]}
        for cell, runs in raw.items()
    }
    result = {
        "rounds": args.rounds,
        "load1_min": min(loads),
        "load1_max": max(loads),
        "cells": table,
        "raw": raw,
    }
    print(json.dumps(result, indent=1))
    return result


# ---------------------------------------------------------------- quality (+ build time)


def cmd_quality(args: argparse.Namespace) -> dict[str, Any]:
    import shutil

    import torch

    from eval.metrics import load_question_file, summarise
    from eval.retrieval import evaluate_mode
    from indexer.build import build_index
    from kb.config import load_settings
    from kb.knowledge import KnowledgeBase

    # Build with the same thread count on both sides (--build-threads, default 2: the project's
    # default on a 2-core machine); evaluate with one (as tests/integration/test_eval_floor.py).
    dev = load_question_file(ROOT / "eval" / "questions.jsonl", split="dev")
    result: dict[str, Any] = {"dev_questions": len(dev)}
    for variant in args.variants:
        index_dir = Path(args.work_dir) / f"index-{variant}"
        shutil.rmtree(index_dir, ignore_errors=True)
        settings = load_settings(env={}).replace(index_dir=index_dir, corpus_dir=ROOT / "corpus")
        torch.set_num_threads(args.build_threads)
        embedder = make_embedder(variant, settings, Path(args.models_dir), args.build_threads)
        t0 = time.perf_counter()
        _ = embedder.model  # load outside the build timing; reported separately
        load_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        report = build_index(settings, embedder, rebuild=True)
        build_s = time.perf_counter() - t0
        torch.set_num_threads(1)
        kb = KnowledgeBase.open(settings, embedder)
        row: dict[str, Any] = {
            "load_s": round(load_s, 2),
            "build_s": round(build_s, 1),
            "build_threads": args.build_threads,
            "load1": round(os.getloadavg()[0], 2),
            "embedded": report.embedded,
        }
        for mode in ("semantic", "hybrid"):
            run = evaluate_mode(kb, dev, mode, k=10)
            s = summarise(run.runs, k=10)
            row[mode] = {m: round(float(s[m]), 4) for m in ("mrr@10", "hit@1", "hit@5")}
        result[variant] = row
        print(variant, json.dumps(row), file=sys.stderr)
    print(json.dumps(result, indent=1))
    return result


# ---------------------------------------------------------------- main


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("command", choices=["export", "agree", "speed", "quality", "all", "_worker"])
    p.add_argument("rest", nargs="*")
    p.add_argument("--models-dir", default="/tmp/onnx/models")
    p.add_argument("--work-dir", default="/tmp/onnx")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--queries", type=int, default=200)
    p.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    p.add_argument("--variants", nargs="+", default=list(VARIANTS))
    p.add_argument("--build-threads", type=int, default=2)
    p.add_argument("--out", default=None, help="write all results as JSON here")
    args = p.parse_args()
    if args.command == "_worker":
        v, t = args.rest
        print(json.dumps(worker(v, int(t), Path(args.models_dir), args.queries)))
        return
    results: dict[str, Any] = {}
    steps = ["export", "agree", "speed", "quality"] if args.command == "all" else [args.command]
    for step in steps:
        if step == "export" and args.command == "all" and (Path(args.models_dir) / INT8_FILE).is_file():
            continue
        results[step] = globals()[f"cmd_{step}"](args)
    if args.out:
        Path(args.out).write_text(json.dumps(results, indent=1, ensure_ascii=False), encoding="utf-8")


if __name__ == "__main__":
    main()
