"""The README and --help stay true to the code: every command is documented, every exit code is in the table."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import typer
from conftest import REPO
from publish_helpers import make_work, render_images, small_pdf
from typer.testing import CliRunner

from transcribe.cli import app
from transcribe.errors import EXIT_CODE_MEANINGS, ExitCode

README = (REPO / "README.md").read_text(encoding="utf-8")
runner = CliRunner()


def _commands() -> list[tuple[str, ...]]:
    """Every command path of the app, e.g. ('split',), ('langs', 'list')."""
    cmd = typer.main.get_command(app)
    paths: list[tuple[str, ...]] = []

    def walk(group, prefix: tuple[str, ...]) -> None:
        for name, sub in group.commands.items():
            if sub.hidden:
                continue
            if hasattr(sub, "commands"):
                walk(sub, prefix + (name,))
            else:
                paths.append(prefix + (name,))

    walk(cmd, ())
    return paths


def test_the_workflow_commands_exist() -> None:
    names = {p[0] for p in _commands()}
    for expected in ("split", "ocr", "evaluate", "langs", "bundle", "login", "publish", "progress",
                     "init", "run", "status"):
        assert expected in names, f"'transcribe {expected}' is missing"


def test_every_command_has_help_and_is_in_the_readme() -> None:
    for path in _commands():
        result = runner.invoke(app, [*path, "--help"], env={"COLUMNS": "100"})
        assert result.exit_code == 0, (path, result.output)
        cmd = typer.main.get_command(app)
        for part in path:
            cmd = cmd.commands[part]
        assert (cmd.help or "").strip(), f"'transcribe {' '.join(path)}' has no help text"
        assert f"transcribe {' '.join(path)}" in README, f"'transcribe {' '.join(path)}' is not in the README"


def test_help_speaks_words_not_python_types() -> None:
    """No `<list[Path]>`, `<str>`, `{scan}`: metavars a person reads; every command says what --verbose does."""
    for path in _commands():
        out = runner.invoke(app, [*path, "--help"], env={"COLUMNS": "200"}).stdout
        usage = out.splitlines()[0]
        assert "{" not in usage, (path, usage)
        assert not re.search(r"\s<(list\[.*?\]|str|int|float|int range|float range|path|dir|file)>", out), (path, out)
        assert "--verbose (before or after the command)" in out, path
        # a value is named by what it is (SECONDS, DATE, auto|local|commons), not by echoing the option's name
        # (`--files-to FILES-TO`) or by a bare type (`--timeout NUMBER`)
        for opt, meta in re.findall(r"(--[a-z]+-[a-z-]+) ([A-Z][A-Z-]+)\b", out):
            assert meta != opt[2:].upper(), (path, opt, meta)
        assert not re.search(r"--[a-z-]+ NUMBER\b", out), (path, out)
    split_help = runner.invoke(app, ["split", "--help"], env={"COLUMNS": "200"}).stdout
    assert "Usage: transcribe split [OPTIONS] SCAN" in split_help and "-o, --out DIR" in split_help
    assert "-f, --format auto|png|tiff" in split_help and "-j, --jobs N" in split_help
    run_opts = runner.invoke(app, ["run", "--help"], env={"COLUMNS": "200"}).stdout
    assert "--files-to auto|local|commons" in run_opts
    init_help = runner.invoke(app, ["init", "--help"], env={"COLUMNS": "200"}).stdout
    assert "--from ADDRESS" in init_help  # not MANIFEST, the name of the batch file it writes
    langs_help = runner.invoke(app, ["langs", "list", "--help"], env={"COLUMNS": "200"}).stdout
    assert "--langs-dir DIR" in langs_help
    progress_help = runner.invoke(app, ["progress", "--help"], env={"COLUMNS": "200"}).stdout
    assert "Usage: transcribe progress [OPTIONS] [INDEX]..." in progress_help
    # the Dask advice is the README's, word for word
    run_help = " ".join(runner.invoke(app, ["run", "--help"], env={"COLUMNS": "200"}).stdout.split())
    advice = ".venv/bin/pip install 'transcribe[dask]'"
    assert advice in run_help and advice in README


def test_ocr_without_a_language_is_a_usage_error_naming_lang(tmp_path: Path) -> None:
    res = runner.invoke(app, ["ocr", str(tmp_path)])
    assert res.exit_code == ExitCode.USAGE
    assert res.stderr.startswith("error: Say which language the pages are in: --lang CODE") and "--models" in \
        res.stderr
    assert not (tmp_path / "transcribe.db").exists()


def _imports(path: Path) -> set[str]:
    """The transcribe modules a file imports, at the top or inside a function."""
    import ast

    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("transcribe"):
            found |= {node.module} | {f"{node.module}.{a.name}" for a in node.names}
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("transcribe")}
    return found


def test_imports_point_one_way_as_design_md_says() -> None:
    package = REPO / "transcribe"
    stages = ("transcribe.split", "transcribe.ocr", "transcribe.bundle", "transcribe.wiki", "transcribe.progress",
              "transcribe.pipeline", "transcribe.manifest", "transcribe.cli")
    for path in package.rglob("*.py"):
        rel = path.relative_to(REPO).with_suffix("").as_posix().replace("/", ".")
        imported = _imports(path)
        if not rel.startswith(("transcribe.cli", "transcribe.__main__")):
            assert not any(m.startswith("transcribe.cli") for m in imported), f"{rel} imports the CLI"
        if rel.startswith("transcribe.wiki"):  # publishing is before progress reports and after OCR
            wrong = {m for m in imported if m.startswith(("transcribe.progress", "transcribe.ocr"))}
            assert not wrong, f"{rel} imports {wrong}: a later or sideways stage (see docs/design.md)"
        if rel in ("transcribe.levels", "transcribe.work", "transcribe.store", "transcribe.errors",
                   "transcribe.fsutil", "transcribe.events"):
            assert not {m for m in imported if m.startswith(stages)}, f"{rel} imports a stage"
    design = (REPO / "docs" / "design.md").read_text(encoding="utf-8")
    assert "| `levels.py` |" in design and "`levels`" in design.split("|")[0]


def test_readme_exit_code_table_matches_the_code() -> None:
    rows = dict(re.findall(r"^\|\s*(\d+)\s*\|\s*`?([a-z-]+)`?\s*\|", README, re.MULTILINE))
    expected = {str(int(c)): c.name.lower().replace("_", "-") for c in ExitCode}
    assert rows == expected
    assert set(EXIT_CODE_MEANINGS) == set(ExitCode)


def test_readme_starts_with_the_two_setup_commands() -> None:
    first_block = re.search(r"```(?:sh|bash|console)?\n(.*?)```", README, re.DOTALL)
    assert first_block, "the README has no command block"
    lines = [ln.split("#")[0].strip() for ln in first_block.group(1).splitlines() if ln.split("#")[0].strip()]
    assert lines == ["scripts/demo", "scripts/test"]
    ci = (REPO / ".ci" / "run").read_text()
    assert "scripts/test" in ci


def test_version_and_help_from_a_real_process() -> None:
    out = subprocess.run([sys.executable, "-m", "transcribe", "--help"], capture_output=True, text=True,
                         timeout=60, check=False)
    assert out.returncode == 0
    assert "Exit codes" in out.stdout
    v = subprocess.run([sys.executable, "-m", "transcribe", "--version"], capture_output=True, text=True,
                       timeout=60, check=False)
    assert re.fullmatch(r"\d+\.\d+\.\d+\n", v.stdout)


def test_every_data_folder_names_its_sources() -> None:
    tracked = subprocess.run(["git", "ls-files", "samples", "langs", "tests/data"], cwd=REPO, capture_output=True,
                             text=True, check=True).stdout.split()
    for folder in ("samples", "langs", "tests/data"):
        readme = REPO / folder / "README.md"
        assert readme.is_file(), f"{folder}/ has no README naming the source and licence of its files"
        text = readme.read_text(encoding="utf-8")
        for name in tracked:
            path = REPO / name
            if not name.startswith(folder + "/") or path.name in {"README.md", ".gitignore"}:
                continue
            if path.suffix == ".toml" and folder == "langs" or "ground-truth" in path.parts:
                continue  # one language file per code, described together; ground truth is named by folder
            if folder == "langs" and "tools" in path.parts:
                continue
            assert path.name in text, f"{folder}/README.md does not name {path.name}"



# -- what the README tells a new user to open, and what goes to stdout --------------------------------------------

@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The command scripts/demo ends with, run once as it runs it: in a copy of the repository's samples/."""
    line = next(ln for ln in reversed((REPO / "scripts" / "demo").read_text().splitlines())
                if ln.startswith("exec "))
    program, *args = [a for a in shlex.split(line)[1:] if a != "$@"]
    assert program.endswith("/transcribe"), line
    root = tmp_path_factory.mktemp("demo")
    shutil.copytree(REPO / "samples", root / "samples", ignore=shutil.ignore_patterns("manifest.transcribe*"))
    proc = subprocess.run([sys.executable, "-m", "transcribe", *args], cwd=root, capture_output=True, text=True,
                          timeout=300, check=False, env={**os.environ, "OMP_THREAD_LIMIT": "1"})
    assert proc.returncode == 0, proc.stderr
    return {"root": root, "args": args, "stdout": proc.stdout, "stderr": proc.stderr}


