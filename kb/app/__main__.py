"""``python -m kb.app``: serve the web app (same as ``python app.py``)."""

from kb.app.cli import main

raise SystemExit(main())
