"""Command line: ``graphdim <command> ...`` (also ``python -m graphdim``).

The CLI only parses, calls the Python API and prints; with ``--json`` the last line of
standard output is one JSON object with the run's summary. Each command lives in a module of
this package that defines ``add_parser(subparsers)`` and sets ``run`` as the parser's default.
A training command's options are its config dataclass's fields (:mod:`graphdim.cli.options`).
"""
import argparse
import sys
import warnings
from typing import List, Optional

from .._version import __version__
from .._startup import restore as restore_interrupt
from ..data import DatasetNotFoundError
from ..graph.checks import GraphInputError
from . import embed, image, plot, train
from ..progress import showing, ticking
from ..runtime import out_of_memory_error, tune_cpu_allocator
from .common import apply_config_defaults

COMMANDS = [train, image, embed, plot]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog='graphdim', description='Deep InfoMax on graphs: train, probe, report.',
        epilog='--debug (anywhere): show the full traceback of an error')
    parser.add_argument('--version', action='version', version=f'graphdim {__version__}')
    subparsers = parser.add_subparsers(dest='command', required=True)
    for command in COMMANDS:
        command.add_parser(subparsers)
    parser.command_parsers = subparsers.choices  # name -> sub-parser, for config defaults
    return parser


# Errors of input, options, files and numerics: one line and exit code 2. Anything else is a
# bug and keeps its traceback.
EXPECTED_ERRORS = (DatasetNotFoundError, GraphInputError, ValueError, FloatingPointError,
                   OSError, MemoryError)


def main(argv: Optional[List[str]] = None) -> int:
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = '--debug' in argv  # anywhere on the line: before or after the command
    argv = [a for a in argv if a != '--debug']
    args = parser.parse_args(argv)
    try:
        restore_interrupt()  # Ctrl-C from here on: KeyboardInterrupt, handled below
        args = apply_config_defaults(parser, args, argv)
        tune_cpu_allocator()
        with warnings.catch_warnings():
            warnings.showwarning = _print_warning  # restored when the block ends
            with showing(not getattr(args, 'quiet', False)), ticking():  # --quiet: none
                args.run(args)
    except EXPECTED_ERRORS as error:
        if debug:
            raise
        message = str(error) if str(error) or not isinstance(error, MemoryError) else \
            f"out of memory; {OUT_OF_MEMORY_FIX.get(args.command, 'use --device cpu')}"
        print(f"graphdim: error: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        if debug:
            raise
        # Every file is written atomically: what was written is whole, what was not is absent.
        print("graphdim: interrupted; files already written are complete (a run folder "
              "without results.json holds an unfinished run: --resume continues it from its "
              "checkpoints, --overwrite replaces it)", file=sys.stderr)
        return 130
    except RuntimeError as error:
        if debug or not out_of_memory_error(error):
            raise
        print(f"graphdim: error: out of memory ({_one_line(error)[:160]}); "
              f"{OUT_OF_MEMORY_FIX.get(args.command, 'use --device cpu')}", file=sys.stderr)
        return 2
    return 0


# What to lower when a command runs out of memory (torch's RuntimeError / OutOfMemoryError).
OUT_OF_MEMORY_FIX = {
    'train': "lower --hidden, or train in mini-batches (--batch-size N; at --level graph a "
             "smaller --batch-size; models on sampled subgraphs: --sample-size N), or use "
             "--device cpu",
    'image': "lower --batch-size or --mi-units, or use --device cpu",
    'embed': "use --device cpu",
    'plot': "lower --max-points",
}


def _one_line(error: BaseException) -> str:
    """The error's message as one line (a multi-line message is joined with ' | ')."""
    text = str(error) or type(error).__name__
    return ' | '.join(line.strip() for line in text.splitlines() if line.strip())


def _print_warning(message, category, filename, lineno, file=None, line=None) -> None:
    print(f"graphdim: warning: {message}", file=sys.stderr)


if __name__ == '__main__':
    sys.exit(main())