def _readme_command(fragment: str) -> list[str]:
    """The README's command line that contains `fragment`, as arguments (without the leading 'transcribe')."""
    line = next(ln for ln in README.splitlines() if fragment in ln and ln.lstrip().startswith("transcribe "))
    return shlex.split(line.split("#")[0])[1:]


def test_every_page_the_readme_says_to_open_is_made_by_the_command_it_names(demo: dict[str, Any],
                                                                            tmp_path: Path,
                                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    told = re.findall(r"(?:[Oo]pen|links to) `([^`]+\.html)`", README)
    assert told, "the README tells nobody what to open"
    # the other command the README names for a preview, run as written, on a work folder called as it says
    args = _readme_command("--export my-book-preview")
    make_work(tmp_path / "my-book", render_images(tmp_path / "img"))
    monkeypatch.chdir(tmp_path)
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
    made_by = {"demo-out/": demo["root"], "my-book-preview/": tmp_path}
    for path in told:
        root = next((r for prefix, r in made_by.items() if path.startswith(prefix)), None)
        assert root is not None, f"the README says to open {path}: add the command that makes it to this test"
        assert (root / path).is_file(), f"the README says to open {path}, but its command does not make it"
    # and the demo's last line says the same as the README
    last = demo["stderr"].strip().splitlines()[-1]
    assert "demo-out/index.html" in told and last.startswith("Open demo-out/index.html in a browser"), last


def _first_hour() -> list[str]:
    """The commands of the README's "Your first hour", in order, each on one line."""
    section = README.split("**Your first hour**")[1].split("\n## ")[0]
    return [" ".join(c.split()) for c in re.findall(r"`([^`]*transcribe [^`]*)`", section)]


def test_the_first_hour_works_as_written_after_set_up(demo: dict[str, Any]) -> None:
    """Every command of "Your first hour", as written, in the folder the demo ran in (set-up made .venv there)."""
    commands = _first_hour()
    assert len(commands) == 6 and all(c.startswith(".venv/bin/transcribe ") for c in commands), commands
    root: Path = demo["root"]
    tool = Path(sys.executable).parent / "transcribe"  # this environment's .venv/bin/transcribe
    assert tool.is_file(), f"{tool} is missing: the package is not installed (scripts/setup)"
    (root / ".venv" / "bin").mkdir(parents=True)
    (root / ".venv" / "bin" / "transcribe").symlink_to(tool)
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}

    def run(command: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(shlex.split(command), cwd=root, capture_output=True, text=True, timeout=300,
                              check=False, env=env)

    evaluate, check, init, preview, login, publish = commands
    res = run(evaluate)
    assert res.returncode == 0, res.stderr
    said = float(re.search(r"\(CER (0\.\d+) = about", README).group(1))
    cer = float(re.search(r"^CER ([\d.]+)%:", res.stdout, re.MULTILINE).group(1)) / 100
    assert abs(cer - said) < 0.015, f"the README says CER {said}, the demo's pages read {cer:.4f}"
    res = run(check)
    assert res.returncode == 0 and res.stdout.startswith("ready: French"), res.stdout + res.stderr
    res = run(init)
    assert res.returncode == 0, res.stderr
    # "replace its placeholders with your book's details": a one-page book of the user's own
    (root / "scans" / "my-book").mkdir(parents=True)
    shutil.copy(root / "samples" / "manifest.transcribe" / "glauber" / "pages" / "0001.png",
                root / "scans" / "my-book" / "0001.png")
    text = (root / "books.toml").read_text(encoding="utf-8")
    for placeholder, value in {"<wikisource:xx>": "wikisource:de", "<licence template>": "PD-old-70",
                               "<your library>": "Our Library", "<scans/your-book.pdf>": "scans/my-book",
                               "<title as printed>": "My Book", "<author>": "Someone", "<year>": "1659",
                               "<language code>": "de", "<address of the scan in your catalogue>": "https://x.org/1"
                               }.items():
        text = text.replace(f'"{placeholder}"', f'"{value}"')
    (root / "books.toml").write_text(text, encoding="utf-8")
    res = run(preview)
    assert res.returncode == 0, res.stderr
    last = res.stderr.strip().splitlines()[-1]
    assert last.startswith("Open preview/index.html in a browser") and (root / "preview" / "index.html").is_file()
    # login and publishing need the real wiki: their command lines are checked, not sent
    group = typer.main.get_command(app)
    for command in (login, publish):
        name, *args = shlex.split(command)[1:]
        group.commands[name].make_context(name, args)


def _no_result_on_stderr(res: Any, *results: str) -> None:
    for text in results:
        assert text in res.stdout, (text, res.stdout, res.stderr)
        assert text not in res.stderr, (text, res.stderr)
    out_lines = {ln.strip() for ln in res.stdout.splitlines() if ln.strip()}
    assert not [ln for ln in res.stderr.splitlines() if ln.strip() in out_lines], res.stderr


def test_results_go_to_stdout_and_notes_to_stderr_for_the_offline_commands(demo: dict[str, Any],
                                                                         tmp_path: Path) -> None:
    """The README's rule, command by command: the result on stdout, nothing of it on stderr."""
    root = demo["root"]

    class Run:  # the subprocess of the demo, seen like a CliRunner result
        stdout, stderr = demo["stdout"], demo["stderr"]

    _no_result_on_stderr(Run, "glauber ", "1 of 1 work(s) exported into demo-out")
    assert "Open demo-out/index.html" in Run.stderr  # a hint for people, not a result
    manifest = str(root / "samples" / "manifest.toml")
    _no_result_on_stderr(runner.invoke(app, ["status", manifest]), "glauber ", "done")

    pdf, pages = REPO / "samples" / "glauber" / "glauber.pdf", tmp_path / "pages"
    res = runner.invoke(app, ["split", str(pdf), "-o", str(pages), "--pages", "1"])
    assert res.exit_code == 0, res.output
    _no_result_on_stderr(res, "Split 1 page of glauber.pdf into")
    res = runner.invoke(app, ["ocr", str(pages), "--models", "frk", "--jobs", "1"])
    assert res.exit_code == 0, res.output
    _no_result_on_stderr(res, "OCR with 'german_print' (frk read as german_print", "of 1 page(s): 1 page(s) read")
    res = runner.invoke(app, ["evaluate", str(pages), str(REPO / "samples" / "glauber" / "ground-truth")])
    assert res.exit_code == 0, res.output
    _no_result_on_stderr(res, "overall")
    res = runner.invoke(app, ["bundle", str(pages), "-o", str(tmp_path / "book.pdf"), "--title", "T"])
    assert res.exit_code == 0, res.output
    _no_result_on_stderr(res, f"Wrote {tmp_path / 'book.pdf'}: 1 pages")
    res = runner.invoke(app, ["init", str(tmp_path / "books.toml")])
    _no_result_on_stderr(res, f"Wrote {tmp_path / 'books.toml'}.")
    assert "transcribe run" in res.stderr  # what to do next: a hint
    res = runner.invoke(app, ["langs", "list"])
    _no_result_on_stderr(res, "installed", "languages: ")
    res = runner.invoke(app, ["langs", "show", "de"])
    _no_result_on_stderr(res, "German")
    res = runner.invoke(app, ["langs", "check", "de"])
    # scripts/test installs the catalogue, so the default reads German with german_print
    _no_result_on_stderr(res, "ready: German ('de') will be read with the Tesseract model 'german_print' (a "
                              "catalogue model, in place of 'deu' and 'frk', which --fast reads with).")
    res = runner.invoke(app, ["publish", str(make_work(tmp_path / "w")), "--export", str(tmp_path / "out")])
    assert res.stdout == f"{tmp_path / 'out' / 'index.html'}\n"  # the result is the preview's path, alone


@pytest.mark.wiki
def test_results_go_to_stdout_for_the_wiki_commands(wiki_en, tmp_path: Path, transcribe_config: Path) -> None:
    res = runner.invoke(app, ["login", "--wiki", wiki_en.api_url, "--user", wiki_en.bot_user, "--password-stdin"],
                        input=wiki_en.bot_password + "\n")
    assert res.exit_code == 0, res.output
    _no_result_on_stderr(res, "Logged in to")
    assert wiki_en.bot_password not in res.stdout + res.stderr
    work = make_work(tmp_path / "w", pdf=small_pdf(render_images(tmp_path / "img"), tmp_path))
    res = runner.invoke(app, ["publish", str(work), "--wiki", wiki_en.api_url, "--dry-run"])
    assert res.exit_code == 0, res.output
    _no_result_on_stderr(res, "Dry run, nothing was written", "5 would create")
    res = runner.invoke(app, ["publish", str(work), "--wiki", wiki_en.api_url])
    assert res.exit_code == 0, res.output
    _no_result_on_stderr(res, "Published", "5 created")
    res = runner.invoke(app, ["progress", "Annotationes über den Appendicem (1656).pdf", "--wiki", wiki_en.api_url,
                              "--state", str(tmp_path / "p.db"), "--format", "csv"])
    assert res.exit_code == 0, res.output
    _no_result_on_stderr(res, "index,file,pages")


def test_verbose_explains_an_expected_error_without_a_stack(tmp_path: Path) -> None:
    fake = tmp_path / "scan.pdf"
    fake.write_text("not a scan\n")
    for args in (["--verbose", "split", str(fake), "-o", str(tmp_path / "out")],
                 ["split", str(fake), "-o", str(tmp_path / "out"), "--verbose"]):  # after the command, too
        p = subprocess.run([sys.executable, "-m", "transcribe", *args], capture_output=True, text=True, timeout=60,
                           check=False)
        assert p.returncode == ExitCode.INPUT, p.stderr
        assert "Traceback" not in p.stderr and 'File "' not in p.stderr
        assert "is named like a PDF but is not one" in p.stderr
        assert "detail: transcribe.errors.InputError, exit 3 (input)" in p.stderr
    # an unexpected error still gets its traceback with --verbose: a bug must be reportable
    from transcribe.cli._app import details

    try:
        try:
            raise FileNotFoundError(2, "No such file or directory", "/x/y.png")
        except OSError as e:
            from transcribe.errors import InputError

            raise InputError("page 3 could not be read.") from e
    except InputError as err:
        lines = details(err)
    assert lines[0] == "transcribe.errors.InputError, exit 3 (input)"
    assert "caused by FileNotFoundError: [Errno 2] No such file or directory: '/x/y.png'" in lines
