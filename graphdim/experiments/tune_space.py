"""What ``graphdim tune`` searches, and how a trial samples it.

The space is declared where the options are: the options every node-level model reads carry
``search=`` on :class:`~graphdim.experiments.node.NodeConfig`'s fields, each model's own on its
options class (:func:`graphdim.registry.search_space`); :func:`search_space` merges the two,
the one place that does. A ``search`` is a list of values (a categorical choice) or
``{'low': L, 'high': H}`` (``'log': True``, ``'step': S``), as :func:`graphdim.registry.option`
describes it.

Optuna stores a categorical choice only as None, a bool, a number or a string: a list value
(``--hops 0 1 2 3 5 10``) is stored as its command-line form, ``'0 1 2 3 5 10'``
(:func:`choice_label`), and read back through the space (:func:`decoded`).
"""
import typing
from dataclasses import fields
from types import SimpleNamespace
from typing import Any, Dict, Iterable, List, Optional

from ..registry import model_entry, search_space as model_search_space
from .config import DEPENDENT_OPTIONS, option_flag
from .node import NodeConfig


def shared_search_space() -> Dict[str, Any]:
    """Option -> its ``search``, of the options every node-level model reads."""
    return {f.name: f.metadata['search'] for f in fields(NodeConfig)
            if f.metadata.get('search') is not None}


def search_space(model: str, only: Optional[Iterable[str]] = None,
                 fixed: Iterable[str] = ()) -> Dict[str, Any]:
    """What a search of ``model`` tries: option -> its ``search``, the shared options' and
    the model's own; ``only`` (names or flags) keeps those, ``fixed`` (options given their
    value) leaves those out. A name that is not searched, or an option both kept and fixed,
    is a ValueError naming it."""
    space = {**shared_search_space(), **model_search_space('node', model)}
    flags = _flags(model)
    fixed = {flags.get(name, name) for name in fixed}
    if only is not None:
        wanted = [flags.get(name.lstrip('-'), name) for name in only]
        unknown = [name for name in wanted if name not in space]
        if unknown:
            raise ValueError(f"--search {' '.join(unknown)}: not searched for --model {model}; "
                             f"it searches {', '.join(space)}")
        given = [name for name in wanted if name in fixed]
        if given:
            raise ValueError(f"--search {' '.join(given)}: given a value on the command line "
                             f"too (a given value is fixed, not searched): drop one of them")
        space = {name: spec for name, spec in space.items() if name in wanted}
    space = {name: spec for name, spec in space.items() if name not in fixed}
    if not space:
        raise ValueError(f"nothing left to search: every searched option of --model {model} "
                         f"is given on the command line; drop one of them")
    return space


def _flags(model: str) -> Dict[str, str]:
    """Each searchable option's flag without dashes (``hidden``, ``drop-feature-p``) and its
    field name with dashes -> its field name."""
    declared = [*fields(NodeConfig), *fields(model_entry('node', model).options)]
    names = {option_flag(f).lstrip('-'): f.name for f in declared}
    return {**names, **{f.name.replace('_', '-'): f.name for f in declared}}


def choice_label(value: Any) -> Any:
    """A categorical value as Optuna stores it: a list as its command-line form."""
    return ' '.join(map(str, value)) if isinstance(value, (list, tuple)) else value


def _annotation(model: str, name: str):
    for holder in (NodeConfig, model_entry('node', model).options):
        hints = typing.get_type_hints(holder)
        if name in hints:
            return hints[name]
    raise KeyError(name)


def idle_options(model: str, values: Dict[str, Any]) -> List[str]:
    """The options of ``values`` (a config's and its model's options, flat) that do not act
    with the others' values (``--corruption-p`` with ``--corruption row_shuffle``): the
    level's and the model's ``DEPENDENT_OPTIONS`` rules (graphdim.experiments.config)."""
    rules = (*DEPENDENT_OPTIONS,
             *getattr(model_entry('node', model).options, 'DEPENDENT_OPTIONS', ()))
    view = SimpleNamespace(**values)
    return list(dict.fromkeys(name for name, needs, acts, _ in rules if name in values and
                              all(n in values for n in needs) and not acts(view)))


def option_defaults(model: str) -> Dict[str, Any]:
    """Each option of the node level and of ``model`` -> its default."""
    return {f.name: f.default for f in (*fields(NodeConfig),
                                        *fields(model_entry('node', model).options))}


def sample(trial, model: str, space: Dict[str, Any], base: Dict[str, Any]) -> Dict[str, Any]:
    """One value per option of ``space``, suggested by ``trial`` (an ``optuna.Trial``), in
    the space's order; an option that does not act with the values so far (``base``, the
    recipe searched around, flat, and those sampled) is not suggested: a conditional space."""
    values = {}
    for name, spec in space.items():
        if name in idle_options(model, {**base, **values}):
            continue
        if isinstance(spec, (list, tuple)):
            labels = {choice_label(value): value for value in spec}
            values[name] = labels[trial.suggest_categorical(name, list(labels))]
        elif _annotation(model, name) is int:
            values[name] = trial.suggest_int(name, spec['low'], spec['high'],
                                             step=spec.get('step') or 1,
                                             log=bool(spec.get('log')))
        else:
            values[name] = trial.suggest_float(name, spec['low'], spec['high'],
                                               step=spec.get('step'), log=bool(spec.get('log')))
    return values


def base_params(model: str, space: Dict[str, Any], base: Dict[str, Any]) -> Dict[str, Any]:
    """The recipe searched around (``base``, flat) as a trial's stored params: each option of
    ``space`` that acts and whose base value the space holds (one of its choices, or inside
    ``low .. high`` on its step); the others are left to the sampler. A study's first trial,
    so a search around a preset starts from the preset and never chooses below it on
    validation."""
    params, idle = {}, idle_options(model, base)
    for name, spec in space.items():
        if name not in base or name in idle:
            continue
        value = base[name]
        if isinstance(spec, (list, tuple)):
            if choice_label(value) in {choice_label(v) for v in spec}:
                params[name] = choice_label(value)
        elif isinstance(value, (int, float)) and not isinstance(value, bool) and \
                spec['low'] <= value <= spec['high'] and \
                (not spec.get('step') or (value - spec['low']) % spec['step'] == 0):
            params[name] = value
    return params


def decoded(space: Dict[str, Any], params: Dict[str, Any]) -> Dict[str, Any]:
    """A trial's stored ``params`` as option values (a list's label read back as the list)."""
    values = {}
    for name, value in params.items():
        spec = space.get(name)
        if isinstance(spec, (list, tuple)):
            value = {choice_label(v): v for v in spec}.get(value, value)
        values[name] = value
    return values


def described(space: Dict[str, Any]) -> List[str]:
    """Each option of ``space`` and what it tries, as one line shows it."""
    lines = []
    for name, spec in space.items():
        if isinstance(spec, (list, tuple)):
            lines.append(f"{name}: {' / '.join(str(choice_label(v)) for v in spec)}")
        else:
            how = ', log' if spec.get('log') else (f", step {spec['step']}"
                                                  if spec.get('step') else '')
            lines.append(f"{name}: {spec['low']:g} .. {spec['high']:g}{how}")
    return lines
