"""Stored bot passwords: one JSON file in the tool's own configuration folder, readable by its owner only.

The folder is `$TRANSCRIBE_CONFIG_DIR`, else `$XDG_CONFIG_HOME/transcribe`, else `~/.config/transcribe`.
Logins are keyed by the wiki's api.php address, so `wikisource:fr` and its URL share one login.
Secrets are never logged; `Credentials.__repr__` hides them too (tracebacks and debuggers show reprs).
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

from transcribe import fsutil
from transcribe.errors import InputError

log = logging.getLogger(__name__)

LOGINS_FILE = "logins.json"


@dataclass(frozen=True)
class Credentials:
    user: str  # the BotPassword login name, `User@botname`
    secret: str = field(repr=False)

    @property
    def account(self) -> str:
        """The wiki account edits are recorded under (`User` of `User@botname`)."""
        return self.user.split("@", 1)[0]


def config_dir() -> Path:
    env = os.environ.get("TRANSCRIBE_CONFIG_DIR")
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_CONFIG_HOME")
    return (Path(xdg).expanduser() if xdg else Path.home() / ".config") / "transcribe"


def logins_path() -> Path:
    return config_dir() / LOGINS_FILE


def _read() -> dict[str, dict[str, str]]:
    path = logins_path()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as e:
        raise InputError(
            f"The stored logins in {path} cannot be read ({type(e).__name__}).",
            hint="Delete that file and run 'transcribe login' again.",
        ) from None
    return data if isinstance(data, dict) else {}


def _write(data: dict[str, dict[str, str]]) -> Path:
    path = logins_path()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    # mode 600 from the start (the temporary file is made 600, never chmod-ed down after writing the secret)
    with fsutil.atomic_path(path, mode=0o600) as tmp:
        tmp.write_text(json.dumps(data, indent=1, sort_keys=True), encoding="utf-8")
    return path


def save_bot_password(api_url: str, user: str, secret: str) -> Path:
    """Store the login for the wiki at `api_url`; returns the file it is kept in (mode 600)."""
    data = _read()
    data[api_url] = {"user": user, "secret": secret}
    path = _write(data)
    log.debug("stored the login of %s for %s in %s", user, api_url, path)
    return path


def load_bot_password(api_url: str) -> Credentials | None:
    """The login to use for `api_url`: env TRANSCRIBE_BOT_USER + TRANSCRIBE_BOT_PASSWORD, else the stored one."""
    env_user, env_secret = os.environ.get("TRANSCRIBE_BOT_USER"), os.environ.get("TRANSCRIBE_BOT_PASSWORD")
    if env_user and env_secret:
        return Credentials(env_user, env_secret)
    entry = _read().get(api_url)
    if not entry or not entry.get("user") or not entry.get("secret"):
        return None
    return Credentials(entry["user"], entry["secret"])


def forget(api_url: str) -> bool:
    """Remove the stored login for `api_url`; False when there was none."""
    data = _read()
    if api_url not in data:
        return False
    del data[api_url]
    _write(data)
    return True
