"""One writer per run folder: an advisory lock on ``RUN/.graphdim.lock``.

``graphdim train`` / ``graphdim image`` (a new run, ``--overwrite`` or ``--resume``),
``graphdim embed`` and ``graphdim plot`` (when they write into the run folder) hold it while
they write: a second writer is refused with one line naming the process that holds it, so
two runs never interleave their files in one folder and a ``--resume`` never meets another's
temporary checkpoint. The lock is ``fcntl.flock``: the system releases it when its holder
ends, however it ends. The holder's pid and command are written into the lock file and
erased on release, so a lock file found non-empty by its next holder was left by a process
that was killed; that is reported (its run may be unfinished), and the lock is taken over.
Where ``fcntl`` is missing (Windows) runs are not locked.
"""
import contextlib
import os
import stat
import time
import warnings
from pathlib import Path
from typing import Dict, Iterator, Optional, Union

try:
    import fcntl
except ImportError:  # pragma: no cover  (Windows)
    fcntl = None

LOCK_NAME = '.graphdim.lock'
# Folders this process holds the lock of, with how many holders nest: a process that
# holds a folder's lock may take it again (train --plot writes its plots inside the run).
_HELD: Dict[str, int] = {}


class RunInUseError(ValueError):
    """Another process writes the run folder now."""


def _holder(fd: int) -> Optional[dict]:
    """What the lock file records of its holder (pid, command, since), or None when empty."""
    os.lseek(fd, 0, os.SEEK_SET)
    text = os.read(fd, 4096).decode('utf-8', 'replace').strip()
    if not text:
        return None
    fields = dict(part.split('=', 1) for part in text.split() if '=' in part)
    try:
        fields['pid'] = int(fields.get('pid', ''))
    except ValueError:
        fields['pid'] = None
    return fields


def process_alive(pid: Optional[int]) -> bool:
    """Whether process ``pid`` exists (``os.kill(pid, 0)``; one of another user counts)."""
    if not pid or pid < 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, OSError):
        return True
    return True


def _describe(holder: Optional[dict]) -> str:
    if not holder:
        return 'another process'
    command = holder.get('command', 'graphdim').replace('_', ' ')
    since = holder.get('since')
    when = f", since {since.replace('T', ' ')} UTC" if since else ''
    return f"`{command}` (pid {holder.get('pid')}{when})"


@contextlib.contextmanager
def run_lock(folder: Union[str, Path], command: str) -> Iterator[None]:
    """Hold the run folder's lock (the folder is created if needed) while the block writes;
    :class:`RunInUseError` naming the holder when another process holds it. A folder this
    call created and left holding nothing but the lock is removed again on release."""
    folder = Path(folder)
    key = os.path.abspath(folder)
    if fcntl is None or key in _HELD:
        _HELD[key] = _HELD.get(key, 0) + 1
        try:
            yield
        finally:
            _HELD[key] -= 1
            if not _HELD[key]:
                del _HELD[key]
        return
    created = not folder.exists()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / LOCK_NAME
    fd = _acquire(path, folder)
    try:
        left = _holder(fd)
        if left is not None:
            alive = process_alive(left.get('pid')) and left.get('pid') != os.getpid()
            how = ' (it runs, but no longer holds it)' if alive else ' (killed?)'
            warnings.warn(f"{folder}: {_describe(left)} ended without releasing the run "
                          f"folder's lock{how}; the lock is taken over. Its files are whole "
                          f"(every write is atomic), but its run may be unfinished (no "
                          f"results.json)", UserWarning, stacklevel=3)
        record = (f"pid={os.getpid()} command={command.replace(' ', '_')} "
                  f"since={time.strftime('%Y-%m-%dT%H:%M:%S', time.gmtime())}\n")
        os.ftruncate(fd, 0)
        os.pwrite(fd, record.encode(), 0)
        _HELD[key] = 1
        try:
            yield
        finally:
            del _HELD[key]
            os.ftruncate(fd, 0)  # released cleanly: an empty lock file
            if created and [p.name for p in folder.iterdir()] == [LOCK_NAME]:
                with contextlib.suppress(OSError):
                    path.unlink()
                    folder.rmdir()
    finally:
        os.close(fd)


