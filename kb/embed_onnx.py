"""The packaged model on ONNX Runtime: exported once from the rebuilt folder, then run without torch.

Why not sentence-transformers' own ``backend="onnx"``: it needs optimum-onnx, whose only release
requires transformers<4.58 while sentence-transformers 6 requires transformers>=5, so it cannot be
installed beside them (eval/experiments/onnx.md). What it does is small, so it is done here: export
the BERT encoder with ``torch.onnx.export`` (input ids, mask, token types -> last hidden state),
then run it in ONNX Runtime (a chromadb dependency) behind the folder's own tokenizer, mean pooling
and L2 normalisation. fp32 only: the vectors equal torch's to a cosine of 2e-7 and dev MRR@10 is
unchanged, while dynamic int8 lost 0.010-0.017 MRR@10 (the quality rule allows 0.005).

The export (about 10-20 s, needs torch and the ``onnx`` package) goes into
``<model_cache_dir>/<model folder>-onnx-o<N>/``: written in a temporary sibling folder, checked
against torch on sample texts, stamped ``.complete`` with the file's size, then renamed into
place, so a killed or broken export is found (no stamp, wrong size, unloadable) and redone.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from kb.errors import ModelError
from kb.progress import Progress

#: Bump when the export changes, so old cached files are not reused.
ONNX_FORMAT_VERSION = 1
ONNX_OPSET = 17
ONNX_FILE = "model.onnx"
#: An export must reproduce torch's vectors at least this closely (measured: 0.9999998).
MIN_AGREEMENT = 0.99999
_INPUTS = ("input_ids", "attention_mask", "token_type_ids")
_SAMPLES = (
    "query: 書かない窓口はいつから始まりますか",
    "passage: 枚方市では、マイナンバーカードを活用した行政手続のオンライン化を進めます。",
    "passage: AI-OCR と RPA による業務の効率化",
)


def onnx_folder(model_dir: Path, cache_dir: Path) -> Path:
    """Where the ONNX export of ``model_dir`` lives (beside it in the model cache)."""
    return Path(cache_dir) / f"{model_dir.name}-onnx-o{ONNX_FORMAT_VERSION}"


def _is_complete(folder: Path) -> bool:
    try:
        stamp = json.loads((folder / ".complete").read_text(encoding="utf-8"))
        return int(stamp["bytes"]) == (folder / ONNX_FILE).stat().st_size
    except (OSError, ValueError, KeyError, TypeError):
        return False


def ensure_onnx(model_dir: Path, cache_dir: Path, progress: Progress | None = None) -> Path:
    """The ONNX file for the rebuilt model folder ``model_dir``; exported on first use."""
    from kb.e5_convert import _build_lock, _remove_leftovers

    report: Progress = progress or (lambda stage, fraction: None)
    target = onnx_folder(model_dir, cache_dir)
    if _is_complete(target):
        return target / ONNX_FILE
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with _build_lock(target.parent / f".{target.name}.lock"):
            if _is_complete(target):  # another process exported it while we waited
                return target / ONNX_FILE
            _remove_leftovers(target)  # an interrupted or damaged export
            tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
            try:
                report(
                    "ONNX 形式に変換中（初回のみ、20 秒ほど）/ exporting the model to ONNX (first run only, ~20 s)",
                    0.0,
                )
                agreement = _export(model_dir, tmp / ONNX_FILE)
                for path in (tmp, *tmp.rglob("*")):  # mkdtemp creates owner-only modes
                    path.chmod(0o755 if path.is_dir() else 0o644)
                stamp = {
                    "source": model_dir.name,
                    "format": ONNX_FORMAT_VERSION,
                    "opset": ONNX_OPSET,
                    "bytes": (tmp / ONNX_FILE).stat().st_size,
                    "min_cosine_to_torch": round(agreement, 9),
                }
                (tmp / ".complete").write_text(json.dumps(stamp) + "\n", encoding="utf-8")
                try:
                    os.replace(tmp, target)
                except OSError:  # a builder without the lock (no fcntl) won the rename race
                    if not _is_complete(target):
                        raise
            finally:
                shutil.rmtree(tmp, ignore_errors=True)
    except ImportError as exc:
        raise ModelError(
            "ONNX への変換には onnx パッケージが必要です（`pip install onnx`、"
            "または KB_EMBEDDING_BACKEND=torch）",
            f"exporting the model to ONNX needs the onnx package (`pip install onnx`, "
            f"or set KB_EMBEDDING_BACKEND=torch): {exc}",
        ) from exc
    except OSError as exc:
        raise ModelError(
            f"ONNX モデルを {target} に書き込めません（{exc}）。空き容量と権限を確認してください",
            f"cannot write the ONNX model to {target} ({exc}): check free space and permissions",
        ) from exc
    report("ONNX 変換完了 / ONNX export done", 1.0)
    return target / ONNX_FILE


def discard_export(onnx_file: Path) -> None:
    """Remove a stamped export that does not load, so the next :func:`ensure_onnx` redoes it."""
    from kb.e5_convert import _build_lock

    folder = onnx_file.parent
    with _build_lock(folder.parent / f".{folder.name}.lock"):
        (folder / ".complete").unlink(missing_ok=True)


def _export(model_dir: Path, out: Path) -> float:
    """Export the encoder to ``out``; return the lowest cosine to torch on the sample texts."""
    import onnx  # noqa: F401  (torch's exporter needs it; fail before the slow part)
    import torch
    from transformers import AutoModel

    model = AutoModel.from_pretrained(str(model_dir), attn_implementation="eager").eval()
    tokenizer = load_tokenizer(model_dir)
    ids, mask = tokenize(tokenizer, list(_SAMPLES))

    class _Encoder(torch.nn.Module):
        def __init__(self, inner: Any) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            return self.inner(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state

    feeds = [torch.from_numpy(ids), torch.from_numpy(mask), torch.zeros_like(torch.from_numpy(ids))]
    axes = {0: "batch_size", 1: "sequence_length"}
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # exporter notes about traced control flow, not errors
        reference = _pool(model(*feeds[:2], token_type_ids=feeds[2]).last_hidden_state.numpy(), mask)
        torch.onnx.export(
            _Encoder(model),
            tuple(feeds),
            str(out),
            input_names=list(_INPUTS),
            output_names=["last_hidden_state"],
            dynamic_axes={name: axes for name in (*_INPUTS, "last_hidden_state")},
            opset_version=ONNX_OPSET,
            do_constant_folding=True,
            dynamo=False,  # the torch.export-based exporter would also need onnxscript
        )
    exported = OnnxEncoder(model_dir, out).encode(list(_SAMPLES))
    agreement = float(np.min(np.sum(reference * exported, axis=1)))
    if agreement < MIN_AGREEMENT:
        raise ModelError(
            f"ONNX への変換結果が元のモデルと一致しません（cos {agreement:.6f}）。KB_EMBEDDING_BACKEND=torch で使えます",
            f"the ONNX export does not match the model (cosine {agreement:.6f}); "
            "use KB_EMBEDDING_BACKEND=torch",
        )
    return agreement


def load_tokenizer(model_dir: Path) -> Any:
    """The folder's fast tokenizer (ids as transformers gives them), truncating to 512 tokens."""
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    config = json.loads((model_dir / "sentence_bert_config.json").read_text(encoding="utf-8"))
    tokenizer.enable_truncation(int(config.get("max_seq_length", 512)))
    # As tokenizer_config.json's split_special_tokens tells transformers to do.
    tokenizer.encode_special_tokens = True
    return tokenizer


