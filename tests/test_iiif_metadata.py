"""IIIF metadata: `init --from MANIFEST`, licences and their refusal, page labels from canvas labels, provenance.

Every mapping is checked against what the real manifests in ../shared/iiif say (read with json here, not copied
into the test), so the assertions follow the files, not the code.
"""

from __future__ import annotations

import functools
import http.server
import json
import re
import shutil
import threading
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest
from publish_helpers import make_work
from typer.testing import CliRunner

from transcribe.cli import app
from transcribe.iiif.metadata import work_entry
from transcribe.iiif.presentation import read_presentation
from transcribe.licences import read_rights, refusal
from transcribe.manifest import load_manifest, target_file_name
from transcribe.pagelabels import (
    describe_labels,
    label_pages,
    page_labels_from_canvases,
    pagelist_from_labels,
    parse_label,
)
from transcribe.wiki import pagetext as pt
from transcribe.work import WorkMeta

IIIF = Path(__file__).resolve().parents[2].parent / "shared" / "iiif"
if not IIIF.is_dir():
    IIIF = Path("/work/shared/iiif")
runner = CliRunner()


def raw(name: str) -> dict:
    return json.loads((IIIF / name).read_text(encoding="utf-8"))


def entry(name: str):
    return work_entry(read_presentation(IIIF / name, require_images=False))


def v2_metadata(name: str) -> dict[str, object]:
    """label -> value of a v2 manifest's metadata, the labels taken in English where they are language maps."""
    out: dict[str, object] = {}
    for m in raw(name)["metadata"]:
        label = m["label"]
        if isinstance(label, list):
            label = next(x["@value"] for x in label if x.get("@language") == "en")
        out[str(label)] = m["value"]
    return out


def v2_labels(name: str) -> list[str | None]:
    return [c.get("label") for c in raw(name)["sequences"][0]["canvases"]]


# -- the mapping, manifest by manifest -------------------------------------------------------------------------------

def test_labels_in_three_languages_and_a_non_commercial_licence_are_read_but_the_licence_is_not_used() -> None:
    e = entry("v2-canvasService.json")
    md = v2_metadata("v2-canvasService.json")
    assert e.fields["title"] == md["Title"]  # the label 'Titel'/'書名'/'Title'
    assert e.fields["language"] == "de"  # 'Sprache' = {'de': 'Deutsch', 'en': 'German'}
    assert e.fields["iiif_manifest"] == raw("v2-canvasService.json")["@id"]
    # CC BY-NC-SA is not free: no licence, the refusal said, the statement kept for publishing to refuse
    assert "licence" not in e.fields and e.refused.startswith("CC BY-NC-SA 4.0")
    assert e.fields["source_rights"] == raw("v2-canvasService.json")["license"]
    assert any("Commons accepts only free licences" in c for c in e.comments)
    # nothing dropped: the pairs that fill no field are comments, e.g. the extent
    assert any(str(md["Extent"]) in c for c in e.comments)


def test_a_licence_list_with_only_non_free_entries_is_refused_and_the_unknown_one_is_named() -> None:
    e = entry("v2-emptyCanvas.json")
    licences = raw("v2-emptyCanvas.json")["license"]
    assert e.refused and "licence" not in e.fields
    assert any("not understood" in c and licences[1] in c for c in e.comments)
    assert e.fields["author"] == "Saint Augustin"  # 'Creator': 'Saint Augustin. Auteur du texte'
    assert any("Florus de Lyon" in c for c in e.comments)  # the annotator is not an author, and not lost


def test_public_domain_mark_and_json_ld_values() -> None:
    e = entry("v2-BibliographicResource_3000126341277.json")
    m = raw("v2-BibliographicResource_3000126341277.json")
    assert e.fields["title"] == m["label"][0]["@value"]
    assert e.fields["language"] == "fi"  # 'fin' given as an @value object
    assert e.fields["licence"] == "PD-old-70" and not e.refused
    assert any("Public Domain Mark" in c and "check it" in c for c in e.comments)  # a choice said, not hidden
    source = next(x for x in m["metadata"] if x["label"] == "source")["value"][0]["@value"]
    assert e.fields["source_url"] == source


