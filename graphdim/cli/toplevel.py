"""``graphdim`` without a command: its parser, ``--help`` and ``--version``, loading nothing.

The commands' own modules import torch and PyG (seconds), so the top level names each command
with its line from :data:`COMMANDS` instead; every command's parser is built on the same top
level (:func:`graphdim.cli.commands.build_parser`), and tests/test_cli_startup.py checks that
both say the same.
"""
import argparse
from typing import List, Tuple

from .._version import __version__

# Each command and its line in `graphdim --help`, as its module's parser gives it.
COMMANDS = {
    'train': 'train a graph DIM model and probe the embeddings',
    'image': 'train image DIM and probe its features',
    'embed': 'embed data with a trained model from a run directory',
    'plot': 'draw pictures of a run (t-SNE, loss curve)',
    'tune': 'search a node-level recipe on validation accuracy (Optuna)',
}


def top_level_parser() -> Tuple[argparse.ArgumentParser, argparse._SubParsersAction]:
    """The ``graphdim`` parser with no command added yet, and the action that adds them."""
    parser = argparse.ArgumentParser(
        prog='graphdim', description='Deep InfoMax on graphs: train, probe, report.',
        epilog='--debug (anywhere): show the full traceback of an error')
    parser.add_argument('--version', action='version', version=f'graphdim {__version__}')
    return parser, parser.add_subparsers(dest='command', required=True)


def names_a_command(argv: List[str]) -> bool:
    """Whether the command line starts with a command (``--debug`` may come first)."""
    words = [a for a in argv if a != '--debug']
    return bool(words) and words[0] in COMMANDS


def answer_without_command(argv: List[str]) -> None:
    """Answer a command line that starts with no command: ``--help``, ``--version``, nothing
    at all or an unknown command each exit here (argparse's SystemExit), as the full parser
    would; a command found further on (``graphdim -- train``) returns, for the full parser."""
    parser, subparsers = top_level_parser()
    for name, line in COMMANDS.items():
        subparsers.add_parser(name, help=line, add_help=False)
    parser.parse_known_args([a for a in argv if a != '--debug'])
