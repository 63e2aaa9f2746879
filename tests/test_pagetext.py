"""Page:/Index:/File: wikitext: what the tool sends must read back the way ProofreadPage reads it."""

from __future__ import annotations

import json

import pytest

from transcribe.wiki import pagetext as pt
from transcribe.work import WorkMeta

EN_CONFIG = {
    "Type": {"type": "string", "values": {"book": "Book"}, "default": "book"},
    "Title": {"label": "Title", "data": "title"},
    "Language": {"label": "Language", "data": "language"},
    "Author": {"label": "Author", "data": "author"},
    "Year": {"label": "Year of publication", "data": "year"},
    "Publisher": {"label": "Publisher", "data": "publisher"},
    "Address": {"label": "Location", "data": "place"},
    "Source": {"label": "Source", "values": {"djvu": "DjVu", "pdf": "PDF", "scan": "Scan"}},
    "Progress": {"label": "Progress", "data": "progress",
                 "values": {"C": "Done", "V": "To be validated", "T": "To be proofread", "OCR": "OCR"},
                 "default": "OCR"},
    "Pages": {"label": "Pages", "data": "pagelist"},
    "Remarks": {"label": "Remarks"},
    "Header": {"label": "Header", "header": True},
}
FR_CONFIG = {
    "Titre": {"label": "Titre", "data": "title"},
    "Auteur": {"label": "Auteur", "data": "author"},
    "Editeur": {"label": "Maison d’édition", "data": "publisher"},
    "Annee": {"label": "Année d’édition", "data": "year"},
    "Bibliotheque": {"label": "Bibliothèque"},
    "Source": {"label": "Fac-similés", "values": {"djvu": "djvu", "pdf": "pdf"}},
    "Avancement": {"label": "Avancement", "data": "progress",
                   "values": {"T": "Terminé", "C": "À corriger", "OCR": "Pas de couche texte"}},
    "Pages": {"label": "Pages", "data": "pagelist"},
}


def meta(**kw: str) -> WorkMeta:
    base = {"title": "Furni Novi Philosophici", "language": "en", "author": "Johann Rudolf Glauber",
            "year": "1651", "publisher": "Jansson", "place": "Amsterdam", "licence": "PD-old-70",
            "page_labels": "1=Cover 2=1"}
    base.update(kw)
    return WorkMeta.from_mapping(base, where="test")


# -- bodies --------------------------------------------------------------------------------------------------

def test_ocr_body_keeps_paragraphs_and_drops_form_feeds() -> None:
    raw = "First line  \r\nsecond line\n\n\n\nNew paragraph.\n\f\n\f"
    assert pt.ocr_to_body(raw) == "First line\nsecond line\n\nNew paragraph."


def test_ocr_body_keeps_wiki_markup_as_the_proofreader_should_see_it() -> None:
    raw = "a {{b}} [[c]] <small>d</small> x<y"
    assert pt.ocr_to_body(raw) == raw


def test_ocr_body_is_nfc_so_it_compares_with_what_the_wiki_returns() -> None:
    assert pt.ocr_to_body("Cafe\u0301") == "Caf\u00e9"


@pytest.mark.parametrize("evil", [
    "text</noinclude>more",
    "<noinclude>footer stolen",
    '<pagequality level="4" user="Mallory" />validated!',
    "unclosed <nowiki> hides the rest",
    "unclosed <!-- comment",
    "<includeonly>x</includeonly><onlyinclude>y</onlyinclude>",
])
def test_ocr_text_cannot_break_the_page_structure_or_raise_the_level(evil: str) -> None:
    text = pt.build_page(pt.ocr_to_body(evil), level=1, user="TranscribeBot")
    back = pt.parse_page(text)
    assert (back.level, back.user, back.header, back.footer) == (1, "TranscribeBot", "", "")
    # the words are all still there, only the '<' of a structural tag is written as an entity
    assert back.body.replace("&lt;", "<") == evil
    assert text.count("<noinclude>") == 2 and text.count("</noinclude>") == 2


