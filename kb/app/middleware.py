"""ASGI middleware that :func:`kb.app.launch_app` puts in front of Gradio's own routes.

- :class:`NoRemoteFiles` refuses ``/file=<URL>``: Gradio would fetch the URL itself.
- :class:`LoginPageWithoutApi` removes the API description from the login page: Gradio embeds
  it there although ``/gradio_api/info`` itself needs the login.
"""

from __future__ import annotations

import re
from typing import Any

# The path is already percent-decoded by the server; any spelling of the scheme is refused.
_REMOTE_FILE = re.compile(r"/file[=/]\s*[a-z][a-z0-9+.-]*:", re.IGNORECASE)
# What Gradio's page template writes (templates/frontend/index.html): the config of the login
# form, and the API description in the script after it.
_LOGIN_FORM = re.compile(rb'"auth_required":\s*true')
_API_INFO = re.compile(rb"window\.gradio_api_info\s*=\s*.*?;\s*</script>", re.S)
_NO_API_INFO = b"window.gradio_api_info = null;</script>"


async def _send_text(send: Any, status: int, body: bytes) -> None:
    await send(
        {"type": "http.response.start", "status": status, "headers": [(b"content-type", b"text/plain")]}
    )
    await send({"type": "http.response.body", "body": body})


class NoRemoteFiles:
    """Refuses ``/file=<http(s) URL>`` (and the older ``/file/<URL>``) with 403.

    For such a request Gradio fetches the URL itself and streams it back: a proxy to the
    internet for anyone who can reach the app, and a DNS query to dns.google when the name does
    not resolve to a public address. The app never serves remote files, so the route is closed.
    """

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope.get("type") == "http" and _REMOTE_FILE.search(scope.get("path", "")):
            await _send_text(send, 403, b"remote files are not served")
            return
        await self.app(scope, receive, send)


class LoginPageWithoutApi:
    """Blanks ``window.gradio_api_info`` in a page that is the login form.

    Without a login, Gradio's front page is the login form, yet it still carries the full API
    description (endpoint names, parameters, the chapter headings offered as choices). Only
    HTML pages are buffered, and only GET requests: API calls and event streams pass through.
    """

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope.get("type") != "http" or scope.get("method") != "GET":
            await self.app(scope, receive, send)
            return
        start: dict[str, Any] | None = None
        chunks: list[bytes] = []

        async def hold_html(message: dict[str, Any]) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                headers = dict(message.get("headers") or [])
                if headers.get(b"content-type", b"").startswith(b"text/html"):
                    start = message  # held until the whole page is known
                    return
            elif start is not None and message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
                if not message.get("more_body"):
                    await self._send_page(start, b"".join(chunks), send)
                return
            await send(message)

        await self.app(scope, receive, hold_html)

    @staticmethod
    async def _send_page(start: dict[str, Any], body: bytes, send: Any) -> None:
        if _LOGIN_FORM.search(body):
            body = _API_INFO.sub(lambda _: _NO_API_INFO, body, count=1)
        headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
        headers.append((b"content-length", str(len(body)).encode()))
        await send({**start, "headers": headers})
        await send({"type": "http.response.body", "body": body})
