"""Add a document to the corpus: a PDF, Word (.docx), text or Markdown file in, a cleaned
Markdown file with front matter out (``corpus/<name>.md``), then an incremental re-index.

- :mod:`kb.ingest.lines`: the extracted-line type and its clean-up (PDF artefacts, page
  headers and footers);
- :mod:`kb.ingest.extract`: text out of each format, and the refusals of unusable files;
- :mod:`kb.ingest.markdown`: lines to Markdown (headings, paragraphs, tables, page markers)
  and the front matter;
- :mod:`kb.ingest.add`: the ``kb add`` transaction (duplicates, the lock, writing, re-indexing).
"""

from kb.ingest.add import AddReport, add_document, convert_file, find_duplicate
from kb.ingest.extract import MAX_INGEST_BYTES, SUPPORTED_SUFFIXES, check_file, extract
from kb.ingest.lines import Extracted, Line, clean_line, drop_headers_footers
from kb.ingest.markdown import front_matter, heading_level, to_markdown_body

# The names these types had when kb.ingest was one module (tests build them directly).
_Extracted = Extracted
_Line = Line

__all__ = [
    "MAX_INGEST_BYTES",
    "SUPPORTED_SUFFIXES",
    "AddReport",
    "Extracted",
    "Line",
    "add_document",
    "check_file",
    "clean_line",
    "convert_file",
    "drop_headers_footers",
    "extract",
    "find_duplicate",
    "front_matter",
    "heading_level",
    "to_markdown_body",
]
