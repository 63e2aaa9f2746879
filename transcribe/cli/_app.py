"""The Typer app, the options every command shares, and the one place that turns errors into exit codes."""

from __future__ import annotations

import functools
import logging
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import Annotated, Any, TypeVar, get_args

import typer
from typer.core import TyperCommand, TyperOption

from transcribe.errors import EXIT_CODE_MEANINGS, ExitCode, ManifestError, TranscribeError
from transcribe.events import ProgressFn

F = TypeVar("F", bound=Callable[..., Any])


def _epilog() -> str:
    codes = "  ".join(f"{int(c)} {c.name.lower().replace('_', '-')}" for c in EXIT_CODE_MEANINGS)
    return f"Exit codes: {codes}. See the README for what each means."


app = typer.Typer(
    name="transcribe",
    help="Take a library's scans all the way onto Wikisource: split, OCR, publish, and report progress.",
    epilog=_epilog(),
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,  # locals may hold a bot password
    context_settings={"help_option_names": ["-h", "--help"]},
    rich_markup_mode=None,
    add_completion=False,
)


@dataclass
class Settings:
    verbose: bool = False
    quiet: bool = False


settings = Settings()


# -- shared options -------------------------------------------------------------------------------------------
JobsOpt = Annotated[
    int | None,
    typer.Option("--jobs", "-j", min=1, help="Pages processed at once (default: one per CPU core)."),
]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar, only the summary and errors.")]
LangOpt = Annotated[
    str | None,
    typer.Option("--lang", "-l", help="Wikisource language code (fr, de, jv, bn...), see 'transcribe langs list'."),
]
ModelsOpt = Annotated[
    str | None,
    typer.Option("--models", "-m", help="Tesseract models to use instead of the language's, e.g. 'frk+grc'."),
]
TessdataOpt = Annotated[
    Path | None,
    typer.Option("--tessdata-dir", help="Folder with a community's own .traineddata models.",
                 exists=False, file_okay=False, resolve_path=True),
]
# One range for every command that renders PDF pages; split (the library) checks the same 30-1200.
DpiOpt = Annotated[
    int,
    typer.Option("--dpi", min=30, max=1200,
                 help="Resolution for PDF pages that must be rendered (300 suits OCR); scanned pictures inside "
                      "a PDF keep their own."),
]
WikiOpt = Annotated[
    str | None,
    typer.Option("--wiki", "-w",
                 help="Target wiki: a pywikibot family:code such as 'wikisource:fr', or an api.php URL."),
]


def _print_version(value: bool) -> None:
    if value:
        from transcribe import __version__

        typer.echo(__version__)
        raise typer.Exit()


@app.callback()
def _global(
    verbose: Annotated[bool, typer.Option(
        "--verbose", "-v", help="Show debug logs, the details of an error (its cause, the file, a program's "
                                "output) and, for an unexpected error only, the traceback.")] = False,
    quiet: QuietOpt = False,
    version: Annotated[bool, typer.Option("--version", help="Print the version and exit.", is_eager=True,
                                          callback=_print_version)] = False,
) -> None:
    """Take a library's scans all the way onto Wikisource: split, OCR, publish, and report progress."""
    settings.verbose = verbose
    settings.quiet = quiet
    _setup_logging(verbose)


def hoist_verbose(argv: list[str]) -> list[str]:
    """`transcribe publish WORK --verbose` means `transcribe --verbose publish WORK`.

    --verbose belongs to the app, so Typer takes it only before the command; people (and the README's option
    tables) put it after. No command has an option of that name, so moving it to the front changes nothing else.
    Arguments after `--` are left alone.
    """
    end = argv.index("--") if "--" in argv else len(argv)
    flags = [a for a in argv[:end] if a in ("--verbose", "-v")]
    rest = [a for a in argv[:end] if a not in ("--verbose", "-v")]
    return flags + rest + argv[end:]


def _setup_logging(verbose: bool) -> None:
    root = logging.getLogger()
    for h in list(root.handlers):
        if getattr(h, "_transcribe", False):
            root.removeHandler(h)
    handler = logging.StreamHandler(sys.stderr)
    handler._transcribe = True  # type: ignore[attr-defined]
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)
    root.setLevel(logging.DEBUG if verbose else logging.WARNING)
    for chatty in ("PIL", "urllib3", "pywiki", "pywikibot", "requests", "asyncio", "distributed"):
        logging.getLogger(chatty).setLevel(logging.INFO if verbose else logging.ERROR)


def err(message: str) -> None:
    """A line for people, on stderr."""
    typer.echo(message, err=True)


def fail(e: TranscribeError) -> typer.Exit:
    err(f"error: {e}")
    if isinstance(e, ManifestError):
        for p in e.problems:
            err(f"  {p}")
    return typer.Exit(int(e.exit_code))


