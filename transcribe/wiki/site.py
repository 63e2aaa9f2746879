"""Talk to a MediaWiki: connect, log in, namespaces and capabilities, raw action API calls, uploads.

Why `requests` for the calls and pywikibot only for names (checked against pywikibot 11.9):
- pywikibot's request loop retries for minutes (`max_retries` 15, `retry_wait` 5 s doubling to `retry_max`
  120 s) before it gives up: a user with a wrong address would wait long for a one-line answer.
- Its configuration is global (`user-config.py`, `usernames[family][code]`, `password_file`); a login for an
  arbitrary api.php needs a family file or `config.family_files` plus a registered username.
- `ProofreadPage.save()` refuses to work on a wiki without the extension, so the portable paths (the test wiki,
  small MediaWikis) need raw API calls anyway, and `Site(url=...)` wants the article path, not api.php.
What pywikibot does earn here: its families know where every Wikimedia wiki lives, so `wikisource:fr`,
`wikisource:mul` and `commons:commons` resolve to their api.php without a network call. Where a wiki's *files*
live is never assumed: `meta=filerepoinfo` names its shared repository (Commons, on Wikimedia wikis) and its API. It is imported only
for such names, with its own folder (`<config dir>/pywikibot`) and no user-config.py.

Everything else (maxlag, retries with back-off, tokens, throttling of edits, chunked uploads) is here, small
and testable. No pywikibot type leaves this module.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import os
import re
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from transcribe import __version__
from transcribe.errors import AuthError, UsageError, WikiError
from transcribe.levels import LEVEL_NAMES
from transcribe.wiki import credentials

log = logging.getLogger(__name__)

USER_AGENT = f"transcribe/{__version__} (Wikisource publishing tool for libraries) python-requests"
MAXLAG = 5  # seconds; what Wikimedia's API etiquette and pywikibot's write_maxlag use
RETRIES = 4  # attempts of one request on connection errors and HTTP 5xx
BACKOFF = 0.5  # seconds before the 2nd attempt, doubled each time (capped at MAX_WAIT)
MAX_WAIT = 60.0
MAXLAG_RETRIES = 8
PUT_THROTTLE = 10.0  # seconds between edits on a real wiki, like pywikibot's put_throttle
TIMEOUT = (10.0, 300.0)  # connect, read
CHUNK_THRESHOLD = 50 * 1024 * 1024  # uploads bigger than this go in chunks (Commons takes 100 MiB in one request)
CHUNK_SIZE = 8 * 1024 * 1024
# TRANSCRIBE_CHUNK_SIZE=N (bytes): send files larger than N in chunks of N (a slow or unreliable connection; tests)
CHUNK_ENV = "TRANSCRIBE_CHUNK_SIZE"
POLL_FIRST, POLL_MAX, POLL_TOTAL = 0.2, 5.0, 1800.0  # seconds: polling an asynchronous upload's status

WIKIMEDIA_DOMAINS = (
    "wikipedia.org", "wikisource.org", "wikimedia.org", "wiktionary.org", "wikibooks.org", "wikiquote.org",
    "wikinews.org", "wikiversity.org", "wikivoyage.org", "wikidata.org", "mediawiki.org", "wikifunctions.org",
)
_SECRET_KEYS = re.compile(r"password|secret|token|key$", re.IGNORECASE)
_RETRY_CODES = {"maxlag", "readonly", "internal_api_error_DBQueryError", "ratelimited"}
# Quality level -> category name used by en.wikisource, for wikis that do not tell (no ProofreadPage).
DEFAULT_QUALITY_NAMES = LEVEL_NAMES  # ProofreadPage's own names, where a wiki does not say its own
# The fields ProofreadPage falls back to when MediaWiki:Proofreadpage_index_data_config is missing.
_DEFAULT_INDEX_FIELDS: dict[str, dict[str, Any]] = {
    "Title": {"label": "Title", "data": "title"},
    "Author": {"label": "Author", "data": "author"},
    "Year": {"label": "Year of publication", "data": "year"},
    "Publisher": {"label": "Publisher", "data": "publisher"},
    "Address": {"label": "Address", "data": "place"},
    "Source": {"label": "Source"},
    "Image": {"label": "Image"},
    "Progress": {"label": "Progress", "data": "progress"},
    "Pages": {"label": "Pages", "data": "pagelist"},
    "Remarks": {"label": "Remarks"},
    "Header": {"label": "Header", "header": True},
    "Footer": {"label": "Footer", "footer": True},
}


class ApiError(WikiError):
    """The wiki answered with an API error. `code` is MediaWiki's error code (`articleexists`, `editconflict`...)."""

    def __init__(self, message: str, *, code: str, info: str = "", hint: str | None = None,
                 data: Mapping[str, Any] | None = None) -> None:
        self.code = code
        self.info = info
        self.data = dict(data or {})  # the whole error object (e.g. `offset` of a chunk the stash refused)
        super().__init__(message, hint=hint)


