"""Settings: defaults, TOML, KB_* env, unknown keys rejected."""

from __future__ import annotations

from pathlib import Path

import pytest

from kb.config import PACKAGED_E5, load_settings
from kb.errors import ConfigError


def test_defaults_use_the_offline_model() -> None:
    s = load_settings(env={})
    assert s.embedding_model == PACKAGED_E5
    assert s.app_host == "127.0.0.1"


def test_toml_then_env(tmp_path: Path) -> None:
    cfg = tmp_path / "kb.toml"
    cfg.write_text('default_k = 7\nembedding_model = "cl-nagoya/ruri-v3-30m"\n', encoding="utf-8")
    s = load_settings(cfg, env={"KB_DEFAULT_K": "9", "KB_CHROMA_HOST": "db.local"})
    assert s.default_k == 9
    assert s.embedding_model == "cl-nagoya/ruri-v3-30m"
    assert s.chroma_host == "db.local"


def test_unknown_keys_are_errors(tmp_path: Path) -> None:
    cfg = tmp_path / "kb.toml"
    cfg.write_text("defualt_k = 3\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="defualt_k"):
        load_settings(cfg, env={})
    with pytest.raises(ConfigError, match="KB_NOPE"):
        load_settings(env={"KB_NOPE": "1"})


def test_bad_values_are_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError):
        load_settings(env={"KB_DEFAULT_K": "many"})
    with pytest.raises(ConfigError):
        load_settings(env={"KB_DEFAULT_MODE": "fuzzy"})
    with pytest.raises(ConfigError, match="app_concurrency"):
        load_settings(env={"KB_APP_CONCURRENCY": "0"})
    assert load_settings(env={"KB_APP_CONCURRENCY": "4"}).app_concurrency == 4
    cfg = tmp_path / "broken.toml"
    cfg.write_text("default_k = [", encoding="utf-8")
    with pytest.raises(ConfigError):
        load_settings(cfg, env={})
