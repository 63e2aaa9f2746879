"""A real MediaWiki for the tests, made to look like a Wikisource, and a fault-injecting proxy in front of it.

Debian 12's `mediawiki` package (1.39) is installed read-only under /usr/share/mediawiki. Each wiki here is a
folder of its own: `LocalSettings.php` (found through the `MW_CONFIG_FILE` environment variable, which 1.39 reads
in `wfDetectLocalSettingsFile`), the SQLite files, an `images/` folder and a router for `php -S`. Nothing under
/etc/mediawiki or /var/lib/mediawiki is touched.

Set-up is paid once per test session and flavour: `install_template()` runs `install.php` and a small PHP
maintenance script (users, BotPassword, MediaWiki: pages) into a template folder; `WikiServer.clone()` copies that
folder (about 1 MB of SQLite) for a fresh wiki and starts `php -S` on a free port.

Flavours:
- ``en``: like en.wikisource: Page 104 / Index 106 (talk 105 / 107), content language en.
- ``fr``: like fr.wikisource: Page 104 / Index 112 whose local name is `Livre` (canonical `Index`, so `Index:X`
  is normalised to `Livre:X`), content language fr.
- ``commons``: like Wikimedia Commons: uploads, PDF/DjVu page counts, `{{Book}}` with Commons' parameters, licence
  templates (`PD-old-70`, `PD-scan`, `CC-BY-SA-4.0`...), asynchronous assembly of chunked uploads, the same bot
  (same BotPassword) and the same two humans. No Page/Index namespaces.

A Wikisource clone can read its files from a running Commons clone (`clone(..., files_from=commons)`), the way
Wikimedia wikis read Commons: `$wgForeignFileRepos` with a `ForeignAPIRepo` on the Commons wiki's api.php. Why the
API repository and not `ForeignDBRepo` on the Commons SQLite file: MediaWiki 1.39's `ForeignDBRepo::getDBFactory`
passes only host/user/password/dbname to `Database::factory`, and `DatabaseSqlite` needs `dbDirectory` or
`dbFilePath` to find a file, so a database repository cannot open an SQLite wiki without patching MediaWiki. The
API repository needs the Commons server running while the Wikisource serves: each is its own `php -S` process.

The ProofreadPage extension itself is not installed (it is not packaged for Debian): Page: text is plain wikitext
and `meta=proofreadinfo` is unknown, as /work/shared/PROOFREADPAGE.md's "Testing" section describes.
"""

from __future__ import annotations

import atexit
import http.client
import json
import os
import shutil
import signal
import socket
import socketserver
import subprocess
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any, Self

import requests

MW_DIR = Path(os.environ.get("TRANSCRIBE_TEST_MW_DIR", "/usr/share/mediawiki"))
PHP = os.environ.get("TRANSCRIBE_TEST_PHP", "php")

ADMIN = "Admin"
ADMIN_PASSWORD = "transcribe-admin-password-1"
BOT_USER = "TranscribeBot"
BOT_APP = "transcribe"
# BotPassword secrets must match ^[0-9a-w]{32,}$ (see PROOFREADPAGE.md); createBotPassword.php wants exactly 32.
BOT_SECRET = "transcribebot0secret0for0tests00"
BOT_GRANTS = "basic,highvolume,editpage,createeditmovepage,uploadfile,uploadeditmovefile"
BOT_MAIN_PASSWORD = "transcribe-bot-main-password-1"
HUMANS = {"Alice": "alice-proofreads-1900", "Bob": "bob-validates-1900"}

# -- configuration ------------------------------------------------------------------------------------------

INDEX_FIELDS = {
    "en": {
        "Type": {"type": "string", "values": {"book": "Book", "journal": "Journal"}, "default": "book",
                 "label": "Type of work"},
        "Title": {"label": "Title", "data": "title", "type": "string"},
        "Language": {"label": "Language", "data": "language", "type": "langcode", "default": "en"},
        "Volume": {"label": "Volume", "type": "string"},
        "Author": {"label": "Author", "data": "author", "type": "string"},
        "Translator": {"label": "Translator", "data": "translator", "type": "string"},
        "Editor": {"label": "Editor", "type": "string"},
        "Year": {"label": "Year of publication", "data": "year", "type": "number"},
        "Publisher": {"label": "Publisher", "data": "publisher", "type": "string"},
        "Address": {"label": "Location", "data": "place", "type": "string"},
        "Source": {"label": "Source", "type": "string", "values": {"djvu": "DjVu", "pdf": "PDF", "scan": "Scan"}},
        "Image": {"label": "Image", "type": "page"},
        "Progress": {"label": "Progress", "data": "progress", "type": "string",
                     "values": {"T": "Done", "V": "To be validated", "C": "To be proofread",
                                "MS": "Ready for Match & Split", "OCR": "Source file needs an OCR text layer",
                                "L": "Source file is incorrect", "X": "Pagelist needed"},
                     "default": "X"},
        "Pages": {"label": "Pages", "data": "pagelist", "type": "string"},
        "Remarks": {"label": "Remarks", "type": "string"},
        "Transclusion": {"label": "Transclusion", "type": "string", "values": {"yes": "Yes", "no": "No"}},
        "Validation_date": {"label": "Validation date", "type": "string"},
        "Header": {"label": "Header", "header": True, "type": "string"},
        "Footer": {"label": "Footer", "footer": True, "type": "string"},
        "Css": {"label": "CSS", "css": True, "type": "string"},
    },
    "fr": {
        "Type": {"label": "Type", "type": "string", "values": {"book": "Livre", "journal": "Périodique"},
                 "default": "book"},
        "Titre": {"label": "Titre", "data": "title", "type": "string"},
        "Sous_titre": {"label": "Sous-titre", "type": "string"},
        "Volume": {"label": "Volume", "type": "string"},
        "Auteur": {"label": "Auteur", "data": "author", "type": "string"},
        "Traducteur": {"label": "Traducteur", "data": "translator", "type": "string"},
        "Editeur": {"label": "Maison d’édition", "data": "publisher", "type": "string"},
        "Lieu": {"label": "Lieu d’édition", "data": "place", "type": "string"},
        "Annee": {"label": "Année d’édition", "data": "year", "type": "number"},
        "Publication": {"label": "Publication originale", "type": "string"},
        "Bibliotheque": {"label": "Bibliothèque", "type": "string"},
        "Source": {"label": "Fac-similés", "type": "string",
                   "values": {"djvu": "djvu", "pdf": "pdf", "scan": "scan"}},
        "Image": {"label": "Image", "type": "page"},
        "Avancement": {"label": "Avancement", "data": "progress", "type": "string",
                       "values": {"T": "Terminé", "V": "À valider", "C": "À corriger", "MS": "À découper",
                                  "OCR": "Pas de couche texte", "X": "Fac-similés à vérifier",
                                  "L": "Fac-similés incomplets"},
                       "default": "OCR"},
        "Pages": {"label": "Pages", "data": "pagelist", "type": "string"},
        "Remarques": {"label": "Remarques", "type": "string"},
        "Header": {"label": "En-tête", "header": True, "type": "string"},
        "Footer": {"label": "Pied de page", "footer": True, "type": "string"},
        "Css": {"label": "CSS", "css": True, "type": "string"},
    },
}

