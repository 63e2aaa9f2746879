"""SQLite state: one file holds every work of a batch, its pages, and the status of each stage per page.

A resume is just "what is still pending": every stage records each page in its own short transaction, from the
parent process only (workers never touch SQLite). The schema evolves through ordered migrations, each applied in
the same transaction as its record in `migrations`. WAL mode keeps the file consistent through a power cut.

This module owns the connection, the schema and the run lock. Each stage module owns the queries on its own
tables (`pages`: split, `ocr`: ocr, `uploads`/`edits`: wiki.publish, ...) through `Store.tx()`.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self

from transcribe.errors import InputError, Locked

DB_NAME = "transcribe.db"

# Ordered, append-only. Never edit a migration that has shipped: add a new one.
MIGRATIONS: list[tuple[str, str]] = [
    (
        "0001_initial",
        """
        CREATE TABLE works (
            id      INTEGER PRIMARY KEY,
            key     TEXT NOT NULL UNIQUE,          -- manifest id, or '.' for a standalone folder
            scan    TEXT,                          -- the scan the pages come from
            meta    TEXT NOT NULL DEFAULT '{}',    -- JSON: the work's metadata
            created TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
        );
        -- split: one row per page of the scan, n = 1-based position in the file (= Page:<file>/n)
        CREATE TABLE pages (
            work_id INTEGER NOT NULL REFERENCES works(id) ON DELETE CASCADE,
            n       INTEGER NOT NULL,
            image   TEXT NOT NULL,                 -- file name of the page image, relative to the pages folder
            source  TEXT NOT NULL,                 -- where it came from, e.g. 'book.pdf#page=3'
            width   INTEGER NOT NULL,
            height  INTEGER NOT NULL,
            dpi     INTEGER,
            sha1    TEXT NOT NULL,                 -- of the page image file
            PRIMARY KEY (work_id, n)
        );
        -- ocr: one row per page; key = hash of the image's sha1 and every setting that changes the text
        CREATE TABLE ocr (
            work_id    INTEGER NOT NULL REFERENCES works(id) ON DELETE CASCADE,
            n          INTEGER NOT NULL,
            key        TEXT NOT NULL,
            status     TEXT NOT NULL CHECK (status IN ('done', 'blank', 'failed', 'no-model')),
            confidence REAL,                       -- mean word confidence, 0-100
            chars      INTEGER,
            reason     TEXT,                       -- why it failed
            seconds    REAL,
            updated    TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
            PRIMARY KEY (work_id, n)
        );
        -- publish: the scan file on the wiki (or Commons)
        CREATE TABLE uploads (
            work_id  INTEGER PRIMARY KEY REFERENCES works(id) ON DELETE CASCADE,
            wiki     TEXT NOT NULL,
            filename TEXT NOT NULL,
            sha1     TEXT NOT NULL,
            status   TEXT NOT NULL,                -- 'uploaded', 'reused', 'failed'
            reason   TEXT,
            updated  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
        );
        -- publish: every wiki page the tool decided about (Index: and Page: pages)
        CREATE TABLE edits (
            work_id INTEGER NOT NULL REFERENCES works(id) ON DELETE CASCADE,
            wiki    TEXT NOT NULL,
            title   TEXT NOT NULL,
            n       INTEGER,                       -- page number for Page: pages, NULL for the Index
            status  TEXT NOT NULL,                 -- 'created', 'updated', 'unchanged', 'skipped', 'failed'
            reason  TEXT,
            revid   INTEGER,
            key     TEXT,                          -- hash of the text written, to skip unchanged work
            updated TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
            PRIMARY KEY (work_id, wiki, title)
        );
        -- run: where each work stands in each stage of a batch
        CREATE TABLE stages (
            work_id INTEGER NOT NULL REFERENCES works(id) ON DELETE CASCADE,
            stage   TEXT NOT NULL,                 -- 'split', 'ocr', 'bundle', 'publish', 'export'
            status  TEXT NOT NULL,                 -- 'pending', 'done', 'failed'
            reason  TEXT,
            key     TEXT,
            updated TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
            PRIMARY KEY (work_id, stage)
        );
        """,
    ),
    (
        "0002_stage_counts",
        """
        -- run: how many units (pages) a stage finished for a work, for 'transcribe status' without the network
        ALTER TABLE stages ADD COLUMN done INTEGER;
        ALTER TABLE stages ADD COLUMN total INTEGER;
        """,
    ),
    (
        "0003_progress_cache",
        """
        -- progress: what was read of each wiki, so that no revision is fetched twice (wiki = its api.php URL)
        CREATE TABLE progress_works (
            wiki        TEXT NOT NULL,
            index_title TEXT NOT NULL,             -- as the wiki spells it ('Livre:X.pdf' on fr)
            file        TEXT NOT NULL,
            pagecount   INTEGER,
            listed      TEXT,                      -- wiki clock: last full listing of its pages
            synced      TEXT,                      -- wiki clock: last time it was brought up to date
            PRIMARY KEY (wiki, index_title)
        );
        CREATE TABLE progress_pages (
            wiki        TEXT NOT NULL,
            index_title TEXT NOT NULL,
            title       TEXT NOT NULL,
            n           INTEGER NOT NULL,
            pageid      INTEGER NOT NULL,
            lastrevid   INTEGER NOT NULL,          -- the history in progress_revisions is complete up to here
            PRIMARY KEY (wiki, index_title, title)
        );
        CREATE TABLE progress_revisions (
            wiki      TEXT NOT NULL,
            revid     INTEGER NOT NULL,
            pageid    INTEGER NOT NULL,
            parentid  INTEGER,
            user      TEXT NOT NULL,
            timestamp TEXT NOT NULL,
            level     INTEGER,                     -- NULL: the text is hidden (revision deleted)
            PRIMARY KEY (wiki, revid)
        );
        CREATE INDEX progress_revisions_by_page ON progress_revisions (wiki, pageid, timestamp);
        CREATE TABLE progress_snapshots (
            wiki        TEXT NOT NULL,
            index_title TEXT NOT NULL,
            taken       TEXT NOT NULL,
            pages       INTEGER NOT NULL,
            not_created INTEGER NOT NULL,
            q0 INTEGER NOT NULL, q1 INTEGER NOT NULL, q2 INTEGER NOT NULL, q3 INTEGER NOT NULL, q4 INTEGER NOT NULL,
            PRIMARY KEY (wiki, index_title, taken)
        );
        """,
    ),
    (
        "0004_upload_stash",
        """
        -- publish: a chunked upload under way, so that a killed run resumes from the wiki's upload stash (same
        -- file key, next offset) instead of sending the whole scan again. Removed once the file is published.
        CREATE TABLE upload_stash (
            work_id  INTEGER NOT NULL REFERENCES works(id) ON DELETE CASCADE,
            wiki     TEXT NOT NULL,                -- api.php of the wiki that holds the stash (Commons)
            sha1     TEXT NOT NULL,                -- of the scan: a changed scan starts again
            filename TEXT NOT NULL,
            filekey  TEXT NOT NULL,
            offset   INTEGER NOT NULL,             -- bytes the wiki has accepted so far
            size     INTEGER NOT NULL,
            updated  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
            PRIMARY KEY (work_id, wiki)
        );
        """,
    ),
    (
        "0005_impact",
        """
        -- progress: the Index page's latest revision as last read, to notice a wiki replaced at the same address
        ALTER TABLE progress_works ADD COLUMN index_revid INTEGER;
        ALTER TABLE progress_works ADD COLUMN index_timestamp TEXT;
        -- progress: main-namespace pages that transclude this Page: page (JSON list), as of its last listing
        ALTER TABLE progress_pages ADD COLUMN transcluded TEXT;
        -- progress: page views per month from the Wikimedia REST API; a month once stored is never fetched again
        CREATE TABLE progress_views (
            project TEXT NOT NULL,                 -- 'en.wikisource.org'
            article TEXT NOT NULL,                 -- the title as the wiki spells it
            month   TEXT NOT NULL,                 -- '2026-01'; only complete months are stored
            views   INTEGER NOT NULL,              -- 0: the service had no views for it
            PRIMARY KEY (project, article, month)
        );
        -- progress: what people corrected: the OCR revision against the proofread one (texts normalised)
        CREATE TABLE progress_corrections (
            wiki        TEXT NOT NULL,
            ocr_revid   INTEGER NOT NULL,
            proof_revid INTEGER NOT NULL,
            chars       INTEGER NOT NULL,          -- characters of the normalised proofread text
            edits       INTEGER NOT NULL,          -- Levenshtein distance between the two
            PRIMARY KEY (wiki, ocr_revid, proof_revid)
        );
        """,
    ),
    (
        "0006_iiif_images",
        """
        -- split of a IIIF manifest: each image fetched in full, so a resumed run asks only for what is missing
        CREATE TABLE iiif_images (
            work_id    INTEGER NOT NULL REFERENCES works(id) ON DELETE CASCADE,
            n          INTEGER NOT NULL,           -- the canvas's position (= the page's n)
            canvas     TEXT NOT NULL,              -- the image service (or image address) of the canvas
            url        TEXT NOT NULL,              -- the address fetched
            size       INTEGER NOT NULL,           -- bytes received
            sha1       TEXT NOT NULL,              -- of the bytes received
            image      TEXT NOT NULL,              -- the page file made of them, in the pages folder
            image_sha1 TEXT NOT NULL,              -- of that file (the same as sha1 when the bytes were kept)
            key        TEXT NOT NULL,              -- split's page key (scan and settings) the file was made with
            fetched    TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
            PRIMARY KEY (work_id, n)
        );
        """,
    ),
    (
        "0007_book_model",
        """
        -- ocr --learn-from: a model fine-tuned on the book's checked pages, and what it was measured to do.
        -- key = hash of the checked pages (page, image, text), the base model file and the learning version:
        -- a re-run with the same checked pages reuses the row instead of training again.
        CREATE TABLE book_models (
            work_id      INTEGER NOT NULL REFERENCES works(id) ON DELETE CASCADE,
            key          TEXT NOT NULL,
            source       TEXT NOT NULL,            -- the folder or Index the checked pages came from
            base_model   TEXT NOT NULL,            -- path of the float model fine-tuned
            base_sha1    TEXT NOT NULL,
            pages        INTEGER NOT NULL,         -- checked pages used
            lines        INTEGER NOT NULL,         -- lines trained on
            held_back    INTEGER NOT NULL,         -- lines kept out of training to measure on
            left_out     INTEGER NOT NULL,         -- checked lines not aligned confidently or not writable
            iterations   INTEGER NOT NULL,
            cpu_seconds  REAL NOT NULL,
            model        TEXT,                     -- the book model (relative to the pages folder), NULL if none
            model_sha1   TEXT,
            held_back_cer TEXT NOT NULL,           -- JSON: reading (models) -> CER on the held-back lines
            chosen       TEXT NOT NULL,            -- the models the rest of the book is read with
            tessdata_dir TEXT,                     -- where those models are
            psm          INTEGER NOT NULL,         -- the page segmentation mode chosen on the checked pages
            psm_cer      TEXT NOT NULL,            -- JSON: psm -> CER on the checked pages
            min_line_conf REAL,                    -- lines read less surely are left out; NULL: none
            conf_cer     TEXT NOT NULL DEFAULT '{}', -- JSON: that threshold ('none', '20'...) -> CER on them
            updated      TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
            PRIMARY KEY (work_id, key)
        );
        """,
    ),
    (
        "0008_book_model_scale",
        """
        -- the book's checked pages may choose to read its pages from a grey copy scaled down (learn.py)
        ALTER TABLE book_models ADD COLUMN scale REAL NOT NULL DEFAULT 1.0;
        ALTER TABLE book_models ADD COLUMN scale_cer TEXT NOT NULL DEFAULT '{}';
        """,
    ),
]


@dataclass(frozen=True)
class Work:
    id: int
    key: str
    scan: str | None
    meta: dict[str, Any]


class Store:
    """An open state file. Use as a context manager, or call `close()`."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.conn = sqlite3.connect(self.path, isolation_level=None, timeout=30)
            self.conn.row_factory = sqlite3.Row
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute("PRAGMA synchronous=NORMAL")
            self.conn.execute("PRAGMA foreign_keys=ON")
            self._migrate()
        except sqlite3.DatabaseError as e:
            raise InputError(
                f"The state file {self.path} is not a transcribe state database ({e}).",
                hint="Move it away and run again: finished page files are kept and will be re-recorded.",
            ) from e
        self._lock_fd: int | None = None

    # -- context manager -------------------------------------------------------------------------------------
    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.release_lock()
        self.conn.close()

    # -- schema ----------------------------------------------------------------------------------------------
    def _migrate(self) -> None:
        self.conn.execute(
            "CREATE TABLE IF NOT EXISTS migrations (name TEXT PRIMARY KEY, applied TEXT NOT NULL"
            " DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')))"
        )
        done = {r[0] for r in self.conn.execute("SELECT name FROM migrations")}
        for name, sql in MIGRATIONS:
            if name in done:
                continue
            with self.tx() as c:
                for statement in _statements(sql):
                    c.execute(statement)
                c.execute("INSERT INTO migrations (name) VALUES (?)", (name,))

    @contextlib.contextmanager
    def tx(self) -> Iterator[sqlite3.Connection]:
        """One short write transaction (BEGIN IMMEDIATE ... COMMIT, rolled back on error)."""
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self.conn
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    def query(self, sql: str, params: tuple[Any, ...] | dict[str, Any] = ()) -> list[sqlite3.Row]:
        return self.conn.execute(sql, params).fetchall()

    # -- works -----------------------------------------------------------------------------------------------
    def work(self, key: str, *, scan: str | None = None, meta: dict[str, Any] | None = None) -> Work:
        """Get or create the work `key`; update its scan and metadata when given."""
        with self.tx() as c:
            c.execute("INSERT OR IGNORE INTO works (key) VALUES (?)", (key,))
            if scan is not None:
                c.execute("UPDATE works SET scan = ? WHERE key = ?", (scan, key))
            if meta is not None:
                c.execute("UPDATE works SET meta = ? WHERE key = ?", (json.dumps(meta, sort_keys=True), key))
            row = c.execute("SELECT * FROM works WHERE key = ?", (key,)).fetchone()
        return Work(row["id"], row["key"], row["scan"], json.loads(row["meta"]))

    def works(self) -> list[Work]:
        return [
            Work(r["id"], r["key"], r["scan"], json.loads(r["meta"]))
            for r in self.query("SELECT * FROM works ORDER BY id")
        ]

    def stages(self, work_id: int) -> dict[str, sqlite3.Row]:
        return {r["stage"]: r for r in self.query("SELECT * FROM stages WHERE work_id = ?", (work_id,))}

    # -- the run lock ----------------------------------------------------------------------------------------
    def acquire_lock(self) -> None:
        """Refuse a second writer on the same state. The OS drops the lock if the process dies (kill -9)."""
        if self._lock_fd is not None:
            return
        lock_path = self.path.with_name(self.path.name + ".lock")
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 64, 0).decode(errors="replace").strip()
            os.close(fd)
            raise Locked(
                f"Another transcribe run is already working on {self.path}"
                + (f" (process {holder})" if holder else "") + ".",
                hint="Wait for it to finish, or stop it; then run this command again.",
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        self._lock_fd = fd

    def release_lock(self) -> None:
        if self._lock_fd is not None:
            fcntl.flock(self._lock_fd, fcntl.LOCK_UN)
            os.close(self._lock_fd)
            self._lock_fd = None


def _statements(sql: str) -> list[str]:
    """Split a migration into statements. Migrations hold no '--' or ';' inside strings, nor triggers."""
    code = "\n".join(line.split("--", 1)[0] for line in sql.splitlines())
    return [part.strip() for part in code.split(";") if part.strip()]