def test_html_values_in_v2_and_v3_give_the_same_plain_text() -> None:
    e2, e3 = entry("v2-001.json"), entry("v3-001.json")
    for e in (e2, e3):
        assert all("<" not in v for v in e.fields.values())
        assert e.fields["year"] == "1787"  # 'Date Statement': '[1787]'
        assert e.fields["author"].startswith("Becket, Mr")  # 'Creator': '... [author]'
        assert e.fields["source_url"].startswith("https://digital.bodleian.ox.ac.uk/")  # a link's address
    assert e2.fields["title"] == e3.fields["title"]
    # v2 puts its licence in the attribution (CC BY-NC-SA 3.0): refused; v3 names none: left unset
    assert e2.refused and "by-nc-sa/3.0" in e2.fields["source_rights"]
    assert not e3.refused and "licence" not in e3.fields


def test_odd_language_keys_and_a_copyright_attribution_without_licence() -> None:
    h = entry("v3-hamilton.json")
    assert h.fields["title"] == raw("v3-hamilton.json")["label"]["true"][0]
    assert "<" not in h.fields["description"]
    s = entry("v2-fg165hz3589.json")
    assert "licence" not in s.fields and "All rights reserved" in s.refused
    pages = [c.label for c in read_presentation(IIIF / "v2-fg165hz3589.json").canvases]
    assert label_pages(s.fields.get("page_labels", ""), len(pages)) == [re.sub(r"\D", "", x) for x in pages]


def test_licence_addresses_map_to_templates_and_non_free_templates_are_refused_whoever_wrote_them() -> None:
    assert read_rights(["https://creativecommons.org/licenses/by/4.0/"]).template == "CC-BY-4.0"
    assert read_rights(["http://creativecommons.org/licenses/by-sa/3.0/de/"]).template == "CC-BY-SA-3.0-de"
    assert read_rights(["https://creativecommons.org/publicdomain/zero/1.0/"]).template == "CC-zero"
    both = read_rights(["http://creativecommons.org/licenses/by-nc/4.0/", "https://creativecommons.org/licenses/by/4.0/"])
    assert both.template == "CC-BY-4.0" and not both.refused  # a free one offered beside wins
    assert read_rights(["http://rightsstatements.org/vocab/InC/1.0/"]).refused
    assert refusal("CC-BY-NC-4.0", "") and refusal("", "http://creativecommons.org/licenses/by-nd/4.0/")
    assert refusal("PD-Art|PD-old-100", "http://creativecommons.org/licenses/by-nc/4.0/") is None  # the user decides


# -- page labels ----------------------------------------------------------------------------------------------------

def test_folio_labels_with_lacunae_become_folio_ranges_that_give_every_canvas_its_label() -> None:
    labels = v2_labels("v2-emptyCanvas.json")
    d = pagelist_from_labels(labels, what="canvas")
    assert "folio" in d.spec
    shown = label_pages(d.spec, len(labels))
    checked = 0
    for i, label in enumerate(labels):
        m = re.search(r"\((\d+[rv])\)$", label or "")
        if m:  # '2r (31r)' and the lacunae 'Lacune (32r)': the numbering in brackets runs through the codex
            assert shown[i] == m.group(1), (i + 1, label)
            checked += 1
    assert checked == sum(bool(re.search(r"\(\d+[rv]\)$", x or "")) for x in labels) > 300
    nps = [i + 1 for i, x in enumerate(labels) if x == "NP"]
    assert any(f"canvases {nps[0]}–{nps[-1]}" in n and "'NP'" in n for n in d.notes)
    assert pt.build_index(WorkMeta(title="x", language="la", page_labels=d.spec),
                          {"Pages": {"data": "pagelist"}}).fields["Pages"].startswith("<pagelist 1=31 1to")


def test_page_numbers_in_the_forms_libraries_write_them() -> None:
    for label, text in (("p. 12", "12"), ("Page 3", "3"), ("S. 5", "5"), ("12r", "12r"), ("fol. 1r", "1r"),
                        ("f. 2v", "2v"), ("xii", "xii"), ("XIV", "XIV"), ("[7]", "7")):
        assert parse_label(label) is not None and parse_label(label).text == text, label
    for label in ("fragm1a", "(0001)", "Whole Page", "Casing 1", "NP"):
        assert parse_label(label) is None, label
    d = pagelist_from_labels(["Cover", "i", "ii", "iii", "1", "2", "2v", "3r", "3v"])
    assert label_pages(d.spec, 9)[1:] == ["i", "ii", "iii", "1", "2", "2v", "3r", "3v"]
    assert d.notes == ["page 1 'Cover': not a page number, left out of <pagelist/>"]
    gau = entry("v2-gau.json")
    assert "page_labels" not in gau.fields and any("'fragm1a'" in n for n in gau.label_notes)
    # a work whose entry names no page labels gets them from its manifest when it is run
    spec, notes = page_labels_from_canvases(v2_labels("v2-fg165hz3589.json"))
    assert label_pages(spec, 5) == ["1", "2", "3", "4", "5"] and not [n for n in notes if "left out" in n]
    spec, notes = page_labels_from_canvases(v2_labels("v2-gau.json"))
    assert spec == "" and "'fragm1a'" in notes[0]
    assert describe_labels(label_pages("1=31 1to4=folio", 4)) == "31r–32v"


