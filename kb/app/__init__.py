"""The web app for city staff (Gradio 6): cited answers, passage search and a document reader.

- ``service``: :class:`KBService`, the KnowledgeBase and Answerer behind the UI (background build)
- ``handlers``: the event handlers, plain functions over the service
- ``inputs``: the checks of what the page or an API caller sent (kinds, chapter, k, years, chat)
- ``components``: a gr.Chatbot whose malformed API value reaches the handler
- ``middleware``: no remote ``/file=<URL>``, no API description on the login page
- ``layout``: :func:`build_app` (the page, not served) and :func:`launch_app`
- ``html``, ``cards``, ``outline``: the HTML fragments, per-answer sources, document outlines
- ``cli``: :func:`main` for ``python app.py`` / ``python -m kb.app``

The UI holds no retrieval logic: answers, search and documents come from the ``kb`` library.
"""

from kb.app.cli import main
from kb.app.layout import EXAMPLES, TITLE, build_app, launch_app
from kb.app.service import KBService

__all__ = ["EXAMPLES", "TITLE", "KBService", "build_app", "launch_app", "main"]
