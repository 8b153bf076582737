"""Options shared by the training commands that are not config fields: ``--config FILE``,
``--preset NAME``, ``--out DIR``, ``--overwrite``, ``--json`` and ``--quiet``."""
import argparse
import sys
from typing import List, Optional

from ..presets import PRESETS, preset_defaults
from ..runs import read_config_source, replay_command, replay_values


def add_config_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument('--config', metavar='FILE',
                        help="reuse a run's config.json (or a JSON object of options); "
                             "options given on the command line still win")
    parser.add_argument('--preset', metavar='NAME',
                        help=f"a published recipe: {', '.join(sorted(PRESETS))}")


def apply_config_defaults(parser: argparse.ArgumentParser, args: argparse.Namespace,
                          argv: Optional[List[str]]) -> argparse.Namespace:
    """Re-parse with the preset's and then the config file's values as defaults; a run's
    config.json is replayed by the command of its kind (an image run by ``graphdim image``)."""
    values = {}
    if getattr(args, 'preset', None):
        values.update(preset_defaults(args.command, args.preset))
    if getattr(args, 'config', None):
        kind, config_values = read_config_source(args.config)
        command = replay_command(args.command, kind)
        if command != args.command:  # train --config IMAGE_RUN: parse as graphdim image
            argv = [command, *(sys.argv[1:] if argv is None else argv)[1:]]
            args.command = command
        values.update(replay_values(kind, config_values))
    if not values:
        return args
    command_parser = parser.command_parsers[args.command]
    known = {action.dest for action in command_parser._actions}
    unknown = sorted(set(values) - known)
    if unknown:
        raise ValueError(f"unknown options in the config: {', '.join(unknown)} (graphdim "
                         f"{args.command} takes {', '.join(sorted(known - {'help'}))})")
    command_parser.set_defaults(**values)
    return parser.parse_args(argv)


def add_output_options(parser: argparse.ArgumentParser, out_help: str) -> None:
    """``--out DIR``, ``--overwrite``, ``--json`` and ``--quiet``: what a training command
    writes and prints."""
    parser.add_argument('--out', default=None, metavar='DIR', help=out_help)
    parser.add_argument('--overwrite', action='store_true',
                        help='replace the run --out DIR holds (the folder is cleared first); '
                             'without it a folder that holds a run is refused')
    parser.add_argument('--json', action='store_true',
                        help='print the summary as one JSON object on the last line')
    parser.add_argument('--quiet', action='store_true', help='no progress bar')