@dataclass(frozen=True)
class Namespace:
    id: int
    name: str  # the local name (`Livre` on fr.wikisource)
    canonical: str  # `Page` or `Index`


@dataclass(frozen=True)
class Namespaces:
    page: Namespace
    index: Namespace
    file: Namespace


@dataclass(frozen=True)
class IndexField:
    name: str  # the template parameter (`Title`, `Titre`...)
    label: str
    type: str = "string"
    data: str | None = None  # `title`, `author`, `year`, `publisher`, `place`, `progress`, `pagelist`...
    values: Mapping[str, str] = field(default_factory=dict)  # allowed values -> labels (`Progress`)
    default: str | None = None
    header: bool = False
    footer: bool = False


@dataclass(frozen=True)
class FileInfo:
    name: str  # without the namespace prefix, with spaces
    size: int
    sha1: str
    mime: str
    pagecount: int | None  # PDF and DjVu files
    url: str | None


@dataclass(frozen=True)
class FileRepo:
    """One file repository a wiki reads (`meta=filerepoinfo`): its own ('local') or a shared one (Commons)."""

    name: str  # 'local', 'shared', 'wikimediacommons'...
    display_name: str
    local: bool
    api_url: str | None  # the repository wiki's api.php (a foreign API repo says it; a DB repo: scriptDirUrl)
    can_upload: bool


@dataclass(frozen=True)
class UploadResult:
    result: str  # 'Success' or 'Warning' (nothing was saved)
    filename: str  # the final file name on the wiki, with spaces
    warnings: Mapping[str, Any] = field(default_factory=dict)  # 'exists', 'duplicate', 'was-deleted'...
    pagecount: int | None = None  # of a PDF or DjVu, as the wiki read it

    @property
    def ok(self) -> bool:
        return self.result == "Success"


