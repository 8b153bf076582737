"""The ``graphdim`` command's process: what it sets before torch loads, and its signals.

``import graphdim`` changes nothing of the process (no handler, no environment variable, no
look at ``sys.argv``): a script that imports graphdim is left as it is. The command
(:func:`graphdim.cli.main` run as ``graphdim`` or ``python -m graphdim``) calls
:func:`prepare` before anything imports torch, and :func:`restore` once its modules are
loaded. In between, Ctrl-C or SIGTERM while torch and PyG load exits with one line (status
130 / 143), not an import traceback or a silent death. From :func:`restore` on, the command
runs with Ctrl-C as Python's ``KeyboardInterrupt`` and SIGTERM as
:class:`graphdim.runtime.Terminated`, a ``KeyboardInterrupt``
(:func:`graphdim.runtime.terminate_as_interrupt`; :mod:`graphdim.cli.commands`).
"""
import os
import signal
import sys
from typing import List, Optional

MESSAGE = "graphdim: interrupted while starting; nothing was written"


def _interrupted(signum, frame):
    print(MESSAGE, file=sys.stderr)
    raise SystemExit(128 + signum)


def ask_for_huge_pages() -> None:
    """Back the command's large CPU tensors with transparent huge pages (PyTorch's
    ``THP_MEM_ALLOC_ENABLE``): on PubMed the CLI keeps its epoch time with a third less peak
    memory than without (benchmarks/cli_speed.py). PyTorch reads the variable at its first
    allocation, so only before torch is imported; a value the user set wins, and
    ``GRAPHDIM_CPU_ALLOCATOR=default`` turns it off with the rest of the CLI's memory tuning
    (:func:`graphdim.tune_cpu_allocator`)."""
    if 'torch' not in sys.modules and os.environ.get('GRAPHDIM_CPU_ALLOCATOR', '') != 'default':
        os.environ.setdefault('THP_MEM_ALLOC_ENABLE', '1')


def prepare(argv: List[str]) -> None:
    """What the command sets first, before torch loads: huge pages, then :func:`install`."""
    ask_for_huge_pages()
    install(argv)


def install(argv: Optional[List[str]] = None) -> None:
    """Until :func:`restore`, Ctrl-C and SIGTERM exit with one line and
    no traceback. On a terminal, a command that will work (``argv`` names one, without
    ``--quiet``) says so first: importing torch and PyG takes seconds, and the run's own header
    can only follow them."""
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] and not argv[0].startswith('-') and '--quiet' not in argv and \
            getattr(sys.stderr, 'isatty', lambda: False)():
        print("graphdim: starting (loading PyTorch and PyG) ...", file=sys.stderr, flush=True)
    _replace(signal.SIGINT, signal.default_int_handler, _interrupted)
    _replace(signal.SIGTERM, signal.SIG_DFL, _interrupted)


def restore() -> None:
    """Give back what :func:`install` took: Ctrl-C to Python (``KeyboardInterrupt``), SIGTERM
    to its default action (a caller's own handlers are left alone)."""
    _replace(signal.SIGINT, _interrupted, signal.default_int_handler)
    _replace(signal.SIGTERM, _interrupted, signal.SIG_DFL)


def _replace(signum: int, current, handler) -> None:
    """Set ``handler`` for ``signum`` only where ``current`` is the handler now."""
    try:
        if signal.getsignal(signum) is current:
            signal.signal(signum, handler)
    except (ValueError, OSError):  # not the main thread: leave the signal as it is
        pass
