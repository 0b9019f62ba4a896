"""Web app for city staff: cited answers, passage search and a document reader (Gradio 6).

    python app.py [--host 127.0.0.1] [--port 7860] [--config kb.toml]

The app itself is the ``kb.app`` package; this file is the entry point ``make run`` uses.
"""

from kb.app.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
