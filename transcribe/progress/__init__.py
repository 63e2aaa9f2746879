"""The progress report: how the proofreading of a library's works goes, and who did it.

One room, three jobs, dependencies pointing one way (`read` -> `credits` <- `report`):
- `read.py`: read quality levels and page histories from a wiki, incrementally, cached in the state file
  (every wiki call goes through `transcribe.wiki.site`);
- `credits.py`: the rules: who proofread and validated what, when, and the `Summary` every report shows
  (pure functions over revision histories);
- `report.py`: `Summary` -> terminal tables, CSV, JSON, one-file HTML with charts, a wikitext table.
"""