def tokenize(tokenizer: Any, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """(input ids, attention mask) as int64 arrays, padded to the longest text."""
    encodings = tokenizer.encode_batch(list(texts))
    width = max(len(e.ids) for e in encodings)
    pad = tokenizer.token_to_id("<pad>") or 0
    ids = np.full((len(encodings), width), pad, dtype=np.int64)
    mask = np.zeros((len(encodings), width), dtype=np.int64)
    for row, enc in enumerate(encodings):
        ids[row, : len(enc.ids)] = enc.ids
        mask[row, : len(enc.ids)] = 1
    return ids, mask


def _pool(hidden: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Mean over real tokens (prompt and <s>/</s> included, as the model was trained), unit length."""
    weights = mask[..., None].astype(np.float32)
    pooled = (hidden * weights).sum(1) / np.clip(weights.sum(1), 1e-9, None)
    return pooled / np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)


class OnnxEncoder:
    """What the Embedder needs of a SentenceTransformer (``encode``, the dimension), on ONNX Runtime."""

    def __init__(self, model_dir: Path, onnx_file: Path, threads: int = 0) -> None:
        try:
            import onnxruntime as ort

            pooling = json.loads((model_dir / "1_Pooling" / "config.json").read_text(encoding="utf-8"))
            if not pooling.get("pooling_mode_mean_tokens"):
                raise ValueError(f"only mean pooling is supported: {pooling}")
            self._dimension = int(pooling["word_embedding_dimension"])
            self._tokenizer = load_tokenizer(model_dir)
            options = ort.SessionOptions()
            # Like OMP_WAIT_POLICY=PASSIVE for torch: spinning workers steal a busy machine's cores.
            options.add_session_config_entry("session.intra_op.allow_spinning", "0")
            if threads > 0:
                options.intra_op_num_threads = threads
            self._session = ort.InferenceSession(str(onnx_file), options, providers=["CPUExecutionProvider"])
        except Exception as exc:
            raise ModelError(
                f"ONNX モデルを読み込めません: {onnx_file}（{exc}）",
                f"cannot load ONNX model {str(onnx_file)!r}: {type(exc).__name__}: {exc}",
            ) from exc

    def get_sentence_embedding_dimension(self) -> int:
        return self._dimension

    def token_states(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """(last hidden state [n, tokens, dim], attention mask [n, tokens]) for one padded batch."""
        ids, mask = tokenize(self._tokenizer, texts)
        feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        return self._session.run(["last_hidden_state"], feeds)[0], mask

    def encode(self, sentences: Sequence[str], batch_size: int = 32, **_: Any) -> np.ndarray:
        """Unit vectors; texts are batched by length, as SentenceTransformer.encode does, to pad less."""
        texts = list(sentences)
        out = np.zeros((len(texts), self._dimension), dtype=np.float32)
        order = np.argsort([-len(t) for t in texts], kind="stable")
        step = max(1, batch_size)
        for start in range(0, len(texts), step):
            rows = order[start : start + step]
            hidden, mask = self.token_states([texts[i] for i in rows])
            out[rows] = _pool(hidden, mask)
        return out
