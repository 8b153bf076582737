"""Options shared by the training commands that are not config fields: ``--config FILE``,
``--preset NAME``, ``--out DIR``, ``--overwrite``, ``--json`` and ``--quiet``."""
import argparse
import json
import sys
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple, Union

from ..experiments.config import shown
from ..presets import all_presets, preset_defaults
from ..registry import LEVELS, flat_options, nested_options
from ..runs import KINDS, RunFolder
from .options import checked_option_value

# Where a run writes and what happens to what is there: the command line's choice alone, never
# a --config file's or a preset's (a shared recipe must not delete its user's files).
COMMAND_LINE_ONLY = ('out', 'overwrite', 'resume')
# What a command line reads before any option value, never a value a config file gives: a
# config file naming one would be ignored (the preset is applied before the file is read).
NOT_CONFIG_VALUES = ('config', 'preset', 'help')


def _refuse_command_line_only(values: dict, source: str) -> None:
    given = [name for name in COMMAND_LINE_ONLY if name in values]
    if given:
        flags = ', '.join('--' + name for name in given)
        raise ValueError(f"{source} sets {flags}: where a run writes, and whether it replaces "
                         f"or continues what is there, are chosen on the command line only; "
                         f"remove {', '.join(repr(name) for name in given)} from it and give "
                         f"{flags} on the command line")


def add_config_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument('--config', metavar='FILE',
                        help="reuse a run's config.json (or a JSON object of options); "
                             "options given on the command line still win")
    parser.add_argument('--preset', metavar='NAME',
                        help=f"a published recipe: {', '.join(sorted(all_presets()))}")


def apply_config_defaults(parser: argparse.ArgumentParser, args: argparse.Namespace,
                          argv: Optional[List[str]]) -> argparse.Namespace:
    """Re-parse with the preset's and then the config file's values as defaults; a run's
    config.json is replayed by the command of its kind (an image run by ``graphdim image``).
    ``--out``, ``--overwrite`` and ``--resume`` come from the command line only: a config
    file or preset that sets one is refused (a run's own config.json records ``resume``; it
    is not replayed)."""
    values = {}
    if getattr(args, 'preset', None):
        preset = preset_defaults(args.command, args.preset)
        _refuse_command_line_only(preset, f"the preset {args.preset!r}")
        values.update(_checked_values(parser, args.command, preset,
                                      f"the preset {args.preset!r}"))
    if getattr(args, 'config', None):
        kind, config_values = read_config_source(args.config)
        if kind is not None:  # a run's config.json records how that run was started
            config_values = {k: v for k, v in config_values.items() if k != 'resume'}
        _refuse_command_line_only(config_values, f"the config file {args.config}")
        command = replay_command(args.command, kind)
        if command != args.command:  # train --config IMAGE_RUN: parse as graphdim image
            argv = [command, *(sys.argv[1:] if argv is None else argv)[1:]]
            args.command = command
        values.update(_checked_values(parser, args.command, replay_values(kind, config_values),
                                      f"the config file {args.config}"))
    if not values:
        return args
    parser.command_parsers[args.command].set_defaults(**values)
    return parser.parse_args(argv)


def level_of_config_source(command: str, preset: Optional[str],
                           config: Optional[str]) -> Optional[str]:
    """The level (``'node'``, ``'graph'``) that ``--config`` (a graph run's, or a file
    setting ``level``), else ``--preset``, asks ``command`` for; None where neither says, or
    where either cannot be read (the run reads it again and says what is wrong)."""
    try:
        if config:
            kind, values = read_config_source(config)
            level = replay_values(kind, values).get('level')
            if level in LEVELS:
                return level
        if preset:
            level = preset_defaults(command, preset).get('level')
            return level if level in LEVELS else None
    except (ValueError, OSError):
        return None
    return None