INDEX_TEMPLATE = """{| class="transcribe-index"
|-
! {{{Title|{{{Titre|}}}}}}
|-
| {{{Author|{{{Auteur|}}}}}} {{{Year|{{{Annee|}}}}}}
|-
| {{{Pages|}}}
|}
"""

# Commons' {{Book}} (Template:Book on commons.wikimedia.org, its documented parameters; the real one is a Lua
# module): a table of what is given, so a test can read what the file page shows.
BOOK_PARAMS = ("Author", "Translator", "Editor", "Illustrator", "Title", "Subtitle", "Series title", "Volume",
               "Edition", "Publisher", "Printer", "Date", "Publication date", "City", "Language", "Description",
               "Source", "Permission", "Institution", "Image", "Image page", "Pageoverview", "Wikisource", "Homecat",
               "Other_versions", "ISBN", "LCCN", "OCLC", "References", "Linkback", "Wikidata")
LICENCES = {
    "PD-old-70": "Public domain: the author died more than 70 years ago.",
    "PD-old-100": "Public domain: the author died more than 100 years ago.",
    "PD-scan": "Public domain scan of a public domain work.",
    "PD-US-expired": "Public domain in the United States.",
    "CC-BY-SA-4.0": "Creative Commons Attribution-ShareAlike 4.0.",
    "CC-BY-4.0": "Creative Commons Attribution 4.0.",
    "CC0": "Creative Commons Zero.",
}
COMMONS_PAGES = [
    # ParserFunctions is not loaded ({{#if:}} needs it), so this Book shows one row per parameter
    {"title": "Template:Book", "text": "{| class=\"transcribe-book\"\n" + "".join(
        f"|-\n! {p}\n| {{{{{{{p}|}}}}}}\n" for p in BOOK_PARAMS) + "|}"},
    *({"title": f"Template:{name}", "text": f"<div class=\"licence\">{text}</div>[[Category:{name}]]"}
      for name, text in LICENCES.items()),
    {"title": "Template:Uncategorized", "text": "This file is not categorized.[[Category:Uncategorized]]"},
]

FLAVOURS: dict[str, dict[str, Any]] = {
    "en": {
        "lang": "en",
        "sitename": "Test Wikisource",
        "namespaces": {104: "Page", 105: "Page_talk", 106: "Index", 107: "Index_talk"},
        "local_names": {},
    },
    "fr": {
        "lang": "fr",
        "sitename": "Wikisource test",
        # canonical names, as ProofreadPage registers them; the local names below are what fr.wikisource shows
        "namespaces": {104: "Page", 105: "Page_talk", 112: "Index", 113: "Index_talk"},
        "local_names": {104: "Page", 105: "Discussion_Page", 112: "Livre", 113: "Discussion_Livre"},
    },
    "commons": {
        "lang": "en",
        "sitename": "Test Commons",
        "namespaces": {},
        "local_names": {},
    },
}

