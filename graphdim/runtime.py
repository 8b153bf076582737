"""Run-time helpers: seeding, devices, versions, memory and atomic saving."""
import contextlib
import errno
import glob
import os
import platform
import random
import resource
import shutil
import signal
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch

from .runlock import process_alive


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch (CPU and every GPU) so a run repeats."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # also seeds every CUDA device


def resolve_device(device: Optional[Union[str, torch.device]] = None) -> torch.device:
    """``None`` or ``'auto'`` means CUDA when available, else CPU; asking for an absent GPU fails."""
    if device is None or device == 'auto':
        return torch.device('cuda' if torch.cuda.is_available() else 'cpu')
    try:
        device = torch.device(device)
    except (RuntimeError, TypeError) as error:
        raise ValueError(f"unknown device {device!r}; use cpu, cuda, cuda:N or auto") from error
    if device.type not in ('cpu', 'cuda', 'mps'):  # meta, xla, ...: tensors without data
        raise ValueError(f"device {str(device)!r} cannot train or embed; use cpu, cuda, "
                         f"cuda:N or auto")
    if device.type == 'cuda' and not torch.cuda.is_available():
        raise ValueError("device 'cuda' was asked for but no CUDA device is available; "
                         "use --device cpu")
    if device.type == 'cuda' and device.index is not None and \
            device.index >= torch.cuda.device_count():
        raise ValueError(f"device {str(device)!r} was asked for but there are "
                         f"{torch.cuda.device_count()} CUDA device(s); use cuda:0 .. "
                         f"cuda:{torch.cuda.device_count() - 1}")
    if device.type == 'mps' and not (getattr(torch.backends, 'mps', None) and
                                     torch.backends.mps.is_available()):
        raise ValueError("device 'mps' was asked for but is not available; use --device cpu")
    return device


def cpu_model() -> str:
    """The CPU's model name (Linux: /proc/cpuinfo), else what the platform says."""
    try:
        with open('/proc/cpuinfo') as info:
            return next(line.split(':', 1)[1].strip() for line in info
                        if line.startswith('model name'))
    except (OSError, StopIteration):
        return platform.processor() or 'unknown'


def package_versions() -> Dict[str, str]:
    """Versions that decide a result: Python, torch, PyG, NumPy, graphdim, the platform, and
    the hardware it ran on (CPU model, GPU name where CUDA is available)."""
    import torch_geometric
    from ._version import __version__
    versions = {'python': platform.python_version(), 'torch': torch.__version__,
                'torch_geometric': torch_geometric.__version__, 'numpy': np.__version__,
                'graphdim': __version__, 'platform': platform.platform(),
                'threads': str(torch.get_num_threads()), 'cpu': cpu_model()}
    if torch.cuda.is_available():
        versions['gpu'] = torch.cuda.get_device_name()
    return versions


# glibc's mallopt parameters (malloc.h): M_TRIM_THRESHOLD and M_MMAP_THRESHOLD.
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
_ALLOCATOR_TUNED = None


def tune_cpu_allocator() -> bool:
    """Let glibc keep and reuse the memory of freed large tensors instead of returning it.

    By default glibc serves every allocation above 32 MiB with a fresh ``mmap`` and unmaps it
    on free, so each new ``[N, hidden]`` tensor of a full-batch epoch is page-faulted in again:
    on a 2-core machine that made an element-wise op on PubMed's ``[19717, 512]`` cost 14 ms
    instead of 3 ms, and a whole epoch about twice as long (``benchmarks/speed.py`` measures
    both models with it; PyTorch's CPU tuning guide suggests jemalloc or tcmalloc for the same
    reason). Process-wide, glibc-only, idempotent; the CLI calls it, ``GRAPHDIM_CPU_ALLOCATOR=
    default`` turns it off. Returns whether the setting is in force.

    Alone it keeps more memory than it needs (freed blocks of one size leave holes that blocks
    of another size cannot use); the CLI also sets ``THP_MEM_ALLOC_ENABLE=1`` before torch
    starts (``graphdim/_startup.py``), which aligns large tensors to huge pages and measured
    the same speed at a lower peak on PubMed (``benchmarks/cli_speed.py``).
    """
    global _ALLOCATOR_TUNED
    if _ALLOCATOR_TUNED is None:
        _ALLOCATOR_TUNED = False
        if (os.environ.get('GRAPHDIM_CPU_ALLOCATOR', '') != 'default'
                and sys.platform.startswith('linux') and platform.libc_ver()[0] == 'glibc'):
            import ctypes
            try:
                libc = ctypes.CDLL('libc.so.6')
                # Keep up to 1 GiB of freed memory and serve large blocks from the heap.
                _ALLOCATOR_TUNED = bool(libc.mallopt(_M_TRIM_THRESHOLD, 1 << 30)
                                        and libc.mallopt(_M_MMAP_THRESHOLD, 1 << 30))
            except (OSError, AttributeError):
                pass
    return _ALLOCATOR_TUNED


