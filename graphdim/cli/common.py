"""Options shared by the training commands that are not config fields: ``--config FILE``,
``--preset NAME``, ``--out DIR``, ``--json`` and ``--quiet``."""
import argparse
from typing import List, Optional

from ..presets import PRESETS, preset_defaults, read_config_file


def add_config_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument('--config', metavar='FILE',
                        help="reuse a run's config.json (or a JSON object of options); "
                             "options given on the command line still win")
    parser.add_argument('--preset', metavar='NAME',
                        help=f"a published recipe: {', '.join(sorted(PRESETS))}")


def apply_config_defaults(parser: argparse.ArgumentParser, args: argparse.Namespace,
                          argv: Optional[List[str]]) -> argparse.Namespace:
    """Re-parse with the preset's and then the config file's values as defaults."""
    command_parser = parser.command_parsers[args.command]
    values = {}
    if getattr(args, 'preset', None):
        values.update(preset_defaults(args.command, args.preset))
    if getattr(args, 'config', None):
        values.update(read_config_file(args.config))
    if not values:
        return args
    known = {action.dest for action in command_parser._actions}
    unknown = sorted(set(values) - known)
    if unknown:
        raise ValueError(f"unknown options in the config: {', '.join(unknown)} (graphdim "
                         f"{args.command} takes {', '.join(sorted(known - {'help'}))})")
    command_parser.set_defaults(**values)
    return parser.parse_args(argv)


def add_output_options(parser: argparse.ArgumentParser, out_help: str) -> None:
    """``--out DIR``, ``--json`` and ``--quiet``: what a training command writes and prints."""
    parser.add_argument('--out', default=None, metavar='DIR', help=out_help)
    parser.add_argument('--json', action='store_true',
                        help='print the summary as one JSON object on the last line')
    parser.add_argument('--quiet', action='store_true', help='no progress bar')
