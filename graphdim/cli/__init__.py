"""Command line: ``graphdim <command> ...`` (also ``python -m graphdim``).

The CLI only parses, calls the Python API and prints; with ``--json`` the last line of
standard output is one JSON object with the run's summary. Each command lives in a module of
this package that defines ``add_parser(subparsers)`` and sets ``run`` as the parser's default.
A training command's options are its config dataclass's fields (:mod:`graphdim.cli.options`).

``graphdim``, ``graphdim --help`` and ``graphdim --version`` are answered without importing
any command (:mod:`graphdim.cli.toplevel`: no torch, a fraction of a second); a command line
that names a command goes to :mod:`graphdim.cli.commands`, which loads them all.
"""
import argparse
import sys
from typing import List, Optional

from .._startup import prepare
from .toplevel import answer_without_command, names_a_command


def main(argv: Optional[List[str]] = None) -> int:
    """Run the ``graphdim`` command line ``argv`` and return its exit status.

    ``argv=None`` is the command itself (the console script, ``python -m graphdim``): the
    process's own arguments, and the process prepared before torch loads (huge pages, Ctrl-C
    and SIGTERM as one line: :mod:`graphdim._startup`). A list runs that command line in this
    process as it is (tests, scripts)."""
    as_command = argv is None
    argv = list(sys.argv[1:] if argv is None else argv)
    if not names_a_command(argv):
        answer_without_command(argv)  # --help, --version, errors: exits here
    if as_command:
        prepare(argv)
    from .commands import run  # every command's module: torch and PyG
    return run(argv)


def build_parser(argv: Optional[List[str]] = None) -> argparse.ArgumentParser:
    """The ``graphdim`` parser with every command's options (imports every command);
    ``train``'s are those of the level the command line ``argv`` trains (default: node)."""
    from .commands import build_parser as build_full_parser
    return build_full_parser(argv)


def build_graph_level_parser() -> argparse.ArgumentParser:
    """The ``graphdim`` parser whose ``train`` has the graph level's options
    (``graphdim train --level graph``; the documentation's reference of them)."""
    return build_parser(['train', '--level', 'graph'])


if __name__ == '__main__':
    sys.exit(main())
