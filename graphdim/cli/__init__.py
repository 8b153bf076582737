"""Command line: ``graphdim <command> ...`` (also ``python -m graphdim``).

The CLI only parses, calls the Python API and prints; with ``--json`` the last line of
standard output is one JSON object with the run's summary. Each command lives in a module of
this package that defines ``add_parser(subparsers)`` and sets ``run`` as the parser's default.
A training command's options are its config dataclass's fields (:mod:`graphdim.cli.options`).
"""
import argparse
import sys
from typing import List, Optional

from ..data import DatasetNotFoundError
from ..graph.checks import GraphInputError
from . import embed, image, plot, train
from ..runtime import tune_cpu_allocator
from .common import apply_config_defaults

COMMANDS = [train, image, embed, plot]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog='graphdim', description='Deep InfoMax on graphs: train, probe, report.')
    subparsers = parser.add_subparsers(dest='command', required=True)
    for command in COMMANDS:
        command.add_parser(subparsers)
    parser.command_parsers = subparsers.choices  # name -> sub-parser, for config defaults
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        args = apply_config_defaults(parser, args, argv)
        tune_cpu_allocator()
        args.run(args)
    except (DatasetNotFoundError, GraphInputError, ValueError, FloatingPointError,
            FileNotFoundError) as error:
        print(f"graphdim: error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == '__main__':
    sys.exit(main())
