"""One writer per run folder: an advisory lock on ``RUN/.graphdim.lock``.

``graphdim train`` / ``graphdim image`` (a new run, ``--overwrite`` or ``--resume``),
``graphdim embed`` and ``graphdim plot`` (when they write into the run folder) hold it while
they write: a second writer is refused with one line naming the process that holds it, so
two runs never interleave their files in one folder and a ``--resume`` never meets another's
temporary checkpoint. The lock is :class:`filelock.FileLock` (``flock`` on Unix, a byte-range
lock on Windows): the system releases it when its holder ends, however it ends. The holder's
pid and command are written into the lock file and erased on release, so a lock file found
non-empty by its next holder was left by a process that was killed; that is reported (its
run may be unfinished), and the lock is taken over.

A run folder may come from someone else, and its lock "file" may be a link to one of its
user's files: filelock opens it with ``O_NOFOLLOW`` (a symbolic link is refused), and the
record is written only into a plain file with one link (checked on the very descriptor
filelock locked), so a hard link or a FIFO is refused too and nothing it points at is written.
This module imports nothing of graphdim (tests load it alone in a child process).
"""
import contextlib
import os
import stat
import time
import warnings
from pathlib import Path
from typing import Dict, Iterator, Optional, Union

import psutil
from filelock import FileLock, Timeout

LOCK_NAME = '.graphdim.lock'
# Folders this process holds the lock of, with how many holders nest: a process that
# holds a folder's lock may take it again (train --plot writes its plots inside the run).
_HELD: Dict[str, int] = {}
# How long a lock held by another process is waited for before refusing: long enough for a
# holder in the middle of releasing (or a check_not_held probe) to finish, short enough to
# read as an immediate refusal.
_WAIT_S = 0.5
# To read or clear a lock file without following a link or blocking on a FIFO.
_NO_LINK_FLAGS = (getattr(os, 'O_NOFOLLOW', 0) | getattr(os, 'O_NONBLOCK', 0)
                  | getattr(os, 'O_CLOEXEC', 0))


class RunInUseError(ValueError):
    """Another process writes the run folder now."""


def process_alive(pid: Optional[int]) -> bool:
    """Whether process ``pid`` exists (one of another user counts): ``psutil.pid_exists``,
    not ``os.kill(pid, 0)``, which on Windows ends the process. A pid the system cannot
    look up (too large) counts as alive: what it might own is kept."""
    if not pid or pid < 0:
        return False
    try:
        return psutil.pid_exists(pid)
    except (OverflowError, OSError):
        return True


def _parse_holder(text: str) -> Optional[dict]:
    """The holder a lock file's text records (pid, command, since), or None when empty."""
    text = text.strip()
    if not text:
        return None
    fields = dict(part.split('=', 1) for part in text.split() if '=' in part)
    try:
        fields['pid'] = int(fields.get('pid', ''))
    except ValueError:
        fields['pid'] = None
    return fields


def _read_text(fd: int) -> str:
    os.lseek(fd, 0, os.SEEK_SET)
    return os.read(fd, 4096).decode('utf-8', 'replace')


def _describe(holder: Optional[dict]) -> str:
    if not holder:
        return 'another process'
    command = holder.get('command', 'graphdim').replace('_', ' ')
    since = holder.get('since')
    when = f", since {since.replace('T', ' ')} UTC" if since else ''
    return f"`{command}` (pid {holder.get('pid')}{when})"


def _not_plain(path: Path) -> RunInUseError:
    return RunInUseError(f"{path} is not a plain file (a link, or a file linked from "
                         f"elsewhere); graphdim never writes through it. Remove it if the run "
                         f"folder is yours, or choose another --out")


def _is_own_plain_file(info: os.stat_result) -> bool:
    return stat.S_ISREG(info.st_mode) and info.st_nlink == 1


