"""The progress callback every long step takes: ``progress(stage, fraction in [0, 1])``."""

from __future__ import annotations

from collections.abc import Callable

Progress = Callable[[str, float], None]


def no_progress(stage: str, fraction: float) -> None:
    """The callback used when the caller wants none."""