def _redact(params: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in params.items():
        if _SECRET_KEYS.search(k):
            out[k] = "***"
        elif k in ("text", "appendtext", "prependtext", "chunk", "file"):
            out[k] = f"<{len(v) if isinstance(v, str | bytes) else '?'} chars>"
        else:
            s = str(v)
            out[k] = s if len(s) <= 80 else s[:77] + "..."
    return out


def _reason(e: BaseException) -> str:
    """A short human reason from a requests/urllib3 exception chain ('Connection refused', 'timed out')."""
    seen: set[int] = set()
    stack: list[BaseException | None] = [e]
    while stack:
        x = stack.pop()
        if x is None or id(x) in seen:
            continue
        seen.add(id(x))
        if isinstance(x, ConnectionRefusedError):
            return "connection refused (no web server answers there)"
        if isinstance(x, TimeoutError | requests.Timeout):
            return "no answer in time (timed out)"
        if "RemoteDisconnected" in type(x).__name__ or "closed connection without response" in str(x):
            return "the connection was closed without an answer"
        if "Name or service not known" in str(x) or "nodename nor servname" in str(x) or \
                "Temporary failure in name resolution" in str(x):
            return "that host name is unknown"
        if isinstance(x, OSError) and x.strerror:
            return str(x.strerror)
        stack.extend([x.__cause__, x.__context__, *(a for a in getattr(x, "args", ()) if isinstance(a, BaseException))])
    return type(e).__name__


# -- naming a wiki ----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class WikiAddress:
    api_url: str
    name: str  # what to call it in messages: 'wikisource:fr' or the host
    is_wikimedia: bool


def _pywikibot_family(name: str) -> Any:
    """Load a pywikibot family with pywikibot's own folder and no user-config.py (never the user's global one)."""
    import sys

    if "pywikibot" not in sys.modules:
        pwb_dir = credentials.config_dir() / "pywikibot"
        pwb_dir.mkdir(parents=True, exist_ok=True)
        os.environ["PYWIKIBOT_DIR"] = str(pwb_dir)
        # 2: no user-config.py and no warning about it (1 would print 'user-config.py cannot be loaded').
        os.environ["PYWIKIBOT_NO_USER_CONFIG"] = "2"
    from pywikibot.exceptions import UnknownFamilyError
    from pywikibot.family import Family

    try:
        return Family.load(name)
    except UnknownFamilyError:
        return None


def resolve(wiki: str) -> WikiAddress:
    """`wikisource:fr`, `commons:commons` or an api.php URL -> where its API is."""
    wiki = wiki.strip()
    if re.match(r"^https?://", wiki, re.IGNORECASE):
        u = urllib.parse.urlsplit(wiki)
        host = (u.hostname or "").lower()
        if not host:
            raise UsageError(f"'{wiki}' is not a web address.", hint="Give the address of the wiki's api.php.")
        if not u.path.endswith(".php"):
            raise UsageError(
                f"'{wiki}' is not the address of a MediaWiki API.",
                hint="Give the address of its api.php, e.g. https://example.org/w/api.php "
                     "(on the wiki: Special:Version, 'Entry point URLs').",
            )
        wikimedia = any(host == d or host.endswith("." + d) for d in WIKIMEDIA_DOMAINS)
        return WikiAddress(urllib.parse.urlunsplit((u.scheme.lower(), u.netloc, u.path, "", "")), u.netloc,
                           wikimedia)
    m = re.fullmatch(r"([a-z][a-z0-9_-]*):([a-z][a-z0-9_-]*)", wiki, re.IGNORECASE)
    if not m:
        raise UsageError(
            f"'{wiki}' does not name a wiki.",
            hint="Use a family and language such as 'wikisource:fr' or 'wikisource:mul', or an api.php address.",
        )
    family_name, code = m.group(1).lower(), m.group(2).lower()
    fam = _pywikibot_family(family_name)
    if fam is None:
        raise UsageError(f"'{family_name}' is not a wiki family pywikibot knows.",
                         hint="Use e.g. 'wikisource:fr', or give the wiki's api.php address instead.")
    if code not in fam.langs:
        raise UsageError(f"'{family_name}' has no wiki '{code}'.",
                         hint=f"Check the language code, e.g. '{family_name}:{'fr' if 'fr' in fam.langs else next(iter(fam.langs))}'.")
    from pywikibot.family import WikimediaFamily

    api_url = f"{fam.protocol(code)}://{fam.hostname(code)}{fam.apipath(code)}"
    return WikiAddress(api_url, f"{family_name}:{code}", isinstance(fam, WikimediaFamily))


def _is_loopback(api_url: str) -> bool:
    host = urllib.parse.urlsplit(api_url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


# -- the wiki ---------------------------------------------------------------------------------------------------

class Wiki:
    """One wiki's action API. Thread-safe for concurrent edits (one session, one token, one throttle)."""

    def __init__(self, address: WikiAddress, *, throttle: float | None = None, wiki_arg: str | None = None) -> None:
        self.api_url = address.api_url
        self.name = address.name
        self.is_wikimedia = address.is_wikimedia
        self.wiki_arg = wiki_arg or address.name  # what the user typed, for "run transcribe login --wiki ..."
        self.user: str | None = None
        if throttle is None:
            env = os.environ.get("TRANSCRIBE_THROTTLE")
            throttle = float(env) if env else (0.0 if _is_loopback(self.api_url) else PUT_THROTTLE)
        self.throttle = max(0.0, throttle)
        self.session = requests.Session()
        self.session.headers["User-Agent"] = USER_AGENT
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._last_write = 0.0
        self._token: str | None = None
        self._credentials: credentials.Credentials | None = None
        self._info: dict[str, Any] | None = None
        self._index_fields: dict[str, IndexField] | None = None
        self._commons: Wiki | None = None
        self._answered = False

    def __repr__(self) -> str:
        return f"Wiki({self.name!r}, user={self.user!r})"

    # -- raw API -------------------------------------------------------------------------------------------
    def get(self, **params: Any) -> dict[str, Any]:
        """A GET of the action API (format=json, formatversion=2, maxlag). Raises ApiError/WikiError."""
        return self._call("GET", params)

    def post(self, files: Mapping[str, Any] | None = None, **params: Any) -> dict[str, Any]:
        """A POST of the action API. A `token` of `...` (Ellipsis) or an edit-like action gets the CSRF token."""
        return self._call("POST", params, files)

    def query_all(self, **params: Any) -> Iterator[dict[str, Any]]:
        """Every answer of an `action=query` GET, following `continue` until the wiki says it is done."""
        params = {"action": "query", **params}
        while True:
            data = self.get(**params)
            yield data
            cont = data.get("continue")
            if not cont:
                return
            params.update(cont)

    def _call(self, method: str, params: dict[str, Any], files: Mapping[str, Any] | None = None,
              *, _relogged: bool = False) -> dict[str, Any]:
        params = {k: v for k, v in params.items() if v is not None}
        params.setdefault("format", "json")
        params.setdefault("formatversion", "2")
        params.setdefault("maxlag", MAXLAG)
        if self.user is not None:
            params.setdefault("assert", "user")
        needs_token = params.get("token") is ...
        if needs_token:
            params["token"] = self.csrf_token()
        is_write = method == "POST" and "token" in params
        try:
            return self._send(method, params, files, is_write)
        except ApiError as e:
            if e.code == "badtoken" and needs_token and not _relogged:
                log.info("%s: the edit token expired; fetching a new one", self.name)
                self._token = None
                params["token"] = ...
                return self._call(method, params, files, _relogged=True)
            if e.code in ("assertuserfailed", "assertbotfailed") and self._credentials and not _relogged:
                log.info("%s: the session ended; logging in again", self.name)
                self._login(self._credentials)
                if needs_token:
                    params["token"] = ...
                return self._call(method, params, files, _relogged=True)
            raise

    def _send(self, method: str, params: dict[str, Any], files: Mapping[str, Any] | None,
              is_write: bool) -> dict[str, Any]:
        action = params.get("action", "?")
        attempt, lag_attempt = 0, 0
        while True:
            if is_write:
                self._wait_throttle()
            log.debug("%s %s %s", method, self.name, _redact(params))
            wait: float | None = None
            try:
                if method == "GET":
                    r = self.session.get(self.api_url, params=params, timeout=TIMEOUT)
                else:
                    r = self.session.post(self.api_url, data=params, files=files, timeout=TIMEOUT)
                self._answered = True
            except requests.RequestException as e:
                attempt += 1
                reason = _reason(e)
                # A wiki that has never answered and refuses connections or has an unknown name is most likely
                # a wrong address: say so at once. Once it has answered, the same errors are worth retrying.
                hopeless = not self._answered and reason.startswith(("connection refused", "that host name"))
                if attempt >= RETRIES or hopeless:
                    raise WikiError(f"Cannot reach {self.api_url}: {reason}.",
                                    hint="Check the address or your network, then run the same command again."
                                    ) from None
                log.warning("%s: %s; trying again (%d/%d)", self.name, reason, attempt, RETRIES - 1)
            else:
                if r.status_code >= 500 or r.status_code == 429:
                    attempt += 1
                    if attempt >= RETRIES:
                        raise WikiError(
                            f"The wiki at {self.api_url} answered HTTP {r.status_code} ({r.reason}) "
                            f"{attempt} times.",
                            hint="It may be busy or down: wait a little, then run the same command again.")
                    wait = _retry_after(r)
                    log.warning("%s: HTTP %d; trying again (%d/%d)", self.name, r.status_code, attempt,
                                RETRIES - 1)
                elif r.status_code != 200:
                    raise WikiError(
                        f"{self.api_url} answered HTTP {r.status_code} ({r.reason}): it is not a MediaWiki API.",
                        hint="Check the address: it should end with api.php (see the wiki's Special:Version).")
                else:
                    try:
                        data = r.json()
                    except ValueError:
                        raise WikiError(f"{self.api_url} did not answer like a MediaWiki API.",
                                        hint="Check the address: it should end with api.php.") from None
                    err = data.get("error") if isinstance(data, dict) else None
                    if not err:
                        for w in _warnings(data):
                            log.debug("%s: API warning: %s", self.name, w)
                        return dict(data)
                    code, info = str(err.get("code", "?")), str(err.get("info", ""))
                    if code in _RETRY_CODES and lag_attempt < MAXLAG_RETRIES:
                        lag_attempt += 1
                        wait = _retry_after(r) or min(MAX_WAIT, 5.0 * lag_attempt)
                        log.warning("%s: %s (%s); waiting %.0f s", self.name, code, info, wait)
                        time.sleep(wait)
                        continue
                    raise ApiError(f"{self.name} refused {action}: {info or code} ({code}).", code=code, info=info,
                                   data=err)
            time.sleep(min(MAX_WAIT, wait if wait is not None else BACKOFF * 2 ** (attempt - 1)))

    def _wait_throttle(self) -> None:
        if self.throttle <= 0:
            return
        with self._write_lock:
            delay = self._last_write + self.throttle - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            self._last_write = time.monotonic()

    def csrf_token(self) -> str:
        """The edit token, fetched once and reused (two first fetches racing can give `badtoken`)."""
        with self._lock:
            if self._token is None:
                data = self.get(action="query", meta="tokens", type="csrf")
                self._token = str(data["query"]["tokens"]["csrftoken"])
                if self._token == "+\\" and self.user is None:
                    log.debug("%s: anonymous edit token", self.name)
            return self._token

    # -- login ---------------------------------------------------------------------------------------------
    def login(self, user: str, secret: str) -> str:
        """Log in with a BotPassword (`User@botname` + secret); returns the account name. AuthError if refused."""
        return self._login(credentials.Credentials(user, secret))

    def _login(self, creds: credentials.Credentials) -> str:
        self.user = None
        self._token = None
        self.session.cookies.clear()
        token = self.get(action="query", meta="tokens", type="login")["query"]["tokens"]["logintoken"]
        data = self._send("POST", {"action": "login", "lgname": creds.user, "lgpassword": creds.secret,
                                   "lgtoken": token, "format": "json", "formatversion": "2"}, None, False)
        result = data.get("login", {})
        if result.get("result") != "Success":
            reason = str(result.get("reason") or result.get("result") or "refused")
            hint = f"Check the bot password (on the wiki: Special:BotPasswords), then run: transcribe login " \
                   f"--wiki {self.wiki_arg}"
            if "@" not in creds.user:
                hint = ("Use a bot password: its user name looks like 'YourName@botname' (create one on the "
                        f"wiki at Special:BotPasswords), then run: transcribe login --wiki {self.wiki_arg}")
            elif not re.fullmatch(r"[0-9a-w]{32,}", creds.secret):
                hint = ("A bot password's secret is the 32 letters and digits Special:BotPasswords shows once; "
                        f"make a new one if needed, then run: transcribe login --wiki {self.wiki_arg}")
            raise AuthError(f"{self.name} refused the login of {creds.user}: {reason.rstrip('.')}.", hint=hint)
        self.user = str(result.get("lgusername") or creds.account)
        self._credentials = creds
        log.info("%s: logged in as %s", self.name, self.user)
        return self.user

    def login_stored(self) -> str:
        creds = credentials.load_bot_password(self.api_url)
        if creds is None:
            raise AuthError(f"No login is stored for {self.name}.",
                            hint=f"Run: transcribe login --wiki {self.wiki_arg}")
        return self._login(creds)

    # -- what the wiki is ----------------------------------------------------------------------------------
    def _siteinfo(self) -> dict[str, Any]:
        if self._info is None:
            # One request on every wiki: a MediaWiki without ProofreadPage only warns about the unknown
            # `proofreadinfo` module and still answers the siteinfo part.
            # meta=filerepoinfo rides along: where the wiki's files live costs no request of its own.
            data = self.get(action="query", meta="siteinfo|proofreadinfo|filerepoinfo",
                            siprop="general|namespaces|extensions", piprop="namespaces|qualitylevels")
            self._info = data.get("query", {})
        return self._info

    @property
    def has_proofreadpage(self) -> bool:
        q = self._siteinfo()
        return "proofreadnamespaces" in q or any(
            e.get("name") == "ProofreadPage" for e in q.get("extensions", []))

    def has_extension(self, *names: str) -> bool:
        """Whether the wiki runs one of these extensions (named as Special:Version lists them)."""
        return any(e.get("name") in names for e in self._siteinfo().get("extensions", []))

    @property
    def namespaces(self) -> Namespaces:
        q = self._siteinfo()
        ns = {int(k): v for k, v in q.get("namespaces", {}).items()}

        def by_id(i: int) -> Namespace:
            n = ns[i]
            return Namespace(i, str(n.get("name", "")), str(n.get("canonical", n.get("name", ""))))

        def by_canonical(c: str) -> Namespace | None:
            for i, n in ns.items():
                if n.get("canonical") == c:
                    return by_id(i)
            return None

        pr = q.get("proofreadnamespaces")
        if pr:
            page, index = by_id(int(pr["page"]["id"])), by_id(int(pr["index"]["id"]))
        else:
            page, index = by_canonical("Page"), by_canonical("Index")  # type: ignore[assignment]
        if page is None or index is None:
            raise WikiError(
                f"{self.name} has no Page: and Index: namespaces: it is not a Wikisource.",
                hint="Publish to a Wikisource (e.g. --wiki wikisource:fr), or ask the wiki's administrators to "
                     "install the ProofreadPage extension.")
        return Namespaces(page=page, index=index, file=by_id(6))

    @property
    def quality_names(self) -> dict[int, str]:
        """Quality level -> category name, from the wiki; en.wikisource's names when the wiki does not say."""
        levels = self._siteinfo().get("proofreadqualitylevels")
        if levels:
            return {int(x["id"]): str(x["category"]) for x in levels}
        return dict(DEFAULT_QUALITY_NAMES)

    @property
    def quality_names_are_defaults(self) -> bool:
        return not self._siteinfo().get("proofreadqualitylevels")

    def page_text(self, title: str) -> str | None:
        """The current wikitext of one page, or None when it does not exist."""
        data = self.get(action="query", prop="revisions", rvprop="content", rvslots="main", titles=title)
        pages = data.get("query", {}).get("pages", [])
        if not pages or pages[0].get("missing") or pages[0].get("invalid"):
            return None
        return str(pages[0]["revisions"][0]["slots"]["main"]["content"])

    def index_fields(self) -> dict[str, IndexField]:
        """The fields of an Index: page on this wiki, from MediaWiki:Proofreadpage_index_data_config (in order).

        Read once per connection: a batch publishing many works to one wiki asks for it once.
        """
        if self._index_fields is None:
            self._index_fields = self._read_index_fields()
        return dict(self._index_fields)

    def _read_index_fields(self) -> dict[str, IndexField]:
        text = self.page_text("MediaWiki:Proofreadpage_index_data_config")
        if text is None:
            raw: Any = _DEFAULT_INDEX_FIELDS
        else:
            try:
                raw = json.loads(text)
            except ValueError as e:
                raise WikiError(f"MediaWiki:Proofreadpage_index_data_config on {self.name} is not valid JSON ({e}).",
                                hint="Ask the wiki's administrators to fix that page.") from None
        if not isinstance(raw, dict):
            raise WikiError(f"MediaWiki:Proofreadpage_index_data_config on {self.name} is not a JSON object.",
                            hint="Ask the wiki's administrators to fix that page.")
        out: dict[str, IndexField] = {}
        for name, spec in raw.items():
            spec = spec if isinstance(spec, dict) else {}
            values = spec.get("values") or {}
            out[name] = IndexField(
                name=name, label=str(spec.get("label", name)), type=str(spec.get("type", "string")),
                data=spec.get("data") or None,
                values={str(k): str(v) for k, v in values.items()} if isinstance(values, dict) else {},
                default=None if spec.get("default") is None else str(spec["default"]),
                header=bool(spec.get("header")), footer=bool(spec.get("footer")),
            )
        return out

    # -- files ---------------------------------------------------------------------------------------------
    @property
    def file_repos(self) -> list[FileRepo]:
        """The file repositories this wiki reads, its own first (`meta=filerepoinfo`)."""
        out = []
        for r in self._siteinfo().get("repos", []):
            api = r.get("apiurl")
            if not api and r.get("scriptDirUrl") and not r.get("local"):
                # a database repository (Wikimedia's Commons) names its script folder, not its api.php
                api = str(r["scriptDirUrl"]).rstrip("/") + "/api.php"
            if api and api.startswith("//"):
                api = urllib.parse.urlsplit(self.api_url).scheme + ":" + api
            out.append(FileRepo(name=str(r.get("name", "")), display_name=str(r.get("displayname", "")),
                                local=bool(r.get("local")), api_url=str(api) if api else None,
                                can_upload=bool(r.get("canUpload"))))
        return sorted(out, key=lambda r: not r.local)

    @property
    def shared_repo(self) -> FileRepo | None:
        """The shared repository whose files this wiki shows (Commons on Wikimedia wikis), if it has one."""
        return next((r for r in self.file_repos if not r.local and r.api_url), None)

    def file_wiki(self, *, login: bool) -> Wiki:
        """The wiki of this wiki's shared file repository (Commons), connected and logged in once per connection.

        Its address comes from this wiki (`meta=filerepoinfo`), never from an assumption. The login is the one
        stored for it, else (Wikimedia's single sign-on: one bot password works on every Wikimedia wiki) this
        wiki's own.
        """
        repo = self.shared_repo
        if repo is None or repo.api_url is None:
            raise UsageError(
                f"{self.name} reads no shared file repository (meta=filerepoinfo lists only its own files), so "
                "there is no Commons to put the scan on.",
                hint="Use --files-to local (or files_to = \"local\") to upload the scan to the wiki itself.")
        if self._commons is None:
            self._commons = connect(repo.api_url)
        c = self._commons
        if login and c.user is None:
            creds = credentials.load_bot_password(c.api_url)
            if creds is None and self._credentials is not None and (c.is_wikimedia or self.is_wikimedia):
                creds = self._credentials
            if creds is None:
                raise AuthError(f"No login is stored for {c.name}, where {self.name} keeps its files.",
                                hint=f"Run: transcribe login --wiki {self.wiki_arg} (it logs in to both).")
            c._login(creds)
        return c

    def file_info(self, name: str) -> FileInfo | None:
        """Size, SHA-1, MIME type and page count (PDF/DjVu) of `File:<name>`, or None when there is none."""
        data = self.get(action="query", prop="imageinfo", iiprop="size|mime|sha1|url", titles=f"File:{name}")
        pages = data.get("query", {}).get("pages", [])
        if not pages or not pages[0].get("imageinfo"):
            return None
        ii = pages[0]["imageinfo"][0]
        return FileInfo(name=pages[0]["title"].split(":", 1)[1], size=int(ii.get("size", 0)),
                        sha1=str(ii.get("sha1", "")), mime=str(ii.get("mime", "")),
                        pagecount=ii.get("pagecount"), url=ii.get("url"))

    def find_file_by_sha1(self, sha1: str) -> list[str]:
        """Names of the files on this wiki with this SHA-1 (hex), to reuse a scan instead of uploading it again."""
        data = self.get(action="query", list="allimages", aisha1=sha1.lower(), ailimit="50")
        return [str(x["title"]).split(":", 1)[1] for x in data.get("query", {}).get("allimages", [])]

    def upload(self, path: Path, filename: str, *, text: str = "", comment: str = "",
               ignore_warnings: bool = False, chunk_threshold: int | None = None, chunk_size: int | None = None,
               resume: tuple[str, int] | None = None,
               on_chunk: Callable[[str, int], None] | None = None) -> UploadResult:
        """Upload `path` as `File:<filename>`; in chunks through the upload stash above `chunk_threshold` bytes.

        Warnings (`exists`, `duplicate`, `was-deleted`, `nochange`...) come back as data with result 'Warning'
        and nothing saved, unless `ignore_warnings`. Chunked: `on_chunk(filekey, offset)` is called after every
        chunk the wiki accepted (offset = size once the stash holds the whole file), and `resume=(filekey,
        offset)` continues such an upload from the stash, e.g. after the process was killed.
        """
        path = Path(path)
        size = path.stat().st_size
        env = int(os.environ.get(CHUNK_ENV) or 0)
        chunk_size = chunk_size or env or CHUNK_SIZE
        chunk_threshold = chunk_threshold if chunk_threshold is not None else (env or CHUNK_THRESHOLD)
        common: dict[str, Any] = {"action": "upload", "filename": filename, "text": text, "comment": comment,
                                  "token": ...}
        if ignore_warnings:
            common["ignorewarnings"] = "1"
        if size <= chunk_threshold and resume is None:
            data = self.post(files={"file": (filename, path.read_bytes())}, **common)
        else:
            filekey = self._upload_chunks(path, filename, size, chunk_size, resume, on_chunk or (lambda k, o: None))
            data = self.post(**common, filekey=filekey)
            data = self._poll(data, filekey, filename)
        up = data.get("upload", {})
        result = str(up.get("result", ""))
        if result not in ("Success", "Warning"):
            raise ApiError(f"{self.name} did not accept the upload of {filename} ({result or 'no result'}).",
                           code=result or "upload-failed", hint="Run the same command again.")
        final = str(up.get("filename") or filename).replace("_", " ")
        ii = up.get("imageinfo") or {}
        return UploadResult(result, final, dict(up.get("warnings") or {}),
                            int(ii["pagecount"]) if ii.get("pagecount") else None)

    def _upload_chunks(self, path: Path, filename: str, size: int, chunk_size: int,
                       resume: tuple[str, int] | None, on_chunk: Callable[[str, int], None]) -> str:
        """Send the file into the stash chunk by chunk; returns the file key of the whole stashed file."""
        filekey: str | None = None
        offset = 0
        if resume is not None:
            filekey, offset = resume
            if offset >= size:
                return filekey  # the stash holds the whole file already: only the commit is left
            log.info("%s: resuming the upload of %s at byte %d of %d", self.name, filename, offset, size)
        # MediaWiki refuses non-final chunks under $wgMinUploadChunkSize (1024 bytes by default in 1.39).
        chunk_size = max(chunk_size, 1024)
        realigned = 0
        with open(path, "rb") as f:
            while True:
                f.seek(offset)
                chunk = f.read(chunk_size)
                last = offset + len(chunk) >= size
                params: dict[str, Any] = {"action": "upload", "filename": filename, "stash": "1", "token": ...,
                                          "filesize": str(size), "offset": str(offset), "ignorewarnings": "1"}
                if filekey and offset > 0:
                    params["filekey"] = filekey
                if last:
                    params["async"] = "1"  # Commons assembles big files in a job; the answer is then 'Poll'
                try:
                    data = self.post(files={"chunk": (filename, chunk)}, **params)
                except ApiError as e:
                    if e.code == "stashfailed" and "offset" in e.data and realigned < 3 and filekey:
                        # the wiki got a chunk whose answer was lost (a killed run): go on where the stash is
                        realigned += 1
                        offset = int(e.data["offset"])
                        log.info("%s: the stash of %s is at byte %d; going on from there", self.name, filename,
                                 offset)
                        continue
                    if resume is not None and offset > 0 and e.code in ("stashfailed", "missingresult",
                                                                          "stashnosuchfilekey", "badupload"):
                        log.warning("%s: the stashed part of %s is gone (%s); starting the upload again",
                                    self.name, filename, e.code)
                        resume, filekey, offset = None, None, 0
                        continue
                    raise
                up = data.get("upload", {})
                filekey = str(up.get("filekey") or filekey or "")
                result = up.get("result")
                if result == "Continue":
                    offset = int(up.get("offset", offset + len(chunk)))
                    on_chunk(filekey, offset)
                    log.debug("%s: uploaded %d of %d bytes of %s", self.name, offset, size, filename)
                    continue
                if result == "Poll":
                    data = self._poll(data, filekey, filename)
                    up = data.get("upload", {})
                    filekey = str(up.get("filekey") or filekey)
                    result = up.get("result")
                if result == "Success":
                    on_chunk(filekey, size)
                    return filekey
                raise ApiError(f"{self.name} stopped the upload of {filename} at byte {offset}.",
                               code=str(result or "upload-failed"), hint="Run the same command again.")

    def _poll(self, data: dict[str, Any], filekey: str, filename: str) -> dict[str, Any]:
        """Wait for an asynchronous step of an upload (assembly of the chunks, publishing from the stash)."""
        wait, waited = POLL_FIRST, 0.0
        while data.get("upload", {}).get("result") == "Poll":
            if waited > POLL_TOTAL:
                raise WikiError(f"{self.name} is still assembling {filename} after {POLL_TOTAL / 60:.0f} minutes.",
                                hint="The upload waits in the wiki's stash: run the same command again later.")
            log.debug("%s: %s: %s", self.name, filename, data["upload"].get("stage", "queued"))
            time.sleep(wait)
            waited += wait
            wait = min(POLL_MAX, wait * 2)
            data = self.post(action="upload", checkstatus="1", filekey=filekey, token=...)
        return data


def _retry_after(r: requests.Response) -> float | None:
    try:
        return min(MAX_WAIT, float(r.headers.get("Retry-After", "")))
    except ValueError:
        return None


def _warnings(data: Any) -> list[str]:
    w = data.get("warnings") if isinstance(data, dict) else None
    if not isinstance(w, dict):
        return []
    return [f"{mod}: {v.get('warnings') or v.get('*') or v}" for mod, v in w.items() if isinstance(v, dict)]


def connect(wiki: str, *, login: bool = False, throttle: float | None = None) -> Wiki:
    """Open `wiki` (a pywikibot `family:code` such as 'wikisource:fr', or an api.php URL) and check it answers.

    With `login`, log in with the stored bot password (AuthError: run `transcribe login --wiki ...`).
    `throttle`: seconds between edits (default: pywikibot's 10 s on real wikis, none on 127.0.0.1; 0 = none).
    """
    w = Wiki(resolve(wiki), throttle=throttle, wiki_arg=wiki)
    w._siteinfo()  # fail early, with a clear message, when the wiki cannot be reached
    if login:
        w.login_stored()
    return w
