"""Every command's parser, and one command's run with its errors and interruptions as one line.

Imports each command's module, and so torch and PyG (seconds); :func:`graphdim.cli.main`
comes here only for a command, answering ``graphdim --help`` and ``--version`` without it.
"""
import argparse
import signal
import sys
import warnings
from typing import List, Optional

from .._startup import restore as restore_startup_signals
from ..data import DatasetNotFoundError
from ..graph.checks import GraphInputError
from ..progress import showing, ticking
from ..runtime import Terminated, out_of_memory_error, terminate_as_interrupt, tune_cpu_allocator
from .toplevel import top_level_parser


def _print_warning(message, category, filename, lineno, file=None, line=None) -> None:
    print(f"graphdim: warning: {message}", file=sys.stderr)


# The commands load the model registry, and with it the models of other packages: one that
# fails to load is one warning line (graphdim.registry.PluginWarning), not Python's two.
with warnings.catch_warnings():
    warnings.showwarning = _print_warning
    from . import embed, image, plot, train, tune
    from .common import apply_config_defaults

COMMANDS = [train, image, embed, plot, tune]


def build_parser(argv: Optional[List[str]] = None) -> argparse.ArgumentParser:
    """The ``graphdim`` parser with every command's options; ``train``'s are those of the
    level the command line ``argv`` trains (:func:`graphdim.cli.train.train_level`; none
    given: the node level's)."""
    parser, subparsers = top_level_parser()
    level = train.train_level(argv[1:]) if argv and argv[0] == 'train' else 'node'
    for command in COMMANDS:
        if command is train:
            command.add_parser(subparsers, level)
        else:
            command.add_parser(subparsers)
    parser.command_parsers = subparsers.choices  # name -> sub-parser, for config defaults
    return parser


# Errors of input, options, files and numerics: one line and exit code 2. Anything else is a
# bug and keeps its traceback.
EXPECTED_ERRORS = (DatasetNotFoundError, GraphInputError, ValueError, FloatingPointError,
                   OSError, MemoryError)


def run(argv: List[str]) -> int:
    """Parse ``argv`` (``--debug`` anywhere: tracebacks kept) and run its command."""
    debug = '--debug' in argv  # anywhere on the line: before or after the command
    argv = [a for a in argv if a != '--debug']
    parser = build_parser(argv)
    args = argparse.Namespace(command=argv[0] if argv else None)
    try:
        args = parser.parse_args(argv)  # an option of train's other level: a ValueError
        # From here on Ctrl-C, and SIGTERM (what `kill`, `timeout`, Slurm and docker send),
        # are a KeyboardInterrupt, handled below: every `finally` on the way runs (an
        # --overwrite puts the old run back, worker pools end).
        restore_startup_signals()
        with terminate_as_interrupt():
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
    except KeyboardInterrupt as interruption:  # Ctrl-C (130), or SIGTERM (143: 128 + 15)
        if debug:
            raise
        terminated = isinstance(interruption, Terminated)
        # Every file is written atomically: what was written is whole, what was not is absent.
        print(f"graphdim: {'terminated (SIGTERM)' if terminated else 'interrupted'}; files "
              "already written are complete "
              f"({INTERRUPTED_HINT.get(args.command, RUN_FOLDER_HINT)})", file=sys.stderr)
        return 128 + (signal.SIGTERM if terminated else signal.SIGINT)
    except RuntimeError as error:
        if debug or not out_of_memory_error(error):
            raise
        print(f"graphdim: error: out of memory ({_one_line(error)[:160]}); "
              f"{OUT_OF_MEMORY_FIX.get(args.command, 'use --device cpu')}", file=sys.stderr)
        return 2
    return 0


# How to go on after an interruption: a run folder's checkpoints, or a study's finished trials.
RUN_FOLDER_HINT = ("a run folder without results.json holds an unfinished run: --resume "
                   "continues it from its checkpoints, --overwrite replaces it")
INTERRUPTED_HINT = {
    'tune': "the study keeps its finished trials: run the same command again and it resumes",
}


# What to lower when a command runs out of memory (torch's RuntimeError / OutOfMemoryError).
OUT_OF_MEMORY_FIX = {
    'train': "lower --hidden, or train in mini-batches (--batch-size N; at --level graph a "
             "smaller --batch-size; models on sampled subgraphs: --sample-size N), or use "
             "--device cpu",
    'image': "lower --batch-size or --mi-units, or use --device cpu",
    'embed': "use --device cpu",
    'plot': "lower --max-points",
    'tune': "narrow --search, fix a smaller --hidden, or use --device cpu",
}


def _one_line(error: BaseException) -> str:
    """The error's message as one line (a multi-line message is joined with ' | ')."""
    text = str(error) or type(error).__name__
    return ' | '.join(line.strip() for line in text.splitlines() if line.strip())