LOCAL_SETTINGS = r"""<?php
// Written by tests/wikiserver.py for one test wiki. Do not edit: it is rewritten for every copy.
if ( !defined( 'MEDIAWIKI' ) ) { exit; }
require_once "$IP/includes/PlatformSettings.php";
$T = @DIR@;
$wgSitename = @SITENAME@;
$wgMetaNamespace = 'Project';
$wgServer = @SERVER@;
$wgScriptPath = '';
$wgArticlePath = '/index.php/$1';
$wgResourceBasePath = $wgScriptPath;
$wgLanguageCode = @LANG@;
$wgLocaltimezone = 'UTC';
$wgSecretKey = 'b2c1e5d0f4a39e8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b';
$wgAuthenticationTokenVersion = '1';
$wgDBtype = 'sqlite';
$wgDBname = 'wiki';
$wgDBserver = ''; $wgDBuser = ''; $wgDBpassword = '';
$wgSQLiteDataDir = "$T/db";
$wgObjectCaches[CACHE_DB] = [
	'class' => SqlBagOStuff::class, 'loggroup' => 'SQLBagOStuff',
	'server' => [ 'type' => 'sqlite', 'dbname' => 'wikicache', 'tablePrefix' => '',
		'variables' => [ 'synchronous' => 'NORMAL' ], 'dbDirectory' => $wgSQLiteDataDir,
		'trxMode' => 'IMMEDIATE', 'flags' => 0 ],
];
$wgLocalisationCacheConf['storeServer'] = [ 'type' => 'sqlite', 'dbname' => "{$wgDBname}_l10n_cache",
	'tablePrefix' => '', 'variables' => [ 'synchronous' => 'NORMAL' ], 'dbDirectory' => $wgSQLiteDataDir,
	'trxMode' => 'IMMEDIATE', 'flags' => 0 ];
$wgJobTypeConf['default'] = [ 'class' => 'JobQueueDB', 'claimTTL' => 3600,
	'server' => [ 'type' => 'sqlite', 'dbname' => "{$wgDBname}_jobqueue", 'tablePrefix' => '',
		'variables' => [ 'synchronous' => 'NORMAL' ], 'dbDirectory' => $wgSQLiteDataDir,
		'trxMode' => 'IMMEDIATE', 'flags' => 0 ] ];
$wgSharedTables[] = 'actor';
$wgMainCacheType = CACHE_NONE;
$wgSessionCacheType = CACHE_DB;
$wgParserCacheType = CACHE_NONE;
$wgMemCachedServers = [];
$wgCacheDirectory = "$T/cache";
$wgTmpDirectory = "$T/tmp";
$wgEnableEmail = false;
$wgPingback = false;
$wgUseInstantCommons = false;
$wgDefaultSkin = 'vector';
wfLoadSkin( 'Vector' );
$wgShowExceptionDetails = true;
$wgDiff3 = '/usr/bin/diff3';
// Jobs are not needed by what the tests read; running them at the end of requests only slows the tests down.
$wgJobRunRate = 0;

// -- like a Wikisource: the Page and Index namespaces at the wiki's own ids -----------------------------------
$wgExtraNamespaces = @EXTRA_NS@;
$wgContentNamespaces[] = 0;
$transcribeLocalNames = @LOCAL_NS@;
// Local names that differ from the canonical ones (fr: Index -> Livre). $wgExtraNamespaces would win over
// localisation in 1.39's Language::getNamespaces, so the canonical names come from the hook, the local ones here.
$wgHooks['LanguageGetNamespaces'][] = static function ( array &$names ) use ( $transcribeLocalNames ) {
	foreach ( $transcribeLocalNames as $id => $name ) { $names[$id] = $name; }
};

// -- uploads, PDF and DjVu page counts ----------------------------------------------------------------------
$wgEnableUploads = true;
$wgUploadDirectory = "$T/images";
$wgUploadPath = '/images';
$wgFileExtensions = [ 'png', 'gif', 'jpg', 'jpeg', 'webp', 'tif', 'tiff', 'pdf', 'djvu', 'svg' ];
$wgMaxUploadSize = 200 * 1024 * 1024;
$wgUseImageMagick = true;
$wgImageMagickConvertCommand = '/usr/bin/convert';
$wgHashedUploadDirectory = true;
// Render thumbnails (ghostscript for PDF pages) when they are asked for, through thumb.php, not at upload time:
// the file description page is parsed on upload and would render one (about a second per upload).
$wgGenerateThumbnailOnParse = false;
$wgThumbnailScriptPath = '/thumb.php';
wfLoadExtension( 'PdfHandler' );
$wgPdfProcessor = '/usr/bin/gs';
$wgPdfPostProcessor = $wgImageMagickConvertCommand;
$wgPdfInfo = '/usr/bin/pdfinfo';
$wgPdftoText = '/usr/bin/pdftotext';
$wgDjvuDump = '/usr/bin/djvudump';
$wgDjvuRenderer = '/usr/bin/ddjvu';
$wgDjvuTxt = '/usr/bin/djvutxt';
$wgDjvuPostProcessor = null;
$wgDjvuOutputExtension = 'ppm';

// -- no throttles: tests edit fast ----------------------------------------------------------------------------
$wgRateLimits = [];
$wgPasswordAttemptThrottle = [];
$wgAccountCreationThrottle = 0;
$wgGroupPermissions['user']['noratelimit'] = true;
$wgGroupPermissions['*']['noratelimit'] = true;
$wgEnableBotPasswords = true;
$wgAPIMaxLagThreshold = 7;
$wgPasswordPolicy['policies']['default']['PasswordNotInCommonList'] = false;
@EXTRA@
"""

# Like Commons: chunked uploads are assembled by a job, and the client polls (`checkstatus`) until it is done.
# The jobs are run by a job runner beside the server (`runJobs.php --wait`, as Wikimedia's runners do): 1.39
# never runs an AssembleUploadChunks job at the end of a request, so without it an assembly would wait for ever.
COMMONS_SETTINGS = r"""
$wgEnableAsyncUploads = true;
"""