def test_balanced_nowiki_and_comments_are_left_alone() -> None:
    body = "a <nowiki>[[x]]</nowiki> b <!-- c --> d"
    assert pt.ocr_to_body(body) == body


# -- Page: texts ---------------------------------------------------------------------------------------------

def test_build_page_is_the_documented_serialisation() -> None:
    assert pt.build_page("Hello", level=1, user="TranscribeBot") == (
        '<noinclude><pagequality level="1" user="TranscribeBot" /></noinclude>Hello<noinclude></noinclude>')


def test_blank_page_is_level_0_with_no_body() -> None:
    back = pt.parse_page(pt.build_page("stray dots", level=0, user="TranscribeBot"))
    assert (back.level, back.body) == (0, "")


@pytest.mark.parametrize("level", [2, 3, 4, 5, -1])
def test_the_tool_refuses_to_build_any_level_above_1(level: int) -> None:
    with pytest.raises(pt.PageTextError, match="never writes quality level"):
        pt.build_page("x", level=level, user="TranscribeBot")


def test_parse_what_a_human_saved_with_the_proofreadpage_editor() -> None:
    text = ('<noinclude><pagequality level="3" user="Alice" />{{rh||Title|5}}\n\n</noinclude>'
            "Body line\n\nmore<noinclude>{{smallrefs}}</noinclude>\n")
    p = pt.parse_page(text)
    assert (p.level, p.user, p.header, p.body, p.footer) == (3, "Alice", "{{rh||Title|5}}", "Body line\n\nmore",
                                                              "{{smallrefs}}")


def test_parse_the_old_closing_tag_form_and_plain_text() -> None:
    p = pt.parse_page('<noinclude><pagequality level="4" user="Bob"></pagequality></noinclude>x<noinclude></noinclude>')
    assert (p.level, p.user, p.body) == (4, "Bob", "x")
    # no structure at all: the extension stores it as level 1 by nobody
    assert pt.parse_page("just typed text") == pt.PageText(level=1, user="", body="just typed text")
    # a level the regex does not accept is level 1, as the extension does
    assert pt.parse_page('<noinclude><pagequality level="5" user="X" /></noinclude>y<noinclude></noinclude>').level == 1


def test_parse_the_json_form() -> None:
    text = json.dumps({"header": "h", "body": "b", "footer": "f", "level": {"level": 3, "user": "Alice"}})
    assert pt.parse_page(text) == pt.PageText(level=3, user="Alice", header="h", body="b", footer="f")
    # JSON-looking OCR text without a body is just text
    assert pt.parse_page('{"a": 1}').body == '{"a": 1}'


def test_text_key_ignores_normalisation_and_trailing_space() -> None:
    assert pt.text_key("Caf\u00e9\n") == pt.text_key("Cafe\u0301")
    assert pt.text_key("a") != pt.text_key("b")


# -- Index: texts --------------------------------------------------------------------------------------------

def test_index_maps_metadata_through_the_wikis_fields() -> None:
    idx = pt.build_index(meta(remarks="Digitised 2024"), EN_CONFIG, file_kind="pdf")
    assert idx.fields == {"Title": "Furni Novi Philosophici", "Language": "en", "Author": "Johann Rudolf Glauber",
                          "Year": "1651", "Publisher": "Jansson", "Address": "Amsterdam", "Source": "pdf",
                          "Progress": "T", "Pages": "<pagelist 1=Cover 2=1 />", "Remarks": "Digitised 2024"}
    assert idx.text.startswith("{{:MediaWiki:Proofreadpage_index_template\n|Title=Furni")
    assert idx.text.endswith("\n}}")
    assert pt.parse_index(idx.text) == idx.fields
    assert idx.unmapped == []


