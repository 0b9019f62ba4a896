"""Two app replicas on one Chroma server follow a re-index made by a third process.

A real ``chroma run`` server on a free loopback port; the real corpus (a copy, so the test can
add to it) built into it with ``KB_CHROMA_HOST``/``KB_CHROMA_PORT``; two ``python app.py``
processes on two free loopback ports with the same ``KB_INDEX_DIR`` (keyword index, manifest,
``CURRENT``) and the same server. Both must answer a search the same way through
gradio_client; then ``python -m kb.cli add`` (a third process) adds a small document and
re-indexes, and both replicas must serve the new document within a bounded wait, without a
restart. Every process is stopped in ``finally`` blocks (tests/helpers/servers.py).

The first build reuses the session index's vectors (same texts, same model), as
test_chroma_server.py does: embedding the corpus again would take minutes. ``kb add`` embeds
only the new document's passages and copies the rest from the server.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from gradio_client import Client
from helpers.servers import (
    ROOT,
    Replica,
    ServerError,
    chroma_executable,
    chroma_server,
    replica_env,
    replicas,
)
from helpers.vectors import ReusingEmbedder, known_question_vectors, known_vectors

from indexer.build import build_index
from kb.config import Settings, load_settings

# Slow: starting two app processes (gradio, torch, the model) takes most of its 75-88 s, measured
# on 2 shared cores at load average 4-12 (2.5 s server, 2.7 s build, 60 s two replicas up, 19 s
# `kb add`, 2 s until both serve the new build). Run with `make test-all` or `pytest -m slow`.
pytestmark = [pytest.mark.server, pytest.mark.slow]

#: Upper bound for both replicas to serve a new build: they check CURRENT at most every 2 s,
#: then open the new build (keyword index from disk, collections on the server).
FOLLOW_TIMEOUT_S = 60.0
ADD_TIMEOUT_S = 300.0

NEW_TITLE = "試験用の追加資料（レプリカ確認）"
NEW_TERM = "ミライ窓口パスポート"
NEW_DOC = f"""# {NEW_TERM}

## 1 概要

{NEW_TERM}は、試験のために作った架空の制度です。市民が一度登録すると、どの窓口でも同じ情報で手続きを始められます。

## 2 実施時期

{NEW_TERM}の試行は令和9年度から始める予定です。
"""

SEARCHES = [
    ("RPAの導入効果", "hybrid"),
    ("窓口の待ち時間を減らす取り組み", "semantic"),
    ("マイナンバーカードの活用", "keyword"),
]


def _search(client: Client, query: str, mode: str, k: int = 5) -> str:
    return str(client.predict(query, mode, [], "", k, api_name="/search"))


def _serves_new_document(client: Client) -> bool:
    return NEW_TITLE in _search(client, NEW_TERM, "keyword", 3) and NEW_TITLE in _search(
        client, NEW_TERM, "semantic", 3
    )


def _wait_for_new_document(replica: Replica, client: Client) -> float:
    """Seconds until the replica serves the new document (fails after FOLLOW_TIMEOUT_S)."""
    started = time.monotonic()
    while not _serves_new_document(client):
        assert replica.proc.poll() is None, f"replica exited; see {replica.log}"
        if time.monotonic() - started > FOLLOW_TIMEOUT_S:
            pytest.fail(f"{replica.url} did not serve the new document within {FOLLOW_TIMEOUT_S:.0f} s")
        time.sleep(0.5)
    return time.monotonic() - started


def test_two_replicas_share_one_server_and_follow_a_reindex(
    built_kb, base_settings: Settings, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    if chroma_executable() is None:
        pytest.skip("the `chroma` command is not installed (it comes with the chromadb package)")
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for path in sorted(Path(base_settings.corpus_dir).glob("*.md")):
        shutil.copy2(path, corpus / path.name)
    started = time.monotonic()
    phases: dict[str, float] = {}  # printed (pytest -s) to see where the time goes

    def lap(name: str) -> None:
        phases[name] = round(time.monotonic() - started - sum(phases.values()), 1)

    try:
        with chroma_server(tmp_path / "chroma", tmp_path / "chroma.log") as port:
            lap("chroma server")
            env = {
                "KB_CHROMA_HOST": "127.0.0.1",
                "KB_CHROMA_PORT": str(port),
                "KB_INDEX_DIR": str(tmp_path / "index"),
                "KB_CORPUS_DIR": str(corpus),
                "KB_MODEL_CACHE_DIR": str(base_settings.model_cache_dir),
            }
            settings = load_settings(env=env)
            embedder = ReusingEmbedder(
                settings,
                built_kb.retriever.embedder,
                known_vectors(built_kb, settings),
                known_question_vectors(built_kb),
            )
            first = build_index(settings, embedder)
            assert embedder.computed == 0 and first.chunks == len(built_kb.chunks)
            lap("build")

            with replicas(2, replica_env(env), tmp_path) as (a, b):
                lap("two replicas up")
                client_a, client_b = Client(a.url + "/", verbose=False), Client(b.url + "/", verbose=False)
                for query, mode in SEARCHES:
                    markup = _search(client_a, query, mode)
                    assert markup.count('class="hit"') == 5, (query, mode)
                    assert _search(client_b, query, mode) == markup, (query, mode)
                assert not _serves_new_document(client_a) and not _serves_new_document(client_b)

                source = tmp_path / "mirai.md"
                source.write_text(NEW_DOC, encoding="utf-8")
                added = subprocess.run(
                    [sys.executable, "-m", "kb.cli", "add", str(source), "--title", NEW_TITLE]
                    + ["--json", "--quiet"],
                    cwd=ROOT,
                    env=replica_env(env),
                    capture_output=True,
                    text=True,
                    timeout=ADD_TIMEOUT_S,
                )
                assert added.returncode == 0, added.stderr
                lap("kb add")
                build = json.loads(added.stdout)["build"]
                # Incremental: only the new document's passages were embedded.
                assert 0 < build["embedded"] < 20 and build["reused"] == first.chunks + first.sentences, build
                assert build["build_id"] != first.build_id

                waited = [_wait_for_new_document(r, c) for r, c in ((a, client_a), (b, client_b))]
                for replica in (a, b):
                    assert replica.proc.poll() is None  # the same processes, never restarted
                    assert f"switched to build {build['build_id']}" in replica.log_text()
                # Both on the new build: the same answers again, old documents included.
                for query, mode in SEARCHES:
                    assert _search(client_b, query, mode) == _search(client_a, query, mode), (query, mode)
                lap("both follow")
                print(
                    f"replicas served the new document after {waited[0]:.1f} s and {waited[1]:.1f} s; {phases}"
                )
    except ServerError as exc:
        pytest.fail(str(exc))
