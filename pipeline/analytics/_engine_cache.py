"""Engines kept on disk between runs, so ``ratedeck cost`` can skip DuckDB when nothing changed.

Building the engine of a 27k-prefix deck and reading its versions takes longer than costing a
million calls, and DuckDB, its warehouse and the versions query add as much again to every
run's start-up. The cache keeps, per published warehouse file:

* a catalog (``<key>.catalog.json``): the tech prefixes with rates, when each one's history
  starts, and the aliases with the deck each one is priced on (what ``CallCoster`` otherwise
  asks the warehouse: a new alias, or an alias getting a deck of its own, is a publish, so a
  new key and a new catalog);
* an engine per deck and window (``<key>.<tech prefix hash>.<lo>.<hi>.engine``, filed under
  the tech prefix whose rates it holds, which aliases share): the
  ``LpmEngine`` pickled, built from the versions in force during a span of call times, and
  valid for any span within ``[lo, hi]`` (microseconds since the epoch): the widest window
  around it in which the versions in force stay the same (after the last ``valid_to`` at or
  before its start, before the first ``valid_from`` after its end; see
  ``queries/lpm_version_bounds.sql``). An engine built for a span inside that window would be
  built from the same rows, so it is the same engine.

It can never be stale: ``key`` hashes the published file's identity (device, inode, size,
modification and change times, the DuckDB headers, which carry its checkpoint counter) and
the engine code's own source and library versions, and the schema migrations this ratedeck
ships (a newer ratedeck's engines of a warehouse it migrated are a miss). Publishing replaces the file (a new link
renamed over it: its change time and headers move), so a publish means a new key; a foreign
``.wal`` beside the file (data DuckDB has not checkpointed into it) turns the cache off. Files
of other keys are removed when a new key is written, so the folder holds one warehouse's worth.
Files are written under a temporary name and renamed: a reader sees a whole file or none; an
unreadable one is a miss, never an error. Unpickling runs code, so the folder is private
(0700, files 0600) and a file another user owns or can write is never read (a miss).
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import sys
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from pipeline.analytics._engine import LpmEngine
from pipeline.warehouse.migrate import known_migrations

# the tech prefixes with rates, when each one's history starts, the aliases and their decks
Catalog = tuple[list[str], dict[str, datetime], dict[str, str]]
HEADER_BYTES = 3 * 4096  # DuckDB's main header and its two database headers
# the modules whose code shapes a pickled engine: a change to any of them is a new key
_ENGINE_MODULES = ("_engine.py", "_prefix_index.py", "_versions.py", "_money.py", "numbers.py")


def _code_fingerprint() -> bytes:
    import numpy
    import polars

    digest = hashlib.sha256()
    here = Path(__file__).parent
    for name in (*_ENGINE_MODULES, Path(__file__).name):
        digest.update((here / name).read_bytes())
    # the schema this ratedeck knows: a newer one's engines (same code, a warehouse it migrated)
    # are a miss, so this one opens the warehouse, and refuses it
    digest.update("\0".join(known_migrations()).encode())
    versions = (sys.version, polars.__version__, numpy.__version__, str(pickle.HIGHEST_PROTOCOL))
    digest.update("\0".join(versions).encode())
    return digest.digest()


def warehouse_key(published: Path) -> str | None:
    """The identity of the published warehouse file and of the engine code (hex), or ``None``
    when the file is missing or carries a WAL (then only DuckDB knows what it holds)."""
    wal = published.with_name(published.name + ".wal")
    try:
        if wal.exists():
            return None
        with published.open("rb") as handle:
            stat = os.fstat(handle.fileno())
            headers = handle.read(HEADER_BYTES)
    except OSError:
        return None
    identity = (stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns)
    digest = hashlib.sha256(_code_fingerprint())
    digest.update(repr((str(published.resolve()), identity)).encode())
    digest.update(headers)
    return digest.hexdigest()[:32]


class EngineCache:
    """The cached catalog and engines of the published warehouse at ``published`` (see the
    module doc), kept in ``folder``. ``key`` is ``None`` (nothing read or written) when the
    warehouse cannot be identified."""

    def __init__(self, folder: Path, published: Path):
        self.folder = folder
        self.published = published
        self.key = warehouse_key(published)
        self._confirmed = False

    # -- catalog ------------------------------------------------------------------------------
    def catalog(self) -> Catalog | None:
        """Every tech prefix with rates (in ``known_tech_prefixes`` order), when each one's
        history starts, and the aliases (``deck_aliases``); ``None`` when not cached."""
        if self.key is None:
            return None
        try:
            document = json.loads(self._catalog_path().read_text(encoding="utf-8"))
            known = [str(tp) for tp in document["tech_prefixes"]]
            starts = {
                str(tp): datetime.fromisoformat(text)
                for tp, text in document["history_starts"].items()
            }
            aliases = {str(tp): str(deck) for tp, deck in document["aliases"].items()}
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return None
        return known, starts, aliases

    def save_catalog(
        self, known: list[str], starts: dict[str, datetime], aliases: dict[str, str]
    ) -> None:
        document = {
            "tech_prefixes": known,
            "history_starts": {tp: moment.isoformat() for tp, moment in starts.items()},
            "aliases": aliases,
        }
        self._write(self._catalog_path(), json.dumps(document).encode())

    def text_categories(self, tech_prefixes: Sequence[str]) -> tuple[list[str], list[str]] | None:
        """Every prefix and destination the decks of ``tech_prefixes`` ever held
        (``lookup.text_categories``); ``None`` when not cached."""
        if self.key is None:
            return None
        try:
            document = json.loads(self._text_path(tech_prefixes).read_text(encoding="utf-8"))
            prefixes = [str(prefix) for prefix in document["prefixes"]]
            destinations = [str(destination) for destination in document["destinations"]]
        except (OSError, ValueError, KeyError, TypeError):
            return None
        return prefixes, destinations

    def save_text_categories(
        self, tech_prefixes: Sequence[str], prefixes: list[str], destinations: list[str]
    ) -> None:
        document = {"prefixes": prefixes, "destinations": destinations}
        self._write(self._text_path(tech_prefixes), json.dumps(document).encode())

    # -- engines ------------------------------------------------------------------------------
    def engine(self, tech_prefix: str, span: tuple[int, int]) -> tuple[LpmEngine, tuple[int, int]]:
        """A cached engine of ``tech_prefix`` valid for ``span`` and the window it is valid
        for; raises ``LookupError`` when there is none."""
        if self.key is None:
            raise LookupError(tech_prefix)
        stem = f"{self.key}.{_name(tech_prefix)}."
        for path in self._listing():
            if not (path.name.startswith(stem) and path.name.endswith(".engine")):
                continue
            lo, hi = (int(part) for part in path.name[len(stem) : -len(".engine")].split("."))
            if lo <= span[0] and span[1] <= hi:
                try:
                    with path.open("rb") as handle:
                        if not _private(handle.fileno()):
                            continue
                        engine = pickle.load(handle)
                except (OSError, pickle.UnpicklingError, EOFError, AttributeError):
                    continue
                if isinstance(engine, LpmEngine):
                    return engine, (lo, hi)
        raise LookupError(tech_prefix)

    def save_engine(self, tech_prefix: str, window: tuple[int, int], engine: LpmEngine) -> None:
        if self.key is None:
            return
        name = f"{self.key}.{_name(tech_prefix)}.{window[0]}.{window[1]}.engine"
        self._write(self.folder / name, pickle.dumps(engine, protocol=pickle.HIGHEST_PROTOCOL))

    # -- files --------------------------------------------------------------------------------
    def _catalog_path(self) -> Path:
        return self.folder / f"{self.key}.catalog.json"

    def _text_path(self, tech_prefixes: Sequence[str]) -> Path:
        return self.folder / f"{self.key}.{_name(chr(0).join(tech_prefixes))}.text.json"

    def _listing(self) -> list[Path]:
        try:
            return list(self.folder.iterdir())
        except OSError:
            return []

    def _write(self, path: Path, data: bytes) -> None:
        """Whole or not at all; a cache that cannot be written is only a slower next run.

        What is written was read from the warehouse after ``key`` was taken: written only if
        the file is still the one ``key`` names (a publish in between would file the new
        warehouse's data under the old key)."""
        if self.key is None:  # a warehouse that cannot be identified: nothing to file it under
            return
        if not self._confirmed:
            self._confirmed = warehouse_key(self.published) == self.key
            if not self._confirmed:
                self.key = None  # nothing more read from or written to the cache this run
                return
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        try:
            self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            self._remove_other_keys()
            tmp.touch(mode=0o600)
            tmp.write_bytes(data)
            tmp.replace(path)
        except OSError:
            tmp.unlink(missing_ok=True)

    def _remove_other_keys(self) -> None:
        for path in self._listing():
            if not path.name.startswith((f"{self.key}.", ".")):
                path.unlink(missing_ok=True)


def _private(fd: int) -> bool:
    """Unpickling runs code: only a file this user owns and nobody else can write is read."""
    status = os.fstat(fd)
    return status.st_uid == os.getuid() and not status.st_mode & 0o022


def _name(tech_prefix: str) -> str:
    """A file-name-safe, fixed-length name for a tech prefix (any text)."""
    return hashlib.sha256(tech_prefix.encode()).hexdigest()[:16]