def _acquire(path: Path, folder: Path) -> int:
    """A descriptor of ``path`` holding its exclusive lock, or :class:`RunInUseError`."""
    for _ in range(100):
        fd = _open_lock_file(path, folder)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:  # held (EWOULDBLOCK); the holder's record says by whom
            error = _in_use(fd, folder)
            os.close(fd)
            raise error from None
        try:  # a holder that removed the file as it released: lock the new one instead
            if os.path.samestat(os.fstat(fd), os.stat(path)):
                return fd
        except FileNotFoundError:
            pass
        os.close(fd)
    raise RunInUseError(f"{folder}: could not take its lock ({path} keeps being replaced)")


def _in_use(fd: int, folder: Path) -> RunInUseError:
    """The refusal of a folder whose lock (open as ``fd``) another process holds."""
    holder = _holder(fd)
    dead = holder is not None and not process_alive(holder.get('pid'))
    return RunInUseError(
        f"{folder} is being written by {_describe(holder)}"
        + (" (that process has ended, but a process it started still holds the lock)"
           if dead else "")
        + "; graphdim lets one process write a run folder at a time: wait for it to finish, "
          "or choose another --out")


def check_not_held(folder: Union[str, Path]) -> None:
    """Refuse as :func:`run_lock` would (:class:`RunInUseError`: another process holds the
    folder's lock, or its lock file is a link), without taking the lock or creating anything:
    for a refusal that would otherwise hide that the folder is being written."""
    folder = Path(folder)
    path = folder / LOCK_NAME
    if fcntl is None or os.path.abspath(folder) in _HELD or not os.path.lexists(path):
        return
    try:
        fd = _open_lock_file(path, folder, _PROBE_FLAGS)
    except RunInUseError:
        if os.path.lexists(path):
            raise
        return  # removed since the check: nobody holds it
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except OSError:
        raise _in_use(fd, folder) from None
    finally:
        os.close(fd)


# Never follow a link and never block on a FIFO: a run folder received from someone else may
# hold a lock "file" that points at one of its user's files, which truncating would empty.
_OPEN_FLAGS = (os.O_RDWR | os.O_CREAT | getattr(os, 'O_NOFOLLOW', 0)
               | getattr(os, 'O_NONBLOCK', 0) | getattr(os, 'O_CLOEXEC', 0))
# To look at a lock file without creating or writing it (check_not_held).
_PROBE_FLAGS = (os.O_RDONLY | getattr(os, 'O_NOFOLLOW', 0) | getattr(os, 'O_NONBLOCK', 0)
                | getattr(os, 'O_CLOEXEC', 0))


def _open_lock_file(path: Path, folder: Path, flags: int = _OPEN_FLAGS) -> int:
    """A descriptor of the lock file, created if missing; :class:`RunInUseError` when it is
    anything but a plain file of its own (a link, a hard link to another file, a FIFO...):
    such a lock file is never written, so nothing it points at is touched."""
    refuse = (f"{path} is not a plain file (a link, or a file linked from elsewhere); graphdim "
              f"never writes through it. Remove it if the run folder is yours, or choose "
              f"another --out")
    if path.is_symlink():
        raise RunInUseError(refuse)
    try:
        fd = os.open(path, flags, 0o666)
    except OSError as error:  # ELOOP: a link appeared since the check (O_NOFOLLOW)
        raise RunInUseError(refuse if path.is_symlink() else
                            f"{path}: cannot open the run folder's lock ({error.strerror})"
                            ) from None
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode) or info.st_nlink != 1:
        os.close(fd)
        raise RunInUseError(refuse)
    return fd