def details(e: BaseException, *, limit: int = 8) -> list[str]:
    """What --verbose adds to an expected error: the exception's kind, then each cause (a file, a program's stderr).

    One line per fact, no stack: the stack of an expected error only says where the library noticed it.
    """
    code = getattr(e, "exit_code", None)
    kind = f"{type(e).__module__}.{type(e).__name__}"
    lines = [f"{kind}, exit {int(code)} ({code.name.lower().replace('_', '-')})" if code is not None else kind]
    seen: set[int] = {id(e)}
    cause = e.__cause__ or e.__context__
    while cause is not None and id(cause) not in seen and len(lines) < limit:
        seen.add(id(cause))
        lines.append(f"caused by {type(cause).__name__}: {cause}".rstrip(": "))
        filename = getattr(cause, "filename", None)
        if filename and str(filename) not in str(cause):
            lines.append(f"file: {filename}")
        cmd = getattr(cause, "cmd", None)
        if cmd:
            lines.append("command: " + (" ".join(map(str, cmd)) if isinstance(cmd, list | tuple) else str(cmd)))
        stderr = getattr(cause, "stderr", None)
        if isinstance(stderr, bytes):
            stderr = stderr.decode("utf-8", "replace")
        if isinstance(stderr, str) and stderr.strip():
            tail = [ln for ln in stderr.strip().splitlines() if ln.strip()][-5:]
            lines += [f"stderr: {ln}" for ln in tail]
        cause = cause.__cause__ or cause.__context__
    return lines


# -- help in words, not Python's types ------------------------------------------------------------------------
VERBOSE_EPILOG = ("--verbose (before or after the command) shows debug logs and, for an error, its details: "
                  "its cause, the file, a program's own message.")


def _metavar(param: TyperOption) -> str:
    """What an option's value is, as a person writes it: DIR, FILE, N, auto|png|tiff; else the option's name."""
    desc = param.type_descriptor
    if desc.is_choice:
        return "|".join(str(getattr(c, "value", c)) for c in desc.choices or ())
    kind = get_args(desc.annotation)[0] if desc.is_list and get_args(desc.annotation) else desc.annotation
    if desc.is_path or (isinstance(kind, type) and issubclass(kind, PurePath)):
        return {"dir": "DIR", "file": "FILE"}.get(desc.path_type, "PATH")
    if kind is int:
        return "N"
    if kind is float:
        return "NUMBER"
    return (param.name or "value").upper().replace("_", "-")


def _tidy(param: Any) -> None:
    """Typer (0.2x) shows an option as `--langs-dir <list[Path]>` and an argument as `{scan}` in the usage line:
    give them plain metavars. An option keeps a metavar set on it; an argument is shown by its name in capitals
    (`SCAN`, `[INDEX]...`)."""
    if not hasattr(param, "type_descriptor"):  # a Typer without these displays: leave its help as it is
        return
    if isinstance(param, TyperOption):
        if param.metavar is None and not param.is_flag and not param.count:
            param.metavar = _metavar(param)
        return
    name = (param.name or "arg").upper()
    many = "..." if param.nargs != 1 else ""
    usage = f"{name}{many}" if param.required else f"[{name}]{many}"
    # Typer reads these two per parameter for the usage line and the arguments' table
    param._usage_display_name = lambda: usage
    param.display_type_rich = lambda ctx: None
    param.metavar = f"{name}{many}"


class Command(TyperCommand):
    """A command whose --help shows metavars a person reads (see `_tidy`)."""

    def get_params(self, ctx: Any) -> list[Any]:
        params = super().get_params(ctx)
        for p in params:
            _tidy(p)
        return params


def command(*args: Any, group: typer.Typer | None = None, **kwargs: Any) -> Callable[[F], F]:
    """`app.command()` (or `group.command()` for a sub-command) plus the error handling every command shares,
    and a help that reads as words (`Command`) and says what --verbose does."""
    kwargs.setdefault("cls", Command)
    kwargs.setdefault("epilog", VERBOSE_EPILOG)

    def decorate(func: F) -> F:
        @functools.wraps(func)
        def wrapper(*a: Any, **kw: Any) -> Any:
            try:
                return func(*a, **kw)
            except typer.Exit:
                raise
            except TranscribeError as e:
                exit_ = fail(e)
                if settings.verbose:
                    # an expected error is explained, not debugged: detail lines, never a stack
                    for line in details(e):
                        err(f"  detail: {line}")
                raise exit_ from None
            except KeyboardInterrupt:
                err("interrupted: everything finished so far is kept; run the same command again to continue.")
                raise typer.Exit(int(ExitCode.INTERRUPTED)) from None
            except Exception as e:
                if settings.verbose:
                    raise
                err(f"error: unexpected {type(e).__name__}: {e}. Run again with --verbose and report the output.")
                raise typer.Exit(int(ExitCode.SOFTWARE)) from None

        (group or app).command(*args, **kwargs)(wrapper)
        return func

    return decorate


def show_bar(quiet: bool) -> bool:
    return not (quiet or settings.quiet) and sys.stderr.isatty()


@contextmanager
def progress_bar(quiet: bool = False) -> Iterator[ProgressFn]:
    """A ProgressFn that draws one rich bar per label on stderr; silent with --quiet or when not a terminal."""
    if not show_bar(quiet):
        yield lambda label, done, total: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    bars: dict[str, Any] = {}
    with Progress(
        TextColumn("{task.description:<10}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
        console=Console(stderr=True), transient=False,
    ) as p:

        def update(label: str, done: int, total: int) -> None:
            if label not in bars:
                bars[label] = p.add_task(label, total=total)
            p.update(bars[label], completed=done, total=total)

        yield update