def _checked_values(parser: argparse.ArgumentParser, command: str, values: Dict[str, Any],
                    source: str) -> Dict[str, Any]:
    """``values`` (a config file's or a preset's) if each names an option of ``command`` that
    a config may set and has its type (:func:`~graphdim.cli.options.checked_option_value`),
    checked as data before anything runs; else one error line naming ``source``."""
    actions = {action.dest: action for action in parser.command_parsers[command]._actions}
    refused = sorted(name for name in values if name in NOT_CONFIG_VALUES)
    if refused:
        raise ValueError(f"{source} sets {', '.join(refused)}, which only the command line "
                         f"gives (--config FILE, --preset NAME): remove "
                         f"{', '.join(repr(name) for name in refused)} from it")
    unknown = sorted(set(values) - set(actions))
    if unknown:
        takes = sorted(set(actions) - set(NOT_CONFIG_VALUES) - set(COMMAND_LINE_ONLY))
        names = [name if name.isidentifier() and len(name) <= 80 else shown(name)
                 for name in unknown[:10]]
        raise ValueError(f"unknown options in the config: {', '.join(names)}"
                         f"{' ...' if len(unknown) > 10 else ''} (in {source}; graphdim "
                         f"{command} takes {', '.join(takes)})")
    checked = {}
    for name, value in values.items():
        try:
            checked[name] = checked_option_value(actions[name], value)
        except ValueError as error:
            raise ValueError(f"{source}: {error}") from None
    return checked


def add_output_options(parser: argparse.ArgumentParser, out_help: str) -> None:
    """``--out DIR``, ``--overwrite``, ``--json`` and ``--quiet``: what a training command
    writes and prints."""
    parser.add_argument('--out', default=None, metavar='DIR', help=out_help)
    parser.add_argument('--overwrite', action='store_true',
                        help='replace the run --out DIR holds: its run files are deleted once '
                             'the config, data and model have been checked (a folder holding '
                             'other files is refused); without it a folder that holds a run '
                             'is refused')
    parser.add_argument('--json', action='store_true',
                        help='print the summary as one JSON object on the last line')
    parser.add_argument('--quiet', action='store_true', help='no progress bar')


# The command that trains each kind of run (``graphdim train --config`` replays any kind).
COMMAND_OF_KIND = {'node': 'train', 'graph': 'train', 'image': 'image'}


def replay_command(command: str, kind: Optional[str]) -> str:
    """The command that replays a run of ``kind`` given to ``graphdim command --config``:
    ``train`` replays any kind; ``image`` only image runs."""
    if kind is None or command == COMMAND_OF_KIND[kind]:
        return command
    if command == 'train':
        return COMMAND_OF_KIND[kind]
    raise ValueError(f"the config is of a {kind}-level run; replay it with graphdim "
                     f"{COMMAND_OF_KIND[kind]} --config (or graphdim train --config)")


def replay_values(kind: Optional[str], values: dict) -> dict:
    """Option values that replay a run of ``kind``: a graph-level run trains with
    ``graphdim train --level graph``."""
    return {**values, 'level': 'graph'} if kind == 'graph' else dict(values)


def read_config_source(path: Union[str, Path]) -> Tuple[Optional[str], Dict[str, Any]]:
    """``(kind, option values)`` of what ``--config`` names: a run directory, its
    ``config.json`` (``kind`` 'node' when the file predates kinds; its model's options, stored
    under ``model_options`` or flat by older graphdim, given flat as the command line names
    them), or a JSON object of option names (``kind`` None: the options of whichever command
    reads them; a model's under ``model_options`` or flat)."""
    path = Path(path)
    if path.is_dir():
        path = RunFolder(path).config_path
    if not path.is_file():
        raise ValueError(f"config file {path} not found")
    try:
        values = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ValueError(f"config file {path} is not valid JSON: {error}") from None
    if not isinstance(values, dict):
        raise ValueError(f"config file {path} must hold a JSON object of option values")
    if isinstance(values.get('config'), dict):  # a run's config.json (read as it is named)
        kind = values.get('kind', 'node')
        if not isinstance(kind, str) or kind not in KINDS:
            raise ValueError(f"config file {path} holds a run of unknown kind {shown(kind)}; "
                             f"graphdim knows {', '.join(KINDS)}")
        if kind not in LEVELS:
            return kind, values['config']
        try:
            return kind, flat_options(nested_options(kind, values['config']))
        except ValueError as error:
            raise ValueError(f"config file {path}: {error}") from None
    return None, flat_options(values)  # a model's options under model_options, or flat
