"""The README and --help stay true to the code: every command is documented, every exit code is in the table."""

from __future__ import annotations

import re
import subprocess
import sys

import typer
from conftest import REPO
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
