"""Gradio components that let the handlers judge what an API caller sent.

Gradio checks a value against the component's schema before any handler runs. For a malformed
value from ``gradio_client`` (a chat that is ``"abc"`` or the old ``[[question, answer]]`` pairs)
that check raises inside Gradio: a traceback in the server log and only "The upstream Gradio app
has raised an exception" for the caller. The components here pass such values on, marked, so the
handler answers with a bilingual message (see ``kb.app.handlers``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gradio as gr
from gradio.components.chatbot import ChatbotDataMessages
from pydantic import ValidationError


def unchecked(component: Any) -> Any:
    """``component`` with Gradio's schema check of API values switched off, for an event with
    ``preprocess=False`` whose handler checks the raw value itself. The API description stays.

    The event must never send the component a ``gr.update``/``gr.skip()``: Gradio then rebuilds
    it for the session from its constructor arguments, schema check included.
    """
    component.api_info()  # computed (and cached) from the schema while it is still set
    component.data_model = None
    return component


@dataclass(frozen=True)
class MalformedChat:
    """A chat value that is not a list of messages (kept for the error message)."""

    value: Any


def chat_history(**kwargs: Any) -> gr.Chatbot:
    """A ``gr.Chatbot`` whose malformed input reaches the handler as a :class:`MalformedChat`
    instead of failing inside Gradio.

    Configured on the instance rather than in a subclass: Gradio writes a ``.pyi`` stub next to
    the module of every Component subclass it sees.
    """
    chat = gr.Chatbot(**kwargs)
    chat.api_info()  # computed (and cached) from the schema while it is still set
    strict = chat.preprocess

    def preprocess(payload: Any) -> Any:
        if payload is None:
            return []
        try:
            messages = ChatbotDataMessages.model_validate(payload, context={"validate_meta": True})
        except (ValidationError, TypeError, ValueError):
            return MalformedChat(payload)
        return strict(messages)

    chat.data_model = None  # type: ignore[assignment]  # Gradio would validate before preprocess
    chat.preprocess = preprocess  # type: ignore[method-assign]
    return chat
