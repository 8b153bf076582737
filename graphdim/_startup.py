"""The ``graphdim`` command's first seconds: Ctrl-C while torch and PyG load.

The command's own handling of Ctrl-C (:func:`graphdim.cli.main`: one line, exit 130) starts
only once everything is imported; before that, Python would print a ``KeyboardInterrupt``
traceback from deep inside an import. ``graphdim/__init__.py`` calls :func:`install` first
thing when it runs as the command, and the command calls :func:`restore` when it starts.
"""
import signal
import sys

MESSAGE = "graphdim: interrupted while starting; nothing was written"


def _interrupted(signum, frame):
    print(MESSAGE, file=sys.stderr)
    raise SystemExit(130)


COMMANDS = ('train', 'image', 'embed', 'plot')


def install() -> None:
    """Until :func:`restore`, Ctrl-C exits with status 130 and one line, no traceback. On a
    terminal, a command that will work (not ``--quiet``) says so first: importing torch and
    PyG takes seconds, and the run's own header can only follow them."""
    argv = sys.argv[1:]
    if any(a in COMMANDS for a in argv[:1]) and '--quiet' not in argv and \
            getattr(sys.stderr, 'isatty', lambda: False)():
        print("graphdim: starting (loading PyTorch and PyG) ...", file=sys.stderr, flush=True)
    try:
        if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
            signal.signal(signal.SIGINT, _interrupted)
    except (ValueError, OSError):  # not the main thread: leave Ctrl-C as it is
        pass


def restore() -> None:
    """Give Ctrl-C back to Python (``KeyboardInterrupt``), where :func:`install` took it."""
    try:
        if signal.getsignal(signal.SIGINT) is _interrupted:
            signal.signal(signal.SIGINT, signal.default_int_handler)
    except (ValueError, OSError):
        pass
