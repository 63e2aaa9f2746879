"""Exit codes and the exception hierarchy.

Every error the library raises on purpose is a `TranscribeError`: its message is one line that says what is
wrong (with which file or page) and what to do next. The CLI maps it to its exit code; nothing else does.
The table of exit codes in the README is checked against `ExitCode` by the tests.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    SOFTWARE = 1  # an unexpected error: a bug in transcribe (run again with --verbose and report it)
    USAGE = 2  # the command line is wrong (Typer's own code for usage errors)
    INPUT = 3  # an input file is unreadable, corrupt, encrypted, empty or of an unsupported kind
    MISSING_PROGRAM = 4  # tesseract, poppler or djvulibre is not installed
    LANGUAGE = 5  # unknown language code, or its Tesseract model is not installed
    PAGES_FAILED = 6  # some pages (or works) failed; the others were done and kept
    WIKI = 7  # the wiki could not be reached or refused a request
    AUTH = 8  # no stored login for the wiki, or the login was refused
    REFUSED = 9  # refused to protect existing work (a name taken by another file, a page a human edited)
    MANIFEST = 10  # the manifest or a work's metadata is invalid
    LOCKED = 11  # another transcribe run is using the same state
    DOWNLOAD = 12  # a download failed (not found, needs a login, wrong checksum, no answer after the retries)
    INTERRUPTED = 130  # stopped by Ctrl-C; run the same command again to continue


class TranscribeError(Exception):
    """Base of every expected failure. `str(e)` is the one line shown to the user."""

    exit_code: ExitCode = ExitCode.SOFTWARE

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        self.message = message
        self.hint = hint
        super().__init__(message if not hint else f"{message} {hint}")


class UsageError(TranscribeError):
    exit_code = ExitCode.USAGE


class InputError(TranscribeError):
    """An input file cannot be used (corrupt, truncated, encrypted, empty, unsupported)."""

    exit_code = ExitCode.INPUT


class MissingProgram(TranscribeError):
    exit_code = ExitCode.MISSING_PROGRAM


class LanguageError(TranscribeError):
    exit_code = ExitCode.LANGUAGE


class TrainingStopped(TranscribeError):
    """A book model's training was killed before it finished (its checkpoint is kept: a re-run goes on)."""

    exit_code = ExitCode.INTERRUPTED


class PagesFailed(TranscribeError):
    """Raised at the end of a stage when some pages failed; everything else was done and recorded."""

    exit_code = ExitCode.PAGES_FAILED


class WikiError(TranscribeError):
    exit_code = ExitCode.WIKI


class AuthError(TranscribeError):
    exit_code = ExitCode.AUTH


class Refused(TranscribeError):
    exit_code = ExitCode.REFUSED


class ManifestError(TranscribeError):
    exit_code = ExitCode.MANIFEST

    def __init__(self, message: str, *, problems: list[str] | None = None, hint: str | None = None) -> None:
        self.problems = problems or []
        super().__init__(message, hint=hint)


class Locked(TranscribeError):
    exit_code = ExitCode.LOCKED


# One line per exit code, used by `transcribe --help` epilog and checked against the README table.
EXIT_CODE_MEANINGS: dict[ExitCode, str] = {
    ExitCode.OK: "everything asked was done",
    ExitCode.SOFTWARE: "unexpected error: a bug in transcribe (run again with --verbose and report it)",
    ExitCode.USAGE: "the command line is wrong (see --help)",
    ExitCode.INPUT: "an input file is unreadable, corrupt, encrypted, empty or of an unsupported kind",
    ExitCode.MISSING_PROGRAM: "a required program (tesseract, poppler, djvulibre) is not installed",
    ExitCode.LANGUAGE: "unknown language code, or its Tesseract model is not installed",
    ExitCode.PAGES_FAILED: "some pages or works failed; the rest was done and kept (see the summary)",
    ExitCode.WIKI: "the wiki could not be reached or refused a request",
    ExitCode.AUTH: "not logged in to the wiki, or the login was refused",
    ExitCode.REFUSED: "refused in order to protect existing work (see the message)",
    ExitCode.MANIFEST: "the manifest or a work's metadata is invalid (every problem is listed)",
    ExitCode.LOCKED: "another transcribe run is using the same state file",
    ExitCode.DOWNLOAD: "a download failed: not found, needs a login, not the expected file, or no answer "
                       "after the retries (see the message)",
    ExitCode.INTERRUPTED: "interrupted (Ctrl-C); run the same command again to continue",
}
