"""Warehouse files: a private working copy that only the pipeline writes, and a published copy
that analysts open read-only.

Why two files: while any process holds a read-only DuckDB connection on a file, no process can
open that file for writing ("Could not set lock on file"). So writers never touch the published
file: they write the working copy under ``state_dir`` (serialised by an inter-process
``flock``), and publishing makes the working copy's file the published one with a hard link
renamed over it (``os.replace``). Open readers keep the snapshot they opened (their inode lives
on); readers that connect afterwards see the new data.

Publishing costs what changed, not what is stored: the file that was published before becomes
the next working copy (kept under ``state_dir`` as ``warehouse.spare.duckdb`` during the swap)
and is brought up to date by writing only the DuckDB blocks that differ
(``pipeline.warehouse.publish``). When a reader still holds that older file, or the published
file is on another filesystem than ``state_dir`` (no hard links), the working copy is copied
whole instead, as before. Two files in all, the published one and the working copy.

Within ``publish_once()`` (``ratedeck run``: the whole run) writers commit to the working copy
and one publish at the end shows readers every load of the run at once; elsewhere each writer
publishes when it ends. The writers of a ``publish_once()`` block share one writer session: the
working copy is opened, migrated and checkpointed once for all of them, not once per writer
(each writer still commits in its own transaction, on its own cursor). A process that waits for
the warehouse says so (``warehouse.wanted`` beside the lock), and the session then lets go after
its current writer: holding it costs others at most one writer's time, as before.

Because ratedeck never writes the published file in place, nothing beside it is ratedeck's: a
``.wal`` there was left by someone who opened it read-write and did not close (a killed
notebook). Publishing removes it with the file it belongs to, and a reader that DuckDB refuses
because of such a WAL removes it and opens again; both say so in one warning line.
"""

from __future__ import annotations

import errno
import fcntl
import logging
import os
import re
import shutil
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import IO, TYPE_CHECKING

import duckdb

from pipeline.durable import fsync_dir
from pipeline.warehouse.errors import (
    WarehouseError,
    WarehouseHeldError,
    WarehouseLockedError,
    WarehouseMissingError,
    WarehouseNewerError,
)
from pipeline.warehouse.migrate import (
    apply_migrations,
    recorded_migrations,
    refuse_newer_schema,
)
from pipeline.warehouse.publish import (
    HEADERS_BYTES,
    fsync_file,
    has_block_layout,
    link_over,
    same_file,
    sync_blocks,
    unless_read,
)

if TYPE_CHECKING:
    from pipeline.settings import Settings

DEFAULT_LOCK_TIMEOUT_S = 300.0
_LOCK_POLL_S = 0.05
_COPY_SUFFIX = re.compile(r"[0-9a-f]{32}\.tmp")
# what os.link says where hard links cannot be made: publishing then copies the file whole
_NO_HARD_LINKS = {errno.EXDEV, errno.EPERM, errno.EMLINK, errno.EOPNOTSUPP}

log = logging.getLogger(__name__)

# lock file -> thread holding it in this process: a nested writer()/working_reader() on the same
# thread would otherwise wait for itself until the timeout.
_held_locks: dict[Path, int] = {}
_held_guard = threading.Lock()
# published file -> depth of the publish_once() blocks open on it in this process
_publishing_deferred: dict[Path, int] = {}
# published file -> the writer session its publish_once() blocks share in this process
_sessions: dict[Path, _WriterSession] = {}


def connect(settings: Settings | None = None) -> duckdb.DuckDBPyConnection:
    """The way to open the published warehouse from Python (notebooks, apps): read-only, and
    the newest publish every time it is called, even in a process that already holds a
    connection to an older one. ``duckdb.connect(path, read_only=True)`` would not be: DuckDB
    hands back its cached instance of the path, i.e. the file as it was before the publish.

    Settings default to what the ``ratedeck`` command loads ($RATEDECK_CONFIG, ./ratedeck.toml,
    $RATEDECK_WAREHOUSE...). Use it as a context manager; connect again to see a later publish.
    """
    if settings is None:
        from pipeline.settings import load_settings

        settings = load_settings()
    return Warehouse(settings).reader()


