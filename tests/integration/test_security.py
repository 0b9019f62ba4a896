"""Security (issue #12): where the app listens, what the login covers, which files it serves,
and that nothing reaches another host at runtime.

Everything runs against a small index built in a temp dir (one short document), served on free
loopback ports that each test starts and stops. The app is served the way ``python app.py``
serves it (``kb.app.cli.serve``). A hole that cannot be closed here would be an
``xfail(strict=True)`` test, so it turns into a failure the day it is fixed (none is open now).
"""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import ipaddress
import os
import re
import socket
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import gradio as gr
import httpx
import pytest
import uvicorn.config
from gradio_client import Client
from helpers.documents import SMALL_DOC
from helpers.servers import free_port

import kb.app
import kb.app.cli as app_cli
from kb.answer import Answerer
from kb.app import EXAMPLES
from kb.config import Settings, load_settings
from kb.knowledge import KnowledgeBase
from kb.retrieve import MODES

#: Text only the app's own pages and answers contain: seen in a response, content leaked.
CONTENT = ("申請書を手で書かずに", "計画期間は令和6年度", EXAMPLES[0], 'id="answer-panel"', "kb-status")
USER, PASSWORD = "staff", "s3cret-pw"


# --- a guard that refuses and records every connection to another host ------------------------


def is_local(host: Any) -> bool:
    name = str(host).strip("[]").split("%")[0].lower()
    if name in ("localhost", "", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback or ipaddress.ip_address(name).is_unspecified
    except ValueError:
        return False


def is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]").split("%")[0])
    except ValueError:
        return False
    return True


class NetworkGuard:
    """Patches the socket module so that a connection or a name lookup for anything but this
    machine raises, and records it (a library that swallows the error is still caught)."""

    def __init__(self) -> None:
        self.attempts: list[str] = []

    def _refuse(self, what: str) -> None:
        self.attempts.append(what)
        raise ConnectionRefusedError(f"blocked by the test: {what}")

    @contextlib.contextmanager
    def active(self) -> Iterator[NetworkGuard]:
        real_connect, real_connect_ex = socket.socket.connect, socket.socket.connect_ex
        real_getaddrinfo, real_gethostbyname = socket.getaddrinfo, socket.gethostbyname
        guard = self

        def check(sock: socket.socket, address: Any) -> None:
            if sock.family in (socket.AF_INET, socket.AF_INET6) and not is_local(address[0]):
                guard._refuse(f"connect {address}")

        def connect(sock: socket.socket, address: Any) -> None:
            check(sock, address)
            return real_connect(sock, address)

        def connect_ex(sock: socket.socket, address: Any) -> int:
            check(sock, address)
            return real_connect_ex(sock, address)

        def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
            name = host.decode() if isinstance(host, bytes) else host
            if name is not None and not is_local(name) and not is_address(name):  # a DNS query
                guard.attempts.append(f"lookup {host}")
                raise socket.gaierror(socket.EAI_NONAME, f"blocked by the test: {host}")
            return real_getaddrinfo(host, *args, **kwargs)

        def gethostbyname(host: str) -> str:
            if not is_local(host):
                guard.attempts.append(f"lookup {host}")
                raise socket.gaierror(socket.EAI_NONAME, f"blocked by the test: {host}")
            return real_gethostbyname(host)

        with pytest.MonkeyPatch.context() as mp:
            # Servers started meanwhile run on asyncio's own loop: uvloop (uvicorn's "auto" when
            # installed) resolves names and connects in C, where no Python patch can see it.
            mp.setitem(uvicorn.config.LOOP_FACTORIES, "auto", "uvicorn.loops.asyncio:asyncio_loop_factory")
            mp.setattr(socket.socket, "connect", connect)
            mp.setattr(socket.socket, "connect_ex", connect_ex)
            mp.setattr(socket, "getaddrinfo", getaddrinfo)
            mp.setattr(socket, "gethostbyname", gethostbyname)
            yield self


# --- the small index, built under the guard once for the module --------------------------------


@dataclass
class Small:
    settings: Settings
    kb: KnowledgeBase
    build_attempts: list[str]
    canary: Path  # a file outside the app, with unique content