class NotEnoughMemoryError(MemoryError):
    """An allocation graphdim estimated before making it would not fit in the memory
    available; the message names the option that sizes it."""


def available_memory_bytes() -> Optional[int]:
    """The memory a new allocation can get now: Linux's ``MemAvailable`` (``/proc/meminfo``),
    else the free physical pages (``sysconf``), else None (unknown)."""
    try:
        with open('/proc/meminfo') as info:
            for line in info:
                if line.startswith('MemAvailable:'):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf('SC_AVPHYS_PAGES') * os.sysconf('SC_PAGE_SIZE')
    except (AttributeError, ValueError, OSError):
        return None


def check_memory(num_bytes: float, what: str, fix: str) -> None:
    """Refuse, before allocating, ``num_bytes`` for ``what`` when they exceed the memory
    available now (:func:`available_memory_bytes`; nothing is refused where it is unknown):
    :class:`NotEnoughMemoryError` saying how much and ``fix`` (the option to lower)."""
    available = available_memory_bytes()
    if available is not None and num_bytes > available:
        raise NotEnoughMemoryError(f"{what} would take {_gib(num_bytes)}, more than the "
                                   f"{_gib(available)} of memory available; {fix}")


def _gib(num_bytes: float) -> str:
    return f"{num_bytes / 2 ** 30:,.1f} GiB"


def out_of_memory_error(error: BaseException) -> bool:
    """Whether ``error`` is torch's or the allocator's out-of-memory error (CPU or GPU)."""
    oom = getattr(torch, 'OutOfMemoryError', None)
    if oom is not None and isinstance(error, oom):
        return True
    text = str(error)
    return isinstance(error, RuntimeError) and (
        'out of memory' in text.lower() or "DefaultCPUAllocator: can't allocate memory" in text
        or 'not enough memory' in text.lower())


