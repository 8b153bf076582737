"""Command-line options generated from the fields of the config dataclasses.

Every field of a config (``NodeConfig``, ``GraphConfig``, ``ImageConfig``) is an option: its
type, choices, help and flag come from the field (see
:func:`graphdim.experiments.config.option`). The options' argparse default is ``SUPPRESS``,
so a parsed namespace holds only the options that were given (typed, or set by ``--config``
/ ``--preset``, which :func:`~graphdim.cli.common.apply_config_defaults` turns into
argparse defaults); :func:`config_from_args` leaves the rest to the dataclass's defaults. A
value equal to the default is still given: ``--hidden 512 --level graph`` trains 512 units,
not the graph level's default 32.

Each model's options (its options class, :mod:`graphdim.registry`) are one argument group
(:func:`add_model_groups`); ``graphdim train --model NAME --help`` shows that model's group
only (:class:`ModelHelpAction`).
"""
import argparse
import typing
from dataclasses import Field, fields
from typing import Any, Dict, Iterable, Optional, Set, Tuple

from ..experiments.config import STR_OPTION_MAX, checked_value, option_flag, shown
from ..registry import MODEL_OPTIONS, model_entries, model_option_fields, option_readers


def option_help(field: Field) -> Optional[str]:
    """The field's help text with ``%(default)s`` (or ``%(default)g`` ...) filled in."""
    text = field.metadata.get('help')
    return None if text is None else text % {'default': field.default}


def _value_type(annotation) -> Tuple[type, bool]:
    """``(element type, holds several)`` of a field typed ``X``, ``Optional[X]`` or
    ``Tuple[X, ...]``."""
    arguments = typing.get_args(annotation)
    if type(None) in arguments:  # Optional[X]
        annotation = next(a for a in arguments if a is not type(None))
    if typing.get_origin(annotation) is tuple:
        return typing.get_args(annotation)[0], True
    return annotation, False


def _argument_settings(field: Field, annotation, help: Optional[str]) -> Dict[str, Any]:
    """``add_argument`` keywords of one field."""
    # argparse %-formats help texts once more: a literal % must reach it as %%.
    settings = {'dest': field.name, 'default': argparse.SUPPRESS,
                'help': None if help is None else help.replace('%', '%%')}
    value_type, several = _value_type(annotation)
    if value_type is bool:
        settings['action'] = 'store_false' if field.default else 'store_true'
        return settings
    settings.update(type=value_type, choices=field.metadata.get('choices'),
                    metavar=field.metadata.get('metavar'))
    if several:
        settings['nargs'] = '+'
    return settings


def add_config_arguments(parser, config_class, names: Optional[Iterable[str]] = None,
                         helps: Optional[Dict[str, str]] = None,
                         declared: Optional[Dict[str, Field]] = None) -> None:
    """Add an option to ``parser`` (or an argument group) for each field of
    ``config_class`` named in ``names`` (default: all, in field order); ``helps`` replaces
    the help text of the fields it names, ``declared`` the fields themselves (flag, choices,
    help and default: the graph level's options that NodeConfig declares)."""
    hints = typing.get_type_hints(config_class)
    by_name = {**{f.name: f for f in fields(config_class)}, **(declared or {})}
    for name in ([f.name for f in fields(config_class) if f.name != MODEL_OPTIONS]
                 if names is None else names):
        field = by_name[name]
        help = (helps or {}).get(name, option_help(field))
        action = parser.add_argument(option_flag(field), **_argument_settings(
            field, hints[name], help))
        action.config_field = (field, hints[name])  # for values given as data (--config)


def readers_note(level: str, name: str) -> str:
    """Which models of ``level`` read model option ``name``, as its help ends:
    ``(--model A, B)``."""
    return f"(--model {', '.join(option_readers(level)[name])})"


def model_group_title(level: str, entry) -> str:
    where = '--level graph --model' if level == 'graph' else '--model'
    return f"{where} {entry.name}: {entry.description}"


