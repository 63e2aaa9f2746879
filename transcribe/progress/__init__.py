"""The progress report: how the proofreading of a library's works goes, who did it, who reads it and when it ends.

One room, dependencies pointing one way (`read` -> `impact` -> `credits` <- `report`; `pageviews` alone):
- `read.py`: read quality levels and page histories from a wiki, incrementally, cached in the state file
  (every wiki call goes through `transcribe.wiki.site`); also transclusions, file usage and the OCR texts;
- `pageviews.py`: page views per month from the Wikimedia REST API, cached per month in the state file;
- `credits.py`: the rules: who proofread and validated what, when, and the `Summary` every report shows
  (pure functions over revision histories);
- `impact.py`: pace and forecast, new and returning people, what people corrected, readers and reuse, a period
  (pure functions too);
- `report.py`: `Summary` -> terminal tables, CSV, JSON, one-file HTML with charts, a wikitext table.
"""