# A Wikisource reading its files from the Commons-like wiki, as Wikimedia wikis read Commons. No cache expiry:
# a test uploads to Commons and reads the file through the Wikisource a moment later.
FOREIGN_REPO_SETTINGS = r"""
$wgForeignFileRepos[] = [
	'class' => ForeignAPIRepo::class,
	'name' => 'shared',
	'apibase' => @COMMONS_API@,
	'url' => @COMMONS_IMAGES@,
	'hashLevels' => 2,
	'fetchDescription' => true,
	'descriptionCacheExpiry' => 0,
	'apiThumbCacheExpiry' => 0,
	'apiMetadataExpiry' => 0,
];
"""

ROUTER = r"""<?php
// Router for `php -S`: serve uploaded files from this wiki's own images folder, everything else from MediaWiki.
$path = urldecode( parse_url( $_SERVER['REQUEST_URI'], PHP_URL_PATH ) );
if ( strncmp( $path, '/images/', 8 ) === 0 ) {
	$file = @DIR@ . '/images/' . substr( $path, 8 );
	if ( strpos( $path, '..' ) === false && is_file( $file ) ) {
		header( 'Content-Type: ' . ( mime_content_type( $file ) ?: 'application/octet-stream' ) );
		readfile( $file );
		return true;
	}
	http_response_code( 404 );
	return true;
}
if ( $path === '/' ) { $_SERVER['SCRIPT_NAME'] = '/index.php'; require 'index.php'; return true; }
return false;
"""

SETUP_SCRIPT = r"""<?php
// One PHP start instead of ten: users, the bot's BotPassword and the MediaWiki: pages of a test Wikisource.
require_once getenv( 'MW_INSTALL_PATH' ) . '/maintenance/Maintenance.php';
use MediaWiki\MediaWikiServices;

class TranscribeTestSetup extends Maintenance {
	public function __construct() {
		parent::__construct();
		$this->addArg( 'spec', 'JSON file with users, bot password and pages' );
	}

	public function execute() {
		$spec = json_decode( file_get_contents( $this->getArg( 0 ) ), true );
		$IP = getenv( 'MW_INSTALL_PATH' );
		foreach ( $spec['users'] as $u ) {
			$child = $this->runChild( 'CreateAndPromote', "$IP/maintenance/createAndPromote.php" );
			$opts = [];
			foreach ( $u['groups'] as $g ) { $opts[$g] = true; }
			$child->loadParamsAndArgs( 'createAndPromote', $opts, [ $u['name'], $u['password'] ] );
			$child->execute();
		}
		$bp = $spec['botpassword'];
		$child = $this->runChild( 'CreateBotPassword', "$IP/maintenance/createBotPassword.php" );
		$child->loadParamsAndArgs( 'createBotPassword',
			[ 'appid' => $bp['app'], 'grants' => $bp['grants'] ], [ $bp['user'], $bp['secret'] ] );
		$child->execute();
		$services = MediaWikiServices::getInstance();
		$admin = $services->getUserFactory()->newFromName( $spec['admin'] );
		foreach ( $spec['pages'] as $p ) {
			$title = Title::newFromText( $p['title'] );
			$page = $services->getWikiPageFactory()->newFromTitle( $title );
			$content = ContentHandler::makeContent( $p['text'], $title, $p['model'] ?? null );
			$status = $page->doUserEditContent( $content, $admin, 'test wiki set-up' );
			if ( !$status->isOK() ) { $this->fatalError( $status->getWikiText() ); }
		}
		$this->output( "transcribe-setup-ok\n" );
	}
}

$maintClass = TranscribeTestSetup::class;
require_once RUN_MAINTENANCE_IF_MAIN;
"""


def _php_str(s: str) -> str:
    return "'" + s.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _php_array(d: dict[int, str]) -> str:
    return "[ " + ", ".join(f"{k} => {_php_str(v)}" for k, v in d.items()) + " ]"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _write_config(root: Path, flavour: str, port: int, files_from: str | None = None) -> None:
    """`files_from`: the base URL of a Commons-like wiki this one reads its files from (a foreign repository)."""
    f = FLAVOURS[flavour]
    extra = COMMONS_SETTINGS if flavour == "commons" else ""
    if files_from:
        extra += (FOREIGN_REPO_SETTINGS.replace("@COMMONS_API@", _php_str(f"{files_from}/api.php"))
                  .replace("@COMMONS_IMAGES@", _php_str(f"{files_from}/images")))
    text = (
        LOCAL_SETTINGS.replace("@DIR@", _php_str(str(root)))
        .replace("@SITENAME@", _php_str(f["sitename"]))
        .replace("@SERVER@", _php_str(f"http://127.0.0.1:{port}"))
        .replace("@LANG@", _php_str(f["lang"]))
        .replace("@EXTRA_NS@", _php_array(f["namespaces"]))
        .replace("@LOCAL_NS@", _php_array(f["local_names"]))
        .replace("@EXTRA@", extra)
    )
    (root / "LocalSettings.php").write_text(text, encoding="utf-8")
    (root / "router.php").write_text(ROUTER.replace("@DIR@", _php_str(str(root))), encoding="utf-8")
    for sub in ("images", "cache", "tmp"):
        (root / sub).mkdir(exist_ok=True)


