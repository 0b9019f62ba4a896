"""Real servers on free loopback ports: ``chroma run`` and app replicas (``python app.py``).

Used by tests/integration (the Chroma server and replica tests) and by bench/load.py. Every
process is started with its output in a log file and stopped by :func:`stop` (SIGTERM, then
SIGKILL); the context managers stop theirs even when the body fails.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
LOOPBACK = "127.0.0.1"
STOP_TIMEOUT_S = 15.0


class ServerError(RuntimeError):
    """A server did not start (the message names its log)."""


def free_port() -> int:
    """A port nobody listens on now (the OS picks it; another process may take it later)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


def chroma_executable() -> str | None:
    """The ``chroma`` command of this Python's environment (it comes with chromadb), else PATH's."""
    beside_python = Path(sys.executable).parent / "chroma"
    if beside_python.is_file():
        return str(beside_python)
    return shutil.which("chroma")


def _get(url: str, timeout: float = 2.0) -> int | None:
    """The HTTP status of a GET, or None when nothing answers."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code
    except (urllib.error.URLError, OSError):
        return None


def stop(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM, then SIGKILL if the process is still there after STOP_TIMEOUT_S."""
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=STOP_TIMEOUT_S)


def _wait(ready: Any, proc: subprocess.Popen[bytes], what: str, log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not ready():
        if proc.poll() is not None:
            raise ServerError(f"{what} exited with {proc.returncode}; see {log}")
        if time.monotonic() > deadline:
            raise ServerError(f"{what} not ready within {timeout:.0f} s; see {log}")
        time.sleep(0.3)


@contextmanager
def app_in_process(settings: Any, knowledge: Any) -> Iterator[str]:
    """The app (kb.app) over ``knowledge``, served in this process on a free loopback port;
    yields its base URL and closes the server afterwards, even when the body fails."""
    import kb.app

    demo = kb.app.build_app(settings, knowledge)
    port = free_port()
    kb.app.launch_app(demo, settings, LOOPBACK, port, prevent_thread_lock=True, quiet=True)
    try:
        yield f"http://{LOOPBACK}:{port}/"
    finally:
        demo.close()


@contextmanager
def chroma_server(data_dir: Path, log: Path, timeout: float = 60.0) -> Iterator[int]:
    """``chroma run`` on 127.0.0.1 with its data in ``data_dir``; yields its port once its
    heartbeat answers, and stops it afterwards."""
    exe = chroma_executable()
    if exe is None:
        raise FileNotFoundError("the `chroma` command is not installed (it comes with the chromadb package)")
    port = free_port()
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [exe, "run", "--path", str(data_dir), "--host", LOOPBACK, "--port", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    try:
        heartbeat = f"http://{LOOPBACK}:{port}/api/v2/heartbeat"
        _wait(lambda: _get(heartbeat) == 200, proc, "chroma run", log, timeout)
        yield port
    finally:
        stop(proc)


def replica_env(settings_env: Mapping[str, str]) -> dict[str, str]:
    """This process's environment plus ``settings_env`` (KB_* variables), offline, quiet."""
    env = dict(os.environ)
    env.update(
        HF_HUB_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
        GRADIO_ANALYTICS_ENABLED="False",
        ANONYMIZED_TELEMETRY="False",
        OMP_WAIT_POLICY="PASSIVE",
    )
    env.update(settings_env)
    return env


def start_replica(
    env: Mapping[str, str], log: Path, port: int | None = None
) -> tuple[subprocess.Popen[bytes], str]:
    """``python app.py`` (the real entry point) on a free loopback port; returns the process and
    its base URL. Call :func:`wait_for_replica` before using it, :func:`stop` after."""
    port = port or free_port()
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, str(ROOT / "app.py"), "--host", LOOPBACK, "--port", str(port)],
            cwd=ROOT,
            env=dict(env),
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    return proc, f"http://{LOOPBACK}:{port}"


def wait_for_replica(proc: subprocess.Popen[bytes], base: str, log: Path, timeout: float = 180.0) -> None:
    """Wait until the replica serves HTTP and its index is open (a keyword search finds a hit)."""
    _wait(lambda: _get(base + "/") == 200, proc, "the app", log, timeout)

    def answers() -> bool:
        try:
            return 'class="hit"' in str(
                call_api(base, "search", ["計画", "keyword", [], "", 1, ""], timeout=30)[0]
            )
        except (OSError, ApiError):
            return False

    _wait(answers, proc, "the app's index", log, timeout)


@dataclass(frozen=True)
class Replica:
    """A running app process, its base URL (no trailing slash) and its log."""

    proc: subprocess.Popen[bytes]
    url: str
    log: Path

    def log_text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


@contextmanager
def replicas(
    count: int, env: Mapping[str, str], log_dir: Path, timeout: float = 180.0
) -> Iterator[list[Replica]]:
    """``count`` app replicas started together (they load in parallel); yields them once every
    one answers, and stops them all afterwards."""
    started: list[Replica] = []
    try:
        for i in range(count):
            log = log_dir / f"replica-{i}.log"
            proc, url = start_replica(env, log)
            started.append(Replica(proc, url, log))
        for replica in started:
            wait_for_replica(replica.proc, replica.url, replica.log, timeout)
        yield started
    finally:
        for replica in started:
            stop(replica.proc)


class ApiError(RuntimeError):
    """The app answered an API call with an error event (or not at all)."""


def call_api(base: str, api_name: str, data: Sequence[Any], timeout: float = 120.0) -> list[Any]:
    """Call ``/gradio_api/call/<api_name>`` (Gradio's HTTP API: a POST for an event id, then a
    server-sent event stream) and return the final output values. Blocking; one HTTP connection
    per step, so it can run in many threads."""
    body = json.dumps({"data": list(data)}).encode()
    request = urllib.request.Request(
        f"{base}/gradio_api/call/{api_name}", body, {"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:
        event_id = json.load(response)["event_id"]
    with urllib.request.urlopen(f"{base}/gradio_api/call/{api_name}/{event_id}", timeout=timeout) as stream:
        return parse_events(stream.read().decode("utf-8"))


def parse_events(text: str) -> list[Any]:
    """The data of the ``complete`` event in a Gradio SSE stream; ApiError for ``error``."""
    event = ""
    for line in text.splitlines():
        if line.startswith("event:"):
            event = line.removeprefix("event:").strip()
        elif line.startswith("data:") and event in ("complete", "error"):
            payload = line.removeprefix("data:").strip()
            if event == "error":
                raise ApiError(f"{payload}")
            return list(json.loads(payload))
    raise ApiError(f"no complete event in the response: {text[:200]!r}")