def add_model_groups(parser, level: str, added: Set[str]) -> None:
    """One argument group of ``parser`` per model of ``level``, holding its options that no
    group before it holds (``added``, updated); ``parser.model_groups`` and
    ``parser.model_actions`` keep them for :class:`ModelHelpAction`."""
    groups = parser.__dict__.setdefault('model_groups', {})
    actions = parser.__dict__.setdefault('model_actions', {})
    for entry in model_entries(level):
        by_name = {f.name: f for f in fields(entry.options)}
        earlier = [option_flag(f) for f in by_name.values() if f.name in added]
        group = parser.add_argument_group(model_group_title(level, entry), (
            f"also reads {', '.join(earlier)} (above)" if earlier else None))
        names = [name for name in by_name if name not in added]
        add_config_arguments(group, entry.options, names, {
            name: ' '.join(filter(None, (option_help(by_name[name]), readers_note(level, name))))
            for name in names})
        added.update(names)
        actions.update({action.dest: action for action in group._group_actions})
        groups[level, entry.name] = group


class ModelHelpAction(argparse.Action):
    """``--help``: with ``--model NAME`` before it (and ``--level graph`` for a graph-level
    model), the help shows that model's group of options only, every option it reads."""
    def __init__(self, option_strings, dest=argparse.SUPPRESS, default=argparse.SUPPRESS,
                 help=None):
        super().__init__(option_strings, dest, default=default, nargs=0, help=help)

    def __call__(self, parser, namespace, values, option_string=None):
        chosen = (getattr(namespace, 'level', 'node'), getattr(namespace, 'model', None))
        groups = getattr(parser, 'model_groups', {})
        if chosen in groups:
            for key, group in groups.items():  # the help is printed once, then the command ends
                entry = next(e for e in model_entries(key[0]) if e.name == key[1])
                group._group_actions[:] = [parser.model_actions[f.name]
                                           for f in fields(entry.options)] \
                    if key == chosen else []
                group.description = None
        parser.print_help()
        parser.exit()


def config_field(config_class, name: str) -> Field:
    """The field ``name`` of ``config_class``."""
    return next(f for f in fields(config_class) if f.name == name)


def given_options(config_class, args: argparse.Namespace) -> Dict[str, Any]:
    """The options of ``config_class`` that ``args`` holds (typed, or by --config /
    --preset): its fields, and its level's model options under their names or older ones."""
    names = set(config_class.field_names())
    level = getattr(config_class, 'LEVEL', None)
    if level is not None:  # the level's model options, and their older names
        declared = model_option_fields(level)
        names |= set(declared) | {old for f in declared.values()
                                  for old in f.metadata.get('formerly', ())}
    return {name: value for name, value in vars(args).items() if name in names}


def config_from_args(config_class, args: argparse.Namespace):
    """The config of the options given (:func:`given_options`), its model's options among
    them (an option of another model is refused); the dataclass's defaults fill in the
    rest."""
    return config_class.from_dict(given_options(config_class, args))


def checked_option_value(action: argparse.Action, value: Any) -> Any:
    """``value`` given to the option of ``action`` as data (a ``--config`` file's or a
    preset's, which argparse never parses or checks), if it has the option's type: a
    config field's (:func:`~graphdim.experiments.config.checked_value`: types and lengths;
    each level's config checks its own bounds and choices), a switch's true or false, one of
    a choice's values, or a string; else a ``ValueError`` showing it (cut to one line)."""
    name = action.dest
    if hasattr(action, 'refuse'):  # an option of the other level (graphdim.cli.train)
        action.refuse()
    if hasattr(action, 'config_field'):
        field, annotation = action.config_field
        return checked_value(name, value, annotation, {'flag': field.metadata.get('flag')})
    if action.nargs == 0:  # store_true / store_false: a switch
        if not isinstance(value, bool):
            raise ValueError(f"{name} must be true or false; got {shown(value)}")
        return value
    if action.choices is not None:
        if not isinstance(value, str) or value not in action.choices:
            raise ValueError(f"{name} must be one of {', '.join(map(str, action.choices))}; "
                             f"got {shown(value)}")
        return value
    if not isinstance(value, str) or len(value) > STR_OPTION_MAX:
        raise ValueError(f"{name} must be a string of at most {STR_OPTION_MAX} characters; got "
                         f"{shown(value)}")
    return value