@pytest.fixture(scope="module")
def small(base_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Small:
    from indexer.build import build_index

    root = tmp_path_factory.mktemp("security")
    (root / "corpus").mkdir()
    (root / "corpus" / "small.md").write_text(SMALL_DOC, encoding="utf-8")
    settings = base_settings.replace(corpus_dir=root / "corpus", index_dir=root / "index")
    with NetworkGuard().active() as guard:
        build_index(settings)
        knowledge = KnowledgeBase.open(settings)
    canary = root / "private" / "secret.txt"
    canary.parent.mkdir()
    canary.write_text(f"CANARY-{uuid.uuid4()}", encoding="utf-8")
    return Small(settings, knowledge, guard.attempts, canary)


@contextlib.contextmanager
def served(
    settings: Settings, knowledge: KnowledgeBase, plain: bool = False
) -> Iterator[tuple[gr.Blocks, str]]:
    """The app on a free loopback port, as ``python app.py`` serves it (``plain``: launch_app)."""
    demo = kb.app.build_app(settings, knowledge)
    launch = kb.app.launch_app if plain else app_cli.serve
    launch(demo, settings, "127.0.0.1", free_port(), prevent_thread_lock=True, quiet=True)
    try:
        yield demo, f"http://127.0.0.1:{demo.server_port}"
    finally:
        demo.close()


@pytest.fixture(scope="module")
def open_app(small: Small) -> Iterator[tuple[gr.Blocks, str]]:
    with served(small.settings, small.kb) as app:
        yield app


@pytest.fixture(scope="module")
def login_app(small: Small) -> Iterator[tuple[gr.Blocks, str]]:
    with served(small.settings.replace(app_auth_user=USER, app_auth_password=PASSWORD), small.kb) as app:
        yield app


def raw_get(base: str, path: str) -> tuple[int, bytes]:
    """GET ``path`` exactly as written (httpx and browsers remove ``..`` segments first)."""
    host, port = base.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    try:
        conn.putrequest("GET", path, skip_accept_encoding=True)
        conn.endheaders()
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


# --- 1. where the app listens ---------------------------------------------------------------------


def test_settings_listen_on_loopback_by_default() -> None:
    assert Settings().app_host == "127.0.0.1"
    assert load_settings(env={}).app_host == "127.0.0.1"
    assert load_settings(env={"KB_APP_HOST": "0.0.0.0"}).app_host == "0.0.0.0"  # told otherwise


def listening_addresses(port: int) -> set[str]:
    """Local addresses of the sockets listening on ``port`` (from /proc/net/tcp and tcp6)."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError), open(table) as f:
            for line in f.readlines()[1:]:
                local, state = line.split()[1], line.split()[3]
                address, hex_port = local.split(":")
                if state == "0A" and int(hex_port, 16) == port:  # 0A = LISTEN
                    raw = bytes.fromhex(address)
                    words = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))
                    found.add(str(ipaddress.ip_address(words)))
    return found


def test_launch_listens_on_loopback_only(small: Small, monkeypatch: pytest.MonkeyPatch) -> None:
    """No host given: settings.app_host, even when Gradio's own variable says otherwise."""
    monkeypatch.setenv("GRADIO_SERVER_NAME", "0.0.0.0")
    demo = kb.app.build_app(small.settings, small.kb)
    port = free_port()
    kb.app.launch_app(demo, small.settings, None, port, prevent_thread_lock=True, quiet=True)
    try:
        assert demo.server_name == "127.0.0.1" and demo.server.config.host == "127.0.0.1"
        if os.path.exists("/proc/net/tcp"):
            assert listening_addresses(port) == {"127.0.0.1"}
    finally:
        demo.close()


@pytest.fixture
def app_main(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """kb.app.main with building and launching recorded instead of done; KB_* cleared and
    Gradio's variables set to the unsafe values."""
    for key in [k for k in os.environ if k.startswith("KB_")]:
        monkeypatch.delenv(key)
    for key, value in {
        "GRADIO_SHARE": "True",
        "GRADIO_MCP_SERVER": "True",
        "GRADIO_SERVER_NAME": "0.0.0.0",
    }.items():
        monkeypatch.setenv(key, value)
    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(app_cli, "build_app", lambda settings: "demo")

    def launch(demo: Any, settings: Settings, host: Any, port: Any, **kwargs: Any) -> None:
        calls.append({"host": host or settings.app_host, "port": port, **kwargs})

    monkeypatch.setattr(app_cli, "launch_app", launch)
    return calls


def test_app_command_listens_on_loopback_without_share_or_mcp(
    app_main: list[dict[str, Any]], capsys: pytest.CaptureFixture[str]
) -> None:
    assert kb.app.main(["--port", "7999"]) == 0
    (call,) = app_main
    assert call["host"] == "127.0.0.1" and call["port"] == 7999
    assert call["share"] is False and call["mcp_server"] is False  # whatever GRADIO_* say
    assert "warning" not in capsys.readouterr().err


def test_app_command_warns_when_exposed_without_login(
    app_main: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("KB_APP_HOST", "0.0.0.0")
    assert kb.app.main([]) == 0
    assert app_main[-1]["host"] == "0.0.0.0"
    err = capsys.readouterr().err
    assert err.index("警告") < err.index("warning: listening on 0.0.0.0 without a login")
    monkeypatch.setenv("KB_APP_AUTH_USER", USER)
    monkeypatch.setenv("KB_APP_AUTH_PASSWORD", PASSWORD)
    assert kb.app.main(["--host", "192.0.2.10"]) == 0
    assert app_main[-1]["host"] == "192.0.2.10" and "warning" not in capsys.readouterr().err


def test_app_command_reports_bad_config_and_busy_port(
    small: Small, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert kb.app.main(["--config", str(tmp_path)]) == 2  # a folder: was IsADirectoryError
    err = capsys.readouterr().err
    assert "設定ファイルを読めません" in err and "cannot read config file" in err and "Traceback" not in err
    for key in [k for k in os.environ if k.startswith("KB_")]:
        monkeypatch.delenv(key)
    monkeypatch.setattr(app_cli, "build_app", lambda settings: kb.app.build_app(small.settings, small.kb))
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        assert kb.app.main(["--port", str(busy.getsockname()[1])]) == 2
    err = capsys.readouterr().err
    assert "待ち受けできません" in err and "cannot listen on 127.0.0.1" in err and "Traceback" not in err


# --- 2. the login covers every route and the API ------------------------------------------------

PROTECTED = [
    ("GET", "/config"),
    ("GET", "/config/"),
    ("GET", "/gradio_api/info"),
    ("GET", "/gradio_api/openapi.json"),
    ("GET", "/gradio_api/deep_link"),
    ("POST", "/gradio_api/call/search"),
    ("POST", "/gradio_api/call/ask"),
    ("POST", "/gradio_api/call/v2/search"),
    ("GET", "/gradio_api/call/search/0123abcd"),
    ("POST", "/gradio_api/run/search"),
    ("POST", "/gradio_api/api/search"),
    ("POST", "/gradio_api/queue/join"),
    ("GET", "/gradio_api/queue/data?session_hash=abc"),
    ("GET", "/gradio_api/queue/status"),
    ("POST", "/gradio_api/component_server"),
    ("POST", "/gradio_api/upload"),
    ("GET", "/gradio_api/upload_progress"),
    ("GET", "/gradio_api/file=/etc/hostname"),
    ("GET", "/gradio_api/file/etc/hostname"),
    ("GET", "/gradio_api/proxy=https://example.org/x"),
    ("GET", "/monitoring"),
]


@pytest.mark.parametrize(("method", "path"), PROTECTED)
def test_login_is_required(login_app: tuple[gr.Blocks, str], method: str, path: str) -> None:
    body = {"data": ["計画期間", "keyword", [], "", 3], "fn_index": 0, "session_hash": "abc"}
    response = httpx.request(method, login_app[1] + path, json=body if method == "POST" else None, timeout=30)
    assert response.status_code in (401, 403), (response.status_code, response.text[:200])
    assert not any(text in response.text for text in CONTENT)


def test_front_page_without_login_is_the_login_form(login_app: tuple[gr.Blocks, str]) -> None:
    page = httpx.get(login_app[1] + "/", timeout=30)
    if page.status_code == 200:
        assert '"auth_required":true' in page.text and '"components":[]' in page.text
    else:
        assert page.status_code in (302, 303, 307, 401, 403)
    assert not any(text in page.text for text in CONTENT)


#: Routes any visitor may GET or POST with 200: Gradio's own assets and session plumbing.
PUBLIC = {
    "/", "/openapi.json", "/logout", "/favicon.ico", "/theme.css", "/robots.txt", "/manifest.json",
    "/gradio_api/user", "/gradio_api/user/", "/gradio_api/token", "/gradio_api/token/",
    "/gradio_api/app_id", "/gradio_api/app_id/", "/gradio_api/runs", "/gradio_api/runs/",
    "/gradio_api/heartbeat/{session_hash}", "/gradio_api/startup-events", "/gradio_api/theme.css",
    "/gradio_api/reset", "/gradio_api/reset/", "/gradio_api/cancel",
}  # fmt: skip


def routes(app: Any) -> Iterator[tuple[str, str]]:
    """(method, path template) of every route of the served app, included routers too."""
    stack = list(app.routes)
    while stack:
        route = stack.pop()
        if hasattr(route, "original_router"):
            stack.extend(route.original_router.routes)
        elif hasattr(route, "path"):
            for method in sorted(getattr(route, "methods", None) or ()):
                if method != "HEAD":
                    yield method, route.path


#: Seconds each request of the route sweep may take: an event stream (the heartbeat) never ends.
ROUTE_DEADLINE_S = 5.0


async def fetch_with_deadline(
    http: httpx.AsyncClient, method: str, url: str, body: Any, deadline: float = ROUTE_DEADLINE_S
) -> tuple[int, str]:
    """(status, text received) of one request, cut off after ``deadline`` seconds whatever the
    server does (status 0: no answer by then). asyncio cancels a stalled read for certain, which
    httpx's per-read timeout does not when a stream trickles (it hung a CI run for 10 minutes)."""
    status, text = 0, ""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(deadline):
            async with http.stream(method, url, json=body) as response:
                status = response.status_code
                async for chunk in response.aiter_text():
                    text += chunk
                    if len(text) > 100_000:
                        break
    return status, text


def test_every_route_needs_the_login_or_is_public(login_app: tuple[gr.Blocks, str]) -> None:
    demo, base = login_app
    body = {"data": ["x"], "fn_index": 0, "session_hash": "x", "event_id": "x"}

    async def sweep() -> list[tuple[str, str, int, str, float]]:
        results = []
        async with httpx.AsyncClient(timeout=ROUTE_DEADLINE_S * 2) as http:
            for method, template in routes(demo.app):
                path = re.sub(r"\{[^}]+\}", "x", template)
                started = time.monotonic()
                status, text = await fetch_with_deadline(
                    http, method, base + path, body if method != "GET" else None
                )
                results.append((method, template, status, text, time.monotonic() - started))
        return results

    results = asyncio.run(sweep())
    assert len(results) > 40
    assert max(took for *_, took in results) < ROUTE_DEADLINE_S + 2  # the deadline holds
    for method, template, _status, text, _took in results:
        assert not any(item in text for item in CONTENT), (method, template)
    opened = [(m, t, s) for m, t, s, _, _ in results if 0 < s < 300 and t not in PUBLIC]
    assert opened == []


def test_client_needs_the_password(login_app: tuple[gr.Blocks, str]) -> None:
    url = login_app[1] + "/"
    for auth in (None, (USER, "wrong"), ("", "")):
        with pytest.raises(Exception) as failed:  # gradio_client raises different types per version
            Client(url, auth=auth, verbose=False).predict(
                "計画期間", "keyword", [], "", 1, api_name="/search"
            )
        assert not any(text in str(failed.value) for text in CONTENT)
    client = Client(url, auth=(USER, PASSWORD), verbose=False)
    assert "は令和6年度から令和8年度まで" in client.predict(
        "計画期間", "keyword", [], "", 1, api_name="/search"
    )


def test_logging_in_opens_the_api(login_app: tuple[gr.Blocks, str]) -> None:
    """The 401s above are the login's doing: with its cookie the same routes answer."""
    with httpx.Client(base_url=login_app[1], timeout=30) as http:
        assert http.post("/login", data={"username": USER, "password": "wrong"}).status_code >= 400
        assert http.get("/config").status_code == 401
        assert http.post("/login", data={"username": USER, "password": PASSWORD}).status_code == 200
        assert http.get("/config").status_code == 200 and http.get("/gradio_api/info").status_code == 200


@pytest.mark.parametrize("path", ["/", "/gradio_api/runs"])
def test_login_page_does_not_describe_the_api(login_app: tuple[gr.Blocks, str], path: str) -> None:
    """/gradio_api/info needs the login, and Gradio's login page carried the same description
    (window.gradio_api_info): endpoint names, parameters and the chapter headings of the index.
    kb.app.middleware.LoginPageWithoutApi blanks it."""
    page = httpx.get(login_app[1] + path, timeout=30).text
    assert "named_endpoints" not in page and "第1章 概要" not in page


# --- 3. no file outside the app's own assets ------------------------------------------------------


def traversal_paths(canary: Path) -> list[str]:
    up = "../" * 12
    enc = "..%2f" * 12
    dots = "%2e%2e/" * 12
    rel = os.path.relpath(canary, Path.cwd())
    targets = [str(canary).lstrip("/"), "etc/passwd", "etc/hostname"]
    paths = [
        f"/file={canary}",
        f"/file={up}etc/passwd",
        f"/gradio_api/file={canary}",
        f"/gradio_api/file={quote(str(canary), safe='')}",
        f"/gradio_api/file={rel}",
        f"/gradio_api/file={rel.replace('/', '%2f')}",
        f"/gradio_api/file/{canary}",
        f"/gradio_api/file/{up}{str(canary).lstrip('/')}",
        "/gradio_api/file=/etc/passwd",
        "/gradio_api/file=pyproject.toml",
        "/gradio_api/file=kb/config.py",
        "/gradio_api/file=file:///etc/passwd",
        "/gradio_api/custom_component/x/client/..%2f..%2f/etc%2fpasswd",
        "/favicon.ico/../../../etc/passwd",
    ]
    for target in targets:
        for prefix in ("/static/", "/assets/", "/gradio_api/static/", "/svelte/", "/gradio_api/file="):
            paths += [
                f"{prefix}{up}{target}",
                f"{prefix}{enc}{quote(target, safe='')}",
                f"{prefix}{dots}{target}",
            ]
    return paths


def test_no_file_outside_the_app_is_served(open_app: tuple[gr.Blocks, str], small: Small) -> None:
    secrets = [small.canary.read_text(encoding="utf-8")]
    for private in (Path("/etc/passwd"), Path("/etc/hostname"), Path("pyproject.toml"), Path("kb/config.py")):
        if private.is_file() and private.stat().st_size > 20:
            secrets.append(private.read_text(encoding="utf-8", errors="replace")[:60])
    served_files = []
    for path in traversal_paths(small.canary):
        status, body = raw_get(open_app[1], path)
        text = body.decode("utf-8", "replace")
        if any(secret in text for secret in secrets):
            served_files.append((path, status))
    assert served_files == []


def test_index_and_feedback_files_are_not_served(open_app: tuple[gr.Blocks, str], small: Small) -> None:
    index = small.settings.index_dir
    files = [p for p in index.rglob("*") if p.is_file()][:20] + [small.settings.corpus_dir / "small.md"]
    for path in files:
        status, _ = raw_get(open_app[1], "/gradio_api/file=" + quote(str(path)))
        assert status in (403, 404), path


def test_the_app_own_assets_are_served(open_app: tuple[gr.Blocks, str]) -> None:
    """The control: Gradio's assets are there (so the refusals above are not a dead server)."""
    status, body = raw_get(open_app[1], "/theme.css")
    assert status == 200 and b":root" in body


# --- 4. nothing reaches another host at runtime -------------------------------------------------


def test_the_guard_catches_a_connection() -> None:
    with NetworkGuard().active() as guard:
        with pytest.raises(OSError):
            socket.create_connection(("192.0.2.1", 80), timeout=1)
        with pytest.raises(OSError):
            socket.getaddrinfo("example.org", 443)
        with socket.socket() as listener:  # loopback stays open
            listener.bind(("127.0.0.1", 0))
            listener.listen()
            socket.create_connection(listener.getsockname(), timeout=5).close()
    assert guard.attempts == ["connect ('192.0.2.1', 80)", "lookup example.org"]


def test_no_outbound_network_at_runtime(small: Small) -> None:
    """Index (the module fixture), search in every mode, answers, and the app with one request
    each to /ask and /search and a remote "file" — all with every non-loopback socket refused."""
    assert small.build_attempts == []
    with NetworkGuard().active() as guard:
        knowledge = KnowledgeBase.open(small.settings)  # a fresh one: the model is loaded again
        for mode in MODES:
            assert knowledge.search("書かない窓口", mode=mode, k=2)
        answerer = Answerer.from_settings(knowledge, small.settings)
        assert answerer.answer("書かない窓口とは？").answerable
        assert list(answerer.stream("計画期間はいつまで？"))
        with served(small.settings, knowledge) as (_demo, base):
            client = Client(base + "/", verbose=False)
            chat, notice, _sources, _box = client.predict("書かない窓口とは？", [], api_name="/ask")
            assert notice == "" and len(chat) == 2
            assert 'class="hit"' in client.predict("計画期間", "hybrid", [], "", 2, api_name="/search")
            remote = httpx.get(base + "/gradio_api/file=http://localhost/x.txt", timeout=30)
            assert remote.status_code == 403
        knowledge.close()
    assert guard.attempts == []


def test_plain_launch_app_fetches_no_remote_file(small: Small) -> None:
    """Served by launch_app alone (as the tests of other modules do), a request for
    /gradio_api/file=http://localhost/x made Gradio resolve the name, find no public address and
    ask dns.google over HTTPS; launch_app itself now refuses the route."""
    with NetworkGuard().active() as guard, served(small.settings, small.kb, plain=True) as (_demo, base):
        response = httpx.get(base + "/gradio_api/file=http://localhost/x.txt", timeout=60)
    assert guard.attempts == [] and response.status_code == 403