def test_progress_is_the_value_that_means_to_be_proofread_whatever_its_key() -> None:
    # en.wikisource: 'OCR' means the file still needs a text layer; the pages we create have text to proofread.
    assert pt.progress_value(EN_CONFIG) == ("Progress", "T")
    assert pt.progress_value(FR_CONFIG) == ("Avancement", "C")
    unknown = {"Stand": {"data": "progress", "values": {"a": "Alpha", "b": "Beta"}, "default": "b"}}
    assert pt.progress_value(unknown) == ("Stand", "b")


def test_index_on_a_french_wiki_uses_its_field_names_and_reports_what_has_no_field() -> None:
    idx = pt.build_index(meta(language="fr", institution="Bibliothèque X", source_url="https://lib.example/1"),
                         FR_CONFIG, file_kind="djvu")
    assert idx.fields["Titre"] == "Furni Novi Philosophici"
    assert idx.fields["Annee"] == "1651"
    assert idx.fields["Bibliotheque"] == "Bibliothèque X"  # matched by the field's label
    assert idx.fields["Avancement"] == "C"  # "À corriger": on fr.wikisource 'T' means "Terminé"
    assert idx.fields["Source"] == "djvu"
    assert sorted(idx.unmapped) == ["place", "source_url"]


def test_a_progress_given_in_work_toml_wins_and_pipes_cannot_split_a_field() -> None:
    m = WorkMeta.from_mapping({"title": "A | B }} C", "language": "en", "progress": "T"}, where="t")
    idx = pt.build_index(m, EN_CONFIG)
    assert idx.fields["Progress"] == "T"
    assert pt.parse_index(idx.text)["Title"] == "A &#124; B &#125;&#125; C"


def test_index_without_page_labels_has_an_empty_pagelist() -> None:
    idx = pt.build_index(meta(page_labels=""), EN_CONFIG)
    assert idx.fields["Pages"] == "<pagelist />"


# -- File: pages and names -----------------------------------------------------------------------------------

def test_file_description_has_book_template_link_and_licence() -> None:
    text = pt.build_file_description(meta(institution="Library of X"), index_link="s:en:Index:Furni.pdf")
    assert "{{Book\n" in text and " |Wikisource=s:en:Index:Furni.pdf" in text
    assert " |Institution=Library of X" in text and " |Date=1651" in text
    assert "{{PD-old-70}}\n" in text and text.rstrip().endswith("[[Category:Library of X]]")


def test_no_licence_no_file_description() -> None:
    with pytest.raises(pt.LicenceMissing):
        pt.build_file_description(meta(licence=""), index_link="Index:X.pdf")


def test_licences_given_several_ways() -> None:
    assert pt.licence_template("PD-old-70, PD-scan") == "{{PD-old-70}}\n{{PD-scan}}"
    assert pt.licence_template("{{Cc-by-sa-4.0|Library X}}") == "{{Cc-by-sa-4.0|Library X}}"


@pytest.mark.parametrize("bad", ["Book [1651].pdf", "A|B.pdf", "Notes #3.pdf", "a/b.pdf", "x" * 250 + ".pdf",
                                 "Book.djvu"])
def test_file_names_mediawiki_refuses_are_refused_with_a_usable_suggestion(bad: str) -> None:
    with pytest.raises(pt.FileNameError) as e:
        pt.check_file_name(bad, ".pdf")
    suggestion = e.value.suggestion
    assert pt.check_file_name(suggestion, ".pdf") == suggestion
    assert suggestion.endswith(".pdf")


def test_file_names_are_normalised_like_mediawiki() -> None:
    assert pt.check_file_name("furni_novi  philosophici.pdf", ".pdf") == "Furni novi philosophici.pdf"


def test_default_file_name_comes_from_title_and_year() -> None:
    assert pt.default_file_name(meta(title="Furni: novi [philosophici]"), ".pdf") == \
        "Furni - novi (philosophici) (1651).pdf"
    assert pt.default_file_name(meta(file_name="Glauber 1651"), ".pdf") == "Glauber 1651.pdf"