def _env(root: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["MW_CONFIG_FILE"] = str(root / "LocalSettings.php")
    env["MW_INSTALL_PATH"] = str(MW_DIR)
    return env


def _run_php(root: Path, args: list[str], what: str) -> str:
    r = subprocess.run([PHP, *args], cwd=MW_DIR, env=_env(root), capture_output=True, text=True, timeout=300,
                       check=False)
    if r.returncode != 0:
        raise RuntimeError(f"{what} failed ({r.returncode}):\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}")
    return r.stdout


def install_template(root: Path, flavour: str) -> WikiServer:
    """Install a fresh test wiki of `flavour` ('en', 'fr' or 'commons') into `root` (not started). About 2-3 s."""
    if flavour not in FLAVOURS:
        raise ValueError(f"unknown flavour {flavour!r}")
    root.mkdir(parents=True, exist_ok=True)
    (root / "db").mkdir(exist_ok=True)
    gen = root / "installer-output"
    gen.mkdir(exist_ok=True)
    port = free_port()
    # install.php writes its own LocalSettings.php into --confpath; ours (MW_CONFIG_FILE) must not exist yet,
    # else the installer refuses. It is written right after.
    env_root = root / "installer-output"
    _run_php(env_root, [
        "maintenance/install.php", "--dbtype", "sqlite", "--dbpath", str(root / "db"), "--dbname", "wiki",
        "--confpath", str(gen), "--server", f"http://127.0.0.1:{port}", "--scriptpath", "",
        "--lang", FLAVOURS[flavour]["lang"], "--pass", ADMIN_PASSWORD, "--skins", "Vector",
        FLAVOURS[flavour]["sitename"], ADMIN,
    ], "install.php")
    shutil.rmtree(gen)
    _write_config(root, flavour, port)
    spec = {
        "admin": ADMIN,
        "users": [
            {"name": BOT_USER, "password": BOT_MAIN_PASSWORD, "groups": ["bot"]},
            *({"name": n, "password": p, "groups": []} for n, p in HUMANS.items()),
        ],
        "botpassword": {"user": BOT_USER, "app": BOT_APP, "secret": BOT_SECRET, "grants": BOT_GRANTS},
        "pages": COMMONS_PAGES if flavour == "commons" else [
            {"title": "MediaWiki:Proofreadpage_index_data_config",
             "text": json.dumps(INDEX_FIELDS[flavour], ensure_ascii=False, indent=1), "model": "json"},
            {"title": "MediaWiki:Proofreadpage_index_template", "text": INDEX_TEMPLATE},
        ],
    }
    spec_file = root / "tmp" / "setup.json"
    spec_file.write_text(json.dumps(spec), encoding="utf-8")
    script = root / "tmp" / "transcribe_setup.php"
    script.write_text(SETUP_SCRIPT, encoding="utf-8")
    out = _run_php(root, [str(script), str(spec_file)], "test wiki set-up")
    if "transcribe-setup-ok" not in out:
        raise RuntimeError(f"test wiki set-up did not finish:\n{out[-3000:]}")
    if flavour == "commons":  # the set-up's own jobs (link tables of the templates), so copies start with none
        _run_php(root, ["maintenance/runJobs.php", "--quiet"], "runJobs.php")
    spec_file.unlink()
    script.unlink()
    opcache = root.parent / "php-opcache"
    opcache.mkdir(exist_ok=True)
    return WikiServer(root, flavour, port, opcache_dir=opcache)


# -- a running wiki ---------------------------------------------------------------------------------------------

_RUNNING: set[WikiServer] = set()


def stop_all() -> None:
    """Stop every wiki this process started (the fixtures call it at session end; so does atexit)."""
    for w in list(_RUNNING):
        w.stop()


atexit.register(stop_all)


try:  # resolved here, not in the forked child: importing between fork and exec can deadlock
    import ctypes

    _prctl = ctypes.CDLL("libc.so.6", use_errno=True).prctl
except (OSError, AttributeError):
    _prctl = None


def _die_with_parent() -> None:
    """In the child before exec: SIGTERM when the test process dies, even by SIGKILL (Linux PR_SET_PDEATHSIG = 1),
    so that no server outlives pytest. Only a C call: safe between fork and exec."""
    if _prctl is not None:
        _prctl(1, signal.SIGTERM)


class WikiServer:
    """One test wiki in its own folder. `start()` serves it on 127.0.0.1; `stop()` stops it (both idempotent)."""

    def __init__(self, root: Path, flavour: str, port: int, *, opcache_dir: Path | None = None,
                 files_from: WikiServer | None = None) -> None:
        self.root = Path(root)
        self.flavour = flavour
        self.port = port
        self.files_from = files_from  # the Commons-like wiki this one reads its files from
        # PHP's compiled-script cache on disk, shared by the copies of a template: halves the start-up time.
        self.opcache_dir = opcache_dir
        self._proc: subprocess.Popen[bytes] | None = None
        self._jobs: subprocess.Popen[bytes] | None = None  # the job runner of a Commons-like wiki

    # what tests use
    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/api.php"

    bot_user = f"{BOT_USER}@{BOT_APP}"  # the BotPassword login name
    bot_password = BOT_SECRET
    bot_name = BOT_USER  # the name edits are recorded under
    humans = tuple(HUMANS)

    @property
    def lang(self) -> str:
        return str(FLAVOURS[self.flavour]["lang"])

    def human(self, name: str) -> Human:
        """A logged-in human editor (`Alice`, `Bob` or `Admin`) on this wiki."""
        password = ADMIN_PASSWORD if name == ADMIN else HUMANS[name]
        return Human(self.api_url, name, password)

    def clone(self, root: Path, *, port: int | None = None, files_from: WikiServer | None = None) -> WikiServer:
        """A fresh copy of this (stopped) wiki in `root`, on a new port. Milliseconds, not seconds.

        `files_from`: a (running) Commons-like wiki whose files this one shows, as a foreign file repository.
        """
        root = Path(root)
        root.mkdir(parents=True, exist_ok=True)
        shutil.copytree(self.root / "db", root / "db", ignore=shutil.ignore_patterns("locks"))
        shutil.copytree(self.root / "images", root / "images", dirs_exist_ok=True)
        port = port or free_port()
        _write_config(root, self.flavour, port, files_from.base_url if files_from else None)
        return WikiServer(root, self.flavour, port, opcache_dir=self.opcache_dir, files_from=files_from)

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def start(self, timeout: float = 30) -> None:
        if self.running:
            return
        env = _env(self.root)
        # Two workers so that a test can read while another request is in flight (PHP >= 7.4).
        env["PHP_CLI_SERVER_WORKERS"] = "2"
        with open(self.root / "server.log", "ab") as log:
            self._spawn(env, log, timeout)
            if self.flavour == "commons":
                self._jobs = subprocess.Popen(
                    # only this type: 1.39 keeps AssembleUploadChunks out of the default queue
                    # ($wgJobTypesExcludedFromDefaultQueue), and publish commits from the stash synchronously
                    [PHP, "maintenance/runJobs.php", "--wait", "--quiet", "--type", "AssembleUploadChunks"],
                    cwd=MW_DIR, env=_env(self.root),
                    stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                    preexec_fn=_die_with_parent)  # noqa: PLW1509 - a single C call, see _die_with_parent

    def _spawn(self, env: dict[str, str], log: Any, timeout: float) -> None:
        opcache = ["-d", f"opcache.file_cache={self.opcache_dir}"] if self.opcache_dir else []
        for attempt in range(3):
            self._proc = subprocess.Popen(
                [PHP, *opcache, "-d", "opcache.enable_cli=1", "-d", "upload_max_filesize=200M", "-d", "post_max_size=210M",
                 "-d", "memory_limit=512M", "-d", "variables_order=EGPCS",
                 "-S", f"127.0.0.1:{self.port}", "-t", str(MW_DIR), str(self.root / "router.php")],
                cwd=MW_DIR, env=env, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: stop() ends php and its workers together
                preexec_fn=_die_with_parent,  # noqa: PLW1509 - a single C call, see _die_with_parent
            )
            _RUNNING.add(self)
            try:
                self._wait_ready(timeout)
                break
            except OSError:
                # the port was taken between free_port() and bind: take another one
                self.stop()
                if attempt == 2:
                    raise
                self.port = free_port()
                _write_config(self.root, self.flavour, self.port,
                              self.files_from.base_url if self.files_from else None)

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        last: Exception | None = None
        while time.monotonic() < deadline:
            if self._proc is not None and self._proc.poll() is not None:
                raise OSError(f"php -S exited with {self._proc.returncode}; see {self.root / 'server.log'}")
            try:
                r = requests.get(self.api_url, params={"action": "query", "meta": "siteinfo", "format": "json"},
                                 timeout=10)
                if r.status_code == 200 and "query" in r.json():
                    return
                last = RuntimeError(f"HTTP {r.status_code}: {r.text[:500]}")
            except (requests.RequestException, ValueError) as e:
                last = e
            time.sleep(0.05)
        raise RuntimeError(f"test wiki at {self.api_url} did not answer in {timeout} s: {last}")

    def stop(self) -> None:
        jobs, self._jobs = self._jobs, None
        if jobs is not None and jobs.poll() is None:
            os.killpg(jobs.pid, signal.SIGKILL)  # a job runner holds nothing that a kill could damage
            jobs.wait(timeout=5)
        proc, self._proc = self._proc, None
        _RUNNING.discard(self)
        if proc is None or proc.poll() is not None:
            return
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"WikiServer({self.flavour}, {self.api_url}, {'running' if self.running else 'stopped'})"

    # conveniences for assertions
    def api(self, **params: Any) -> dict[str, Any]:
        """An anonymous GET of the action API (for assertions: what does the wiki say now?)."""
        params.setdefault("format", "json")
        params.setdefault("formatversion", "2")
        r = requests.get(self.api_url, params=params, timeout=30)
        r.raise_for_status()
        return dict(r.json())

    def page_text(self, title: str) -> str | None:
        """The current wikitext of `title`, or None when the page does not exist."""
        data = self.api(action="query", prop="revisions", rvprop="content", rvslots="main", titles=title)
        page = data["query"]["pages"][0]
        if page.get("missing"):
            return None
        return str(page["revisions"][0]["slots"]["main"]["content"])


    def local_files(self) -> list[str]:
        """Names of the files this wiki itself holds (its `image` table): a Wikisource reading Commons has none."""
        import sqlite3

        with sqlite3.connect(self.root / "db" / "wiki.sqlite") as db:
            return sorted(str(r[0]).replace("_", " ") for r in db.execute("SELECT img_name FROM image"))

    def file_versions(self, name: str) -> list[dict[str, Any]]:
        """Every version of `File:<name>` on this wiki (sha1, size, user), newest first."""
        data = self.api(action="query", prop="imageinfo", iiprop="sha1|size|user|url", iilimit="max",
                        titles=f"File:{name}")
        return list(data["query"]["pages"][0].get("imageinfo", []))

    def drop_bot_password(self) -> None:
        """Delete the bot's BotPassword on this wiki (as if it was revoked): its login is refused from now on."""
        import sqlite3

        with sqlite3.connect(self.root / "db" / "wiki.sqlite") as db:
            db.execute("DELETE FROM bot_passwords")


class Human:
    """A person editing the wiki through the API (logged in with their main password via clientlogin)."""

    def __init__(self, api_url: str, name: str, password: str) -> None:
        self.api_url = api_url
        self.name = name
        self.session = requests.Session()
        token = self._get(action="query", meta="tokens", type="login")["query"]["tokens"]["logintoken"]
        r = self._post(action="clientlogin", username=name, password=password, logintoken=token,
                       loginreturnurl="http://127.0.0.1/")
        if r.get("clientlogin", {}).get("status") != "PASS":
            raise RuntimeError(f"{name} could not log in: {r}")
        self._csrf: str | None = None

    def _get(self, **params: Any) -> dict[str, Any]:
        params.update(format="json", formatversion="2")
        r = self.session.get(self.api_url, params=params, timeout=60)
        r.raise_for_status()
        return dict(r.json())

    def _post(self, files: dict[str, Any] | None = None, **params: Any) -> dict[str, Any]:
        params.update(format="json", formatversion="2")
        r = self.session.post(self.api_url, data=params, files=files, timeout=120)
        r.raise_for_status()
        return dict(r.json())

    def csrf(self) -> str:
        if self._csrf is None:
            self._csrf = self._get(action="query", meta="tokens")["query"]["tokens"]["csrftoken"]
        return self._csrf

    def edit(self, title: str, text: str, summary: str = "", **extra: Any) -> dict[str, Any]:
        """Save `text` as `title`; returns the API's `edit` result (`newrevid`...). Raises on an API error."""
        r = self._post(action="edit", title=title, text=text, summary=summary, token=self.csrf(), **extra)
        if "error" in r:
            raise RuntimeError(f"{self.name} could not edit {title}: {r['error']}")
        return dict(r["edit"])

    def set_page_quality(self, title: str, level: int, body: str | None = None) -> dict[str, Any]:
        """Save a Page: page at `level` as this person, the way the ProofreadPage editor would.

        Keeps the current body, header and footer unless `body` is given. "Alice proofreads Page:X/3" is
        `wiki.human("Alice").set_page_quality("Page:X/3", 3)`; "Bob validates it" is the same with 4.
        """
        import re

        current = self._get(action="query", prop="revisions", rvprop="content", rvslots="main",
                            titles=title)["query"]["pages"][0]
        text = "" if current.get("missing") else current["revisions"][0]["slots"]["main"]["content"]
        m = re.match(r'(?s)^<noinclude><pagequality level="[0-4]" user="[^"]*" */?>(?:</pagequality>)?'
                     r'(.*?)</noinclude>(.*?)<noinclude>(.*)</noinclude>\s*$', text)
        header, old_body, footer = (m.group(1), m.group(2), m.group(3)) if m else ("", text, "")
        new = (f'<noinclude><pagequality level="{level}" user="{self.name}" />{header}</noinclude>'
               f"{old_body if body is None else body}<noinclude>{footer}</noinclude>")
        return self.edit(title, new)

    def upload(self, path: Path, filename: str, text: str = "", **extra: Any) -> dict[str, Any]:
        with open(path, "rb") as f:
            r = self._post(files={"file": (filename, f)}, action="upload", filename=filename, text=text,
                           token=self.csrf(), ignorewarnings="1", **extra)
        if "error" in r:
            raise RuntimeError(f"{self.name} could not upload {filename}: {r['error']}")
        return dict(r["upload"])


# -- the fault proxy --------------------------------------------------------------------------------------------

@dataclass
class ProxiedRequest:
    method: str
    path: str
    params: dict[str, str]  # query string and url-encoded form fields (multipart bodies: only the query string)
    outcome: str = "forwarded"  # 'forwarded', 'dropped', 'failed'

    @property
    def action(self) -> str | None:
        return self.params.get("action")


@dataclass
class _Rule:
    kind: str  # 'drop' or 'fail'
    after: int  # let this many requests through first (counted from when the rule was set)
    times: int | None  # how many requests to break (None: all following)
    status: int = 503
    seen: int = 0
    hit: int = 0


class FaultProxy:
    """An HTTP proxy on 127.0.0.1 in front of a test wiki that counts requests and breaks them on demand.

        proxy = FaultProxy(wiki.base_url)        # or the fixture `fault_proxy(wiki)`
        site = connect(proxy.api_url)
        proxy.count                               # requests seen so far
        proxy.calls(action="edit")                # how many were edits
        proxy.drop_after(0)                       # close every following connection without an answer
        proxy.fail_after(3, status=503, times=2)  # let 3 through, then answer 503 twice, then heal
        proxy.heal(); proxy.reset()
    """

    def __init__(self, upstream: str) -> None:
        u = urllib.parse.urlsplit(upstream)
        self.upstream_host = u.hostname or "127.0.0.1"
        self.upstream_port = u.port or 80
        self.requests: list[ProxiedRequest] = []
        self._rule: _Rule | None = None
        self._lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                params = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(self.path).query))
                ctype = self.headers.get("Content-Type", "")
                if body and ctype.startswith("application/x-www-form-urlencoded"):
                    params.update(urllib.parse.parse_qsl(body.decode("utf-8", "replace")))
                elif body and ctype.startswith("multipart/form-data"):
                    params.update(_multipart_fields(body, ctype))
                req = ProxiedRequest(self.command, self.path, params)
                verdict = proxy._decide(req)
                if verdict == "drop":
                    self.close_connection = True
                    try:
                        self.connection.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass
                    return
                if verdict == "fail":
                    payload = b"Service Unavailable (fault proxy)"
                    self.send_response(proxy._rule.status if proxy._rule else 503)
                    self.send_header("Content-Type", "text/plain")
                    self.send_header("Retry-After", "0")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                    return
                conn = http.client.HTTPConnection(proxy.upstream_host, proxy.upstream_port, timeout=300)
                try:
                    headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
                    headers["Host"] = f"{proxy.upstream_host}:{proxy.upstream_port}"
                    conn.request(self.command, self.path, body=body or None, headers=headers)
                    resp = conn.getresponse()
                    data = resp.read()
                except OSError:
                    self.close_connection = True
                    return
                finally:
                    conn.close()
                self.send_response(resp.status, resp.reason)
                for k, v in resp.getheaders():
                    if k.lower() not in ("transfer-encoding", "connection", "content-length"):
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_HEAD = _handle

        class Server(socketserver.ThreadingMixIn, socketserver.TCPServer):
            daemon_threads = True
            allow_reuse_address = True

        self._server = Server(("127.0.0.1", 0), Handler)
        self.port = int(self._server.server_address[1])
        self._thread = threading.Thread(target=self._server.serve_forever, name="fault-proxy", daemon=True)
        self._thread.start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/api.php"

    def _decide(self, req: ProxiedRequest) -> str:
        with self._lock:
            self.requests.append(req)
            rule = self._rule
            if rule is None:
                return "forward"
            rule.seen += 1
            if rule.seen <= rule.after or (rule.times is not None and rule.hit >= rule.times):
                return "forward"
            rule.hit += 1
            req.outcome = "dropped" if rule.kind == "drop" else "failed"
            return rule.kind

    # -- counting
    @property
    def count(self) -> int:
        """Requests that reached the proxy (forwarded or broken)."""
        return len(self.requests)

    def calls(self, **match: str) -> int:
        """How many requests had all these parameters, e.g. `calls(action="edit")`, `calls(list="allpages")`."""
        return sum(1 for r in list(self.requests) if all(r.params.get(k) == v for k, v in match.items()))

    def reset(self) -> None:
        with self._lock:
            self.requests.clear()

    # -- faults
    def drop_after(self, n: int, times: int | None = None) -> None:
        """Let `n` more requests through, then close the connection without answering (`times` times, or all)."""
        with self._lock:
            self._rule = _Rule("drop", n, times)

    def fail_after(self, n: int, status: int = 503, times: int | None = None) -> None:
        """Let `n` more requests through, then answer HTTP `status` (`times` times, or all)."""
        with self._lock:
            self._rule = _Rule("fail", n, times, status)

    def heal(self) -> None:
        with self._lock:
            self._rule = None

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _multipart_fields(body: bytes, ctype: str) -> dict[str, str]:
    """The small text fields of a multipart body (action, filename, offset...), not the file itself."""
    boundary = ctype.split("boundary=", 1)[-1].strip('"').encode()
    out: dict[str, str] = {}
    for part in body.split(b"--" + boundary):
        head, _, value = part.partition(b"\r\n\r\n")
        if b"filename=" in head or b'name="' not in head or len(value) > 1000:
            continue
        name = head.split(b'name="', 1)[1].split(b'"', 1)[0].decode("utf-8", "replace")
        out[name] = value.rstrip(b"\r\n").decode("utf-8", "replace")
    return out


