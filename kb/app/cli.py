"""``python app.py`` / ``python -m kb.app``: serve the web app."""

from __future__ import annotations

import argparse
import ipaddress
import logging
import sys
from pathlib import Path
from typing import Any

import gradio as gr

from kb.app.layout import TITLE, build_app, launch_app
from kb.config import Settings, load_settings
from kb.errors import KBError


def is_loopback(host: str) -> bool:
    """True for an address only this machine can reach (127.0.0.0/8, ::1, localhost)."""
    name = host.strip().strip("[]").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:  # a host name: it may resolve to anything
        return False


def serve(
    demo: gr.Blocks, settings: Settings, host: str | None = None, port: int | None = None, **kwargs: Any
) -> Any:
    """:func:`launch_app` as ``python app.py`` runs it: never a public share link or an MCP server
    (whatever GRADIO_SHARE / GRADIO_MCP_SERVER say)."""
    return launch_app(demo, settings, host, port, share=False, mcp_server=False, **kwargs)


def _error(ja: str, en: str) -> int:
    sys.stderr.write(f"エラー: {ja}\nerror: {en}\n")
    return 2


def _warn_if_exposed(settings: Settings, host: str) -> None:
    if not is_loopback(host) and not (settings.app_auth_user and settings.app_auth_password):
        sys.stderr.write(
            f"警告: {host} で待ち受けます。ログインが設定されていないため、ネットワーク上の誰でも使えます"
            "（KB_APP_AUTH_USER / KB_APP_AUTH_PASSWORD を設定してください）\n"
            f"warning: listening on {host} without a login: anyone on the network can use the app "
            "(set KB_APP_AUTH_USER and KB_APP_AUTH_PASSWORD)\n"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=f"{TITLE} — web app")
    parser.add_argument("--config", type=Path, help="settings TOML (default: $KB_CONFIG or ./kb.toml)")
    parser.add_argument("--host", help="address to listen on (default: settings.app_host = 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port (default: settings.app_port = 7860)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # Gradio's own startup requests
    try:
        settings = load_settings(args.config)
    except KBError as exc:
        return _error(exc.ja, exc.en)
    except OSError as exc:  # --config names a folder or an unreadable file
        return _error(
            f"設定ファイルを読めません: {args.config}（{exc.strerror or exc}）",
            f"cannot read config file {args.config}: {exc.strerror or exc}",
        )
    host = args.host or settings.app_host
    _warn_if_exposed(settings, host)
    demo = build_app(settings)
    try:
        serve(demo, settings, host, args.port)
    except OSError as exc:  # the port is taken, the address is not this machine's...
        demo.close()
        port = args.port or settings.app_port
        return _error(
            f"{host}:{port} で待ち受けできません（{exc.strerror or exc}）。--host / --port を変えてください",
            f"cannot listen on {host}:{port}: {exc.strerror or exc}; choose another --host / --port",
        )
    return 0
