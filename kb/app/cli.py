"""``python app.py`` / ``python -m kb.app``: serve the web app."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from kb.app.layout import TITLE, build_app, launch_app
from kb.config import load_settings
from kb.errors import KBError


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
        sys.stderr.write(f"エラー: {exc.ja}\nerror: {exc.en}\n")
        return 2
    demo = build_app(settings)
    launch_app(demo, settings, args.host, args.port)
    return 0
