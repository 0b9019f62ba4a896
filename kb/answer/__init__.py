"""Cited answers: extractive sentences from retrieved passages, or an optional LLM answer.

>>> answerer = Answerer.from_settings(kb, kb.settings)           # doctest: +SKIP
>>> answerer.answer("書かない窓口って何をするの？").to_text()        # doctest: +SKIP

Modules, in the order a question goes through them: ``question`` (what is asked, what shape of
answer), ``followup`` (「それは？」 takes the previous topic), ``extractive`` (sentence choice,
confidence, the default writer), ``llm`` (optional writer through an OpenAI-compatible
endpoint), ``answerer`` (ties them together); ``types`` holds what they pass, ``patterns`` the
word lists, ``weights`` the tuned numbers. Every quote is checked to be a verbatim substring of
its chunk; weak evidence abstains with nearby sections instead.
"""

from kb.answer.answerer import Answerer, Writer
from kb.answer.extractive import ExtractiveWriter
from kb.answer.followup import followup_kind, rewrite_followup
from kb.answer.llm import LlmWriter
from kb.answer.patterns import ABSTAIN_TEXT, SUGGESTIONS_LABEL
from kb.answer.question import Question, analyse
from kb.answer.types import Answer, AnswerStream, Citation
from kb.answer.weights import AnswerWeights

__all__ = [
    "ABSTAIN_TEXT",
    "SUGGESTIONS_LABEL",
    "Answer",
    "AnswerStream",
    "AnswerWeights",
    "Answerer",
    "Citation",
    "ExtractiveWriter",
    "LlmWriter",
    "Question",
    "Writer",
    "analyse",
    "followup_kind",
    "rewrite_followup",
]
