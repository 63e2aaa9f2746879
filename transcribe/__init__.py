"""transcribe: take a library's scans all the way onto Wikisource.

The library API lives in the stage modules (split, ocr, bundle, wiki.publish, wiki.progress, pipeline);
`transcribe.cli` is a thin Typer skin over them.
"""

__version__ = "0.1.0"
