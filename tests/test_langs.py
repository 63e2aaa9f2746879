"""Language packs: the data covers every Wikisource edition, names real models, and each maps to a model that
reads its script; the API and the `langs` commands say exactly what to install."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import unicodedata
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from PIL import Image, ImageDraw, ImageFont
from rapidfuzz.distance import Levenshtein
from typer.testing import CliRunner

from transcribe import langs as L
from transcribe.cli import app
from transcribe.errors import ExitCode, LanguageError

REPO = Path(__file__).resolve().parents[1]
runner = CliRunner()


def run(*args: str, env: dict[str, str] | None = None):
    return runner.invoke(app, list(args), env={"COLUMNS": "200", **(env or {})})


@pytest.fixture(scope="module")
def languages() -> dict[str, L.Language]:
    return L.load_languages()


@pytest.fixture(scope="module")
def installed() -> set[str]:
    return L.installed_models()


# -- the data -------------------------------------------------------------------------------------------------


def test_every_wikisource_edition_has_an_entry(languages):
    os.environ.setdefault("PYWIKIBOT_NO_USER_CONFIG", "2")
    from pywikibot.families.wikisource_family import Family

    codes = set(Family.codes)
    assert "mul" in codes
    assert codes - set(languages) == set(), "Wikisource editions without a langs/CODE.toml"


def test_every_model_and_package_is_one_debian_ships(languages):
    shipped = L.debian_models()
    assert len(shipped) > 100 and shipped["Bengali"] == "tesseract-ocr-script-beng"
    setup_words = set(re.findall(r"[a-z][a-z0-9-]*", (REPO / "scripts" / "setup").read_text()))
    for lang in languages.values():
        assert [shipped.get(m) for m in lang.models] == list(lang.packages), lang.code
        for pkg in lang.packages:
            short = pkg.removeprefix("tesseract-ocr-")
            assert {pkg, short, short.removeprefix("script-")} & setup_words, f"{pkg} not in scripts/setup"


def test_entries_that_matter_on_wikisource(languages):
    assert languages["de"].models == ("deu", "frk")  # Fraktur is common on de.wikisource (measured, de.toml)
    assert languages["jv"].models == () and "--models jav" in languages["jv"].notes
    assert languages["ban"].models == ()
    assert languages["bn"].models == ("ben",) and languages["bn"].scripts[0] == "Beng"
    assert languages["tcy"].models == ("Kannada",)
    assert languages["eu"].models == languages["br"].models == ("Latin",)  # eus, bre misread (eu.toml)
    assert languages["mul"].models == ("Latin",) and "no single model" in languages["mul"].notes
    assert {c for c, x in languages.items() if x.direction == "rtl"} == {"ar", "fa", "he", "ur", "yi"}


def test_a_bad_entry_is_reported_by_file_and_field(tmp_path):
    (tmp_path / "xx.toml").write_text('code = "xx"\nname = "X"\nscripts = ["latin"]\ndirection = "up"\n'
                                      'models = ["a+b"]\npackages = []\ncolour = "red"\n')
    (tmp_path / "yy.toml").write_text('code = "zz"\nname = "Y"\nscripts = ["Latn"]\ndirection = "ltr"\n'
                                      "models = []\npackages = []\n")
    (tmp_path / "broken.toml").write_text("code = \n")
    with pytest.raises(LanguageError) as e:
        L.load_languages(tmp_path)
    msg = str(e.value)
    assert "xx.toml: unknown field 'colour'" in msg
    (tmp_path / "xx.toml").write_text(
        (tmp_path / "xx.toml").read_text().replace('colour = "red"\n', ""))
    msg = str(pytest.raises(LanguageError, L.load_languages, tmp_path).value)
    for part in ("xx.toml: the field 'direction'", "xx.toml: in the field 'scripts', 'latin'",
                 "xx.toml: in the field 'models', 'a+b'", "yy.toml: the field 'code' is 'zz'",
                 "broken.toml: not readable TOML"):
        assert part in msg
    assert e.value.exit_code == ExitCode.LANGUAGE


# -- the API --------------------------------------------------------------------------------------------------


def test_resolve_models():
    assert L.resolve_models("de") == "deu+frk"
    assert L.resolve_models("de", "frk") == "frk"  # explicit models win
    assert L.resolve_models("jv") is None  # no model for Javanese script: ready for typing
    assert L.resolve_models("bn") == "ben"
    with pytest.raises(LanguageError, match=r"Did you mean 'de' \(German\)"):
        L.resolve_models("deutsch")
    with pytest.raises(LanguageError, match=r"sudo apt-get install tesseract-ocr-afr"):
        L.resolve_models("en", "afr")  # a Debian model not installed (scripts/setup does not install it)


def test_a_community_model_in_a_tessdata_dir(tmp_path):
    # A community's own model under a new name, plus the Debian model it is combined with.
    home = L.default_tessdata_dir()
    shutil.copy(home / "eng.traineddata", tmp_path / "xyz.traineddata")
    assert L.installed_models(tmp_path) == {"xyz"}
    assert L.resolve_models("en", "xyz", tmp_path) == "xyz"
    with pytest.raises(LanguageError) as e:
        L.resolve_models("en", "xyz+deu", tmp_path)  # Tesseract looks only in the given folder
    assert f"copy {home / 'deu.traineddata'} into {tmp_path}" in str(e.value)
    with pytest.raises(LanguageError, match="xyz.traineddata is not in Debian: put it in"):
        L.resolve_models("en", "xyz")


# -- the commands ---------------------------------------------------------------------------------------------


def test_check_unknown_code_suggests_one():
    r = run("langs", "check", "fre")
    assert r.exit_code == 5
    assert "'fre' is not a Wikisource language code" in r.output and "Did you mean 'fr' (French)?" in r.output


def test_check_missing_model_gives_the_apt_line_and_ready_ones_say_so(tmp_path):
    r = run("langs", "check", "en", "--models", "afr")
    assert r.exit_code == 5 and "sudo apt-get install tesseract-ocr-afr" in r.output
    r = run("langs", "check", "de", "--tessdata-dir", "/usr/share/tesseract-ocr/5/tessdata")  # Debian's alone
    assert r.exit_code == 0 and "the Tesseract models 'deu' and 'frk'" in r.stdout  # two models, named as two
    r = run("langs", "check", "de", "--models", "frk", "--tessdata-dir", "/usr/share/tesseract-ocr/5/tessdata")
    assert r.exit_code == 0 and "the Tesseract model 'frk' in " in r.stdout
    r = run("langs", "check", "de", "--tessdata-dir", str(tmp_path))
    assert r.exit_code == 5 and "deu.traineddata into" in r.output


def test_langs_dir_adds_a_community_language_with_its_own_model(tmp_path):
    extra, models = tmp_path / "langs", tmp_path / "models"
    extra.mkdir()
    models.mkdir()
    (extra / "xyz.toml").write_text('code = "xyz"\nname = "Xyzish"\nscripts = ["Latn"]\ndirection = "ltr"\n'
                                    'models = ["xyzish"]\npackages = []\n')
    r = run("langs", "check", "xyz", "--tessdata-dir", str(models), env={L.ENV_VAR: str(extra)})
    assert r.exit_code == 5 and "put xyzish.traineddata (a community model" in r.output
    shutil.copy(L.default_tessdata_dir() / "eng.traineddata", models / "xyzish.traineddata")
    r = run("langs", "check", "xyz", "--tessdata-dir", str(models), "--langs-dir", str(extra))
    assert r.exit_code == 0 and "ready: Xyzish ('xyz')" in r.output
    r = run("langs", "list", "--format", "json", "--tessdata-dir", str(models), "--langs-dir", str(extra),
            "--installed")
    assert [x["code"] for x in json.loads(r.stdout)] == ["xyz"]  # the others' models are not in that folder


def test_list_formats_and_filters(languages):
    r = run("langs", "list", "--format", "json")
    assert r.exit_code == 0
    rows = json.loads(r.stdout)
    assert {x["code"] for x in rows} == set(languages)
    by_code = {x["code"]: x for x in rows}
    assert by_code["jv"]["status"] == "no model" and by_code["de"]["models"] == "deu+frk"
    r = run("langs", "list", "--format", "csv", "--installed")
    lines = r.stdout.splitlines()
    assert lines[0].startswith("code,name,native_name,scripts") and all(x.endswith(",installed") for x in lines[1:])
    r = run("langs", "list")
    assert re.search(r"^bn\s+Bengali\s+Beng\s+ben\s+installed$", r.stdout, re.MULTILINE)
    assert "83 languages: " in r.stdout and "83 languages" not in r.stderr  # the table's summary: a result


def test_show_and_ready_for_typing_in_a_real_process():
    r = run("langs", "show", "zh-min-nan")
    assert r.exit_code == 0 and "Min Nan Chinese" in r.stdout and "Bân-lâm-gú" in r.stdout
    r = run("langs", "show", "de", "--format", "csv")  # CSV, as asked: a header and the language's row
    import csv as _csv

    header, row = _csv.reader(r.stdout.splitlines())
    assert r.exit_code == 0 and dict(zip(header, row))["models"] == "deu+frk"
    assert dict(zip(header, row))["packages"] == "tesseract-ocr-deu tesseract-ocr-frk"
    p = subprocess.run([sys.executable, "-m", "transcribe", "langs", "check", "jv"], capture_output=True,
                       text=True, cwd=REPO, timeout=60, check=False)
    assert p.returncode == 0 and "made ready for typing" in p.stdout and "--models jav" in p.stderr
    assert not p.stdout.startswith("ready:")  # no OCR model: nothing to install, but not "ready" to OCR


# -- the key one: each script's text is read by the models its languages map to -------------------------------

# One short line per script that a Wikisource edition's main script has a model for, and the Noto font to draw
# it (fonts-noto-core / fonts-noto-cjk). Cyrillic uses only letters every Cyrillic language here has.
SAMPLES: dict[str, tuple[str, str]] = {
    "Latn": ("The quick brown fox jumps over the lazy dog", "Noto Serif"),
    "Arab": ("السلام عليكم في كل مكان", "Noto Naskh Arabic"),
    "Armn": ("Հայաստանի մայրաքաղաքը Երևանն է", "Noto Serif Armenian"),
    "Beng": ("আমার সোনার বাংলা আমি তোমায় ভালোবাসি", "Noto Serif Bengali"),
    "Cyrl": ("Сестра брат вода море мост град жена", "Noto Serif"),
    "Deva": ("भारत एक विशाल देश है", "Noto Serif Devanagari"),
    "Geor": ("საქართველო ლამაზი ქვეყანაა", "Noto Serif Georgian"),
    "Grek": ("Η Ελλάδα είναι μια όμορφη χώρα", "Noto Serif"),
    "Gujr": ("ગુજરાત ભારતનું એક રાજ્ય છે", "Noto Serif Gujarati"),
    "Guru": ("ਪੰਜਾਬ ਪੰਜ ਦਰਿਆਵਾਂ ਦੀ ਧਰਤੀ ਹੈ", "Noto Serif Gurmukhi"),
    "Hebr": ("שלום לכם ולכל העולם", "Noto Serif Hebrew"),
    "Jpan": ("日本語の文章を読みます", "Noto Serif CJK JP"),
    "Knda": ("ಕನ್ನಡ ನಾಡು ಸುಂದರವಾಗಿದೆ", "Noto Serif Kannada"),
    "Kore": ("대한민국의 수도는 서울입니다", "Noto Serif CJK KR"),
    "Mlym": ("മലയാളം ഒരു ഭാഷയാണ്", "Noto Serif Malayalam"),
    "Mymr": ("မြန်မာနိုင်ငံ", "Noto Sans Myanmar"),
    "Orya": ("ଓଡ଼ିଆ ଭାଷା ସୁନ୍ଦର", "Noto Sans Oriya"),
    "Taml": ("தமிழ் ஒரு பழமையான மொழி", "Noto Serif Tamil"),
    "Telu": ("తెలుగు ఒక అందమైన భాష", "Noto Serif Telugu"),
    "Thai": ("ภาษาไทยเป็นภาษาที่สวยงาม", "Noto Serif Thai"),
    "Hant": ("學而時習之不亦說乎", "Noto Serif CJK TC"),
}
# Highest character error rate accepted per script (whitespace ignored); a wrong-script model gives about 1.
MAX_CER = {"default": 0.15}


def _font(family: str, size: int) -> ImageFont.FreeTypeFont:
    out = subprocess.run(["fc-match", "-f", "%{file}\n%{index}\n%{family}", family],
                         capture_output=True, text=True, check=True).stdout.split("\n")
    assert family in out[2].split(","), f"font {family!r} missing: run scripts/setup --test"
    return ImageFont.truetype(out[0], size, index=int(out[1]), layout_engine=ImageFont.Layout.RAQM)


def _render(text: str, family: str, path: Path) -> Path:
    font = _font(family, 40)  # about 40 px high at 300 dpi: print size
    left, top, right, bottom = font.getbbox(text)
    img = Image.new("L", (right - left + 60, bottom - top + 60), 255)
    ImageDraw.Draw(img).text((30 - left, 30 - top), text, font=font, fill=0)
    img.save(path, dpi=(300, 300))
    return path


def _ocr(image: Path, models: str) -> str:
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
    return subprocess.run(["tesseract", str(image), "-", "-l", models, "--psm", "7"], capture_output=True,
                          text=True, env=env, check=True, timeout=120).stdout


# Persian and Urdu write yeh and kaf with their own code points (the same letters): not an error.
_SAME_LETTER = str.maketrans({"\u06cc": "\u064a", "\u06a9": "\u0643"})


def _cer(got: str, want: str) -> float:
    def norm(s: str) -> str:
        return "".join(unicodedata.normalize("NFC", s).translate(_SAME_LETTER).split())

    return Levenshtein.distance(norm(got), norm(want)) / len(norm(want))


def test_every_main_script_with_a_model_has_a_sample(languages):
    scripts = {x.scripts[0] for x in languages.values() if x.models}
    assert scripts - set(SAMPLES) == set()


@pytest.mark.parametrize("script", sorted(SAMPLES))
def test_the_models_of_each_script_read_it(script, languages, tmp_path):
    text, family = SAMPLES[script]
    image = _render(text, family, tmp_path / f"{script}.png")
    # Every language whose main script this is, or whose script is a variant of it (Hant for zh).
    users = {x.code: x.model_string for x in languages.values() if x.models and x.scripts[0] == script}
    assert users, f"no language uses {script}"
    models = sorted(set(users.values()))
    with ThreadPoolExecutor(2) as pool:
        texts = dict(zip(models, pool.map(lambda m: _ocr(image, m), models), strict=True))
    worst = {m: round(_cer(t, text), 3) for m, t in texts.items()}
    bad = {m: (c, texts[m].strip()) for m, c in worst.items() if c > MAX_CER.get(script, MAX_CER["default"])}
    assert not bad, f"{script} {text!r} misread by the models of {users}: {bad}"
