"""One-off retrieval experiments; each script writes up its findings in a .md beside it."""