@contextlib.contextmanager
def run_lock(folder: Union[str, Path], command: str) -> Iterator[None]:
    """Hold the run folder's lock (the folder is created if needed) while the block writes;
    :class:`RunInUseError` naming the holder when another process holds it. A folder this
    call created and left holding nothing but the lock is removed again on release."""
    folder = Path(folder)
    key = os.path.abspath(folder)
    if key in _HELD:  # nested in this process's own hold
        _HELD[key] += 1
        try:
            yield
        finally:
            _HELD[key] -= 1
        return
    created = not folder.exists()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / LOCK_NAME
    record = (f"pid={os.getpid()} command={command.replace(' ', '_')} "
              f"since={time.strftime('%Y-%m-%dT%H:%M:%S', time.gmtime())}\n")
    found: dict = {}
    lock = _acquire(path, folder, _check_and_record(path, record, found))
    try:
        left = found.get('left')
        if left is not None:
            alive = process_alive(left.get('pid')) and left.get('pid') != os.getpid()
            how = ' (it runs, but no longer holds it)' if alive else ' (killed?)'
            warnings.warn(f"{folder}: {_describe(left)} ended without releasing the run "
                          f"folder's lock{how}; the lock is taken over. Its files are whole "
                          f"(every write is atomic), but its run may be unfinished (no "
                          f"results.json)", UserWarning, stacklevel=3)
        _HELD[key] = 1
        try:
            yield
        finally:
            del _HELD[key]
            _clear_record(path, found['identity'])  # released cleanly: an empty lock file
            if created and [p.name for p in folder.iterdir()] == [LOCK_NAME]:
                with contextlib.suppress(OSError):
                    path.unlink()
                    folder.rmdir()
    finally:
        lock.release()


def check_not_held(folder: Union[str, Path]) -> None:
    """Refuse as :func:`run_lock` would (:class:`RunInUseError`: another process holds the
    folder's lock, or its lock file is a link), without writing anything: for a refusal that
    would otherwise hide that the folder is being written."""
    folder = Path(folder)
    path = folder / LOCK_NAME
    if os.path.abspath(folder) in _HELD or not os.path.lexists(path):
        return
    _acquire(path, folder, _check_and_record(path, None, {})).release()


def _acquire(path: Path, folder: Path, on_acquired) -> FileLock:
    """``path``'s lock, held, or :class:`RunInUseError` (held by another process, a link)."""
    lock = FileLock(path, on_acquired=on_acquired)
    try:
        lock.acquire(timeout=_WAIT_S)
    except Timeout:
        raise _in_use(path, folder) from None
    except OSError as error:  # ELOOP: a symbolic link, refused by filelock's O_NOFOLLOW
        raise (_not_plain(path) if path.is_symlink() else RunInUseError(
            f"{path}: cannot open the run folder's lock ({error.strerror or error})")) from None
    return lock


def _check_and_record(path: Path, record: Optional[str], found: dict):
    """filelock's ``on_acquired`` callback, given the descriptor it locked: refuse anything
    but a plain file with one link (raising makes filelock release it), then note the file's
    identity and the record a killed holder left, and write ``record`` (unless None)."""
    def on_acquired(fd: int) -> None:
        info = os.fstat(fd)
        if not _is_own_plain_file(info):
            raise _not_plain(path)
        found['identity'] = info
        if record is not None:
            found['left'] = _parse_holder(_read_text(fd))
            os.ftruncate(fd, 0)
            os.lseek(fd, 0, os.SEEK_SET)
            os.write(fd, record.encode())
    return on_acquired


def _clear_record(path: Path, identity: os.stat_result) -> None:
    """Empty the lock file this process locked (``identity``), through a descriptor of its
    own: the one filelock lent ``on_acquired`` is not ours to keep."""
    with contextlib.suppress(OSError):  # gone or not ours: nothing of ours to clear
        fd = os.open(path, os.O_WRONLY | _NO_LINK_FLAGS)
        try:
            if os.path.samestat(os.fstat(fd), identity):
                os.ftruncate(fd, 0)
        finally:
            os.close(fd)


def _read_holder(path: Path) -> Optional[dict]:
    """The holder a lock file held by another process records, or None (empty, unreadable)."""
    try:
        fd = os.open(path, os.O_RDONLY | _NO_LINK_FLAGS)
    except OSError:
        return None
    try:
        return _parse_holder(_read_text(fd)) if _is_own_plain_file(os.fstat(fd)) else None
    except OSError:  # Windows: the holder's locked bytes cannot be read
        return None
    finally:
        os.close(fd)


def _in_use(path: Path, folder: Path) -> RunInUseError:
    """The refusal of a folder whose lock another process holds."""
    holder = _read_holder(path)
    dead = holder is not None and not process_alive(holder.get('pid'))
    return RunInUseError(
        f"{folder} is being written by {_describe(holder)}"
        + (" (that process has ended, but a process it started still holds the lock)"
           if dead else "")
        + "; graphdim lets one process write a run folder at a time: wait for it to finish, "
          "or choose another --out")
