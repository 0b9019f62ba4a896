"""Experiment: sentence vectors pooled from their chunk's token outputs instead of a forward pass each.

A build embeds 184 chunks and 758 sentence units; the sentences carry more tokens (26,951) than
the chunks (24,817), because each repeats "passage: ", <s> and </s>. Pooling each sentence's
vector from the token states of its chunk's forward pass would halve the model work. This script
copies a built index, replaces its sentence vectors by pooled ones, and leaves the dev evaluation
to eval.retrieval (see eval/experiments/onnx.md for the commands and the result):

    python bench/sentence_pooling.py --index-dir /tmp/h2/idx-base --out-dir /tmp/h2/idx-span \
        --variant tokens|tokens+frame

``tokens``: mean over the sentence's own tokens; ``tokens+frame``: also the chunk's "passage: "
prefix and <s>/</s> tokens, as a separately embedded sentence's mean includes them.
"""

from __future__ import annotations

import argparse
import shutil
import time
from pathlib import Path

import numpy as np

from kb.chunk import chunk_sentences
from kb.config import load_settings
from kb.embed import Embedder
from kb.embed_onnx import OnnxEncoder
from kb.knowledge import open_store, sentence_collection
from kb.manifest import Manifest, load_chunks, read_current


def pooled_sentence_vectors(encoder: OnnxEncoder, prefix: str, chunks, sentences, variant: str):  # type: ignore[no-untyped-def]
    """{sentence id: unit vector} pooled from each chunk's token states."""
    by_chunk: dict[str, list] = {}
    for s in sentences:
        by_chunk.setdefault(s.chunk.chunk_id, []).append(s)
    tokenizer = encoder._tokenizer
    out: dict[str, np.ndarray] = {}
    ordered = sorted(chunks, key=lambda c: -len(c.text))
    for i in range(0, len(ordered), 32):
        batch = ordered[i : i + 32]
        texts = [prefix + c.embed_text for c in batch]
        hidden, mask = encoder.token_states(texts)
        encodings = tokenizer.encode_batch(texts)
        for row, (chunk, enc) in enumerate(zip(batch, encodings, strict=True)):
            offsets = np.array(enc.offsets)
            special = np.array(enc.special_tokens_mask, dtype=bool)
            n = len(enc.ids)
            frame = special[:n] | (offsets[:, 1] <= len(prefix)) & ~special[:n]
            for s in by_chunk.get(chunk.chunk_id, []):
                a, b = s.start + len(prefix), s.end + len(prefix)
                own = (offsets[:, 0] < b) & (offsets[:, 1] > a) & ~special[:n]
                take = own | frame if variant == "tokens+frame" else own
                v = hidden[row, :n][take].mean(0)
                out[s.sentence_id] = v / np.linalg.norm(v)
    return out


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--index-dir", type=Path, required=True)
    p.add_argument("--out-dir", type=Path, required=True)
    p.add_argument("--variant", choices=["tokens", "tokens+frame"], default="tokens+frame")
    args = p.parse_args()
    shutil.rmtree(args.out_dir, ignore_errors=True)
    shutil.copytree(args.index_dir, args.out_dir)
    settings = load_settings().replace(index_dir=args.out_dir)
    build = args.out_dir / "builds" / str(read_current(args.out_dir))
    manifest = Manifest.load(build)
    chunks = load_chunks(build)
    sentences = chunk_sentences(chunks, settings.sentence_min_chars)
    embedder = Embedder(settings)
    encoder = embedder.model
    assert isinstance(encoder, OnnxEncoder)
    t0 = time.perf_counter()
    vectors = pooled_sentence_vectors(encoder, embedder.passage_prefix, chunks, sentences, args.variant)
    seconds = time.perf_counter() - t0
    store = open_store(settings, build, sentence_collection(manifest.collection))
    old = store.get_vectors(list(vectors))
    cos = [float(old[k] @ v) for k, v in vectors.items()]
    ids = list(vectors)
    store._collection.upsert(ids=ids, embeddings=np.stack([vectors[k] for k in ids]).tolist())
    store.close()
    print(
        f"{args.variant}: {len(vectors)} sentence vectors pooled from {len(chunks)} chunk passes in "
        f"{seconds:.1f} s; cosine to separately embedded: min {min(cos):.3f} mean {np.mean(cos):.3f}"
    )


if __name__ == "__main__":
    main()
