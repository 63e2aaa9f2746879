"""The test wiki itself, transcribe.wiki.site against it, and `transcribe login`."""

from __future__ import annotations

from wikifixtures import *  # noqa: F403


def test_test_wikis_look_like_wikisource(wiki_en, wiki_fr):
    en = wiki_en.api(action="query", meta="siteinfo", siprop="namespaces")["query"]["namespaces"]
    assert (en["104"]["name"], en["106"]["name"], en["106"]["canonical"]) == ("Page", "Index", "Index")
    fr = wiki_fr.api(action="query", meta="siteinfo", siprop="namespaces", titles="Index:Livre.pdf")["query"]
    assert (fr["namespaces"]["112"]["name"], fr["namespaces"]["112"]["canonical"]) == ("Livre", "Index")
    assert fr["normalized"][0]["to"] == "Livre:Livre.pdf"
