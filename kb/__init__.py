"""Hirakata IT/DX plan knowledge base: corpus, index, search, cited answers."""

__version__ = "0.1.0"
