"""Models beyond Debian's: the catalogue is true to the files, `langs install` fetches them through the download
code from a real local HTTP server or a file: address (checked, resumable after kill -9, refusing a damaged copy),
and Tesseract can load a catalogue model together with Debian's from the models folder."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from fileserver import FileServer
from typer.testing import CliRunner

from transcribe import langs as L
from transcribe import models as M
from transcribe.cli import app
from transcribe.errors import ExitCode

REPO = Path(__file__).resolve().parents[1]
SHARED_MODELS = REPO.parent / "shared" / "models"
runner = CliRunner()


def run(*args: str, env: dict[str, str] | None = None):
    return runner.invoke(app, list(args), env={"COLUMNS": "200", **(env or {})})


@pytest.fixture
def models_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "models"
    monkeypatch.setenv(M.ENV_VAR, str(folder))
    return folder


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    """A copy of ../shared/models (the small ones, and german_print) that a test may damage."""
    folder = tmp_path / "copy"
    folder.mkdir()
    for name in ("german_print.traineddata", "frak2021.traineddata"):
        shutil.copy(SHARED_MODELS / name, folder / name)
    return folder


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_the_catalogue_is_true_to_the_files() -> None:
    cat = M.catalogue()
    assert {"german_print", "german_print_fast", "frak2021", "GT4HistOCR"} <= set(cat)
    for m in cat.values():
        local = SHARED_MODELS / m.file
        assert local.stat().st_size == m.size and sha256(local) == m.sha256, m.name
        assert re.match(r"^https://github\.com/[^/]+/[^/]+/raw/[0-9a-f]{40}/", m.url), m.name  # pinned
        assert m.licence in ("CC-BY-SA-4.0", "Apache-2.0") and m.measured
        assert set(m.replaces) <= set(L.debian_models()), m.name  # Debian models it reads in place of
    assert cat["german_print"].kind == "float" and cat["german_print"].recommended
    assert cat["german_print"].url.endswith("/best/german_print/german_print_20.traineddata")
    assert "models" not in L.load_languages()  # the catalogue is not a language


def test_install_from_a_local_http_server(models_dir: Path, copy: Path) -> None:
    with FileServer(copy) as srv:
        srv.faults["/german_print.traineddata"] = ["503:0"]  # a busy server is waited for
        r = run("langs", "install", "german_print", "--from", srv.base + "/", "--quiet")
        assert r.exit_code == 0, r.output
        assert len(srv.requests_for("/german_print.traineddata")) == 2
    installed = models_dir / "german_print.traineddata"
    assert sha256(installed) == M.catalogue()["german_print"].sha256
    assert not list(models_dir.glob("*.part"))
    rows = {row["name"]: row for row in json.loads(run("langs", "models", "--format", "json").stdout)}
    assert rows["german_print"]["status"] == "installed" and rows["frak2021"]["status"] == "missing"
    assert M.installed_catalogue_models() == {"german_print"}


def test_install_from_a_file_address_and_refuse_a_damaged_copy(models_dir: Path, copy: Path) -> None:
    r = run("langs", "install", "frak2021", "--from", copy.as_uri())
    assert r.exit_code == 0, r.output
    assert sha256(models_dir / "frak2021.traineddata") == M.catalogue()["frak2021"].sha256

    data = bytearray((copy / "german_print.traineddata").read_bytes())
    data[len(data) // 2] ^= 0xFF  # one byte damaged: same size, wrong SHA-256
    (copy / "german_print.traineddata").write_bytes(bytes(data))
    for source in (copy.as_uri(), str(copy)):
        r = run("langs", "install", "german_print", "--from", source)
        assert r.exit_code == ExitCode.DOWNLOAD, r.output
        assert "SHA-256" in r.output and "Traceback" not in r.output
    assert not (models_dir / "german_print.traineddata").exists() and not list(models_dir.glob("*.part"))
    assert M.installed_catalogue_models() == {"frak2021"}


def test_install_resumes_after_kill_9(models_dir: Path, copy: Path) -> None:
    part = models_dir / "german_print.traineddata.part"
    with FileServer(copy) as srv:
        srv.faults["/german_print.traineddata"] = ["slow:4"]
        proc = subprocess.Popen([sys.executable, "-m", "transcribe", "langs", "install", "german_print",
                                 "--from", srv.base, "--quiet"], env={**os.environ, M.ENV_VAR: str(models_dir)},
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and (not part.exists() or part.stat().st_size < 500_000):
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        kept = part.stat().st_size
        assert 0 < kept < M.catalogue()["german_print"].size
        assert not (models_dir / "german_print.traineddata").exists()  # never half a model under its name

        r = run("langs", "install", "german_print", "--from", srv.base, "--quiet")
        assert r.exit_code == 0, r.output
        assert srv.requests_for("/german_print.traineddata")[-1].range == f"bytes={kept}-"
    assert sha256(models_dir / "german_print.traineddata") == M.catalogue()["german_print"].sha256
    assert not part.exists()


def test_unknown_name_and_unreachable_source_are_one_line_each(models_dir: Path, tmp_path: Path) -> None:
    r = run("langs", "install", "german_prnt")
    assert r.exit_code == ExitCode.LANGUAGE and "Did you mean 'german_print'?" in r.output
    r = run("langs", "install", "german_print", "--from", str(tmp_path / "nowhere"))
    assert r.exit_code == ExitCode.DOWNLOAD and len(r.output.strip().splitlines()) == 1
    assert "--from" in r.output


def test_a_catalogue_model_with_debians_in_one_folder(models_dir: Path) -> None:
    # not installed yet: `langs check` says which better model is missing and how to get it
    r = run("langs", "check", "de")
    assert r.exit_code == 0 and "transcribe langs install german_print" in r.stderr
    assert [m.name for m in M.better_missing("deu+frk", "de")] == ["german_print"]
    assert M.better_missing("eng", "en") == [] and M.tessdata_for("german_print+grc", None) is None
    r = run("langs", "check", "de", "--models", "german_print+grc")
    assert r.exit_code == ExitCode.LANGUAGE and "transcribe langs install german_print" in r.output

    assert M.install("german_print", source=str(SHARED_MODELS)).parent == models_dir
    assert M.better_missing("deu+frk", "de") == [] and "german_print" not in run("langs", "check", "de").stderr
    assert M.tessdata_for("deu+frk", None) is None  # Debian's own folder has them all
    with ThreadPoolExecutor(4) as pool:  # at once, and again: the same folder, no error
        folders = set(pool.map(lambda _: M.tessdata_for("german_print+grc", None), range(8)))
    assert folders == {models_dir}
    assert (models_dir / "grc.traineddata").is_symlink() and not (models_dir / "german_print.traineddata").is_symlink()
    assert {"german_print", "grc", "frk"} <= L.installed_models(models_dir)
    assert L.resolve_models("de", "german_print+grc") == "german_print+grc"
    r = run("langs", "check", "de", "--models", "german_print+grc")
    assert r.exit_code == 0, r.output

    # Tesseract reads with the combination from that one folder
    from PIL import Image, ImageDraw, ImageFont

    img = Image.new("L", (700, 90), 255)
    font = ImageFont.truetype("/usr/share/fonts/truetype/noto/NotoSerif-Regular.ttf", 48)
    ImageDraw.Draw(img).text((10, 15), "Buch der Lieder", font=font, fill=0)
    img.save(models_dir.parent / "line.png", dpi=(300, 300))
    out = subprocess.run(["tesseract", str(models_dir.parent / "line.png"), "-", "-l", "german_print+grc",
                          "--psm", "7", "--tessdata-dir", str(models_dir)], capture_output=True, text=True,
                         env={**os.environ, "OMP_THREAD_LIMIT": "1"}, check=True)
    assert "Lieder" in out.stdout


def test_a_read_only_models_folder_still_gives_one_folder(models_dir: Path) -> None:
    M.install("german_print", source=SHARED_MODELS.as_uri())
    if subprocess.run(["chattr", "+i", str(models_dir)], capture_output=True).returncode != 0:
        pytest.skip("chattr +i (to make a folder read-only for root too) is not possible here")
    try:
        assert not (models_dir / "grc.traineddata").exists()
        folder = M.tessdata_for("german_print+grc", None)
        assert folder is not None and folder != models_dir
        assert {"german_print", "grc"} <= L.installed_models(folder)
        assert M.tessdata_for("german_print+grc", None) == folder  # again: the same, no error
    finally:
        subprocess.run(["chattr", "-i", str(models_dir)], check=True)


def test_setup_goes_on_with_debians_models_when_the_source_cannot_be_reached(tmp_path: Path) -> None:
    """As on a machine that reaches only the package registries: a proxy that refuses, or no DNS."""
    with FileServer(tmp_path) as srv:
        dead = srv.base  # nothing listens there any more
    env = {**os.environ, M.ENV_VAR: str(tmp_path / "models"), "HTTPS_PROXY": dead, "HTTP_PROXY": dead,
           "https_proxy": dead, "http_proxy": dead}
    t = time.monotonic()
    proc = subprocess.run([str(REPO / "scripts" / "setup")], capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr
    about_models = [ln for ln in proc.stderr.splitlines() if "model" in ln]
    assert len(about_models) == 1 and "Debian's models are used" in about_models[0], proc.stderr
    assert time.monotonic() - t < 30
    assert not list((tmp_path / "models").glob("*.traineddata"))