class Warehouse:
    """The warehouse of one settings file.

    ``Warehouse(settings)`` or ``Warehouse(published_path, state_dir)``::

        with wh.writer() as con:       # exclusive lock, working copy, migrations applied
            load_voice_snapshot(con, ...)
        # clean exit: checkpointed and published atomically; on an exception nothing is published

        with wh.reader() as con:       # read-only, the published file
            con.execute("SELECT count(*) FROM voice_rate_current").fetchall()
    """

    def __init__(
        self,
        settings_or_path: Settings | str | os.PathLike[str],
        state_dir: str | os.PathLike[str] | None = None,
        *,
        lock_timeout_s: float = DEFAULT_LOCK_TIMEOUT_S,
    ) -> None:
        if isinstance(settings_or_path, str | os.PathLike):
            if state_dir is None:
                raise TypeError("Warehouse(published_path, state_dir): state_dir is required")
            self.published_path = Path(settings_or_path)
            self.state_dir = Path(state_dir)
        else:
            self.published_path = Path(settings_or_path.warehouse_path)
            self.state_dir = Path(state_dir or settings_or_path.state_dir)
        self.lock_timeout_s = lock_timeout_s

    def __repr__(self) -> str:
        return f"Warehouse(published={self.published_path}, state_dir={self.state_dir})"

    @property
    def working_path(self) -> Path:
        return self.state_dir / "warehouse.duckdb"

    @property
    def lock_path(self) -> Path:
        return self.state_dir / "warehouse.lock"

    @property
    def spare_path(self) -> Path:
        """The previously published file while a publish turns it into the next working copy."""
        return self.state_dir / "warehouse.spare.duckdb"

    # -- writing ---------------------------------------------------------------------------

    @contextmanager
    def writer(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """The working database, migrated, for one writer at a time (across processes).

        Clean exit: CHECKPOINT, close, publish if anything changed (at the end of the
        ``publish_once()`` block instead, when one is open). Exception: close (uncommitted work
        rolls back), publish nothing, release the lock, re-raise.

        Inside ``publish_once()`` the writer is a cursor of the block's shared session: the same
        rules per writer (uncommitted work rolls back when it ends), without a checkpoint each.
        """
        session = self._session()
        if session is not None:
            with session.cursor() as cursor:
                yield cursor
            return
        with self._lock(exclusive=True):
            self._detach_working_copy()
            self._ensure_working_copy()
            con = self._connect(self.working_path, read_only=False)
            try:
                apply_migrations(con)
                yield con
                con.execute("CHECKPOINT")
            finally:
                con.close()
            if not self._deferred() and self._changed_since_publish():
                self._publish_locked()

    @contextmanager
    def publish_once(self) -> Iterator[None]:
        """Writers in this process commit to the working copy only, and one publish at the end
        of the block shows readers all they wrote at once (a run's decks: one publish, not one
        per deck). Nothing is published when the block ends with an exception: whatever was
        committed is published by the next writer or ``publish()``."""
        key = self.published_path.resolve()
        with _held_guard:
            _publishing_deferred[key] = _publishing_deferred.get(key, 0) + 1
            if key not in _sessions:
                _sessions[key] = _WriterSession(self)
        try:
            yield
        finally:
            with _held_guard:
                _publishing_deferred[key] -= 1
                outermost = _publishing_deferred[key] == 0
                if outermost:
                    del _publishing_deferred[key]
                    session = _sessions.pop(key)
            if outermost:
                session.close()
        if outermost:
            self.publish()

    def release_session(self) -> None:
        """Close this process's shared writer session now (checkpointed; it opens again at the
        next writer): before waiting for something another writer may hold, so that the wait
        cannot go round in a circle."""
        session = self._session()
        if session is not None:
            session.close()

    def publish(self) -> bool:
        """Publish the working copy if it changed since the last publish; True if it did."""
        with self._lock(exclusive=True):
            if not self.working_path.exists():
                if self.published_path.exists():
                    return False
                raise self._missing()
            self._detach_working_copy()
            if not self._changed_since_publish():
                return False
            self._publish_locked()
        return True

    # -- reading ---------------------------------------------------------------------------

    def reader(self) -> duckdb.DuckDBPyConnection:
        """A read-only connection to the published warehouse (use it as a context manager).

        Never blocks and never blocks the pipeline: writers write elsewhere. It keeps the data
        as published when it was opened; open a new one to see a later publish.
        """
        if not self.published_path.exists():
            raise self._missing()
        try:
            return self._connect_reader(self.published_path)
        except WarehouseNewerError:
            raise
        except WarehouseError as exc:
            held = _held_by(exc.__cause__)
            if held is not None:
                raise WarehouseHeldError(
                    f"cannot open {self.published_path} read-only: another process holds it "
                    f"open read-write ({held}), e.g. a SQL client not opened read-only: close "
                    "it, or open it read-only (duckdb -readonly), then retry"
                ) from exc
            # DuckDB refuses the WAL of an older version of the file (a read-write session that
            # died before a publish replaced the file): it cannot belong to this file
            if "WAL" not in str(exc.__cause__) or not _remove_foreign_wal(self.published_path):
                raise
        return self._connect_reader(self.published_path)

    @contextmanager
    def working_reader(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """Read-only connection to the working copy, for pipeline steps that read what they
        (or an earlier step) wrote. Holds a shared lock: writers wait, readers don't. Inside
        ``publish_once()``: a cursor of the shared writer session (its writes are not
        published yet; readers of the working copy must see them)."""
        session = self._session()
        if session is not None:
            with session.cursor() as cursor:
                yield cursor
            return
        self.require_existing()  # before the lock, which would create the state folder
        with self._lock(exclusive=False):
            path = self.working_path if self.working_path.exists() else self.published_path
            if not path.exists():
                raise self._missing()
            con = self._connect_reader(path)
            try:
                yield con
            finally:
                con.close()

    def refuse_newer(self) -> None:
        """Refuse (``WarehouseNewerError``, exit 2) a published warehouse that a newer ratedeck
        migrated, before a command downloads or lands anything. Only that: a file that cannot
        be opened now is the writer's to report, and the writer checks its working copy too."""
        if not self.published_path.exists():
            return
        try:
            con = self._connect_reader(self.published_path)
        except WarehouseNewerError:
            raise
        except WarehouseError:
            return
        con.close()

    def require_existing(self) -> None:
        """Refuse (``WarehouseMissingError``, exit 2) unless something was loaded: a published
        file or a working copy. For commands that need data, before they write anything: a
        writer would otherwise start an empty warehouse (a mistyped data dir)."""
        if not (self.published_path.exists() or self.working_path.exists()):
            raise self._missing()

    # -- internals -------------------------------------------------------------------------

    def _missing(self) -> WarehouseMissingError:
        return WarehouseMissingError(
            f"no warehouse yet at {self.published_path}: run `ratedeck run` or `ratedeck demo`"
        )

    def _connect_reader(self, path: Path) -> duckdb.DuckDBPyConnection:
        """Read-only, refused (``WarehouseNewerError``) when a newer ratedeck migrated the
        file: its tables and views are not the ones this ratedeck's queries were written for."""
        con = self._connect(path, read_only=True)
        try:
            refuse_newer_schema(con, recorded_migrations(con))
        except BaseException:
            con.close()
            raise
        return con

    @staticmethod
    def _connect(path: Path, *, read_only: bool) -> duckdb.DuckDBPyConnection:
        """Read-only: the file is ATTACHed to a fresh in-memory database rather than opened with
        ``duckdb.connect(path, read_only=True)``, which would hand back DuckDB's cached instance
        of an earlier connection in this process (the file as it was before a publish)."""
        try:
            if not read_only:
                return duckdb.connect(str(path))
            con = duckdb.connect()
            try:
                con.execute("ATTACH ? AS warehouse (READ_ONLY)", [str(path)])
                con.execute("USE warehouse")
            except BaseException:
                con.close()
                raise
            return con
        except duckdb.Error as exc:
            mode = "read-only" if read_only else "for writing"
            raise WarehouseError(f"cannot open {path} {mode}: {_first_line(exc)}") from exc

    def _ensure_working_copy(self) -> None:
        """First write on this machine: start from the published file (if any)."""
        if self.working_path.exists() or not self.published_path.exists():
            return
        self._copy_whole(self.published_path, self.working_path)

    def _session(self) -> _WriterSession | None:
        with _held_guard:
            return _sessions.get(self.published_path.resolve())

    @property
    def wanted_path(self) -> Path:
        """Touched by a process waiting for the lock: the shared session then lets it go."""
        return self.state_dir / "warehouse.wanted"

    def _deferred(self) -> bool:
        with _held_guard:
            return self.published_path.resolve() in _publishing_deferred

    def _changed_since_publish(self) -> bool:
        """Every checkpoint writes a new DuckDB header: equal headers, same data."""
        if self._working_wal().exists() or not self.published_path.exists():
            return True
        if same_file(self.working_path, self.published_path):
            return False
        with open(self.working_path, "rb") as working, open(self.published_path, "rb") as published:
            if not (has_block_layout(working.fileno()) and has_block_layout(published.fileno())):
                return True
            return working.read(HEADERS_BYTES) != published.read(HEADERS_BYTES)

    def _working_wal(self) -> Path:
        return self.working_path.with_name(self.working_path.name + ".wal")

    def _publish_locked(self) -> None:
        """Hard link + rename (or copy + fsync + rename): a reader sees the old file or the new
        one, never a mix."""
        if self._working_wal().exists():  # a writer died after committing: fold its WAL in
            self._fold_wal()
        target_dir = self.published_path.parent
        try:
            target_dir.mkdir(parents=True, exist_ok=True)
            _remove_stale_copies(self.published_path)
            _remove_stale_copies(self.working_path)
            if not self._publish_by_link():
                # before the copy: a reader in between sees the old file as ratedeck published it
                _remove_foreign_wal(self.published_path)
                self._copy_whole(self.working_path, self.published_path)
        except OSError as exc:
            raise WarehouseError(f"cannot publish {self.published_path}: {exc}") from exc
        fsync_dir(target_dir)
        try:
            self._detach_working_copy()
        except WarehouseError as exc:  # published all the same; the next writer tries again
            log.warning("%s", exc)

    def _fold_wal(self) -> None:
        con = self._connect(self.working_path, read_only=False)
        try:
            con.execute("CHECKPOINT")
        except duckdb.Error as exc:  # a full disk, typically
            raise WarehouseError(
                f"cannot publish {self.published_path}: {_first_line(exc)}"
            ) from exc
        finally:
            con.close()

    def _publish_by_link(self) -> bool:
        """The working copy's file becomes the published one; the file published so far is kept
        as the spare, to become the next working copy. False (and nothing changed) where hard
        links cannot be made: another filesystem, or one without them."""
        if os.stat(self.published_path.parent).st_dev != os.stat(self.state_dir).st_dev:
            return False
        fsync_file(self.working_path)
        self.spare_path.unlink(missing_ok=True)
        try:
            if self.published_path.exists():
                os.link(self.published_path, self.spare_path)
            # before the rename: a reader in between sees the old file as ratedeck published it
            _remove_foreign_wal(self.published_path)
            link_over(self.working_path, self.published_path)
        except OSError as exc:
            if exc.errno in _NO_HARD_LINKS:
                return False
            raise
        return True

    def _detach_working_copy(self) -> None:
        """After a publish by link the working copy *is* the published file: give it a file of
        its own again, the same bytes, so that nothing written to the published file (a
        read-write session opened by mistake) reaches the pipeline's history. The spare (the
        file published before) gets only the blocks that changed, unless something else still
        uses it; then the working copy is copied whole. Right after each publish, and again
        before each writer (a publish killed midway)."""
        if not self._working_copy_shared():
            return
        try:
            _remove_stale_copies(self.working_path)
            if not self._refresh_spare_as_working_copy():
                self.spare_path.unlink(missing_ok=True)
                self._copy_whole(self.working_path, self.working_path)
        except OSError as exc:
            raise WarehouseError(
                f"cannot prepare the working copy {self.working_path}: {exc}"
            ) from exc
        fsync_dir(self.state_dir)

    def _working_copy_shared(self) -> bool:
        """Another name leads to the working copy's file: the published file, or one that was
        published under another path (``warehouse.path`` changed since the last run)."""
        try:
            return os.stat(self.working_path).st_nlink > 1
        except FileNotFoundError:
            return False

    def _refresh_spare_as_working_copy(self) -> bool:
        """False when the spare is missing, still open in a reader, or has another name (the
        working copy of another state dir that published the same file)."""
        if not self.spare_path.exists():
            return False
        with unless_read(self.spare_path) as fd:
            if fd is None or os.fstat(fd).st_nlink != 1:
                return False
            sync_blocks(self.working_path, fd)
            os.fsync(fd)
            os.replace(self.spare_path, self.working_path)
        return True

    @staticmethod
    def _copy_whole(source: Path, target: Path) -> None:
        """A full copy to a temporary file beside ``target``, fsynced, renamed over it."""
        _remove_stale_copies(target)
        tmp = target.parent / f".{target.name}.{uuid.uuid4().hex}.tmp"
        try:
            shutil.copyfile(source, tmp)
            fsync_file(tmp)
            os.replace(tmp, target)
        finally:
            tmp.unlink(missing_ok=True)

    @contextmanager
    def _lock(self, *, exclusive: bool) -> Iterator[None]:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        key = self.lock_path.resolve()
        me = threading.get_ident()
        with _held_guard:
            if _held_locks.get(key) == me:
                raise WarehouseError(
                    f"nested warehouse access on one thread ({self.lock_path}): "
                    "finish the writer before opening another writer or working reader"
                )
        with open(self.lock_path, "a+") as handle:
            self._acquire(handle, exclusive)
            with _held_guard:
                _held_locks[key] = me
            try:
                yield
            finally:
                with _held_guard:
                    _held_locks.pop(key, None)
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)

    def _acquire(self, handle: IO[str], exclusive: bool) -> None:
        mode = (fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH) | fcntl.LOCK_NB
        deadline = time.monotonic() + self.lock_timeout_s
        while True:
            try:
                fcntl.flock(handle.fileno(), mode)
                self.wanted_path.unlink(missing_ok=True)  # others still waiting touch it again
                return
            except BlockingIOError:
                self.wanted_path.touch()
                if time.monotonic() >= deadline:
                    raise WarehouseLockedError(
                        f"warehouse is busy: another process held {self.lock_path} for more "
                        f"than {self.lock_timeout_s:g} s (a long load or a stuck run?)"
                    ) from None
                time.sleep(_LOCK_POLL_S)


class _WriterSession:
    """The writer connection the writers of one ``publish_once()`` block share.

    Opened (lock, working copy, migrations) by the first writer, then each writer gets a
    cursor of it: its own transaction, rolled back if it ends uncommitted. The session lets go
    of the warehouse (checkpoint, close, unlock) when the block ends, or as soon as another
    process waits for the warehouse (after the current writer, if one is writing), and opens
    again at the next writer.
    """

    def __init__(self, warehouse: Warehouse) -> None:
        self._warehouse = warehouse
        self._open: ExitStack | None = None
        self._con: duckdb.DuckDBPyConnection | None = None
        # the writers of this process take turns, as they did with a lock each
        self._turn = threading.RLock()

    @contextmanager
    def cursor(self) -> Iterator[duckdb.DuckDBPyConnection]:
        with self._turn:
            cursor = self._connection().cursor()
            try:
                yield cursor
            finally:
                cursor.close()
            if self._warehouse.wanted_path.exists():
                self.close()

    def close(self) -> None:
        with self._turn:
            if self._con is None or self._open is None:
                return
            try:
                self._con.execute("CHECKPOINT")
            except duckdb.Error as exc:  # a full disk: the commits stay in the WAL, not lost
                path = self._warehouse.working_path
                raise WarehouseError(f"cannot checkpoint {path}: {_first_line(exc)}") from exc
            finally:
                self._open.close()
                self._con = self._open = None

    def _connection(self) -> duckdb.DuckDBPyConnection:
        if self._con is None:
            wh = self._warehouse
            with ExitStack() as opening:
                opening.enter_context(wh._lock(exclusive=True))
                wh._detach_working_copy()
                wh._ensure_working_copy()
                con = wh._connect(wh.working_path, read_only=False)
                opening.callback(con.close)
                apply_migrations(con)
                # one checkpoint when the session lets go, not one inside every few commits
                # (DuckDB's default: when the WAL passes 16 MiB, about three 50k decks); no one
                # replays this WAL while the session holds it
                con.execute("SET checkpoint_threshold = '256MiB'")
                self._open, self._con = opening.pop_all(), con
                self._watch(self._open)
        return self._con

    def _watch(self, session: ExitStack) -> None:
        """Between writers too (a run fetching its next deck for minutes), hand the warehouse
        over as soon as another process waits for it."""
        ended = threading.Event()
        session.callback(ended.set)
        threading.Thread(
            target=self._hand_over_when_wanted, args=(ended,), daemon=True, name="ratedeck-wh"
        ).start()

    def _hand_over_when_wanted(self, ended: threading.Event) -> None:
        while not ended.wait(_LOCK_POLL_S):
            if self._warehouse.wanted_path.exists():
                with self._turn:
                    if ended.is_set():  # closed meanwhile (perhaps opened again: not ours)
                        return
                    try:
                        self.close()
                    except WarehouseError as exc:
                        log.warning("%s", exc)
                return


_LOCK_HOLDER = re.compile(r"\(PID (\d+)\)")


def _held_by(exc: BaseException | None) -> str | None:
    """Who holds the file's lock ("PID 123"), if DuckDB refused to open it for that."""
    message = str(exc) if exc is not None else ""
    if "Could not set lock on file" not in message:
        return None
    holder = _LOCK_HOLDER.search(message)
    return f"PID {holder[1]}" if holder else "its PID unknown"


def _first_line(exc: BaseException) -> str:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def _remove_stale_copies(path: Path) -> None:
    """Half-written copies of ``path`` left by a writer killed while copying (SIGKILL, power
    loss): only the lock holder copies, so under the lock any such file is garbage."""
    for stale in path.parent.glob(f".{path.name}.*.tmp"):
        if _COPY_SUFFIX.fullmatch(stale.name[len(path.name) + 2 :]):
            stale.unlink(missing_ok=True)


def _remove_foreign_wal(published: Path) -> bool:
    """Remove the WAL beside the published file (see the module docstring); True if there was one."""
    wal = published.with_name(published.name + ".wal")
    try:
        wal.unlink()
    except FileNotFoundError:
        return False
    log.warning(
        "removed %s: left by a read-write session on the published warehouse that did not close; "
        "ratedeck replaces that file on every publish, so open it read-only",
        wal,
    )
    return True