@dataclass
class Timing:
    """Set-up times measured by the fixtures (printed in the pytest summary by tests/test_site.py)."""

    install: dict[str, float] = field(default_factory=dict)
    fresh: list[float] = field(default_factory=list)


timings = Timing()


def tiny_pdf(path: Path, pages: int = 3, *, seed: str = "") -> Path:
    """Write a small valid PDF of `pages` blank pages with a line of text each (`seed` makes the bytes unique)."""
    objs: list[bytes] = []
    kids = " ".join(f"{3 + 2 * i} 0 R" for i in range(pages))
    objs.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    objs.append(f"<< /Type /Pages /Kids [{kids}] /Count {pages} >>".encode())
    font = 3 + 2 * pages
    for i in range(pages):
        objs.append(f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 300] /Contents {4 + 2 * i} 0 R "
                    f"/Resources << /Font << /F1 {font} 0 R >> >> >>".encode())
        stream = f"BT /F1 12 Tf 20 250 Td (Page {i + 1} {seed}) Tj ET".encode()
        objs.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
    objs.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for n, body in enumerate(objs, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % n + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref)
    Path(path).write_bytes(bytes(out))
    return Path(path)


def tiny_djvu(path: Path, pages: int = 2) -> Path:
    """Write a small bundled DjVu of `pages` bilevel pages (djvulibre's cjb2 + djvm)."""
    path = Path(path)
    work = path.parent / f".{path.name}.pages"
    work.mkdir(parents=True, exist_ok=True)
    parts = []
    for i in range(pages):
        pbm = work / f"{i}.pbm"
        w, h = 64, 96
        pbm.write_bytes(b"P4\n%d %d\n" % (w, h) + bytes([0x0F ^ i]) * (w // 8 * h))
        part = work / f"{i}.djvu"
        subprocess.run(["cjb2", str(pbm), str(part)], check=True, capture_output=True)
        parts.append(str(part))
    subprocess.run(["djvm", "-c", str(path), *parts], check=True, capture_output=True)
    shutil.rmtree(work)
    return path
