"""pytest fixtures for a real MediaWiki made to look like a Wikisource (see tests/wikiserver.py).

tests/conftest.py imports them for every test module.

Fixtures
--------
``wiki_template_en`` / ``wiki_template_fr`` (session)
    Installed, stopped template wikis (install.php + users + MediaWiki: pages), about 1-2 s each, built once
    per session and only when a test asks for them. Never start or edit them: clone them.
``wiki_en`` / ``wiki_fr`` (function)
    A fresh, running copy of the template for one test (copy of the SQLite files + ``php -S`` on a new port,
    about 0.4 s). Attributes and methods (a ``tests.wikiserver.WikiServer``):

    - ``api_url``: ``http://127.0.0.1:PORT/api.php``; ``base_url``; ``lang`` ('en' / 'fr')
    - ``bot_user`` (``TranscribeBot@transcribe``, the BotPassword login name) and ``bot_password`` (its
      secret); ``bot_name`` (``TranscribeBot``, the name edits are recorded under; it is in group ``bot``)
    - ``human(name)`` -> a logged-in editor for ``Alice``, ``Bob`` (or ``Admin``):
      ``.edit(title, text, summary="")``, ``.set_page_quality("Page:X.pdf/3", 3)`` (keeps header/body/footer,
      writes ``<pagequality level="3" user="Alice" />``), ``.upload(path, filename)``
    - ``api(**params)`` (anonymous GET, formatversion 2) and ``page_text(title)`` for assertions
    - ``stop()`` / ``start()``: the wiki goes away and comes back on the same port
    Namespaces: en Page 104 / Index 106; fr Page 104 / Index 112 with the local name ``Livre``.
``commons`` (function)
    A fresh, running Commons-like wiki (flavour ``commons``): uploads, ``{{Book}}``, licence templates, the same
    bot (same BotPassword) and the same humans; chunked uploads are assembled asynchronously (the client polls).
``wiki_en_commons`` (function)
    A fresh en Wikisource that reads its files from ``commons`` (``$wgForeignFileRepos``, an API repository on
    the Commons wiki's api.php), the way Wikimedia wikis read Commons: ``File:X.pdf`` on it is the Commons file.
    Ask for both fixtures: ``def test_x(wiki_en_commons, commons)``. ``local_files()`` on either says which files
    a wiki holds itself; ``file_versions(name)``; ``drop_bot_password()`` revokes the bot's password there.
``wiki_en_shared`` (session)
    One running en wiki for tests that only read or that create pages under unique names: no per-test cost.
``fault_proxy`` (function)
    A factory: ``proxy = fault_proxy(wiki)`` is a ``FaultProxy`` in front of that wiki, closed after the test:
    ``proxy.api_url``, ``proxy.count``, ``proxy.calls(action="edit")``, ``proxy.reset()``,
    ``proxy.drop_after(n, times=None)``, ``proxy.fail_after(n, status=503, times=None)``, ``proxy.heal()``.
``transcribe_config`` (function)
    A temporary ``TRANSCRIBE_CONFIG_DIR`` (stored logins, pywikibot's own folder) for the test.
``bot_login`` (function)
    A factory: ``bot_login(wiki)`` stores the bot's BotPassword for ``wiki.api_url`` in ``transcribe_config``,
    so that ``connect(wiki.api_url, login=True)`` and ``transcribe publish --wiki URL`` work.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import wikiserver
from wikiserver import FaultProxy, WikiServer

__all__ = [
    "bot_login",
    "commons",
    "fault_proxy",
    "transcribe_config",
    "wiki_en",
    "wiki_en_commons",
    "wiki_en_shared",
    "wiki_fr",
    "wiki_template_commons",
    "wiki_template_en",
    "wiki_template_fr",
]


def _template(tmp_path_factory: pytest.TempPathFactory, flavour: str) -> Iterator[WikiServer]:
    t = time.monotonic()
    tpl = wikiserver.install_template(tmp_path_factory.mktemp(f"wiki-template-{flavour}"), flavour)
    wikiserver.timings.install[flavour] = time.monotonic() - t
    yield tpl
    wikiserver.stop_all()


@pytest.fixture(scope="session")
def wiki_template_en(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WikiServer]:
    yield from _template(tmp_path_factory, "en")


@pytest.fixture(scope="session")
def wiki_template_fr(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WikiServer]:
    yield from _template(tmp_path_factory, "fr")


@pytest.fixture(scope="session")
def wiki_template_commons(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WikiServer]:
    yield from _template(tmp_path_factory, "commons")


def _fresh(template: WikiServer, root: Path, files_from: WikiServer | None = None) -> Iterator[WikiServer]:
    t = time.monotonic()
    wiki = template.clone(root, files_from=files_from)
    wiki.start()
    wikiserver.timings.fresh.append(time.monotonic() - t)
    try:
        yield wiki
    finally:
        wiki.stop()


@pytest.fixture
def wiki_en(wiki_template_en: WikiServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[WikiServer]:
    yield from _fresh(wiki_template_en, tmp_path_factory.mktemp("wiki-en"))


@pytest.fixture
def wiki_fr(wiki_template_fr: WikiServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[WikiServer]:
    yield from _fresh(wiki_template_fr, tmp_path_factory.mktemp("wiki-fr"))


@pytest.fixture
def commons(wiki_template_commons: WikiServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[WikiServer]:
    yield from _fresh(wiki_template_commons, tmp_path_factory.mktemp("commons"))


@pytest.fixture
def wiki_en_commons(wiki_template_en: WikiServer, commons: WikiServer,
                    tmp_path_factory: pytest.TempPathFactory) -> Iterator[WikiServer]:
    yield from _fresh(wiki_template_en, tmp_path_factory.mktemp("wiki-en-commons"), files_from=commons)


@pytest.fixture(scope="session")
def wiki_en_shared(wiki_template_en: WikiServer,
                   tmp_path_factory: pytest.TempPathFactory) -> Iterator[WikiServer]:
    yield from _fresh(wiki_template_en, tmp_path_factory.mktemp("wiki-en-shared"))


@pytest.fixture
def fault_proxy() -> Iterator[Callable[[WikiServer], FaultProxy]]:
    proxies: list[FaultProxy] = []

    def make(wiki: WikiServer) -> FaultProxy:
        p = FaultProxy(wiki.base_url)
        proxies.append(p)
        return p

    yield make
    for p in proxies:
        p.close()


@pytest.fixture
def transcribe_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    d = tmp_path / "transcribe-config"
    monkeypatch.setenv("TRANSCRIBE_CONFIG_DIR", str(d))
    monkeypatch.delenv("TRANSCRIBE_BOT_PASSWORD", raising=False)
    return d


@pytest.fixture
def bot_login(transcribe_config: Path) -> Callable[[WikiServer], None]:
    def store(wiki: WikiServer) -> None:
        from transcribe.wiki.credentials import save_bot_password

        save_bot_password(wiki.api_url, wiki.bot_user, wiki.bot_password)

    return store