def usable_cpus() -> int:
    """The CPUs this process may run on (its affinity mask where the platform has one)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def capped_jobs(jobs) -> int:
    """``jobs`` (parallel worker processes, ``--jobs``) checked and capped at the CPUs this
    process may use (:func:`usable_cpus`), with a warning: each job is a process with its
    own copy of the data, so 100000 jobs would exhaust memory, not finish sooner."""
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise ValueError(f"jobs must be an integer >= 1; got {jobs!r}")
    cpus = usable_cpus()
    if jobs > cpus:
        if (jobs, cpus) not in _CAPPED_JOBS:  # once, not once per cross-validation
            _CAPPED_JOBS.add((jobs, cpus))
            import warnings
            warnings.warn(f"--jobs {jobs} is more than the {cpus} CPU(s) this process may "
                          f"use; running {cpus} jobs", UserWarning, stacklevel=3)
        return cpus
    return jobs


_CAPPED_JOBS: set = set()


def disk_full(error: BaseException, folder: Union[str, Path]) -> bool:
    """Whether ``error`` (or an error it was raised from) reports a full disk or quota
    (``ENOSPC``, ``EDQUOT``), or ``folder``'s disk has under 1 MiB free (torch's zip writer
    reports a full disk as a RuntimeError with no errno)."""
    seen, depth = error, 0
    while seen is not None and depth < 20:
        depth += 1
        if getattr(seen, 'errno', None) in (errno.ENOSPC, getattr(errno, 'EDQUOT', errno.ENOSPC)):
            return True
        seen = seen.__cause__ or seen.__context__
    try:
        return shutil.disk_usage(folder).free < 2 ** 20
    except OSError:
        return False


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MiB."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == 'darwin' else peak / 1024


class FileWriteError(OSError):
    """A file could not be written (a full disk, a read-only folder): the message names it,
    and nothing half-written was left (the temporary file is removed)."""


def _temporary_beside(path: Path) -> Tuple[int, str]:
    """A new temporary file beside ``path``, named ``.<name>.<pid>-<random>.tmp``: the
    writer's pid tells a live writer's temporary from one a killed writer left."""
    path.parent.mkdir(parents=True, exist_ok=True)
    return tempfile.mkstemp(dir=path.parent, prefix=f'.{path.name}.{os.getpid()}-',
                            suffix='.tmp')


def _writer_alive(temporary: Path, name: str) -> bool:
    """Whether the process that writes ``temporary`` (a temporary of ``name``) still runs."""
    pid = temporary.name[len(name) + 2:].partition('-')[0]
    if not pid.isdigit() or int(pid) == os.getpid():
        return False  # ours (its write is over) or an older, pid-less name: left behind
    return process_alive(int(pid))


def _commit(tmp: str, path: Path) -> None:
    """Give ``tmp`` the mode a new file gets here (mkstemp makes it 0600), move it onto
    ``path``, and remove temporaries of ``path`` that killed writers left behind (never
    those of a writer that still runs)."""
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)
    os.replace(tmp, path)
    for stale in path.parent.glob(f'.{glob.escape(path.name)}.*.tmp'):
        if not _writer_alive(stale, path.name):
            with contextlib.suppress(OSError):
                stale.unlink()


def _write_error(path: Path, error: BaseException) -> FileWriteError:
    """One line naming ``path``: torch reports a full disk as a RuntimeError of its zip
    writer ("[enforce fail at inline_container.cc] ... file write failed")."""
    reason = ' '.join(str(error).split())[:160] or type(error).__name__
    fix = ("the disk is full: free space (or write elsewhere) and run again"
           if disk_full(error, path.parent) else
           "check that the folder is writable and its disk has space, then run again")
    failure = FileWriteError(f"could not write {path} ({reason}); {fix}. Nothing "
                             f"half-written was left: files written before it are whole")
    failure.errno = getattr(error, 'errno', None) or errno.EIO  # str() stays the one line
    return failure


def atomic_write_files(writes: Sequence[Tuple[Union[str, Path], str, Callable]]) -> None:
    """Write each ``(path, mode, write)`` of ``writes`` (``write(file)`` fills an open file)
    to a temporary file beside its path, then rename them all: a kill or a full disk never
    leaves a torn file, and a failed write renames none of them (a
    :class:`FileWriteError` naming the file)."""
    staged: List[Tuple[str, Path]] = []
    try:
        for path, mode, write in writes:
            path = Path(path)
            handle, tmp = _temporary_beside(path)
            staged.append((tmp, path))
            try:
                with os.fdopen(handle, mode) as file:
                    write(file)
                    file.flush()
                    os.fsync(file.fileno())
            except (OSError, RuntimeError) as error:  # ENOSPC, EDQUOT, EIO, torch's zip
                raise _write_error(path, error) from error
        for tmp, path in staged:
            _commit(tmp, path)
    except BaseException:
        for tmp, _ in staged:
            if os.path.exists(tmp):
                os.unlink(tmp)
        raise


def _write_atomically(path: Union[str, Path], mode: str, write: Callable) -> None:
    atomic_write_files([(path, mode, write)])


def atomic_save(obj: Any, path: Union[str, Path]) -> None:
    """``torch.save`` to a temporary file in the same folder, then rename: never a torn file."""
    _write_atomically(path, 'wb', lambda file: torch.save(obj, file))


def atomic_write_text(text: str, path: Union[str, Path]) -> None:
    """Write text through a temporary file and a rename."""
    _write_atomically(path, 'w', lambda file: file.write(text))


class Terminated(KeyboardInterrupt):
    """SIGTERM (``kill``, ``timeout``, Slurm, ``docker stop``) turned into the exception Ctrl-C
    raises, so that what undoes a half-done change (an ``--overwrite`` putting the old run
    back, a worker pool shutting down) runs for it too: by default SIGTERM ends the process
    at once, and no ``finally`` runs."""


def _raise_terminated(signum, frame):
    raise Terminated(f"terminated by signal {signum}")


def _in_main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


@contextlib.contextmanager
def terminate_as_interrupt() -> Iterator[None]:
    """While the block runs, SIGTERM raises :class:`Terminated` (a ``KeyboardInterrupt``).

    Installed only in the main thread and only where SIGTERM has its default action: a
    handler of the program's own (the ``graphdim`` command's, or a Python user's) is left
    alone, and so is an ignored SIGTERM. A handler that only tidies up before taking the
    default action (marked ``default_action = True``, as the worker pool's of
    :mod:`graphdim.eval.graph`) counts as the default. The previous action is restored when
    the block ends."""
    previous = signal.getsignal(signal.SIGTERM) if _in_main_thread() else None
    installed = previous is signal.SIG_DFL or getattr(previous, 'default_action', False)
    if installed:
        signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        yield
    finally:
        if installed and signal.getsignal(signal.SIGTERM) is _raise_terminated:
            signal.signal(signal.SIGTERM, previous)


@contextlib.contextmanager
def signals_held() -> Iterator[None]:
    """Hold SIGINT and SIGTERM while the block runs (a few renames that must not stop
    half-way), then deliver the first one that came to the handler that was in place.
    Outside the main thread, or for a signal whose handler Python does not know, nothing
    is held."""
    if not _in_main_thread():
        yield
        return
    received: List[int] = []
    previous = {signum: signal.getsignal(signum) for signum in (signal.SIGINT, signal.SIGTERM)}
    previous = {signum: handler for signum, handler in previous.items() if handler is not None}
    for signum in previous:
        signal.signal(signum, lambda number, frame: received.append(number))
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        if received:
            signal.raise_signal(received[0])