# -- the command ----------------------------------------------------------------------------------------------------

def test_init_from_writes_an_entry_that_loads_and_refuses_to_publish_a_non_free_licence(tmp_path: Path) -> None:
    out = tmp_path / "books.toml"
    res = runner.invoke(app, ["init", "--from", str(IIIF / "v2-gau.json"), "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert "not free" in res.stderr and "PD-Art|PD-old-100" in res.stderr
    text = out.read_text(encoding="utf-8")
    work = tomllib.loads(text)["work"][0]
    md = {m["label"]: m["value"] for m in raw("v2-gau.json")["metadata"]}
    assert work["title"] == md["Title (English)"] and work["language"] == "la"
    assert work["place"] == md["Place of Origin (English)"]
    assert work["iiif_manifest"] == raw("v2-gau.json")["@id"] and "licence" not in work
    assert f"#   DOI: {md['DOI']}" in text  # unmapped pairs are comments in the entry
    # publishing stops with exit 10, even with a licence in [defaults] (not a decision about this work)
    out.write_text('[defaults]\nlicence = "PD-old-70"\nwiki = "wikisource:la"\n\n' + text, encoding="utf-8")
    res = runner.invoke(app, ["run", str(out)])
    assert res.exit_code == 10 and "Commons accepts only free licences" in res.stderr
    # and the offline preview (run --export) does not show it under that licence either
    assert load_manifest(out, check_models=False, publishing=False).entries[0].meta.licence == ""
    # the person decides: their licence wins
    out.write_text(out.read_text(encoding="utf-8").replace('# licence = ""', 'licence = "PD-Art|PD-old-100"'),
                   encoding="utf-8")
    m = load_manifest(out, check_models=False, publishing=True)
    assert m.entries[0].meta.licence == "PD-Art|PD-old-100" and m.entries[0].meta.attribution
    desc = pt.build_file_description(m.entries[0].meta, index_link="s:la:Index:x.pdf")
    assert raw("v2-gau.json")["@id"] in desc and "e-codices" in desc  # readers find the original


def test_init_from_completes_an_existing_entry_and_keeps_what_the_person_wrote(tmp_path: Path) -> None:
    out = tmp_path / "books.toml"
    address = raw("v2-canvasService.json")["@id"]
    mine = f'# my batch\n[[work]]\nid = "feuer"\nscan = "{address}"\ntitle = "Feuerwerksbuch"\n'
    out.write_text(mine, encoding="utf-8")
    res = runner.invoke(app, ["init", str(out), "--from", str(IIIF / "v2-canvasService.json")])
    assert res.exit_code == 0, res.output
    assert "feuer: filled" in res.stderr and "kept yours: title" in res.stderr
    text = out.read_text(encoding="utf-8")
    assert text.startswith(mine)  # nothing of the person's rewritten
    works = tomllib.loads(text)["work"]
    assert len(works) == 1 and works[0]["title"] == "Feuerwerksbuch" and works[0]["language"] == "de"
    again = runner.invoke(app, ["init", str(out), "--from", str(IIIF / "v2-canvasService.json")])
    assert again.exit_code == 0 and out.read_text(encoding="utf-8") == text  # a second run changes nothing
    assert f"{out} unchanged" in again.stdout and "Wrote" not in again.stdout  # and says so
    # the manifest's address is the work's scan: kept as an address, bundled into a PDF for the wiki
    e = load_manifest(out, check_models=False).entries[0]
    assert e.address == address and target_file_name(e).endswith(".pdf")


@pytest.fixture()
def served(tmp_path: Path) -> Iterator[str]:
    """A real HTTP server on 127.0.0.1 serving a folder (no network in tests)."""
    root = tmp_path / "www"
    root.mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    t = threading.Thread(target=httpd.serve_forever, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()
    httpd.server_close()


def test_a_collection_gives_one_work_per_manifest_read_where_it_can_be_reached(tmp_path: Path, served: str) -> None:
    www = tmp_path / "www"
    coll = raw("v2-collection.json")
    old = "http://iiif.io/api/presentation/2.1/example/fixtures/"
    text = json.dumps(coll).replace(old, served + "fixtures/")
    (www / "collection.json").write_text(text, encoding="utf-8")
    (www / "fixtures" / "1").mkdir(parents=True)
    shutil.copy(IIIF / "v2-gau.json", www / "fixtures" / "1" / "manifest.json")  # the one that can be read
    out = tmp_path / "coll.toml"
    res = runner.invoke(app, ["init", "--from", served + "collection.json", "-o", str(out)])
    assert res.exit_code == 0, res.output
    works = tomllib.loads(out.read_text(encoding="utf-8"))["work"]
    listed = coll["manifests"]
    assert [w["scan"] for w in works] == [m["@id"].replace(old, served + "fixtures/") for m in listed]
    assert works[0]["title"] == "Psalterium iuxta Hebraeos (Fragment)"  # read from the manifest itself
    labels = [m["label"] if isinstance(m["label"], str) else m["label"][0]["@value"] for m in listed]
    assert [w["title"] for w in works[1:]] == labels[1:]  # the collection's labels (the first language given)
    assert len({w["id"] for w in works}) == len(works)
    assert f"{len(listed) - 1} manifest(s) could not be read" in res.stderr


def test_status_and_the_preview_show_where_a_work_came_from(tmp_path: Path) -> None:
    from transcribe.store import Store

    address = raw("v2-emptyCanvas.json")["@id"]
    (tmp_path / "books.toml").write_text("", encoding="utf-8")
    with Store(tmp_path / "books.transcribe.db") as store:
        store.work("florus", scan=address, meta={"title": "Florus", "iiif_manifest": address})
    res = runner.invoke(app, ["status", str(tmp_path / "books.toml")])
    assert res.exit_code == 0 and address in res.stdout.splitlines()[2]
    # the preview shows folio labels, and the file page is not made for a licence that is not free
    spec = pagelist_from_labels(v2_labels("v2-emptyCanvas.json")[:5]).spec
    work = make_work(tmp_path / "w")
    toml = (work / "work.toml").read_text(encoding="utf-8")
    toml = toml.replace('page_labels = "1=10"', f'page_labels = "{spec}"').replace('licence = "PD-old-70"', "")
    toml += f'iiif_manifest = "{address}"\nsource_rights = "http://creativecommons.org/licenses/by-nc/4.0/"\n'
    (work / "work.toml").write_text(toml, encoding="utf-8")
    res = runner.invoke(app, ["publish", str(work), "--export", str(tmp_path / "out")])
    assert res.exit_code == 0, res.output
    index = (tmp_path / "out" / "index.html").read_text(encoding="utf-8")
    assert "31r–33r" in index  # canvases '2r (31r)', '2v (31v)', then the lacunae 'Lacune (32r)'...
    assert "Commons accepts only free licences" in res.stderr
    assert not (tmp_path / "out" / "wikitext" / "File.wiki").exists()
    # and publishing it stops before any request (the wiki's address here answers nothing)
    res = runner.invoke(app, ["publish", str(work), "--wiki", "http://127.0.0.1:9/w/api.php"])
    assert res.exit_code == 10 and "Commons accepts only free licences" in res.stderr


def test_the_progress_report_shows_the_manifest_a_work_came_from() -> None:
    from transcribe.progress import report
    from transcribe.progress.credits import Rev, WorkProgress, summarize

    address = raw("v2-gau.json")["@id"]
    works = [WorkProgress("Index:A.pdf", "A.pdf", 2, {1: [Rev(1, "Bot", "2026-09-01T10:00:00Z", 1)]}),
             WorkProgress("Index:B.pdf", "B.pdf", 1, {1: [Rev(2, "Bot", "2026-09-01T10:00:00Z", 1)]})]
    page = report.to_html(summarize(works, wiki="test", now="2026-11-21T12:00:00Z"), sources={"A.pdf": address})
    row_a = next(r for r in page.split("<tr") if "<td>Index:A.pdf" in r)
    row_b = next(r for r in page.split("<tr") if "<td>Index:B.pdf" in r)
    assert f'href="{address}"' in row_a and "from" not in row_b
